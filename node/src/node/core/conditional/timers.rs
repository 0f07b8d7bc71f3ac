//! Members locks whose holders' nodes release by themselves (SPEC.md
//! §6.10.4, X4): not before a time, and/or once the sender has been silent
//! too long (a dead man's switch, reset by the sender's check-ins). Every
//! device that holds such a message keeps when its sender was last heard
//! from and when it is due (`conditional_timers`); a holder's node releases
//! its share when that time comes, also after a restart.

use kovan_spec::validate::ConditionalSpec;
use kovan_spec::wire;
use rusqlite::{OptionalExtension as _, params};

use super::super::{Core, internal, now_ms};
use super::members::{members_of, release_of};

/// A timed release that failed for a reason that may pass (the database was
/// busy, the group's state was changing) is tried again this much later.
const RETRY_MS: i64 = 60_000;
/// ... at most this many times (a day of tries); then it is given up.
const MAX_ATTEMPTS: i64 = 1_440;
/// A share released before its message arrived is forgotten if the
/// message has not come this long after (SPEC.md §6.10.3).
const EARLY_SHARE_MS: i64 = 7 * 24 * 3_600_000;
use crate::node::views::{Event, MessageView};
use crate::node::{NodeError, NodeHandle, NodeResult, views};

impl Core {
    /// Starts following a message sent at `sent_at` (its sender's clock)
    /// whose holders release by themselves; nothing for other messages.
    pub(in crate::node::core) fn track_release(
        &self,
        conv: &[u8],
        id: &[u8; 16],
        spec: &ConditionalSpec,
        sent_at: i64,
    ) -> crate::Result<()> {
        let Some(release) = release_of(spec) else { return Ok(()) };
        // The sender's clock, but never later than ours.
        let heard = sent_at.min(self.options.clock.now_ms()).max(0);
        let me = self.my_account();
        let holder = members_of(spec).is_some_and(|(_, h)| h.iter().any(|h| h.account == me));
        let due = release.due_ms(heard as u64).unwrap_or(0) as i64;
        self.db.conn().execute(
            "INSERT OR IGNORE INTO conditional_timers \
             (conversation_id, message_id, last_heard, due_at, state) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![conv, id.as_slice(), heard, due, if holder { "waiting" } else { "watching" }],
        )?;
        Ok(())
    }

