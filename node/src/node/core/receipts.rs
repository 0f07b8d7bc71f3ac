//! Receipts on the core thread (SPEC.md §6.2): delivered receipts owed
//! for stored messages (batched when the core is idle), seen receipts when
//! a conversation is read, and per-member receipts in groups (a group
//! message is delivered once every other member has it).

use kovan_spec::validate::ReceiptKind;
use kovan_spec::wire;

use super::Core;
use crate::contacts::FriendState;
use crate::control::{s, to_value};
use crate::history::State;
use crate::node::views::{self, ContactView, Event, ReceiptView, state_name};
use crate::node::{NodeError, NodeHandle, NodeResult};

impl Core {
    /// A member's receipts for our messages arrived: in a 1:1 chat the
    /// message moves on at once, in a group once every other member is there.
    pub(super) fn on_receipt(
        &mut self,
        conv: &[u8],
        is_group: bool,
        account: &[u8],
        kind: ReceiptKind,
        targets: &[[u8; 16]],
    ) -> crate::Result<()> {
        let state = match kind {
            ReceiptKind::Delivered => State::Delivered,
            ReceiptKind::Seen => State::Seen,
        };
        for t in targets {
            let everyone = self.group_receipt(conv, t, account, state)?;
            if is_group && !everyone {
                continue;
            }
            if self.history().advance(conv, t, state)? {
                self.emit(Event::MessageState {
                    conversation: hex::encode(conv),
                    id: hex::encode(t),
                    state: state_name(state),
                });
            }
        }
        Ok(())
    }

    /// Whether a delivery to `recipient` moves our message to `state`: in
    /// a group, `sent` once any copy left and `delivered` once every member
    /// has it.
    pub(super) fn sent_state(
        &self,
        conv: &[u8],
        mid: &[u8; 16],
        recipient: &str,
        state: State,
    ) -> crate::Result<bool> {
        if state != State::Delivered {
            return Ok(true);
        }
        if !self.is_group(conv)? {
            // Kept for the message's info (when it was delivered).
            if let Some(c) = self.contacts_store().by_peer(recipient)? {
                self.group_receipt(conv, mid, &c.account, state)?;
            }
            return Ok(true);
        }
        let Ok(members) = self.group_recipients(conv) else { return Ok(false) };
        let Some(member) = members.iter().find(|m| m.peer_id().to_string() == recipient) else {
            return Ok(false);
        };
        let account = *member.account().as_bytes();
        if !self.group_receipt(conv, mid, &account, State::Delivered)? {
            // Not everyone yet; at least it left.
            self.history().advance(conv, mid, State::Sent)?;
            return Ok(false);
        }
        Ok(true)
    }

