//! The node's SQLite database.
//!
//! One file per home. kovan's own tables are created by numbered migrations
//! in `node/migrations/`, applied in one transaction each, with the schema
//! version in `PRAGMA user_version`. openmls's group state lives in the same
//! file, in the tables of `openmls_sqlite_storage` (with their own migration
//! table), so one backup or one deletion covers everything.
//!
//! `secure_delete` is on: superseded MLS epoch secrets that openmls deletes
//! are overwritten on disk, not just unlinked from the B-tree, which is what
//! forward secrecy needs from storage.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use kovan_crypto::mls::KovanProvider;
use openmls_sqlite_storage::{Codec, SqliteStorageProvider};
use rusqlite::{Connection, OptionalExtension, params};

use crate::{Error, Result};

/// Migrations, in order; migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_mls_dedupe.sql"),
    include_str!("../migrations/0003_history.sql"),
    include_str!("../migrations/0004_outbox.sql"),
    include_str!("../migrations/0005_contacts.sql"),
    include_str!("../migrations/0006_peer_sequences.sql"),
    include_str!("../migrations/0007_groups.sql"),
    include_str!("../migrations/0008_files.sql"),
    include_str!("../migrations/0009_polls.sql"),
    include_str!("../migrations/0010_scheduled.sql"),
    include_str!("../migrations/0011_locations.sql"),
    include_str!("../migrations/0012_receipt_times.sql"),
    include_str!("../migrations/0013_invites.sql"),
    include_str!("../migrations/0014_owed_receipts.sql"),
    include_str!("../migrations/0015_files_sealed.sql"),
    include_str!("../migrations/0016_files_by_message_id.sql"),
    include_str!("../migrations/0017_conversation_modes.sql"),
    include_str!("../migrations/0018_friend_failed.sql"),
    include_str!("../migrations/0019_chat_seals.sql"),
    include_str!("../migrations/0020_calls.sql"),
    include_str!("../migrations/0021_files_via.sql"),
    include_str!("../migrations/0022_verifiable_polls.sql"),
    include_str!("../migrations/0023_conditional.sql"),
    include_str!("../migrations/0024_conditional_shares.sql"),
    include_str!("../migrations/0025_conditional_timers.sql"),
    include_str!("../migrations/0026_spreads.sql"),
    include_str!("../migrations/0027_conditional_attempts.sql"),
    include_str!("../migrations/0028_conditional_files.sql"),
    include_str!("../migrations/0029_sealed_polls.sql"),
    include_str!("../migrations/0030_relay_locks.sql"),
    include_str!("../migrations/0031_anonymous_polls.sql"),
];
/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The serde codec for openmls values: JSON, as openmls's own storage uses.
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonCodec;

impl Codec for JsonCodec {
    type Error = serde_json::Error;
    fn to_vec<T: serde::Serialize>(value: &T) -> std::result::Result<Vec<u8>, Self::Error> {
        serde_json::to_vec(value)
    }
    fn from_slice<T: serde::de::DeserializeOwned>(
        slice: &[u8],
    ) -> std::result::Result<T, Self::Error> {
        serde_json::from_slice(slice)
    }
}

/// The openmls provider backed by the node database. It shares the
/// database's connection, so an MLS state change and the history rows it
/// produces commit in one transaction ([`Database::atomic`]).
pub type MlsProvider = KovanProvider<SqliteStorageProvider<JsonCodec, Rc<Connection>>>;

fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;",
    )?;
    Ok(conn)
}

/// The node database. One connection, shared with the MLS provider; the
/// type is not `Send`: a node keeps its database on one thread.
#[derive(Debug)]
pub struct Database {
    conn: Rc<Connection>,
    path: PathBuf,
}

/// What opening must check of the file, decided from its header in O(1).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Needs {
    /// A clean file whose length matches its header: nothing more.
    Nothing,
    /// A write-ahead log is left from a crash: check the pages too.
    QuickCheck,
}

