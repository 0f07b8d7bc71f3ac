//! Commits (SPEC.md §7.6.3–§7.6.7): what follows our own commit (fan-out,
//! rank), the effects of an incoming one, key refreshes (self-updates),
//! members who left, and the application messages a rollback undid, which
//! are sent again.

use kovan_crypto::envelope::PayloadKind;
use kovan_crypto::identity::DeviceCertificate;
use kovan_spec::wire;
use rand_core::OsRng;
use rusqlite::params;

use super::super::{Core, Fail, now_ms, reject};
use crate::conversation::{Committed, Rollback};
use crate::groups::{CommitSummary, Intent};
use crate::identity::now_secs;
use crate::node::NodeResult;
use crate::node::views::Event;

/// A device refreshes its leaf keys in a conversation after sending this
/// many messages there… (SPEC.md §7.6.7)
pub const SELF_UPDATE_MESSAGES: i64 = 100;
/// …or when it sends and its last refresh there is older than this.
pub const SELF_UPDATE_MS: i64 = 24 * 3600 * 1000;

fn sent_context(group: &[u8]) -> Vec<u8> {
    let mut c = b"group_sent/".to_vec();
    c.extend_from_slice(group);
    c
}

impl Core {
    /// Sends our commit to the earlier members and the Welcome to the
    /// added devices; records what changed. Inside the caller's transaction.
    pub(in crate::node::core) fn after_own_commit(
        &mut self,
        gid: &[u8],
        c: Committed,
    ) -> Result<(), Fail> {
        self.groups_changed();
        self.mls_changed();
        for r in &c.recipients {
            self.enqueue(r, PayloadKind::MlsMessage, &c.commit, Some(gid), None)?;
        }
        if let Some(welcome) = &c.welcome {
            for added in &c.summary.added {
                self.enqueue(added, PayloadKind::MlsWelcome, welcome, Some(gid), None)?;
            }
        }
        self.db.conn().execute(
            "UPDATE conversations SET last_update = ?2, sent_since_update = 0 WHERE id = ?1",
            params![gid, now_ms()],
        )?;
        if !self.is_group(gid)? {
            return Ok(());
        }
        for added in &c.summary.added {
            self.db.conn().execute(
                "UPDATE group_invitations SET state = 'joined', updated_at = ?3 \
                 WHERE group_id = ?1 AND account = ?2 AND incoming = 0",
                params![gid, added.account().as_bytes().as_slice(), now_ms()],
            )?;
        }
        self.note_commit(gid, &c.summary)?;
        Ok(())
    }

    /// Bookkeeping after any commit (ours or theirs): title, state,
    /// leavers that are gone, events.
    pub(in crate::node::core) fn note_commit(
        &mut self,
        gid: &[u8],
        s: &CommitSummary,
    ) -> Result<(), Fail> {
        for removed in &s.removed {
            self.db.conn().execute(
                "DELETE FROM group_leaving WHERE group_id = ?1 AND device = ?2",
                params![gid, removed.peer_id().to_string()],
            )?;
        }
        let meta = s.meta_after.clone().unwrap_or_default();
        let state = if s.self_removed {
            "removed"
        } else if meta.dissolved {
            "dissolved"
        } else {
            "member"
        };
        let title = if meta.name.is_empty() {
            self.history().group(gid)?.map(|g| g.0).unwrap_or_default()
        } else {
            meta.name.clone()
        };
        self.history().set_group(gid, &title, state)?;
        if state != "member" {
            self.history().close(gid)?;
        }
        let view = self.group_view(gid).map_err(Fail::from)?;
        self.emit(Event::GroupChanged { group: view });
        Ok(())
    }

    /// An incoming commit was applied (possibly after a rollback).
    pub(in crate::node::core) fn on_commit_applied(
        &mut self,
        gid: &[u8],
        summary: &CommitSummary,
        rollback: Option<Rollback>,
    ) -> Result<(), Fail> {
        self.groups_changed();
        self.mls_changed();
        if !self.history().exists(gid)? {
            return Ok(());
        }
        let group = self.is_group(gid)?;
        if group {
            self.note_commit(gid, summary)?;
        }
        if let Some(rb) = rollback {
            tracing::info!(
                to_epoch = rb.to_epoch,
                undone = rb.intents.len(),
                "a concurrent commit won"
            );
            self.resend_undone(gid, rb.to_epoch)?;
            for intent in rb.intents {
                match self.mls.commit(&self.db, gid, &intent, now_secs()) {
                    Ok(Some(c)) => self.after_own_commit(gid, c)?,
                    Ok(None) => {}
                    Err(e) => tracing::info!(error = %e, "a re-proposed change no longer applies"),
                }
            }
        }
        if group {
            self.remove_leavers(gid)?;
        }
        self.replay_parked(gid)?;
        Ok(())
    }

