//! Backups of the database while the node runs, and the key refresh that
//! follows a restore (SPEC.md §4.7).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Core, Fail, now_ms};
use crate::backup;
use crate::groups::Intent;
use crate::identity::now_secs;

/// A database that changed is backed up at least this often.
pub const BACKUP_EVERY: Duration = Duration::from_secs(3600);

/// The node's backups: one runs at a time, on a worker thread.
#[derive(Debug)]
pub(super) struct Backups {
    /// MLS state changed (a commit, a join): back up once the current
    /// transaction has committed.
    due: bool,
    /// Held while a backup runs.
    running: Arc<Mutex<()>>,
    last: Instant,
    /// The connection's change count at the last backup.
    changes_at_last: u64,
}

impl Backups {
    pub(super) fn new(changes: u64) -> Self {
        Self { due: false, running: Arc::default(), last: Instant::now(), changes_at_last: changes }
    }
}

impl Core {
    /// Group state changed (ours or theirs): a database restored from an
    /// older backup could not follow the group, so the backup is renewed.
    pub(super) fn mls_changed(&mut self) {
        self.backups.due = true;
    }

    /// A new KeyPackage. Its private keys live only in this database, and
    /// whoever holds the KeyPackage (a friend answering a request, an
    /// inviter, the relay's stock) may build a Welcome to it at any later
    /// time, so the backup is renewed as for any other MLS state.
    pub(super) fn new_key_package(
        &mut self,
        last_resort: bool,
    ) -> Result<Vec<u8>, crate::conversation::ConversationError> {
        let kp = self.mls.key_package(last_resort)?;
        self.mls_changed();
        Ok(kp)
    }

    /// Starts a backup on a worker thread when one is due: after MLS
    /// state changed, or hourly while anything changes. Called when idle.
    pub(super) fn maybe_backup(&mut self) {
        let changes = self.db.total_changes();
        let b = &mut self.backups;
        let hourly = b.last.elapsed() >= BACKUP_EVERY && changes != b.changes_at_last;
        if !(b.due || hourly) || b.running.try_lock().is_err() {
            return;
        }
        b.due = false;
        b.last = Instant::now();
        b.changes_at_last = changes;
        let running = b.running.clone();
        let path = self.db.path().to_owned();
        self.rt.spawn_blocking(move || {
            let Ok(_one) = running.lock() else { return };
            report(backup::take(&path));
        });
    }

    /// The backup at a clean stop, after any running one.
    pub(super) fn backup_at_stop(&mut self) {
        if self.db.total_changes() == self.backups.changes_at_last && !self.backups.due {
            return;
        }
        let Ok(_one) = self.backups.running.lock() else { return };
        report(backup::take(self.db.path()));
    }

    /// After a restore, this device refreshes its leaf in every
    /// conversation before it sends anything there (SPEC.md §4.7): the
    /// restored MLS state may be behind what it already sent, and its next
    /// messages would reuse generations its peers have consumed.
    pub(super) fn rekey_after_restore(&mut self) {
        match self.db.setting(backup::REKEY) {
            Ok(Some(_)) => {}
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the restore flag");
                return;
            }
        }
        let conversations = match self.history().conversations() {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list conversations to refresh keys");
                return;
            }
        };
        let mut refreshed = 0;
        for c in conversations.into_iter().filter(|c| !c.closed) {
            let live = self.mls.group_state(&c.id, now_secs()).is_ok_and(|s| s.active);
            if !live {
                continue;
            }
            let tx = self.db.tx();
            let done = tx.atomic(|| -> Result<bool, Fail> {
                match self.mls.commit(&self.db, &c.id, &Intent::Update, now_secs()) {
                    Ok(Some(commit)) => {
                        self.after_own_commit(&c.id, commit)?;
                        Ok(true)
                    }
                    Ok(None) => Ok(false),
                    Err(e) => {
                        tracing::info!(error = %e, "a restored conversation cannot refresh its keys");
                        Ok(false)
                    }
                }
            });
            match done {
                Ok(true) => refreshed += 1,
                Ok(false) => {}
                Err(e) => {
                    // Leave the flag: the next start tries again.
                    tracing::warn!(error = ?e, "refreshing keys after the restore failed");
                    self.groups_changed();
                    return;
                }
            }
        }
        if let Err(e) = self.db.remove_setting(backup::REKEY) {
            tracing::warn!(error = %e, "cannot clear the restore flag");
        }
        tracing::info!(refreshed, at = now_ms(), "keys refreshed after restoring the database");
        self.flush_events();
    }
}

fn report(r: crate::Result<backup::Backup>) {
    match r {
        Ok(b) => tracing::debug!(bytes = b.bytes, "database backed up"),
        Err(e) => {
            tracing::warn!(error = %e, "backing up the database failed; the last backup stays")
        }
    }
}