/// Checks the file against its own header without reading its pages: a
/// truncated file is found at once, whatever its size. The full
/// `quick_check` (which reads every page: ¾ s for a million messages) runs
/// only after an unclean shutdown, when a write-ahead log was left.
pub(crate) fn header_check(path: &Path) -> std::result::Result<Needs, String> {
    use std::io::Read;
    let Ok(mut f) = std::fs::File::open(path) else {
        return Ok(Needs::Nothing); // created on open
    };
    let len = f.metadata().map_err(|e| e.to_string())?.len();
    if len == 0 {
        return Ok(Needs::Nothing);
    }
    let mut h = [0u8; 100];
    f.read_exact(&mut h).map_err(|_| format!("only {len} bytes, shorter than its header"))?;
    if &h[..16] != b"SQLite format 3\0" {
        return Err("not an SQLite database".into());
    }
    let page = match u16::from_be_bytes([h[16], h[17]]) {
        1 => 65_536,
        n => u64::from(n),
    };
    let be32 = |at: usize| u32::from_be_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
    let pages = u64::from(be32(28));
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    if wal_len > 0 {
        // The log may hold pages the file does not have yet.
        return Ok(Needs::QuickCheck);
    }
    // The page count is valid when the change counter matches (SQLite
    // file format §1.3.7).
    if be32(24) == be32(92) && pages > 0 && len < pages * page {
        return Err(format!("truncated: {len} bytes where its header says {}", pages * page));
    }
    Ok(Needs::Nothing)
}

