//! Conversations and their history as the user sees them: the list of
//! conversations, history pages by cursor both ways and around a message
//! (I4), message views (with reactions, poll tallies and live locations),
//! and marking a conversation read.

use kovan_spec::validate::{Content, ReceiptKind, ValidatedApp};
use kovan_spec::validate_app_envelope;

use super::Core;
use crate::control::{s, to_value};
use crate::history::StoredMessage;
use crate::node::views::{ContactView, ConversationView, MessageView};
use crate::node::{NodeError, NodeHandle, NodeResult};

/// Where a history page starts (I4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryAt {
    /// Older than this cursor (None: the newest), newest first.
    Before(Option<i64>),
    /// Newer than this cursor, oldest first.
    After(i64),
    /// Around this message (jump to it), oldest first.
    Around([u8; 16]),
}

impl Core {
    pub(super) fn message_view(
        &self,
        conv: &[u8],
        id: &[u8; 16],
    ) -> crate::Result<Option<MessageView>> {
        let Some(m) = self.history().get(conv, id)? else { return Ok(None) };
        self.view_of(conv, &m).map(Some)
    }

    /// A stored message as shown: with its reactions and, for a poll, its
    /// tally.
    pub(super) fn view_of(&self, conv: &[u8], m: &StoredMessage) -> crate::Result<MessageView> {
        let history = self.history();
        let me = self.my_account();
        let reactions = history.reactions(conv, &m.message_id)?;
        let mut view = MessageView::new(conv, m, &reactions, &me);
        self.open_view(conv, &mut view, m.body.as_deref());
        if let Some(poll) = view.poll.take() {
            let spec = match m.body.as_deref().map(validate_app_envelope) {
                Some(Ok(ValidatedApp { content: Content::Poll(p), .. })) => Some(p),
                _ => None,
            };
            if let Some(spec) = spec
                && let Some(v) = &spec.verifiable
            {
                view.poll = Some(self.verified_view(conv, &m.message_id, &spec, v, poll)?);
                return Ok(view);
            }
            view.poll = Some(poll);
            let votes = history.poll_votes(conv, &m.message_id)?;
            return Ok(view.with_votes(&votes, &me));
        }
        if view.kind == "conditional" {
            self.conditional_view(conv, &mut view)?;
        }
        if view.kind == "call"
            && let Some(record) = self.call_record(&m.message_id)?
        {
            view.call = Some(record);
        }
        if view.kind == "location"
            && let Some(place) = m.body.as_deref().and_then(Self::place_of)
        {
            view.location = Some(self.location_view(conv, &m.message_id, &place, m.sent_at)?);
        }
        Ok(view)
    }

    pub(super) fn history_page(
        &mut self,
        who: &str,
        at: HistoryAt,
        limit: usize,
    ) -> NodeResult<Vec<MessageView>> {
        if let Some(id) = self.no_trace_id(who) {
            return Ok(self.no_trace_history(&id, limit));
        }
        let (conv, _) = self.find_conversation(who)?;
        self.readable(&conv)?;
        let history = self.history();
        let page = match at {
            HistoryAt::Before(before) => history.page(&conv, before, limit)?,
            HistoryAt::After(after) => history.page_after(&conv, after, limit)?,
            HistoryAt::Around(id) => {
                let seq = history
                    .cursor_of(&conv, &id)?
                    .ok_or_else(|| NodeError::NotFound("no such message here".into()))?;
                // Half before (and the message), half after, oldest first.
                let mut page = history.page(&conv, Some(seq + 1), limit / 2 + 1)?;
                page.reverse();
                page.extend(history.page_after(&conv, seq, limit - limit / 2 - 1)?);
                page
            }
        };
        Ok(page.iter().map(|m| self.view_of(&conv, m)).collect::<crate::Result<_>>()?)
    }

    pub(super) fn mark_read(&mut self, who: &str) -> NodeResult<usize> {
        if self.no_trace_id(who).is_some() {
            // Nothing is stored, nothing is owed.
            return Ok(0);
        }
        let (conv, _) = self.find_conversation(who)?;
        let ids = self.history().mark_read(&conv)?;
        if self.read_receipts && !ids.is_empty() {
            for chunk in ids.chunks(kovan_spec::limits::MAX_RECEIPT_TARGETS) {
                self.send_receipt(&conv, ReceiptKind::Seen, chunk)?;
            }
            self.pump();
        }
        Ok(ids.len())
    }

