//! Backups of the node database, and restoring from one (SPEC.md §4.7).
//!
//! The node keeps one backup next to its database (`node.sqlite3.bak`): a
//! consistent copy written by SQLite's `VACUUM INTO` on a connection of its
//! own (so it can run on a worker thread while the node goes on), checked
//! with `quick_check`, synced, and moved into place by a rename, so a crash
//! or a full disk while backing up leaves the previous backup whole.
//!
//! When the database is found damaged at start and a good backup exists,
//! the damaged file is moved aside (never deleted) and the backup takes its
//! place, stamped so that the node refreshes its keys in every conversation
//! before it sends anything (a restored MLS state must not encrypt under
//! generations the lost state may already have used).

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The setting a backup carries: when it was taken (ms since the epoch).
pub(crate) const TAKEN_AT: &str = "backup_taken_at";
/// The setting a restored database carries until every conversation has
/// refreshed its keys (SPEC.md §4.7).
pub(crate) const REKEY: &str = "rekey_after_restore";
/// The setting that records the last restore ([`Restored`], JSON).
pub(crate) const RESTORED: &str = "restored_from_backup";

/// What a restore did, for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restored {
    /// When the backup now in use was taken (ms since the epoch).
    pub backup_taken_at: i64,
    /// When it was restored (ms since the epoch).
    pub restored_at: i64,
    /// Where the damaged file was moved (kept for recovery by hand).
    pub damaged_file: PathBuf,
    /// What was wrong with it.
    pub reason: String,
}

/// A backup that was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backup {
    /// When (ms since the epoch).
    pub taken_at: i64,
    /// Its size in bytes.
    pub bytes: u64,
}

/// The backup of the database at `db`.
pub fn backup_path(db: &Path) -> PathBuf {
    suffixed(db, ".bak")
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn io(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    Error::io(format!("{what} {}", path.display()))
}

/// Syncs a file's contents, then the directory entry that names it.
fn sync(path: &Path) -> Result<()> {
    std::fs::File::open(path).and_then(|f| f.sync_all()).map_err(io("syncing", path))?;
    sync_dir(path)
}

fn sync_dir(path: &Path) -> Result<()> {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io("syncing", dir))?;
    }
    Ok(())
}

fn private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(crate::home::PRIVATE_FILE))
        .map_err(io("securing", path))
}

/// Opens a copy, makes it a self-contained file (no write-ahead log),
/// writes `settings` into it and checks every page.
fn seal_copy(path: &Path, settings: &[(&str, Vec<u8>)]) -> Result<()> {
    let conn = Connection::open(path)?;
    conn.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
    for (key, value) in settings {
        conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
    }
    let check: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(Error::Internal(format!("the copy does not check out: {check}")));
    }
    Ok(())
}