impl Database {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let damaged = |reason: String| Error::Damaged { path: path.to_owned(), reason };
        // A truncated or overwritten file is found here, before anything
        // is written to it, not later in the middle of a transaction.
        let needs = header_check(path).map_err(damaged)?;
        // Created private before SQLite opens it: SQLite gives its
        // write-ahead log and shared-memory files the database's mode.
        if !path.exists() {
            crate::home::private_file()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(Error::io(format!("creating {}", path.display())))?;
        }
        let mut conn = connect(path).map_err(|e| match e {
            Error::Database(d) if is_corruption(&d) => damaged(d.to_string()),
            other => other,
        })?;
        if needs == Needs::QuickCheck {
            let check: String = conn
                .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
                .map_err(|e| damaged(e.to_string()))?;
            if check != "ok" {
                return Err(damaged(check));
            }
        }
        migrate(&mut conn)?;
        let mut mls = SqliteStorageProvider::<JsonCodec, Connection>::new(connect(path)?);
        mls.run_migrations().map_err(|e| Error::Internal(format!("openmls migrations: {e}")))?;
        Ok(Self { conn: Rc::new(conn), path: path.to_owned() })
    }

    /// Opens the database at `path` like [`Database::open`]; if it is
    /// damaged and a good backup exists, the damaged file is moved aside
    /// and the backup takes its place (SPEC.md §4.7). What was restored is
    /// returned, for the user to be told.
    pub fn open_or_restore(path: &Path) -> Result<(Self, Option<crate::backup::Restored>)> {
        match Self::open(path) {
            Err(Error::Damaged { path: p, reason }) => {
                match crate::backup::restore(path, &reason)? {
                    Some(restored) => {
                        tracing::warn!(
                            reason = %restored.reason,
                            aside = %restored.damaged_file.display(),
                            backup_taken_at = restored.backup_taken_at,
                            "the database was damaged; restored from its last backup \
                             (what came after it may be missing)"
                        );
                        Ok((Self::open(path)?, Some(restored)))
                    }
                    None => Err(Error::Damaged { path: p, reason }),
                }
            }
            other => other.map(|db| (db, None)),
        }
    }

    /// How many rows this connection has changed since it was opened.
    pub fn total_changes(&self) -> u64 {
        self.conn.total_changes()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one transaction: everything it writes (MLS state
    /// included) commits together or not at all. Nested calls join the
    /// outer transaction.
    pub fn atomic<T, E: From<Error>>(
        &self,
        f: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.tx().atomic(f)
    }

    /// A transaction handle that does not borrow the database, for code
    /// that needs `&mut` access to its owner inside the transaction.
    pub fn tx(&self) -> Tx {
        Tx(self.conn.clone())
    }

    /// A setting stored by the node (small values: cursors, flags).
    pub fn setting(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", params![key], |r| r.get(0))
            .optional()?)
    }

    /// Stores a setting.
    pub fn set_setting(&self, key: &str, value: &[u8]) -> Result<()> {
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// Removes a setting.
    pub fn remove_setting(&self, key: &str) -> Result<()> {
        self.conn.execute("DELETE FROM settings WHERE key = ?1", params![key])?;
        Ok(())
    }

    /// The connection, for the modules that own tables in this database.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// An openmls provider whose group state is stored in this database,
    /// on the same connection.
    pub fn mls_provider(&self) -> Result<MlsProvider> {
        Ok(KovanProvider::new(SqliteStorageProvider::new(self.conn.clone())))
    }

    /// Records an envelope id; returns `false` if it was already seen, so a
    /// replayed envelope is processed once only.
    pub fn mark_envelope_seen(&self, id: &[u8; 16], now: u64) -> Result<bool> {
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO seen_envelopes (envelope_id, seen_at) VALUES (?1, ?2)",
            params![id.as_slice(), now as i64],
        )?;
        Ok(n == 1)
    }

    /// Notes which message an envelope carried.
    pub fn note_envelope_message(
        &self,
        envelope_id: &[u8; 16],
        conversation: &[u8],
        message_id: &[u8; 16],
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE seen_envelopes SET conversation_id = ?2, message_id = ?3 WHERE envelope_id = ?1",
            params![envelope_id.as_slice(), conversation, message_id.as_slice()],
        )?;
        Ok(())
    }

    /// The message an already-seen envelope carried, if noted.
    pub fn envelope_message(&self, envelope_id: &[u8; 16]) -> Result<Option<(Vec<u8>, [u8; 16])>> {
        type Noted = (Option<Vec<u8>>, Option<Vec<u8>>);
        let row: Option<Noted> = self
            .conn
            .query_row(
                "SELECT conversation_id, message_id FROM seen_envelopes WHERE envelope_id = ?1",
                params![envelope_id.as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match row {
            Some((Some(c), Some(m))) => m.try_into().ok().map(|m| (c, m)),
            _ => None,
        })
    }

    /// Records the digest of an MLS message; false if it was processed before.
    pub fn mark_mls_seen(&self, digest: &[u8; 32], now: u64) -> Result<bool> {
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO seen_mls_messages (digest, seen_at) VALUES (?1, ?2)",
            params![digest.as_slice(), now as i64],
        )?;
        Ok(n == 1)
    }

    /// Forgets a digest (when processing failed for a reason that a retry
    /// may not have, e.g. a message from a future epoch).
    pub fn unmark_mls_seen(&self, digest: &[u8; 32]) -> Result<()> {
        self.conn.execute(
            "DELETE FROM seen_mls_messages WHERE digest = ?1",
            params![digest.as_slice()],
        )?;
        Ok(())
    }

    /// Forgets envelope ids older than `before` (they can no longer arrive:
    /// mailboxes expire first).
    pub fn prune_seen_envelopes(&self, before: u64) -> Result<usize> {
        Ok(self
            .conn
            .execute("DELETE FROM seen_envelopes WHERE seen_at < ?1", params![before as i64])?)
    }
}

/// See [`Database::tx`].
#[derive(Debug)]
pub struct Tx(Rc<Connection>);

impl Tx {
    /// Runs `f` inside a savepoint: if it fails, what it wrote is undone
    /// and the enclosing transaction goes on.
    pub fn savepoint<T, E: From<Error>>(
        &self,
        f: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.0.execute_batch("SAVEPOINT kovan_sp").map_err(|e| E::from(e.into()))?;
        match f() {
            Ok(v) => {
                self.0.execute_batch("RELEASE kovan_sp").map_err(|e| E::from(e.into()))?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.0.execute_batch("ROLLBACK TO kovan_sp; RELEASE kovan_sp");
                Err(e)
            }
        }
    }

