//! Messages on the core thread: finding a conversation, encrypting an
//! application envelope into it and queueing it for every recipient device
//! (`send_app`, used by every feature that sends content), text, reactions,
//! edits and deletes.

use kovan_crypto::envelope::PayloadKind;
use kovan_crypto::identity::DeviceCertificate;
use kovan_spec::validate_app_envelope;
use kovan_spec::wire;
use rand_core::{OsRng, RngCore};

use super::{Core, internal, now_ms};
use crate::contacts::ContactRow;
use crate::control::{s, to_value};
use crate::history::{NewMessage, State};
use crate::node::views::{self, Event, MessageView};
use crate::node::{NodeError, NodeHandle, NodeResult};
use serde_json::json;

impl Core {
    /// A member's reaction arrived.
    pub(super) fn on_reaction(
        &mut self,
        conv: &[u8],
        target: &[u8; 16],
        account: &[u8],
        emoji: &str,
        remove: bool,
        now: i64,
    ) -> crate::Result<()> {
        if !crate::emoji::is_one_emoji(emoji) {
            tracing::debug!("dropped a reaction that is not one emoji");
            return Ok(());
        }
        if self.history().react(conv, target, account, emoji, remove, now)?
            && let Some(view) = self.message_view(conv, target)?
        {
            self.emit(Event::Reactions { message: view });
        }
        Ok(())
    }

    /// A sender edited one of their messages (only theirs change).
    pub(super) fn on_edit(
        &mut self,
        conv: &[u8],
        target: &[u8; 16],
        account: &[u8],
        text: &str,
        now: i64,
    ) -> crate::Result<()> {
        let Some(old) = self.history().get(conv, target)? else { return Ok(()) };
        let new_body = edited_body(old.body.as_deref(), text);
        if self.history().edit(conv, target, account, &new_body, now)?
            && let Some(view) = self.message_view(conv, target)?
        {
            self.emit(Event::MessageEdited { message: view });
        }
        Ok(())
    }

    /// A sender deleted one of their messages for everyone.
    pub(super) fn on_delete(
        &mut self,
        conv: &[u8],
        target: &[u8; 16],
        account: &[u8],
    ) -> crate::Result<()> {
        if self.history().delete(conv, target, account)? {
            self.file_message_deleted(conv, target);
            self.forget_derived(conv, target)?;
            self.emit(Event::MessageDeleted {
                conversation: hex::encode(conv),
                id: hex::encode(target),
            });
        }
        Ok(())
    }

    /// A conversation by contact or id; with the device to send to.
    pub(super) fn find_conversation(&self, who: &str) -> NodeResult<(Vec<u8>, Option<ContactRow>)> {
        if who.trim().is_empty() {
            return Err(NodeError::Invalid(
                "say which conversation: a contact, a group's name or an id".into(),
            ));
        }
        // A group's id, then a contact, then a group's name.
        if let Ok(id) = hex::decode(who.trim())
            && self.is_group(&id)?
        {
            return Ok((id, None));
        }
        if let Ok(c) = self.find_contact(who)
            && let Some(conv) = c.conversation_id.clone()
        {
            return Ok((conv, Some(c)));
        }
        match self.find_group(who) {
            Ok(g) => return Ok((g, None)),
            // Several groups of that name: say so rather than "not found".
            Err(e @ NodeError::Invalid(_)) => return Err(e),
            Err(_) => {}
        }
        let id = hex::decode(who.trim()).map_err(|_| {
            NodeError::NotFound(format!("no conversation with {}", views::shown(who)))
        })?;
        if !self.history().exists(&id)? {
            return Err(NodeError::NotFound(format!("no conversation {}", views::shown(who))));
        }
        let c = self.contacts_store().by_conversation(&id)?;
        Ok((id, c))
    }

    pub(super) fn writable(&self, who: &str) -> NodeResult<(Vec<u8>, Vec<DeviceCertificate>)> {
        let (conv, contact) = self.find_conversation(who)?;
        if self.history().is_closed(&conv)? {
            return Err(NodeError::State("this conversation is closed".into()));
        }
        if self.is_group(&conv)? {
            let recipients = self.group_recipients(&conv)?;
            return Ok((conv, recipients));
        }
        let c = contact.ok_or_else(|| NodeError::NotFound("no contact for it".into()))?;
        if c.blocked {
            return Err(NodeError::State("this contact is blocked".into()));
        }
        let cert = c.certificate.ok_or_else(|| NodeError::State("no device for it".into()))?;
        Ok((conv, vec![cert]))
    }

