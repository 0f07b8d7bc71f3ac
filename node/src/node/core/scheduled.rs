//! Scheduled messages (I7) on the core thread: composed now, kept sealed
//! in the node database, sent when the node's clock reaches their time —
//! also on the first start after it, then marked late. Sending and marking
//! sent commit in one transaction, so a crash sends nothing twice.

use rand_core::{OsRng, RngCore};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Core, internal};
use crate::control::{s, scheduled_content, to_value};
use crate::node::views::{Event, ScheduledView};
use crate::node::{NodeError, NodeHandle, NodeResult, views};
use kovan_spec::validate::poll_spec;
use kovan_spec::wire;

/// A scheduled message sent more than this after its time is marked late.
pub const LATE_AFTER_MS: i64 = 60_000;
/// Scheduled messages sent per tick at most (the rest on the next).
const PER_TICK: usize = 64;

/// What a scheduled message will send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ScheduledContent {
    /// A text (":shortcodes:" become emoji when it is sent).
    Text {
        /// The text.
        text: String,
        /// The message it replies to, hex.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<String>,
    },
    /// A poll (SPEC.md §6.4).
    Poll {
        /// The question.
        question: String,
        /// The options.
        options: Vec<String>,
        /// Several choices allowed.
        #[serde(default)]
        multiple: bool,
    },
}

impl ScheduledContent {
    /// The wire content and reply target, checked as sending checks them.
    fn to_wire(&self) -> NodeResult<(wire::app_envelope::Content, Option<[u8; 16]>)> {
        match self {
            ScheduledContent::Text { text, reply_to } => {
                let text = crate::emoji::expand_shortcodes(text);
                if text.trim().is_empty() || text.len() > kovan_spec::limits::MAX_TEXT {
                    return Err(NodeError::Invalid(
                        "the message is empty or longer than 64 KiB".into(),
                    ));
                }
                let reply =
                    reply_to.as_deref().map(crate::node::views::parse_message_id).transpose()?;
                Ok((wire::app_envelope::Content::Text(wire::Text { body: text }), reply))
            }
            ScheduledContent::Poll { question, options, multiple } => {
                let poll = wire::Poll {
                    question: question.trim().to_owned(),
                    options: options.iter().map(|o| o.trim().to_owned()).collect(),
                    multiple: *multiple,
                    verifiable: None,
                };
                poll_spec(poll.clone()).map_err(NodeError::Invalid)?;
                Ok((wire::app_envelope::Content::Poll(poll), None))
            }
        }
    }
}

fn context(id: &[u8]) -> Vec<u8> {
    let mut c = b"scheduled/content/".to_vec();
    c.extend_from_slice(id);
    c
}

impl Core {
    fn seal_scheduled(&self, id: &[u8; 16], content: &ScheduledContent) -> NodeResult<Vec<u8>> {
        let json = serde_json::to_vec(content).map_err(internal)?;
        Ok(self.field.seal(&mut OsRng, &context(id), &json))
    }

    fn scheduled_row(&self, id: &[u8]) -> NodeResult<Option<ScheduledView>> {
        let row = self
            .db
            .conn()
            .query_row(
                "SELECT id, conversation_id, content, due_at, created_at, state, sent_at, late, \
                 message_id, error FROM scheduled WHERE id = ?1",
                params![id],
                row,
            )
            .optional()
            .map_err(crate::Error::from)?;
        row.map(|r| self.scheduled_view(r)).transpose()
    }

    fn scheduled_view(&self, r: Row) -> NodeResult<ScheduledView> {
        let plain = self
            .field
            .open(&context(&r.id), &r.content)
            .map_err(|e| NodeError::Local(crate::Error::Invalid(e.to_string())))?;
        let content: ScheduledContent = serde_json::from_slice(&plain).map_err(internal)?;
        Ok(ScheduledView {
            id: hex::encode(&r.id),
            conversation: hex::encode(&r.conversation),
            due_at: r.due_at,
            created_at: r.created_at,
            state: r.state,
            sent_at: r.sent_at,
            late: r.late,
            message: r.message_id.map(hex::encode),
            error: r.error,
            content,
        })
    }