    /// See [`Database::atomic`].
    pub fn atomic<T, E: From<Error>>(
        &self,
        f: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        if !self.0.is_autocommit() {
            return f();
        }
        self.0.execute_batch("BEGIN IMMEDIATE").map_err(|e| E::from(e.into()))?;
        match f() {
            Ok(v) => {
                if let Err(e) = self.0.execute_batch("COMMIT") {
                    let _ = self.0.execute_batch("ROLLBACK");
                    return Err(E::from(e.into()));
                }
                Ok(v)
            }
            Err(e) => {
                let _ = self.0.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew { found: current, supported: SCHEMA_VERSION });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        // PRAGMA does not take bound parameters; the value is our own integer.
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
    }
    let _: Option<i64> = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).optional()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kovan_crypto::identity::{AccountKey, DeviceKeys};
    use kovan_crypto::mls::{CIPHERSUITE, MlsSigner, credential_with_key};
    use openmls::prelude::*;
    use rand_core::OsRng;

    #[test]
    fn migrations_apply_once_and_newer_schemas_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let db = Database::open(&path).unwrap();
        assert_eq!(db.schema_version().unwrap(), SCHEMA_VERSION);
        assert!(db.mark_envelope_seen(&[1; 16], 10).unwrap());
        assert!(!db.mark_envelope_seen(&[1; 16], 11).unwrap(), "replay accepted");
        drop(db);
        let db = Database::open(&path).unwrap();
        assert!(!db.mark_envelope_seen(&[1; 16], 12).unwrap(), "replay accepted after restart");
        assert_eq!(db.prune_seen_envelopes(11).unwrap(), 1);
        db.conn.execute_batch("PRAGMA user_version = 99").unwrap();
        drop(db);
        assert!(matches!(Database::open(&path), Err(crate::Error::SchemaTooNew { found: 99, .. })));
    }

    #[test]
    fn a_truncated_or_foreign_file_is_damaged_and_a_crash_log_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let db = Database::open(&path).unwrap();
        for i in 0..2000u32 {
            let mut id = [0u8; 16];
            id[..4].copy_from_slice(&i.to_be_bytes());
            db.mark_envelope_seen(&id, 1).unwrap();
        }
        // A crash: the log is still there with the latest pages; copying
        // the pair while the connection is open is what a power cut leaves.
        let crashed = dir.path().join("crashed");
        std::fs::copy(&path, &crashed).unwrap();
        std::fs::copy(dir.path().join("db-wal"), dir.path().join("crashed-wal")).unwrap();
        assert_eq!(header_check(&crashed), Ok(Needs::QuickCheck));
        assert!(!Database::open(&crashed).unwrap().mark_envelope_seen(&[0; 16], 2).unwrap());
        drop(db); // a clean close checkpoints and removes the log
        assert_eq!(header_check(&path), Ok(Needs::Nothing));
        let len = std::fs::metadata(&path).unwrap().len();
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len - 4096).unwrap();
        let err = Database::open(&path).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
        std::fs::write(&path, vec![b'x'; 8192]).unwrap();
        let err = Database::open(&path).unwrap_err();
        assert!(err.to_string().contains("not an SQLite database"), "{err}");
    }

    #[test]
    fn mls_group_state_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let account = AccountKey::generate(&mut OsRng);
        let keys = DeviceKeys::generate(&mut OsRng);
        let now = crate::identity::now_secs();
        let cert = account.certify(&keys.public(), "", now, 3600).unwrap();
        let signer = MlsSigner::new(keys.mls.clone());

        let group_id = {
            let db = Database::open(&path).unwrap();
            let provider = db.mls_provider().unwrap();
            let config = MlsGroupCreateConfig::builder().ciphersuite(CIPHERSUITE).build();
            let group =
                MlsGroup::new(&provider, &signer, &config, credential_with_key(&cert)).unwrap();
            group.group_id().clone()
        };

        let db = Database::open(&path).unwrap();
        let provider = db.mls_provider().unwrap();
        let mut group =
            MlsGroup::load(provider.storage(), &group_id).unwrap().expect("group persisted");
        assert_eq!(group.epoch().as_u64(), 0);
        let members: Vec<_> = group.members().collect();
        assert_eq!(members.len(), 1);
        // It still works: a self-update advances the epoch and persists.
        let _ = group.self_update(&provider, &signer, LeafNodeParameters::default()).unwrap();
        group.merge_pending_commit(&provider).unwrap();
        drop(group);
        let group = MlsGroup::load(provider.storage(), &group_id).unwrap().unwrap();
        assert_eq!(group.epoch().as_u64(), 1);
    }
}
