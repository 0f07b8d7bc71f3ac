//! Inbound envelopes on the core thread (SPEC.md §7.5): every envelope, a
//! direct batch or a mailbox item, is opened, deduplicated and applied in
//! one transaction (a savepoint each), and only then acknowledged. MLS
//! messages are processed here and their content handed to the feature
//! it belongs to.

use kovan_crypto::envelope::{Opened, PayloadKind};
use kovan_spec::validate::{ConditionalSpec, Content, PollSpec};
use kovan_spec::validate_app_envelope;
use kovan_spec::wire;
use libp2p::PeerId;
use x25519_dalek::StaticSecret;

use super::{Core, Fail, Path, now_ms, reject};
use crate::contacts::ContactRow;
use crate::conversation::Incoming;
use crate::history::{NewMessage, State};
use crate::identity::now_secs;
use crate::inbox::{self, Accepted};
use crate::node::views::Event;

/// How long a direct delivery that skips sequence numbers is deferred.
const GAP_PATIENCE_MS: i64 = 60_000;

impl Core {
    /// Applies one sealed envelope from the mailbox.
    pub(super) fn on_envelope(&mut self, bytes: &[u8]) -> wire::AckStatus {
        let statuses =
            self.on_envelopes(std::slice::from_ref(&bytes.to_vec()), None, Path::Mailbox);
        statuses.first().copied().unwrap_or(wire::AckStatus::Retry)
    }

    /// Applies sealed envelopes in order, from a peer (`via`) or the
    /// mailbox: each on its own (a savepoint), all made durable by one
    /// commit; returns one acknowledgement each.
    pub(super) fn on_envelopes(
        &mut self,
        batch: &[Vec<u8>],
        via: Option<PeerId>,
        path: Path,
    ) -> Vec<wire::AckStatus> {
        let identity = self.identity.clone();
        let key: &StaticSecret = &identity.device_keys().envelope;
        let via_s = via.map(|p| p.to_string());
        let now = now_secs();
        let tx = self.db.tx();
        let start = self.pending_events.len();
        let result = tx.atomic(|| -> crate::Result<Vec<wire::AckStatus>> {
            let mut statuses = Vec::with_capacity(batch.len());
            for bytes in batch {
                let mark = self.pending_events.len();
                let one = tx.savepoint(|| -> Result<(), Fail> {
                    let opened = match inbox::accept(&self.db, key, bytes, via_s.as_deref(), now)? {
                        Err(refused) => return Err(reject(refused)),
                        Ok(Accepted::Replay { envelope_id }) => {
                            // A mailbox copy of something applied before
                            // (its direct acknowledgement was lost): the
                            // sender still waits for the receipt.
                            if via.is_none()
                                && let Some((conv, mid)) = self.db.envelope_message(&envelope_id)?
                            {
                                self.history().owe_receipt(&conv, &mid)?;
                            }
                            return Ok(());
                        }
                        Ok(Accepted::Anonymous(a)) => return self.apply_anonymous(&a),
                        Ok(Accepted::New(o)) => o,
                    };
                    self.apply(*opened, path)
                });
                let status = match one {
                    Ok(()) => wire::AckStatus::Accepted,
                    Err(Fail::Local(e)) => return Err(e),
                    Err(Fail::Reject(reason)) => {
                        // debug, not info: a peer flooding junk must not flood the log.
                        tracing::debug!(%reason, direct = via.is_some(), "envelope rejected");
                        wire::AckStatus::Rejected
                    }
                    Err(Fail::Later(reason)) => {
                        tracing::debug!(%reason, "envelope deferred");
                        wire::AckStatus::Retry
                    }
                };
                if status != wire::AckStatus::Accepted {
                    self.pending_events.truncate(mark);
                    // What was cached while applying it was rolled back.
                    self.groups_changed();
                }
                statuses.push(status);
            }
            Ok(statuses)
        });
        match result {
            Ok(statuses) => {
                self.flush_events();
                // Applying may have queued envelopes (a commit for an
                // accepted invitation, re-proposals after a rollback).
                self.pump();
                statuses
            }
            Err(e) => {
                self.pending_events.truncate(start);
                self.groups_changed();
                tracing::error!(error = %e, "storing envelopes failed");
                // Nothing is lost (the sender or the relay keeps them), but
                // the user should know why messages are not coming in.
                let _ = self.events.send(Event::Error {
                    kind: crate::node::NodeErrorKind::Storage,
                    message: format!(
                        "could not store incoming messages ({e}); they will be fetched again"
                    ),
                });
                vec![wire::AckStatus::Retry; batch.len()]
            }
        }
    }