    pub(in crate::node) fn schedule_message(
        &mut self,
        to: &str,
        content: ScheduledContent,
        due_at: i64,
    ) -> NodeResult<ScheduledView> {
        content.to_wire()?;
        let (conv, _) = self.writable(to)?;
        // It would wait on disk unsealed (§7.9).
        self.refuse_if_sealed(&conv, "A scheduled message")?;
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        let sealed = self.seal_scheduled(&id, &content)?;
        let now = self.options.clock.now_ms();
        self.db
            .conn()
            .execute(
                "INSERT INTO scheduled (id, conversation_id, content, due_at, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id.as_slice(), conv, sealed, due_at, now],
            )
            .map_err(crate::Error::from)?;
        let view = self.scheduled_row(&id)?.ok_or_else(|| internal("scheduled row vanished"))?;
        self.emit(Event::Scheduled { item: view.clone() });
        // Due already (or soon): the next tick sends it.
        self.run_scheduled();
        self.schedule();
        self.flush_events();
        Ok(view)
    }

    pub(in crate::node) fn scheduled_list(
        &mut self,
        with: Option<&str>,
    ) -> NodeResult<Vec<ScheduledView>> {
        let conv = with.map(|w| self.find_conversation(w).map(|(c, _)| c)).transpose()?;
        let mut stmt = self
            .db
            .conn()
            .prepare(
                "SELECT id, conversation_id, content, due_at, created_at, state, sent_at, late, \
                 message_id, error FROM scheduled WHERE ?1 IS NULL OR conversation_id = ?1 \
                 ORDER BY due_at, id LIMIT 1000",
            )
            .map_err(crate::Error::from)?;
        let rows = stmt
            .query_map(params![conv], row)
            .and_then(|r| r.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(crate::Error::from)?;
        rows.into_iter().map(|r| self.scheduled_view(r)).collect()
    }

    /// Changes what a scheduled message says or when it goes, while it
    /// has not gone.
    pub(in crate::node) fn schedule_edit(
        &mut self,
        id: [u8; 16],
        content: Option<ScheduledContent>,
        due_at: Option<i64>,
    ) -> NodeResult<ScheduledView> {
        let current = self
            .scheduled_row(&id)?
            .ok_or_else(|| NodeError::NotFound("no such scheduled message".into()))?;
        if current.state != "scheduled" {
            return Err(NodeError::Invalid(format!("it is {} already", current.state)));
        }
        let content = content.unwrap_or(current.content);
        content.to_wire()?;
        let sealed = self.seal_scheduled(&id, &content)?;
        self.db
            .conn()
            .execute(
                "UPDATE scheduled SET content = ?2, due_at = ?3 WHERE id = ?1 AND state = 'scheduled'",
                params![id.as_slice(), sealed, due_at.unwrap_or(current.due_at)],
            )
            .map_err(crate::Error::from)?;
        let view = self.scheduled_row(&id)?.ok_or_else(|| internal("scheduled row vanished"))?;
        self.emit(Event::Scheduled { item: view.clone() });
        self.run_scheduled();
        self.schedule();
        self.flush_events();
        Ok(view)
    }

    pub(in crate::node) fn schedule_cancel(&mut self, id: [u8; 16]) -> NodeResult<ScheduledView> {
        let n = self
            .db
            .conn()
            .execute(
                "UPDATE scheduled SET state = 'cancelled' WHERE id = ?1 AND state = 'scheduled'",
                params![id.as_slice()],
            )
            .map_err(crate::Error::from)?;
        let view = self
            .scheduled_row(&id)?
            .ok_or_else(|| NodeError::NotFound("no such scheduled message".into()))?;
        if n == 0 {
            return Err(NodeError::Invalid(format!("it is {} already", view.state)));
        }
        self.emit(Event::Scheduled { item: view.clone() });
        self.schedule();
        self.flush_events();
        Ok(view)
    }

    /// The earliest time a scheduled message is due, if any.
    pub(super) fn next_scheduled(&self) -> Option<i64> {
        self.db
            .conn()
            .query_row("SELECT MIN(due_at) FROM scheduled WHERE state = 'scheduled'", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .ok()
            .flatten()
    }

    /// Sends every scheduled message that is due.
    pub(super) fn run_scheduled(&mut self) {
        if self.stopping {
            return;
        }
        let now = self.options.clock.now_ms();
        let due: Vec<Vec<u8>> = match self
            .db
            .conn()
            .prepare_cached(
                "SELECT id FROM scheduled WHERE state = 'scheduled' AND due_at <= ?1 \
                 ORDER BY due_at, id LIMIT ?2",
            )
            .and_then(|mut s| s.query_map(params![now, PER_TICK as i64], |r| r.get(0))?.collect())
        {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "reading scheduled messages failed");
                return;
            }
        };
        let mut sent_any = false;
        for id in due {
            let view = match self.scheduled_row(&id) {
                Ok(Some(v)) => v,
                _ => continue,
            };
            let late = now - view.due_at > LATE_AFTER_MS;
            let outcome = self.send_scheduled(&id, &view, late, now);
            let item = match outcome {
                Ok(message_id) => {
                    sent_any = true;
                    if let Ok(Some(m)) =
                        self.message_view(&hex_bytes(&view.conversation), &message_id)
                    {
                        self.emit(Event::Message { message: m });
                    }
                    self.scheduled_row(&id)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "a scheduled message could not be sent");
                    let _ = self.db.conn().execute(
                        "UPDATE scheduled SET state = 'failed', error = ?2 WHERE id = ?1",
                        params![id, e.to_string()],
                    );
                    self.scheduled_row(&id)
                }
            };
            if let Ok(Some(item)) = item {
                self.emit(Event::Scheduled { item });
            }
        }
        if sent_any {
            self.flush_events();
            self.pump();
        }
    }

    /// Sends one and marks it sent, in one transaction.
    fn send_scheduled(
        &mut self,
        id: &[u8],
        view: &ScheduledView,
        late: bool,
        now: i64,
    ) -> NodeResult<[u8; 16]> {
        let (content, reply_to) = view.content.to_wire()?;
        let (conv, recipients) = self.writable(&view.conversation)?;
        let tx = self.db.tx();
        tx.atomic(|| {
            let message_id = self.send_app(&conv, &recipients, content, reply_to, true)?;
            self.db
                .conn()
                .execute(
                    "UPDATE scheduled SET state = 'sent', sent_at = ?2, late = ?3, message_id = ?4 \
                     WHERE id = ?1 AND state = 'scheduled'",
                    params![id, now, late as i64, message_id.as_slice()],
                )
                .map_err(crate::Error::from)?;
            Ok(message_id)
        })
    }
}