    /// Encrypts an application envelope into the conversation and queues
    /// it; with `store`, the message is also written to history.
    pub(super) fn send_app(
        &mut self,
        conv: &[u8],
        to: &[DeviceCertificate],
        content: wire::app_envelope::Content,
        reply_to: Option<[u8; 16]>,
        store: bool,
    ) -> NodeResult<[u8; 16]> {
        let mut message_id = [0u8; 16];
        OsRng.fill_bytes(&mut message_id);
        self.send_app_as(conv, to, message_id, content, reply_to, store)
    }

    /// [`Core::send_app`] with a message id chosen by the caller (a sealed
    /// text is bound to its message's id).
    pub(super) fn send_app_as(
        &mut self,
        conv: &[u8],
        to: &[DeviceCertificate],
        message_id: [u8; 16],
        content: wire::app_envelope::Content,
        reply_to: Option<[u8; 16]>,
        store: bool,
    ) -> NodeResult<[u8; 16]> {
        if let Some(what) = unsealed_kind(&content) {
            self.refuse_if_sealed(conv, what)?;
        }
        let now = now_ms();
        // The message's own time follows the node's clock (so a live
        // location's end and its start agree under a test's manual clock).
        let stamp = self.options.clock.now_ms();
        let tx = self.db.tx();
        tx.atomic(|| {
            let (sequence, last_update, sent) = self.history().next_sequence(conv, now)?;
            let env = wire::AppEnvelope {
                version: 1,
                message_id: message_id.to_vec(),
                sender_device: self.net.peer_id().to_bytes(),
                sequence,
                timestamp_ms: stamp as u64,
                reply_to: reply_to.map(|r| r.to_vec()).unwrap_or_default(),
                content: Some(content),
            };
            let plaintext = kovan_spec::encode(&env);
            validate_app_envelope(&plaintext).map_err(|e| NodeError::Invalid(e.to_string()))?;
            let (mls, epoch) = self.mls.encrypt_at(conv, &plaintext).map_err(internal)?;
            // Kept for a few epochs in case a concurrent commit undoes this
            // one (groups, and key refreshes in 1:1 conversations).
            self.note_group_sent(conv, epoch, &plaintext)?;
            if store {
                let account = self.my_account();
                self.history().insert(&NewMessage {
                    conversation_id: conv,
                    message_id,
                    sender_account: &account,
                    sender_device: &self.net.peer_id().to_string(),
                    sent_at: stamp,
                    received_at: now,
                    outgoing: true,
                    state: State::Pending,
                    body: &plaintext,
                })?;
            }
            for r in to {
                self.enqueue(
                    r,
                    PayloadKind::MlsMessage,
                    &mls,
                    Some(conv),
                    store.then_some(&message_id),
                )?;
            }
            self.maybe_self_update(conv, last_update, sent)?;
            Ok::<(), NodeError>(())
        })
        .inspect_err(|_| self.groups_changed())?;
        Ok(message_id)
    }

    pub(super) fn send_text(
        &mut self,
        to: &str,
        text: &str,
        reply_to: Option<[u8; 16]>,
    ) -> NodeResult<MessageView> {
        let text = crate::emoji::expand_shortcodes(text);
        if text.trim().is_empty() {
            return Err(NodeError::Invalid("the message is empty".into()));
        }
        if text.len() > kovan_spec::limits::MAX_TEXT {
            return Err(NodeError::Invalid("the message is longer than 64 KiB".into()));
        }
        if let Some(sent) = self.no_trace_text(to, &text) {
            return sent;
        }
        let (conv, recipients) = self.writable(to)?;
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        let content = match self.text_content(&conv, &id, &text)? {
            Some(sealed) => wire::app_envelope::Content::Sealed(sealed),
            None => wire::app_envelope::Content::Text(wire::Text { body: text }),
        };
        self.send_app_as(&conv, &recipients, id, content, reply_to, true)?;
        let view = self.message_view(&conv, &id)?.ok_or_else(|| internal("message not stored"))?;
        self.emit(Event::Message { message: view.clone() });
        self.flush_events();
        self.pump();
        Ok(view)
    }