    /// When the holders' nodes release a message, as this device sees it.
    pub(super) fn release_due(&self, conv: &[u8], id: &[u8; 16]) -> crate::Result<Option<i64>> {
        Ok(self
            .db
            .conn()
            .query_row(
                "SELECT due_at FROM conditional_timers WHERE conversation_id = ?1 \
                 AND message_id = ?2",
                params![conv, id.as_slice()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The sender checked in: the silence counts again from then (never
    /// from later than now, and never back).
    pub(in crate::node::core) fn on_check_in(
        &mut self,
        conv: &[u8],
        target: &[u8; 16],
        account: &[u8],
        sent_ms: i64,
    ) -> NodeResult<()> {
        let Some(m) = self.history().get(conv, target)? else { return Ok(()) };
        if m.sender_account != account {
            tracing::debug!("a check-in by someone else than the message's sender was dropped");
            return Ok(());
        }
        let at = sent_ms.min(self.options.clock.now_ms());
        if self.heard_from(conv, target, at)? {
            self.members_changed(conv, target)?;
        }
        Ok(())
    }

    /// Moves a message's last-heard time to `at` if that is later; whether
    /// it moved.
    fn heard_from(&self, conv: &[u8], id: &[u8; 16], at: i64) -> crate::Result<bool> {
        let Some(spec) = self.stored_conditional(conv, id)? else { return Ok(false) };
        let Some(release) = release_of(&spec) else { return Ok(false) };
        if release.silence_ms.is_none() {
            return Ok(false);
        }
        let due = release.due_ms(at.max(0) as u64).unwrap_or(0) as i64;
        let moved = self.db.conn().execute(
            "UPDATE conditional_timers SET last_heard = ?3, due_at = ?4 \
             WHERE conversation_id = ?1 AND message_id = ?2 AND last_heard < ?3 \
             AND state IN ('waiting', 'watching')",
            params![conv, id.as_slice(), at, due],
        )?;
        Ok(moved > 0)
    }

    /// The sender says it is still there (SPEC.md §6.10.4); `relays_told`
    /// when its relays (§6.10.6) took the check-in already, which is then
    /// enough for a message whose holders do not release by themselves.
    fn check_in(&mut self, who: &str, id: &[u8; 16], relays_told: bool) -> NodeResult<MessageView> {
        let (conv, spec) = self.conditional_spec(who, id)?;
        let mine = self.history().get(&conv, id)?.is_some_and(|m| m.outgoing);
        let holders_wait = release_of(&spec).is_some_and(|r| r.silence_ms.is_some());
        if relays_told && !holders_wait {
            return self.message_view(&conv, id)?.ok_or_else(|| internal("message vanished"));
        }
        if !mine || !holders_wait {
            return Err(NodeError::Invalid(
                "only the sender of a message with a dead man's switch checks in".into(),
            ));
        }
        let followed = self.release_due(&conv, id)?.is_some();
        let opened = members_of(&spec).is_some_and(|(k, holders)| {
            self.released_shares(&conv, id, holders).is_ok_and(|s| s.len() >= usize::from(k))
        });
        if !followed {
            return Err(NodeError::Invalid(
                "only the sender of a message with a dead man's switch checks in".into(),
            ));
        }
        if opened {
            return Err(NodeError::State("too late: this message has been released".into()));
        }
        let (_, recipients) = self.writable(who)?;
        let content = wire::app_envelope::Content::CheckIn(wire::CheckIn { target: id.to_vec() });
        self.send_app(&conv, &recipients, content, None, false)?;
        self.heard_from(&conv, id, self.options.clock.now_ms())?;
        let view = self.message_view(&conv, id)?.ok_or_else(|| internal("message vanished"))?;
        self.emit(Event::MessageEdited { message: view.clone() });
        self.flush_events();
        self.pump();
        Ok(view)
    }

    /// The earliest time this device's holder releases a share by itself.
    pub(in crate::node::core) fn next_conditional_release(&self) -> Option<i64> {
        self.earliest("SELECT MIN(due_at) FROM conditional_timers WHERE state = 'waiting'")
    }

    /// Releases every share of this account that is due.
    pub(in crate::node::core) fn run_conditional_releases(&mut self) {
        if self.stopping {
            return;
        }
        let now = self.options.clock.now_ms();
        // Early releases whose message never came.
        let forgotten = self.db.conn().execute(
            "DELETE FROM conditional_shares WHERE received_at < ?1 AND NOT EXISTS \
             (SELECT 1 FROM messages m WHERE m.conversation_id = conditional_shares.conversation_id \
              AND m.message_id = conditional_shares.message_id)",
            params![now_ms() - EARLY_SHARE_MS],
        );
        if let Err(e) = forgotten {
            tracing::warn!(error = %e, "early shares were not forgotten");
        }
        // At most 16 per tick (the rest on the next).
        let due = self.due_messages(
            "SELECT conversation_id, message_id FROM conditional_timers \
             WHERE state = 'waiting' AND due_at <= ?1 ORDER BY due_at LIMIT 16",
            now,
            "timed releases",
        );
        for (conv, id) in due {
            let Ok(id) = <[u8; 16]>::try_from(id.as_slice()) else { continue };
            let (state, due) = match self.release_when_due(&conv, &id) {
                Ok(()) => ("released", now),
                // What waiting will not change: the message is gone, this
                // device cannot open its share, it left the group.
                Err(e @ (NodeError::NotFound(_) | NodeError::Invalid(_) | NodeError::State(_))) => {
                    tracing::warn!(error = %e, "a timed share cannot be released");
                    ("failed", now)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "a timed share was not released; trying again");
                    ("waiting", now + RETRY_MS)
                }
            };
            // The due time stays what it was unless it is tried again; a
            // release that keeps failing is given up after a day of tries.
            let _ = self.db.conn().execute(
                "UPDATE conditional_timers SET \
                 attempts = attempts + (?3 = 'waiting'), \
                 state = CASE WHEN ?3 = 'waiting' AND attempts + 1 >= ?5 THEN 'failed' ELSE ?3 END, \
                 due_at = CASE WHEN ?3 = 'waiting' THEN ?4 ELSE due_at END \
                 WHERE conversation_id = ?1 AND message_id = ?2",
                params![conv, id.as_slice(), state, due, MAX_ATTEMPTS],
            );
        }
    }

    /// Releases this account's share of a message whose time came, unless
    /// it already did.
    fn release_when_due(&mut self, conv: &[u8], id: &[u8; 16]) -> NodeResult<()> {
        let spec = self
            .stored_conditional(conv, id)?
            .ok_or_else(|| NodeError::NotFound("no such conditional message".into()))?;
        let me = self.my_account();
        let holders = members_of(&spec).map_or(&[][..], |(_, h)| h);
        if self.released_shares(conv, id, holders)?.iter().any(|(a, _)| *a == me) {
            return Ok(());
        }
        self.release_now(conv, id, &spec).map(|_| ())
    }
}

/// Dead man's switches.
impl NodeHandle {
    /// Checks in on a conditional message with a dead man's switch this
    /// account sent: its holders and its relays count the silence again
    /// from now.
    pub async fn check_in(&self, conversation: &str, message: &str) -> NodeResult<MessageView> {
        let id = views::parse_message_id(message)?;
        let who = conversation.to_owned();
        let relays_told = self.check_in_relays(&who, &id).await?;
        self.call(move |c| c.check_in(&who, &id, relays_told)).await
    }
}