    pub(super) fn apply(&mut self, opened: Opened, path: Path) -> Result<(), Fail> {
        let sender_account = *opened.sender.account().as_bytes();
        if sender_account == self.my_account() {
            return Err(reject("envelope from our own account"));
        }
        let contact = self.contacts_store().get(&sender_account)?;
        if contact.as_ref().is_some_and(|c| c.blocked)
            || self.sent_while_blocked(&sender_account, opened.timestamp_ms)?
        {
            tracing::debug!("dropped an envelope from a blocked account");
            return Ok(());
        }
        tracing::trace!(kind = ?opened.kind, "applying an envelope");
        match opened.kind {
            PayloadKind::Friend => self.apply_friend(&opened, contact),
            PayloadKind::MlsWelcome => self.apply_welcome(&opened, contact, path),
            PayloadKind::MlsMessage => self.apply_mls(&opened, contact, path),
            PayloadKind::Group => self.apply_group_control(&opened, contact, path),
            // Opened apart, with no sender (`inbox::accept`).
            PayloadKind::AnonymousBallot => Err(reject("an anonymous ballot named a sender")),
        }
    }

    pub(super) fn apply_mls(
        &mut self,
        o: &Opened,
        contact: Option<ContactRow>,
        path: Path,
    ) -> Result<(), Fail> {
        let now = now_ms();
        let direct = path.by_peer();
        let incoming = self.mls.receive(&self.db, &o.payload, now_secs()).map_err(reject)?;
        // A direct-only conversation's messages never come through a relay
        // (SPEC.md §7.8): refused, and what processing did is rolled back.
        let group = match &incoming {
            Incoming::Application { group_id, .. }
            | Incoming::Commit { group_id, .. }
            | Incoming::Leave { group_id, .. }
            | Incoming::Park { group_id, .. } => Some(group_id.clone()),
            _ => None,
        };
        if let Some(g) = group
            && !path.direct_enough()
            && self.mode_of(&g).direct_only()
        {
            return Err(reject("a direct-only conversation's message came through a relay"));
        }
        let (group_id, sender, plaintext, epoch) = match incoming {
            Incoming::Application { group_id, sender, plaintext, epoch } => {
                (group_id, sender, plaintext, epoch)
            }
            Incoming::Commit { group_id, summary, rollback, .. } => {
                return self.on_commit_applied(&group_id, &summary, rollback);
            }
            Incoming::Leave { group_id, device } => return self.on_leave(&group_id, &device),
            Incoming::Park { group_id, epoch } => return self.park(o, &group_id, epoch),
            _ => return Ok(()),
        };
        if sender.digest() != o.sender.digest() {
            return Err(reject("MLS sender is not the envelope's sender"));
        }
        let history = self.history();
        if !history.exists(&group_id)? || history.is_closed(&group_id)? {
            tracing::debug!("dropped a message for a closed or unknown conversation");
            return Ok(());
        }
        let is_group = self.is_group(&group_id)?;
        if !is_group {
            // 1:1: only the friend this conversation is with may write in it.
            if let Some(c) = contact.as_ref()
                && c.conversation_id.as_deref() != Some(group_id.as_slice())
            {
                return Err(reject("sender is not in this conversation"));
            }
            if contact.is_none() {
                return Err(reject("sender is not a contact"));
            }
        }
        let app = validate_app_envelope(&plaintext).map_err(reject)?;
        if app.sender_device != sender.peer_id().to_bytes() {
            return Err(reject("application envelope names another device"));
        }
        let account = sender.account().as_bytes().to_vec();
        let device = sender.peer_id().to_string();
        // Order (SPEC.md §7.5): a direct delivery that skips sequence
        // numbers would overtake messages still waiting in our mailbox; it
        // is refused for now (the sender then uses the mailbox, behind
        // them). After a minute the gap is accepted, so a lost message
        // cannot stall a conversation.
        let last = self.history().peer_sequence(&group_id, &device)?;
        if direct
            && let Some(last) = last
            && app.sequence > last + 1
            && (now - o.timestamp_ms as i64) < GAP_PATIENCE_MS
        {
            return Err(Fail::Later(format!("sequence {} after {last}", app.sequence)));
        }
        self.history().set_peer_sequence(&group_id, &device, app.sequence)?;
        match app.content {
            Content::Text { .. }
            | Content::Sealed(_)
            | Content::Unknown
            | Content::File(_)
            | Content::Poll(_)
            | Content::Conditional(_)
            | Content::Location(_)
            | Content::Invalid { .. } => {
                match &app.content {
                    Content::File(offer)
                    | Content::Conditional(ConditionalSpec { file: Some(offer), .. }) => {
                        self.file_offered(&group_id, app.message_id, &device, offer)?;
                    }
                    _ => {}
                }
                let stored = self.history().insert(&NewMessage {
                    conversation_id: &group_id,
                    message_id: app.message_id,
                    sender_account: &account,
                    sender_device: &device,
                    sent_at: app.timestamp_ms as i64,
                    received_at: now,
                    outgoing: false,
                    state: State::Received,
                    body: &plaintext,
                })?;
                self.db.note_envelope_message(&o.envelope_id, &group_id, &app.message_id)?;
                if stored.is_some()
                    && let Content::Poll(PollSpec { verifiable: Some(v), .. }) = &app.content
                {
                    self.on_verifiable_poll(&group_id, &app.message_id, v, epoch)?;
                    if v.anonymous {
                        self.anonymous_poll_known(&group_id, &app.message_id, false)?;
                    }
                }
                if stored.is_some()
                    && let Content::Conditional(spec) = &app.content
                {
                    // Its members may have agreed before it arrived.
                    let (id, sent) = (app.message_id, app.timestamp_ms as i64);
                    self.prune_shares(&group_id, &id, spec)?;
                    self.open_by_shares(&group_id, &id, spec)?;
                    self.track_release(&group_id, &id, spec, sent)?;
                    self.track_relays(&group_id, &id, spec, sent)?;
                }
                if stored.is_some()
                    && let Content::Location(place) = &app.content
                {
                    let sent = app.timestamp_ms as i64;
                    self.on_location(&group_id, &app.message_id, &account, place, sent)?;
                }
                if stored.is_some() {
                    // A muted member's messages are kept but not shown.
                    let muted = is_group && self.history().is_muted(&group_id, &account)?;
                    if !muted && let Some(view) = self.message_view(&group_id, &app.message_id)? {
                        self.emit(Event::Message { message: view });
                    }
                    if !direct {
                        self.history().owe_receipt(&group_id, &app.message_id)?;
                    }
                }
            }
            Content::Vote { poll, ref choices, signature, commitment } => {
                let proof =
                    [signature.as_ref().map(|s| &s[..]), commitment.as_ref().map(|c| &c[..])];
                self.on_vote(&group_id, &poll, &account, choices, proof, &app)?;
            }
            Content::BallotReveal(ref reveal) => self.on_reveal(&group_id, &account, reveal)?,
            Content::BallotKey { poll, key, signature } => {
                self.on_ballot_key(&group_id, &poll, &account, key, signature)?;
            }
            Content::PollRing { poll, ref members } => {
                self.on_poll_ring(&group_id, &poll, &account, members)?;
            }
            Content::RingSeen { poll, ring } => {
                self.on_ring_seen(&group_id, &poll, &account, ring)?
            }
            Content::CheckIn { target } => {
                let sent = app.timestamp_ms as i64;
                self.on_check_in(&group_id, &target, &account, sent)?;
            }
            Content::ShareRelease { target, ref share } => {
                let holder = *sender.account().as_bytes();
                self.on_share_release(&group_id, &target, &holder, share)?;
            }
            Content::Spread(s) => self.on_spread(&group_id, is_group, *s)?,
            Content::SpreadRetract(ref r) => self.on_spread_retract(is_group, r)?,
            Content::SpreadOptIn { enabled } => {
                self.on_spread_opt_in(&group_id, is_group, enabled)?;
            }
            Content::PollClose { poll, .. } => {
                self.on_poll_close(&group_id, &poll, &account, &app.content, now)?;
            }
            Content::LocationUpdate { target, point } => {
                let at = app.timestamp_ms as i64;
                self.on_location_update(&group_id, &target, &account, point, at)?;
            }
            Content::LocationStop { target } => {
                let now = self.options.clock.now_ms();
                self.on_location_stop(&group_id, &target, &account, now)?;
            }
            Content::Reaction { target, emoji, remove } => {
                self.on_reaction(&group_id, &target, &account, &emoji, remove, now)?;
            }
            Content::Edit { target, body } => {
                self.on_edit(&group_id, &target, &account, &body, now)?
            }
            Content::SealedEdit { target, sealed } => {
                self.on_sealed_edit(&group_id, &target, &account, &sealed, now)?
            }
            Content::SealChange(change) => {
                self.on_seal_change(&group_id, &account, &change, now)?
            }
            Content::Delete { target } => self.on_delete(&group_id, &target, &account)?,
            Content::Receipt { kind, targets } => {
                self.on_receipt(&group_id, is_group, &account, kind, &targets)?;
            }
            Content::Typing { active } => {
                self.on_typing(&group_id, &account, active, app.timestamp_ms, now)?;
            }
            Content::Call(signal) => {
                let sent = app.timestamp_ms as i64;
                let now = self.options.clock.now_ms();
                self.on_call_signal(&group_id, is_group, &account, &device, sent, signal, now)?;
            }
            _ => {}
        }
        Ok(())
    }
}