    pub(super) fn react(
        &mut self,
        who: &str,
        target: [u8; 16],
        emoji: &str,
        remove: bool,
    ) -> NodeResult<MessageView> {
        let emoji = crate::emoji::expand_shortcodes(emoji.trim());
        if !crate::emoji::is_one_emoji(&emoji) {
            return Err(NodeError::Invalid(format!(
                "a reaction is one emoji (or its :shortcode:); {} is not one",
                views::shown(&emoji)
            )));
        }
        let (conv, recipients) = self.writable(who)?;
        if self.history().get(&conv, &target)?.is_none() {
            return Err(NodeError::NotFound("no such message".into()));
        }
        let content = wire::app_envelope::Content::Reaction(wire::Reaction {
            target: target.to_vec(),
            emoji: emoji.clone(),
            remove,
        });
        self.send_app(&conv, &recipients, content, None, false)?;
        let me = self.my_account();
        self.history().react(&conv, &target, &me, &emoji, remove, now_ms())?;
        let view = self.message_view(&conv, &target)?.ok_or_else(|| internal("vanished"))?;
        self.emit(Event::Reactions { message: view.clone() });
        self.flush_events();
        self.pump();
        Ok(view)
    }

    pub(super) fn edit(
        &mut self,
        who: &str,
        target: [u8; 16],
        text: &str,
    ) -> NodeResult<MessageView> {
        let text = crate::emoji::expand_shortcodes(text);
        if text.trim().is_empty() || text.len() > kovan_spec::limits::MAX_TEXT {
            return Err(NodeError::Invalid("the new text is empty or too long".into()));
        }
        let (conv, recipients) = self.writable(who)?;
        let old = self
            .history()
            .get(&conv, &target)?
            .ok_or_else(|| NodeError::NotFound("no such message".into()))?;
        if !old.outgoing {
            return Err(NodeError::State("you can only edit your own messages".into()));
        }
        if old.body.is_none() {
            return Err(NodeError::State("this message was deleted; it cannot be edited".into()));
        }
        let (content, body) = match self.text_content(&conv, &target, &text)? {
            Some(sealed) => (
                wire::app_envelope::Content::SealedEdit(wire::SealedEdit {
                    target: target.to_vec(),
                    sealed: Some(sealed.clone()),
                }),
                super::seals::sealed_body(old.body.as_deref(), sealed),
            ),
            None => (
                wire::app_envelope::Content::Edit(wire::Edit {
                    target: target.to_vec(),
                    body: text.clone(),
                }),
                edited_body(old.body.as_deref(), &text),
            ),
        };
        self.send_app(&conv, &recipients, content, None, false)?;
        let me = self.my_account();
        self.history().edit(&conv, &target, &me, &body, now_ms())?;
        let view = self.message_view(&conv, &target)?.ok_or_else(|| internal("vanished"))?;
        self.emit(Event::MessageEdited { message: view.clone() });
        self.flush_events();
        self.pump();
        Ok(view)
    }

    pub(super) fn delete(&mut self, who: &str, target: [u8; 16]) -> NodeResult<()> {
        let (conv, recipients) = self.writable(who)?;
        let old = self
            .history()
            .get(&conv, &target)?
            .ok_or_else(|| NodeError::NotFound("no such message".into()))?;
        if !old.outgoing {
            return Err(NodeError::State("you can only delete your own messages".into()));
        }
        let content = wire::app_envelope::Content::Delete(wire::Delete { target: target.to_vec() });
        self.send_app(&conv, &recipients, content, None, false)?;
        let me = self.my_account();
        self.history().delete(&conv, &target, &me)?;
        self.file_message_deleted(&conv, &target);
        self.forget_derived(&conv, &target)?;
        self.emit(Event::MessageDeleted {
            conversation: hex::encode(&conv),
            id: hex::encode(target),
        });
        self.flush_events();
        self.pump();
        Ok(())
    }
}

/// What a content is called when a sealed chat refuses it (§7.9): the
/// kinds that carry text or media in the clear.
fn unsealed_kind(content: &wire::app_envelope::Content) -> Option<&'static str> {
    use wire::app_envelope::Content as C;
    match content {
        C::Text(_) => Some("Unsealed text"),
        C::Edit(_) => Some("An unsealed edit"),
        C::File(_) => Some("A file"),
        C::Poll(_) => Some("A poll"),
        C::Location(_) | C::LocationUpdate(_) => Some("A location"),
        _ => None,
    }
}