    /// Queues the delivered receipts this device owes (SPEC.md §7.5): each
    /// batch is sent and forgotten in one transaction, so a crash before
    /// that leaves it owed, and the next start sends it.
    pub(super) fn flush_receipts(&mut self) {
        /// Receipts read per pass (a conversation's are sent in chunks of
        /// `MAX_RECEIPT_TARGETS`).
        const PASS: usize = 4096;
        let owed = match self.history().owed_receipts(PASS) {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(error = %e, "reading owed receipts failed");
                return;
            }
        };
        if owed.is_empty() {
            return;
        }
        let read: usize = owed.iter().map(|(_, ids)| ids.len()).sum();
        let mut sent = 0;
        for (conv, ids) in owed {
            for chunk in ids.chunks(kovan_spec::limits::MAX_RECEIPT_TARGETS) {
                let tx = self.db.tx();
                let done = tx.atomic(|| -> NodeResult<()> {
                    // One that cannot be sent (a closed conversation, a
                    // blocked contact) is forgotten with the rest.
                    if let Err(e) = self.send_receipt(&conv, ReceiptKind::Delivered, chunk) {
                        tracing::debug!(error = %e, "a receipt could not be sent");
                    }
                    self.history().receipts_paid(&conv, chunk)?;
                    Ok(())
                });
                match done {
                    Ok(()) => sent += chunk.len(),
                    Err(e) => {
                        tracing::error!(error = %e, "queueing receipts failed");
                        self.groups_changed();
                        return;
                    }
                }
            }
        }
        if sent > 0 {
            self.pump();
        }
        if read == PASS {
            // More are owed: another pass once what is queued has run.
            let job: crate::node::Job = Box::new(|core: &mut Core| core.flush_receipts());
            let _ = self.input.try_send(super::Input::Job(job));
        }
    }

    /// A recipient's receipt for one of our messages, kept with its time;
    /// true when every other member has reached `state` (in a group, the
    /// message's own state advances then).
    pub(super) fn group_receipt(
        &self,
        conv: &[u8],
        id: &[u8; 16],
        account: &[u8],
        state: State,
    ) -> crate::Result<bool> {
        let at = self.options.clock.now_ms();
        let reached = self.history().member_receipt(conv, id, account, state, at)?;
        let me = self.my_account();
        let others = self
            .group_recipients(conv)
            .map(|r| r.iter().filter(|m| m.account().as_bytes() != &me).count())
            .unwrap_or(0);
        Ok(reached as usize >= others)
    }

    pub(super) fn send_receipt(
        &mut self,
        conv: &[u8],
        kind: ReceiptKind,
        ids: &[[u8; 16]],
    ) -> NodeResult<()> {
        let to = if self.is_group(conv)? {
            if self.history().is_closed(conv)? {
                return Ok(());
            }
            self.group_recipients(conv)?
        } else {
            let Some(c) = self.contacts_store().by_conversation(conv)? else { return Ok(()) };
            if c.blocked || c.state != FriendState::Friend {
                return Ok(());
            }
            let Some(cert) = c.certificate else { return Ok(()) };
            vec![cert]
        };
        let kind = match kind {
            ReceiptKind::Delivered => wire::ReceiptKind::Delivered,
            ReceiptKind::Seen => wire::ReceiptKind::Seen,
        };
        let content = wire::app_envelope::Content::Receipt(wire::Receipt {
            kind: kind as i32,
            targets: ids.iter().map(|i| i.to_vec()).collect(),
        });
        self.send_app(conv, &to, content, None, false)?;
        Ok(())
    }

    /// Who has one of our messages and who read it, and since when (I1):
    /// every other member of a group (or the friend of a 1:1 chat), with
    /// what their devices reported.
    pub(super) fn message_receipts(
        &mut self,
        who: &str,
        id: [u8; 16],
    ) -> NodeResult<Vec<ReceiptView>> {
        let (conv, contact) = self.find_conversation(who)?;
        let m = self
            .history()
            .get(&conv, &id)?
            .ok_or_else(|| NodeError::NotFound("no such message".into()))?;
        if !m.outgoing {
            return Err(NodeError::Invalid("receipts are kept for your own messages only".into()));
        }
        let me = self.my_account();
        let mut people: Vec<([u8; 32], String)> = Vec::new();
        if self.is_group(&conv)? {
            for cert in self.group_recipients(&conv).unwrap_or_default() {
                let account = *cert.account().as_bytes();
                if account != me && !people.iter().any(|(a, _)| *a == account) {
                    people.push((account, self.member_name(&cert)));
                }
            }
        } else if let Some(c) = contact {
            people.push((c.account, ContactView::from(&c).name()));
        }
        let receipts = self.history().member_receipts(&conv, &id)?;
        // Those who left since still show what they reported.
        for r in &receipts {
            if let Ok(account) = <[u8; 32]>::try_from(r.account.as_slice())
                && !people.iter().any(|(a, _)| *a == account)
            {
                let name = match self.contacts_store().get(&account)? {
                    Some(c) => ContactView::from(&c).name(),
                    None => hex::encode(&account[..8]),
                };
                people.push((account, name));
            }
        }
        Ok(people
            .into_iter()
            .map(|(account, name)| {
                let r = receipts.iter().find(|r| r.account == account);
                ReceiptView {
                    account: hex::encode(account),
                    name,
                    state: r.map_or(state_name(State::Sent), |r| state_name(r.state)),
                    delivered_at: r.and_then(|r| r.delivered_at),
                    seen_at: r.and_then(|r| r.seen_at),
                }
            })
            .collect())
    }
}

/// Message info.
impl NodeHandle {
    /// Who has one of your messages and who read it, and since when (I1):
    /// one entry per other member of a group, or the friend of a chat.
    pub async fn receipts(
        &self,
        conversation: &str,
        message_id: &str,
    ) -> NodeResult<Vec<ReceiptView>> {
        let conversation = conversation.to_owned();
        let id = views::parse_message_id(message_id)?;
        self.call(move |c| c.message_receipts(&conversation, id)).await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "receipts" => to_value(node.receipts(s(p, "with")?, s(p, "message")?).await?),
});
