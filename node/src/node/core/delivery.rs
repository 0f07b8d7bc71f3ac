//! Delivery on the core thread (SPEC.md §7.5): sealing for a recipient
//! device and queueing in the outbox, at most one delivery attempt in
//! flight per recipient device (directly, then the relay mailbox, in
//! order), recording outcomes, back-off, and the timer that wakes the core
//! when something is due.

use std::time::Duration;

use kovan_crypto::envelope::{self, PayloadKind};
use kovan_crypto::identity::DeviceCertificate;
use kovan_spec::wire;
use libp2p::{Multiaddr, PeerId};
use rand_core::OsRng;
use tokio::sync::{mpsc, watch};

use super::{Core, Input, internal, now_ms};
use crate::contacts::ContactRow;
use crate::history::State;
use crate::net::{NetHandle, circuit_addr};
use crate::node::views::{Event, state_name};
use crate::node::{DIRECT_TIMEOUT, NodeHandle, NodeResult};
use crate::outbox::Outbox;
use crate::relay_client::RelayClient;

/// Envelopes in flight at once (one per recipient device).
const MAX_IN_FLIGHT: usize = 64;

/// How an attempt to deliver an outbox item ended.
#[derive(Debug)]
pub enum SendOutcome {
    /// The recipient's device stored it.
    Direct,
    /// The recipient's relay mailbox stored it.
    Mailbox,
    /// Refused for good.
    Rejected(String),
    /// Try again later.
    Failed(String),
}