    /// One conversation as the list shows it.
    pub(super) fn conversation_view(&mut self, conv: &[u8]) -> NodeResult<ConversationView> {
        let id = hex::encode(conv);
        self.conversations()?
            .into_iter()
            .find(|v| v.id == id)
            .ok_or_else(|| NodeError::NotFound("no such conversation".into()))
    }

    pub(super) fn conversations(&mut self) -> NodeResult<Vec<ConversationView>> {
        let rows = self.history().conversations()?;
        let store = self.contacts_store();
        let mut list: Vec<ConversationView> = rows
            .iter()
            .map(|r| {
                let c = if r.peer_account.is_some() { store.by_conversation(&r.id)? } else { None };
                let title = r.title.clone().unwrap_or_default();
                let epoch = self.mls.epoch(&r.id).ok();
                let mut view =
                    ConversationView::new(r, c.as_ref().map(ContactView::from), title, epoch);
                self.seal_state(&r.id, &mut view)?;
                if view.sealed {
                    self.drop_draft(&r.id)?;
                } else {
                    view.draft = self.draft_of(&r.id)?;
                }
                if !view.locked {
                    let newest = self.history().page(&r.id, None, 1)?;
                    if let Some(m) = newest.first() {
                        view.last = Some(Box::new(self.view_of(&r.id, m)?));
                    }
                }
                if r.group_state.is_some() {
                    let mode = self.mode_of(&r.id);
                    view.mode = mode.name();
                    view.waiting_direct =
                        mode.direct_only() && self.outbox().waits_directly(&r.id)?;
                }
                Ok(view)
            })
            .collect::<NodeResult<_>>()?;
        // Leave-no-trace chats first: they last only while both are here.
        let no_trace = self.no_trace_chats_now();
        list.splice(0..0, no_trace.iter().map(ConversationView::no_trace));
        Ok(list)
    }
}

/// Conversations and history.
impl NodeHandle {
    /// Conversations, most recent first.
    pub async fn conversations(&self) -> NodeResult<Vec<ConversationView>> {
        self.call(|c| c.conversations()).await
    }

    /// A page of history, newest first: up to `limit` messages before the
    /// cursor `before` (a message's `seq`), or the newest.
    pub async fn history(
        &self,
        conversation: &str,
        before: Option<i64>,
        limit: usize,
    ) -> NodeResult<Vec<MessageView>> {
        self.history_at(conversation, HistoryAt::Before(before), limit).await
    }

    /// A page of history from anywhere (I4): older than a cursor (newest
    /// first), newer than a cursor (oldest first, scrolling down), or
    /// around a message (oldest first, for "jump to message" — a reply's
    /// original, a search hit). At most 500 messages; every page is one
    /// indexed range read, whatever the length of the history.
    pub async fn history_at(
        &self,
        conversation: &str,
        at: HistoryAt,
        limit: usize,
    ) -> NodeResult<Vec<MessageView>> {
        let conversation = conversation.to_owned();
        let limit = limit.clamp(1, 500);
        self.call(move |c| c.history_page(&conversation, at, limit)).await
    }

    /// Marks a conversation read (sends read receipts unless turned off).
    pub async fn mark_read(&self, conversation: &str) -> NodeResult<usize> {
        let conversation = conversation.to_owned();
        self.call(move |c| c.mark_read(&conversation)).await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "conversations" => to_value(node.conversations().await?),
    "history" => {
        let who = s(p, "with")?;
        let limit = p["limit"].as_u64().unwrap_or(50) as usize;
        let at = match (p["after"].as_i64(), p["around"].as_str()) {
            (Some(after), None) => HistoryAt::After(after),
            (None, Some(id)) => HistoryAt::Around(crate::node::views::parse_message_id(id)?),
            (None, None) => HistoryAt::Before(p["before"].as_i64()),
            _ => return Err(NodeError::Invalid("give one of before, after, around".into())),
        };
        let page = node.history_at(who, at, limit).await?;
        if p["mark_read"].as_bool().unwrap_or(true) {
            node.mark_read(who).await?;
        }
        to_value(page)
    }
});