fn hex_bytes(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_default()
}

/// A scheduled row as stored.
struct Row {
    id: Vec<u8>,
    conversation: Vec<u8>,
    content: Vec<u8>,
    due_at: i64,
    created_at: i64,
    state: String,
    sent_at: Option<i64>,
    late: bool,
    message_id: Option<Vec<u8>>,
    error: Option<String>,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        conversation: r.get(1)?,
        content: r.get(2)?,
        due_at: r.get(3)?,
        created_at: r.get(4)?,
        state: r.get(5)?,
        sent_at: r.get(6)?,
        late: r.get::<_, i64>(7)? != 0,
        message_id: r.get(8)?,
        error: r.get(9)?,
    })
}

// ---------------------------------------------------------------------
// The handle
// ---------------------------------------------------------------------

/// Scheduled messages.
impl NodeHandle {
    /// Schedules a message (I7): kept on this device and sent when the
    /// node's clock reaches `due_at` (ms since the Unix epoch), or on its
    /// first start after that (then marked late).
    pub async fn schedule(
        &self,
        to: &str,
        content: ScheduledContent,
        due_at: i64,
    ) -> NodeResult<ScheduledView> {
        let to = to.to_owned();
        self.call(move |c| c.schedule_message(&to, content, due_at)).await
    }

    /// Scheduled messages (all states), soonest first; with `with`, of one
    /// conversation.
    pub async fn scheduled(&self, with: Option<&str>) -> NodeResult<Vec<ScheduledView>> {
        let with = with.map(str::to_owned);
        self.call(move |c| c.scheduled_list(with.as_deref())).await
    }

    /// Changes a scheduled message's content or time before it goes.
    pub async fn schedule_edit(
        &self,
        id: &str,
        content: Option<ScheduledContent>,
        due_at: Option<i64>,
    ) -> NodeResult<ScheduledView> {
        let id = views::parse_message_id(id)?;
        self.call(move |c| c.schedule_edit(id, content, due_at)).await
    }

    /// Cancels a scheduled message before it goes.
    pub async fn schedule_cancel(&self, id: &str) -> NodeResult<ScheduledView> {
        let id = views::parse_message_id(id)?;
        self.call(move |c| c.schedule_cancel(id)).await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "schedule" => {
        let content = scheduled_content(&p["content"])?
            .ok_or_else(|| NodeError::Invalid("missing \"content\"".into()))?;
        let due = p["due_at"]
            .as_i64()
            .ok_or_else(|| NodeError::Invalid("\"due_at\" is ms since the epoch".into()))?;
        to_value(node.schedule(s(p, "to")?, content, due).await?)
    }
    "scheduled" => to_value(node.scheduled(p["with"].as_str()).await?),
    "schedule_edit" => {
        let content = scheduled_content(&p["content"])?;
        to_value(node.schedule_edit(s(p, "id")?, content, p["due_at"].as_i64()).await?)
    }
    "schedule_cancel" => to_value(node.schedule_cancel(s(p, "id")?).await?),
});