    /// Refreshes our leaf keys in the conversation when it is due (SPEC.md
    /// §7.6.7): `last` and `sent` come from [`crate::history::History::next_sequence`].
    /// Inside the caller's transaction.
    pub(in crate::node::core) fn maybe_self_update(
        &mut self,
        conv: &[u8],
        last: i64,
        sent: i64,
    ) -> NodeResult<()> {
        let now = now_ms();
        if sent < SELF_UPDATE_MESSAGES && now - last < SELF_UPDATE_MS {
            return Ok(());
        }
        tracing::debug!(sent, since_ms = now - last, "refreshing our leaf keys");
        match self.mls.commit(&self.db, conv, &Intent::Update, now_secs()) {
            Ok(Some(c)) => self.after_own_commit(conv, c).map_err(super::super::fail_to_node)?,
            Ok(None) => {}
            Err(e) => tracing::info!(error = %e, "refreshing our keys failed; trying later"),
        }
        Ok(())
    }

    /// Admins commit the removal of members that proposed to leave.
    pub(in crate::node::core) fn remove_leavers(&mut self, gid: &[u8]) -> Result<(), Fail> {
        let Ok(st) = self.mls.group_state(gid, now_secs()) else { return Ok(()) };
        let Some(meta) = st.meta else { return Ok(()) };
        if !st.active || meta.dissolved || !meta.is_admin(&self.my_account()) {
            return Ok(());
        }
        let mut stmt =
            self.db.conn().prepare("SELECT device FROM group_leaving WHERE group_id = ?1")?;
        let devices: Vec<String> =
            stmt.query_map(params![gid], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        drop(stmt);
        let present: Vec<String> = devices
            .into_iter()
            .filter(|d| st.members.iter().any(|m| &m.peer_id().to_string() == d))
            .collect();
        if present.is_empty() {
            return Ok(());
        }
        match self.mls.commit(
            &self.db,
            gid,
            &Intent::RemoveDevices { devices: present },
            now_secs(),
        ) {
            Ok(Some(c)) => self.after_own_commit(gid, c)?,
            Ok(None) => {}
            Err(e) => tracing::info!(error = %e, "removing a leaver failed"),
        }
        Ok(())
    }

    /// A member proposed to leave.
    pub(in crate::node::core) fn on_leave(
        &mut self,
        gid: &[u8],
        device: &DeviceCertificate,
    ) -> Result<(), Fail> {
        self.db.conn().execute(
            "INSERT OR IGNORE INTO group_leaving (group_id, device, at) VALUES (?1, ?2, ?3)",
            params![gid, device.peer_id().to_string(), now_ms()],
        )?;
        self.remove_leavers(gid)
    }

    /// Records a group application message we sent (sealed), so that a
    /// rollback of its epoch can re-send it.
    pub(in crate::node::core) fn note_group_sent(
        &self,
        gid: &[u8],
        epoch: u64,
        plaintext: &[u8],
    ) -> crate::Result<()> {
        let sealed = self.field.seal(&mut OsRng, &sent_context(gid), plaintext);
        self.db.conn().execute(
            "INSERT INTO group_sent (group_id, epoch, plaintext) VALUES (?1, ?2, ?3)",
            params![gid, epoch as i64, sealed],
        )?;
        Ok(())
    }

    /// Re-sends what we sent in epochs a rollback undid (receivers dedupe
    /// by message id).
    pub(in crate::node::core) fn resend_undone(
        &mut self,
        gid: &[u8],
        to_epoch: u64,
    ) -> Result<(), Fail> {
        let mut stmt = self.db.conn().prepare(
            "SELECT id, plaintext FROM group_sent WHERE group_id = ?1 AND epoch > ?2 ORDER BY id",
        )?;
        let rows: Vec<(i64, Vec<u8>)> = stmt
            .query_map(params![gid, to_epoch as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        drop(stmt);
        if rows.is_empty() {
            return Ok(());
        }
        let recipients = if self.is_group(gid)? {
            self.group_recipients(gid).map_err(Fail::from)?
        } else {
            match self.contacts_store().by_conversation(gid)?.and_then(|c| c.certificate) {
                Some(cert) => vec![cert],
                None => return Ok(()),
            }
        };
        let epoch = self.mls.epoch(gid).map_err(reject)?;
        for (id, sealed) in rows {
            let Ok(plain) = self.field.open(&sent_context(gid), &sealed) else { continue };
            let mls = self.mls.encrypt(gid, &plain).map_err(reject)?;
            let mid = kovan_spec::decode::<wire::AppEnvelope>(&plain)
                .ok()
                .and_then(|e| <[u8; 16]>::try_from(e.message_id.as_slice()).ok());
            for r in &recipients {
                self.enqueue(r, PayloadKind::MlsMessage, &mls, Some(gid), mid.as_ref())?;
            }
            self.db.conn().execute(
                "UPDATE group_sent SET epoch = ?2 WHERE id = ?1",
                params![id, epoch as i64],
            )?;
        }
        Ok(())
    }
}