/// The stored body of a text message after an edit: the original envelope
/// with the new text (its id, time and reply stay).
pub(super) fn edited_body(old: Option<&[u8]>, text: &str) -> Vec<u8> {
    let mut env = old
        .and_then(|b| kovan_spec::decode::<wire::AppEnvelope>(b).ok())
        .unwrap_or_else(|| wire::AppEnvelope { version: 1, ..Default::default() });
    env.content = Some(wire::app_envelope::Content::Text(wire::Text { body: text.to_owned() }));
    kovan_spec::encode(&env)
}

/// Messages: text, reactions, edits and deletes.
impl NodeHandle {
    /// Sends a text message (`:shortcodes:` are expanded) to a contact or
    /// conversation; returns it as stored.
    pub async fn send_text(
        &self,
        to: &str,
        text: &str,
        reply_to: Option<&str>,
    ) -> NodeResult<MessageView> {
        let (to, text) = (to.to_owned(), text.to_owned());
        let reply_to = reply_to.map(views::parse_message_id).transpose()?;
        self.call(move |c| c.send_text(&to, &text, reply_to)).await
    }

    /// Adds (or removes) a reaction to a message.
    pub async fn react(
        &self,
        conversation: &str,
        message_id: &str,
        emoji: &str,
        remove: bool,
    ) -> NodeResult<MessageView> {
        let (conversation, emoji) = (conversation.to_owned(), emoji.to_owned());
        let target = views::parse_message_id(message_id)?;
        self.call(move |c| c.react(&conversation, target, &emoji, remove)).await
    }

    /// Edits one of your messages, for everyone.
    pub async fn edit(
        &self,
        conversation: &str,
        message_id: &str,
        text: &str,
    ) -> NodeResult<MessageView> {
        let (conversation, text) = (conversation.to_owned(), text.to_owned());
        let target = views::parse_message_id(message_id)?;
        self.call(move |c| c.edit(&conversation, target, &text)).await
    }

    /// Deletes one of your messages, for everyone.
    pub async fn delete(&self, conversation: &str, message_id: &str) -> NodeResult<()> {
        let conversation = conversation.to_owned();
        let target = views::parse_message_id(message_id)?;
        // A message whose key part waits with relays: they forget it first.
        self.cancel_relays(&conversation, &target).await?;
        self.call(move |c| c.delete(&conversation, target)).await
    }

    /// Sends `content` as it is, with only the application envelope's own
    /// rules checked (SPEC.md §6): for conformance tests and tools that
    /// must produce what a buggy or hostile peer would. Stored in history.
    pub async fn send_raw_content(
        &self,
        to: &str,
        content: kovan_spec::wire::app_envelope::Content,
    ) -> NodeResult<MessageView> {
        let to = to.to_owned();
        self.call(move |c| c.send_raw_content(&to, content)).await
    }

    /// A message's application envelope as this device stored it (opened
    /// from its seal at rest; `None` once deleted): for conformance tests
    /// and tools, the companion of [`Self::send_raw_content`].
    pub async fn stored_envelope(
        &self,
        conversation: &str,
        message_id: &str,
    ) -> NodeResult<Option<Vec<u8>>> {
        let who = conversation.to_owned();
        let id = views::parse_message_id(message_id)?;
        self.call(move |c| {
            let (conv, _) = c.find_conversation(&who)?;
            Ok(c.history().get(&conv, &id)?.and_then(|m| m.body))
        })
        .await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "send" => {
        to_value(node.send_text(s(p, "to")?, s(p, "text")?, p["reply_to"].as_str()).await?)
    }
    "react" => to_value(
        node.react(
            s(p, "with")?,
            s(p, "message")?,
            s(p, "emoji")?,
            p["remove"].as_bool().unwrap_or(false),
        )
        .await?,
    ),
    "edit" => to_value(node.edit(s(p, "with")?, s(p, "message")?, s(p, "text")?).await?),
    "delete" => {
        node.delete(s(p, "with")?, s(p, "message")?).await?;
        Ok(json!({"deleted": s(p, "message")?}))
    }
});
