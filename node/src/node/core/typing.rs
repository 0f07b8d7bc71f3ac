//! Typing indicators (SPEC.md §6.8): a `Typing` signal into the
//! conversation when the user starts typing (again at most every 4 s) and
//! when they stop; received ones become `Event::Typing`, never history.
//! Off (setting `typing_indicators`): none sent, none shown. Never in a
//! sealed or no-trace chat; a stale one (a mailbox kept it) is dropped.

use super::Core;
use crate::control::{s, to_value};
use crate::node::views::Event;
use crate::node::{NodeHandle, NodeResult};
use kovan_spec::wire;

/// A sender repeats `active = true` at most this often.
pub const TYPING_REPEAT_MS: i64 = 4_000;
/// A receiver drops a signal further than this from its own clock.
pub const TYPING_FRESH_MS: i64 = 10_000;

impl Core {
    fn typing_indicators(&self) -> NodeResult<bool> {
        Ok(self.db.setting("typing_indicators")?.is_none_or(|v| v != b"0"))
    }

    pub(super) fn set_typing_indicators(&mut self, on: bool) -> NodeResult<()> {
        self.db.set_setting("typing_indicators", if on { b"1" } else { b"0" })?;
        Ok(())
    }

    /// Tells the conversation this user is typing (or stopped); a repeat
    /// within [`TYPING_REPEAT_MS`] and anything while indicators are off
    /// or the chat is sealed or no-trace is quietly not sent.
    pub(super) fn typing(&mut self, who: &str, active: bool) -> NodeResult<bool> {
        if !self.typing_indicators()? || self.no_trace_id(who).is_some() {
            return Ok(false);
        }
        let (conv, recipients) = self.writable(who)?;
        if self.is_sealed(&conv)? || recipients.is_empty() {
            return Ok(false);
        }
        let now = self.options.clock.now_ms();
        match self.typing_sent.get(&conv) {
            Some(&(true, at)) if active && now - at < TYPING_REPEAT_MS => return Ok(false),
            // Nothing to stop.
            None | Some(&(false, _)) if !active => return Ok(false),
            _ => {}
        }
        let content = wire::app_envelope::Content::Typing(wire::Typing { active });
        self.send_app(&conv, &recipients, content, None, false)?;
        self.typing_sent.insert(conv, (active, now));
        self.pump();
        Ok(true)
    }

    pub(super) fn on_typing(
        &mut self,
        conv: &[u8],
        account: &[u8],
        active: bool,
        sent_at: u64,
        now: i64,
    ) -> NodeResult<()> {
        let fresh = (now - sent_at as i64).abs() <= TYPING_FRESH_MS;
        if !fresh || !self.typing_indicators()? || self.is_sealed(conv)? {
            return Ok(());
        }
        self.emit(Event::Typing {
            conversation: hex::encode(conv),
            account: hex::encode(account),
            active,
        });
        Ok(())
    }
}

impl NodeHandle {
    /// Says this user is typing in a conversation (`active`) or stopped;
    /// whether a signal went out (see [`Core::typing`]).
    pub async fn typing(&self, conversation: &str, active: bool) -> NodeResult<bool> {
        let conversation = conversation.to_owned();
        self.call(move |c| c.typing(&conversation, active)).await
    }

    /// Turns typing indicators on or off (both ways).
    pub async fn set_typing_indicators(&self, on: bool) -> NodeResult<()> {
        self.call(move |c| c.set_typing_indicators(on)).await
    }

    /// Whether typing indicators are on.
    pub async fn typing_indicators(&self) -> NodeResult<bool> {
        self.call(|c| c.typing_indicators()).await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "typing" => {
        let active = p["active"].as_bool().unwrap_or(true);
        to_value(serde_json::json!({ "sent": node.typing(s(p, "with")?, active).await? }))
    }
    "typing_indicators" => {
        if let Some(on) = p["on"].as_bool() {
            node.set_typing_indicators(on).await?;
        }
        to_value(serde_json::json!({ "on": node.typing_indicators().await? }))
    }
});