impl Core {
    pub(super) fn outbox(&self) -> Outbox<'_> {
        Outbox::new(&self.db)
    }

    pub(super) fn outbox_len(&mut self) -> NodeResult<i64> {
        Ok(self.outbox().len()?)
    }

    /// Seals `payload` for a contact's device and queues it; a payload of
    /// a direct-only conversation (SPEC.md §7.8) waits in its own queue.
    pub(super) fn enqueue(
        &self,
        to: &DeviceCertificate,
        kind: PayloadKind,
        payload: &[u8],
        conversation: Option<&[u8]>,
        message_id: Option<&[u8; 16]>,
    ) -> NodeResult<()> {
        let direct_only = conversation.is_some_and(|c| self.mode_of(c).direct_only());
        self.enqueue_as(to, kind, payload, conversation, message_id, direct_only)
    }

    /// [`Self::enqueue`] with the queue named: `direct_only` items go to
    /// the device's direct queue, which never uses a relay.
    pub(super) fn enqueue_as(
        &self,
        to: &DeviceCertificate,
        kind: PayloadKind,
        payload: &[u8],
        conversation: Option<&[u8]>,
        message_id: Option<&[u8; 16]>,
        direct_only: bool,
    ) -> NodeResult<()> {
        let sender = envelope::Sender {
            keys: self.identity.device_keys(),
            certificate: self.identity.certificate(),
        };
        let sealed = envelope::seal(
            &mut OsRng,
            &sender,
            &to.keys().envelope,
            kind,
            payload,
            now_ms() as u64,
        )
        .map_err(internal)?;
        let queue = if direct_only { Queue::Direct } else { Queue::Normal };
        let queue = queue_name(&to.peer_id().to_string(), queue);
        self.outbox().enqueue(
            &queue,
            &sealed.bytes,
            conversation,
            message_id.map(|m| m.as_slice()),
            now_ms(),
        )?;
        Ok(())
    }

    /// Seals an anonymous ballot's payload for a member's device, with no
    /// sender, and queues it for that device's relay mailbox only
    /// (SPEC.md §6.4.2).
    pub(super) fn enqueue_anonymous(
        &self,
        to: &DeviceCertificate,
        payload: &[u8],
    ) -> NodeResult<()> {
        // No time inside: the sealer's clock would tell its device apart.
        let sealed = envelope::seal_anonymous(&mut OsRng, &to.keys().envelope, payload, 0)
            .map_err(internal)?;
        let queue = queue_name(&to.peer_id().to_string(), Queue::Anonymous);
        self.outbox().enqueue(&queue, &sealed.bytes, None, None, now_ms())?;
        Ok(())
    }

    /// Where to reach a contact directly: known addresses, then a circuit
    /// through our relay.
    pub(super) fn route(&self, c: &ContactRow) -> Option<(PeerId, Vec<Multiaddr>)> {
        let peer: PeerId = c.peer_id.as_ref()?.parse().ok()?;
        let mut addrs: Vec<Multiaddr> = c.addrs.iter().filter_map(|a| a.parse().ok()).collect();
        if let Some(base) = self.relay.as_ref().and_then(|r| r.circuit_base.as_ref()) {
            addrs.push(circuit_addr(base, peer));
        }
        Some((peer, addrs))
    }

    /// Starts delivery attempts for every recipient whose oldest item is due.
    pub(super) fn pump(&mut self) {
        if self.stopping {
            return;
        }
        let now = now_ms();
        let heads = match self.outbox().heads_due(now, 256) {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "reading the outbox failed");
                return;
            }
        };
        for head in heads {
            if self.in_flight.len() >= MAX_IN_FLIGHT {
                break;
            }
            let recipient = head.recipient_device;
            if self.in_flight.contains(&recipient) {
                continue;
            }
            let (device, queue) = parse_queue(&recipient);
            let direct_only = queue == Queue::Direct;
            let Ok(peer) = device.parse::<PeerId>() else {
                let _ = self.outbox().delivered(head.id);
                continue;
            };
            // The oldest due items for this device, as one batch.
            let batch = match self.outbox().batch_for(
                &recipient,
                now,
                kovan_spec::limits::MAX_DIRECT_BATCH,
                kovan_spec::limits::MAX_SEALED_ENVELOPE,
            ) {
                Ok(b) if !b.is_empty() => b,
                _ => continue,
            };
            // A direct-only queue goes directly whatever `direct` says:
            // that is all it may do.
            let direct = (self.options.direct || direct_only) && queue != Queue::Anonymous;
            let addrs = match self.contacts_store().by_peer(device) {
                Ok(Some(c)) if direct => self.route(&c).map(|r| r.1).unwrap_or_default(),
                // A group member who is not a contact: what identify told
                // us, then a circuit through our relay.
                Ok(None) if direct => {
                    let mut a = self.peer_addrs.get(&peer).cloned().unwrap_or_default();
                    if let Some(base) = self.relay.as_ref().and_then(|r| r.circuit_base.as_ref()) {
                        a.push(circuit_addr(base, peer));
                    }
                    a
                }
                _ => Vec::new(),
            };
            self.in_flight.insert(recipient.clone());
            let net = self.net.clone();
            let mailbox = match queue {
                Queue::Direct => None,
                Queue::Normal => self.relay.as_ref().map(|r| r.client.clone()),
                Queue::Anonymous => self.relay.as_ref().and_then(|r| r.client.unlinked().ok()),
            };
            let input = self.input.clone();
            self.spawn(async move {
                let ids: Vec<i64> = batch.iter().map(|i| i.id).collect();
                let envelopes = batch.into_iter().map(|i| i.envelope).collect();
                let outcomes = match direct_only {
                    true => attempt_direct_only(net, peer, addrs, envelopes).await,
                    false => attempt(net, mailbox, peer, addrs, direct, envelopes).await,
                };
                let results = ids.into_iter().zip(outcomes).collect();
                let _ = input.send(Input::SendDone { recipient, results }).await;
            });
        }
        self.schedule();
    }

    pub(super) fn schedule(&mut self) {
        let mut next = self.outbox().next_due().ok().flatten();
        // A manual clock ticks the core itself when it moves.
        if matches!(self.options.clock, crate::clock::Clock::System) {
            let private = [self.next_idle_lock(), self.next_no_trace_expiry()];
            let timed = [
                self.next_scheduled(),
                self.next_location_update(),
                self.next_conditional_release(),
                self.next_relay_ask(),
                self.next_relay_cancel(),
                self.next_spread_pass(),
            ];
            for at in timed.into_iter().chain(private).flatten() {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        self.wake.send_if_modified(|cur| {
            if *cur != next {
                *cur = next;
                true
            } else {
                false
            }
        });
    }

    pub(super) fn on_sent(&mut self, recipient: String, results: Vec<(i64, SendOutcome)>) {
        self.in_flight.remove(&recipient);
        let now = now_ms();
        // One transaction (one disk sync) for the whole batch.
        let tx = self.db.tx();
        let (mut mailboxed, mut direct) = (Vec::new(), Vec::new());
        let done = tx.atomic(|| -> crate::Result<Vec<Event>> {
            let mut events = Vec::new();
            for (id, outcome) in &results {
                let state = match outcome {
                    SendOutcome::Direct => Some(State::Delivered),
                    SendOutcome::Mailbox => Some(State::Sent),
                    SendOutcome::Rejected(reason) => {
                        tracing::warn!(%reason, %recipient, "envelope rejected by the recipient");
                        None
                    }
                    SendOutcome::Failed(reason) => {
                        // This one and everything after it wait.
                        tracing::debug!(%reason, %recipient, "delivery attempt failed");
                        self.outbox().defer_recipient(&recipient, *id, now)?;
                        break;
                    }
                };
                let item = self.outbox().get(*id)?;
                self.outbox().delivered(*id)?;
                if let (Some(s @ (State::Sent | State::Delivered)), Some(item)) = (state, &item)
                    && let (Some(conv), Some(mid)) = (&item.conversation_id, &item.message_id)
                    && let Ok(mid) = <[u8; 16]>::try_from(mid.as_slice())
                {
                    match s {
                        State::Sent => mailboxed.push((conv.clone(), mid)),
                        _ => direct.push((conv.clone(), mid)),
                    }
                }
                if let (Some(state), Some(item)) = (state, item)
                    && let (Some(conv), Some(mid)) = (item.conversation_id, item.message_id)
                    && let Ok(mid) = <[u8; 16]>::try_from(mid.as_slice())
                    && self.sent_state(&conv, &mid, parse_queue(&recipient).0, state)?
                    && self.history().advance(&conv, &mid, state)?
                {
                    events.push(Event::MessageState {
                        conversation: hex::encode(&conv),
                        id: hex::encode(mid),
                        state: state_name(state),
                    });
                }
            }
            Ok(events)
        });
        match done {
            Ok(events) => {
                for ev in events {
                    self.emit(ev);
                }
            }
            Err(e) => tracing::error!(error = %e, "recording deliveries failed"),
        }
        for (conv, mid) in mailboxed {
            self.file_went_to_mailbox(&conv, &mid);
        }
        for (conv, mid) in direct {
            self.file_delivered_directly(&conv, &mid);
        }
        self.pump();
    }
}

/// Delivery: the outbox.
impl NodeHandle {
    /// Envelopes waiting in the outbox.
    pub async fn outbox_len(&self) -> NodeResult<i64> {
        self.call(|c| c.outbox_len()).await
    }
}

/// One delivery attempt for a batch (oldest first): directly if the peer
/// can be reached, and whatever it did not take into its relay mailbox, in
/// order. Returns one outcome per envelope.
pub(super) async fn attempt(
    net: NetHandle,
    mailbox: Option<RelayClient>,
    peer: PeerId,
    addrs: Vec<Multiaddr>,
    direct: bool,
    envelopes: Vec<Vec<u8>>,
) -> Vec<SendOutcome> {
    let connected = direct && net.connected().await.map(|c| c.contains(&peer)).unwrap_or(false);
    let mut why = String::from(if direct { "no known address" } else { "direct delivery off" });
    let mut statuses = vec![None; envelopes.len()];
    if connected || !addrs.is_empty() {
        match tokio::time::timeout(DIRECT_TIMEOUT, async {
            net.dial(peer, addrs).await?;
            net.send_envelopes(peer, envelopes.clone()).await
        })
        .await
        {
            Ok(Ok(acks)) => {
                for (slot, ack) in statuses.iter_mut().zip(acks) {
                    *slot = Some(ack);
                }
                why = "the recipient asked to retry".into();
            }
            Ok(Err(e)) => why = e.to_string(),
            Err(_) => why = "timed out".into(),
        }
    }
    let mut out = Vec::with_capacity(envelopes.len());
    let mut mailbox_failed: Option<String> = None;
    for (envelope, status) in envelopes.into_iter().zip(statuses) {
        match status {
            Some(wire::AckStatus::Accepted) => out.push(SendOutcome::Direct),
            Some(wire::AckStatus::Rejected) => {
                out.push(SendOutcome::Rejected("the recipient refused it".into()))
            }
            _ => {
                if let Some(e) = &mailbox_failed {
                    out.push(SendOutcome::Failed(e.clone()));
                    continue;
                }
                let Some(relay) = &mailbox else {
                    out.push(SendOutcome::Failed(why.clone()));
                    continue;
                };
                match relay.put_envelope(&peer.to_string(), envelope).await {
                    Ok(()) => out.push(SendOutcome::Mailbox),
                    Err(e) => {
                        let e = format!("{why}; mailbox: {e}");
                        out.push(SendOutcome::Failed(e.clone()));
                        mailbox_failed = Some(e);
                    }
                }
            }
        }
    }
    out
}

/// Sends `Tick` when the earliest due time the core asked for arrives.
pub(super) async fn timer(mut wake: watch::Receiver<Option<i64>>, input: mpsc::Sender<Input>) {
    loop {
        let due = *wake.borrow_and_update();
        match due {
            None => {
                if wake.changed().await.is_err() {
                    return;
                }
            }
            Some(at) => {
                let wait = Duration::from_millis((at - now_ms()).max(0) as u64);
                tokio::select! {
                    changed = wake.changed() => if changed.is_err() { return },
                    _ = tokio::time::sleep(wait) => {
                        if input.send(Input::Tick).await.is_err() {
                            return;
                        }
                        // At most four ticks a second, whatever is due.
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                }
            }
        }
    }
}

/// Which of a device's outbox queues an item waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Queue {
    /// Directly, then the relay mailbox.
    Normal,
    /// Direct-only payload (SPEC.md §7.8): never through a relay.
    Direct,
    /// Anonymous ballots (SPEC.md §6.4.2): the relay mailbox only, put over
    /// a connection of its own; never directly, which would show the
    /// voter's device.
    Anonymous,
}

/// The outbox queue of a device: its PeerId, with `#direct` for its
/// direct-only queue and `#anon` for its anonymous one.
pub(super) fn queue_name(device: &str, queue: Queue) -> String {
    match queue {
        Queue::Normal => device.to_owned(),
        Queue::Direct => format!("{device}{DIRECT_QUEUE}"),
        Queue::Anonymous => format!("{device}{ANONYMOUS_QUEUE}"),
    }
}

/// The device of an outbox queue and which of its queues it is.
pub(super) fn parse_queue(queue: &str) -> (&str, Queue) {
    if let Some(device) = queue.strip_suffix(DIRECT_QUEUE) {
        (device, Queue::Direct)
    } else if let Some(device) = queue.strip_suffix(ANONYMOUS_QUEUE) {
        (device, Queue::Anonymous)
    } else {
        (queue, Queue::Normal)
    }
}

/// What marks a device's direct-only queue.
const DIRECT_QUEUE: &str = "#direct";
/// What marks a device's anonymous queue.
const ANONYMOUS_QUEUE: &str = "#anon";

/// One attempt for a direct-only batch: a direct connection only (a
/// relay's circuit may help open one by hole punching, but carries none
/// of it), never a mailbox. Without one, everything waits.
async fn attempt_direct_only(
    net: NetHandle,
    peer: PeerId,
    addrs: Vec<Multiaddr>,
    envelopes: Vec<Vec<u8>>,
) -> Vec<SendOutcome> {
    let n = envelopes.len();
    let result = tokio::time::timeout(DIRECT_TIMEOUT, async {
        net.dial(peer, addrs).await?;
        match net.send_envelopes_direct(peer, envelopes.clone()).await {
            // Connected through a circuit only: give hole punching a moment.
            Err(crate::net::NetError::NoDirectPath) => {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                net.send_envelopes_direct(peer, envelopes).await
            }
            other => other,
        }
    })
    .await;
    let why = match result {
        Ok(Ok(acks)) => {
            return acks
                .into_iter()
                .map(|a| match a {
                    wire::AckStatus::Accepted => SendOutcome::Direct,
                    wire::AckStatus::Rejected => {
                        SendOutcome::Rejected("the recipient refused it".into())
                    }
                    _ => SendOutcome::Failed("the recipient asked to retry".into()),
                })
                .collect();
        }
        Ok(Err(e)) => format!("waiting for a direct connection ({e})"),
        Err(_) => "waiting for a direct connection (timed out)".into(),
    };
    (0..n).map(|_| SendOutcome::Failed(why.clone())).collect()
}