/// Writes a consistent copy of the database at `db` to its backup file,
/// replacing the previous backup only once the new one is whole and synced.
/// Safe to call while the node writes (WAL readers see one snapshot); calls
/// for one database must not overlap (the node runs one at a time).
pub fn take(db: &Path) -> Result<Backup> {
    let bak = backup_path(db);
    let tmp = suffixed(db, ".bak-new");
    let _ = std::fs::remove_file(&tmp);
    let target =
        tmp.to_str().ok_or_else(|| Error::Invalid("the database path is not UTF-8".into()))?;
    let taken_at = now_ms();
    let result = (|| {
        // An empty private file first: VACUUM INTO fills it, keeping its mode.
        crate::home::private_file()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(io("creating", &tmp))?;
        let conn = Connection::open(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute("VACUUM INTO ?1", params![target])?;
        drop(conn);
        seal_copy(&tmp, &[(TAKEN_AT, taken_at.to_be_bytes().to_vec())])?;
        private(&tmp)?;
        sync(&tmp)?;
        std::fs::rename(&tmp, &bak).map_err(io("replacing", &bak))?;
        sync_dir(&bak)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let bytes = std::fs::metadata(&bak).map_err(io("reading", &bak))?.len();
    Ok(Backup { taken_at, bytes })
}

/// When the backup of `db` was taken, if there is a readable one.
pub fn taken_at(db: &Path) -> Option<i64> {
    let bak = backup_path(db);
    if !bak.exists() {
        return None;
    }
    let conn =
        Connection::open_with_flags(&bak, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    let v: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM settings WHERE key = ?1", params![TAKEN_AT], |r| r.get(0))
        .optional()
        .ok()?;
    v.and_then(|v| v.try_into().ok()).map(i64::from_be_bytes)
}

/// Replaces the damaged database at `db` with its backup. Returns `None`
/// (and touches nothing) when there is no backup; an error (and touches
/// nothing) when the backup does not check out either. The damaged file and
/// its log are moved aside, never deleted.
pub(crate) fn restore(db: &Path, reason: &str) -> Result<Option<Restored>> {
    let bak = backup_path(db);
    if !bak.exists() {
        return Ok(None);
    }
    let damaged = |why: String| Error::Damaged {
        path: db.to_owned(),
        reason: format!("{reason}; its backup is no good either: {why}"),
    };
    let restored_at = now_ms();
    let staged = suffixed(db, ".restoring");
    let _ = std::fs::remove_file(&staged);
    std::fs::copy(&bak, &staged).map_err(io("copying", &bak))?;
    if let Err(why) = crate::store::header_check(&staged) {
        let _ = std::fs::remove_file(&staged);
        return Err(damaged(why));
    }
    let backup_taken_at = taken_at(db).unwrap_or(0);
    let aside = suffixed(db, &format!(".damaged-{restored_at}"));
    let info = Restored {
        backup_taken_at,
        restored_at,
        damaged_file: aside.clone(),
        reason: reason.to_owned(),
    };
    let record = serde_json::to_vec(&info).map_err(|e| Error::Internal(e.to_string()))?;
    // The copy is marked before it is put in place: a crash after the
    // rename still starts with the keys refreshed.
    if let Err(e) = seal_copy(&staged, &[(REKEY, b"1".to_vec()), (RESTORED, record)]) {
        let _ = std::fs::remove_file(&staged);
        return Err(damaged(e.to_string()));
    }
    private(&staged)?;
    sync(&staged)?;
    for (from, to) in [
        (db.to_owned(), aside.clone()),
        (suffixed(db, "-wal"), suffixed(&aside, "-wal")),
        (suffixed(db, "-shm"), suffixed(&aside, "-shm")),
    ] {
        if from.exists() {
            std::fs::rename(&from, &to).map_err(io("moving aside", &from))?;
        }
    }
    std::fs::rename(&staged, db).map_err(io("restoring", db))?;
    sync_dir(db)?;
    Ok(Some(info))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Database;

    fn filled(path: &Path, n: u32) -> Database {
        let db = Database::open(path).unwrap();
        for i in 0..n {
            let mut id = [0u8; 16];
            id[..4].copy_from_slice(&i.to_be_bytes());
            db.mark_envelope_seen(&id, 1).unwrap();
        }
        db
    }

    fn seen(db: &Database, i: u32) -> bool {
        let mut id = [0u8; 16];
        id[..4].copy_from_slice(&i.to_be_bytes());
        !db.mark_envelope_seen(&id, 2).unwrap()
    }

    fn truncate(path: &Path) {
        let len = std::fs::metadata(path).unwrap().len();
        std::fs::OpenOptions::new().write(true).open(path).unwrap().set_len(len / 2).unwrap();
    }

    #[test]
    fn a_damaged_database_is_replaced_by_its_backup_and_kept_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let db = filled(&path, 3000);
        // Taken while the database is open and has a write-ahead log.
        let b = take(&path).unwrap();
        assert!(b.bytes > 0);
        assert_eq!(taken_at(&path), Some(b.taken_at));
        // Written after the backup: lost by a restore.
        db.mark_envelope_seen(&[0xff; 16], 1).unwrap();
        drop(db);
        truncate(&path);
        let damaged_len = std::fs::metadata(&path).unwrap().len();

        let (db, restored) = Database::open_or_restore(&path).unwrap();
        let r = restored.expect("restored");
        assert_eq!(r.backup_taken_at, b.taken_at);
        assert!(r.reason.contains("truncated"), "{}", r.reason);
        assert_eq!(std::fs::metadata(&r.damaged_file).unwrap().len(), damaged_len);
        assert!(seen(&db, 0) && seen(&db, 2999), "what the backup held is back");
        assert!(!seen(&db, u32::MAX), "nothing invented");
        assert_eq!(db.setting(REKEY).unwrap().as_deref(), Some(&b"1"[..]));
        assert!(db.setting(RESTORED).unwrap().is_some());
        drop(db);
        // The restore is done once: the next start opens it as it is.
        let (_, again) = Database::open_or_restore(&path).unwrap();
        assert_eq!(again, None);
        assert!(backup_path(&path).exists(), "the backup is kept");
    }

    #[test]
    fn without_a_good_backup_the_damaged_file_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        drop(filled(&path, 2000));
        truncate(&path);
        let len = std::fs::metadata(&path).unwrap().len();
        let err = Database::open_or_restore(&path).unwrap_err();
        assert!(matches!(err, Error::Damaged { .. }), "{err}");

        // A backup that is damaged too changes nothing either.
        std::fs::write(backup_path(&path), vec![b'x'; 4096]).unwrap();
        let err = Database::open_or_restore(&path).unwrap_err();
        assert!(err.to_string().contains("backup is no good either"), "{err}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len, "left as it was");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 2, "nothing moved or added: {names:?}");
    }

    #[test]
    fn a_failed_backup_leaves_the_previous_one_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let db = filled(&path, 100);
        let first = take(&path).unwrap();
        let before = std::fs::read(backup_path(&path)).unwrap();
        // The database goes bad under the node: the next backup fails.
        drop(db);
        std::fs::write(&path, vec![b'x'; 8192]).unwrap();
        assert!(take(&path).is_err());
        assert_eq!(std::fs::read(backup_path(&path)).unwrap(), before);
        assert_eq!(taken_at(&path), Some(first.taken_at));
        assert!(!suffixed(&path, ".bak-new").exists(), "no half-written copy is left");
    }
}
