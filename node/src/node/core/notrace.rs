//! Leave-no-trace chats (SPEC.md §7.8.1, X3): a chat with one friend that
//! exists only in the memory of the two devices, for as long as one
//! direct `/kovan/notrace/1` stream joins them. Its MLS group, its
//! messages and its id are never written anywhere: not to the database,
//! the outbox, the backup, the files directory or the log. Ending it
//! (either side), a closed connection or a stopped node ends it for both;
//! what it held is overwritten as it is dropped.

use std::collections::HashMap;

use kovan_crypto::identity::DeviceCertificate;
use kovan_spec::validate::Content;
use kovan_spec::wire::{self, no_trace_frame::Body};
use libp2p::PeerId;
use rand_core::{OsRng, RngCore};
use serde::Serialize;
use tokio::sync::mpsc;
use zeroize::Zeroize as _;

use super::{Core, Input, internal};
use crate::contacts::FriendState;
use crate::control::{s, to_value};
use crate::identity::now_secs;
use crate::node::views::{ContactView, Event, MessageView};
use crate::node::{DIRECT_TIMEOUT, NodeError, NodeHandle, NodeResult};
use crate::notrace::{EphemeralMls, read_frame, write_frame};

/// Chats one device holds at once (open or being set up).
pub const MAX_CHATS: usize = 16;
/// Chats with one friend's device at once.
pub const MAX_CHATS_PER_PEER: usize = 2;
/// Messages one chat keeps in memory (older ones are dropped and wiped).
pub const MAX_MESSAGES: usize = 10_000;
/// Text one chat keeps in memory, in bytes (older messages go first).
pub const MAX_CHAT_BYTES: usize = 8 * 1024 * 1024;
/// A chat not open this long after it was offered ends (ms).
pub const SETUP_MS: i64 = 2 * 60 * 1000;
/// Frames waiting to be written to one chat's stream.
const OUT_QUEUE: usize = 64;

/// Where a leave-no-trace chat stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoTraceState {
    /// This device opened it; waiting for the friend to accept.
    Offered,
    /// The friend offered it; waiting for this user to accept.
    Invited,
    /// Accepted; waiting for the group.
    Joining,
    /// Both devices are in it.
    Open,
}

/// A leave-no-trace chat as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoTraceView {
    /// The chat's id, hex (also its conversation id in messages).
    pub id: String,
    /// The friend.
    pub contact: ContactView,
    /// Where it stands.
    pub state: NoTraceState,
    /// This device opened it.
    pub opener: bool,
    /// Messages it holds (in memory).
    pub messages: usize,
    /// Its MLS group's id, hex, once there is one (in memory only).
    pub group: Option<String>,
}

pub(super) struct NoTraceChat {
    peer: PeerId,
    cert: DeviceCertificate,
    contact: ContactView,
    opener: bool,
    state: NoTraceState,
    out: mpsc::Sender<wire::NoTraceFrame>,
    mls: EphemeralMls,
    messages: std::collections::VecDeque<MessageView>,
    /// Bytes of text in `messages`.
    bytes: usize,
    sequence: u64,
    /// When it was offered (node clock, ms).
    since: i64,
}

impl Drop for NoTraceChat {
    fn drop(&mut self) {
        for m in &mut self.messages {
            if let Some(t) = &mut m.text {
                t.zeroize();
            }
        }
    }
}

/// Leave-no-trace chats, by id.
pub(super) type NoTraceChats = HashMap<[u8; 16], NoTraceChat>;

fn frame(body: Body) -> wire::NoTraceFrame {
    wire::NoTraceFrame { body: Some(body) }
}

impl Core {
    /// The chat `who` names, if it is a leave-no-trace chat's id.
    pub(super) fn no_trace_id(&self, who: &str) -> Option<[u8; 16]> {
        let id: [u8; 16] = hex::decode(who.trim()).ok()?.try_into().ok()?;
        self.no_trace.contains_key(&id).then_some(id)
    }

    fn no_trace_view(&self, id: &[u8; 16]) -> NodeResult<NoTraceView> {
        let c = self.no_trace.get(id).ok_or_else(ended)?;
        Ok(NoTraceView {
            id: hex::encode(id),
            contact: self.with_presence(c.contact.clone()),
            state: c.state,
            opener: c.opener,
            messages: c.messages.len(),
            group: c.mls.group_id().map(hex::encode),
        })
    }

    fn no_trace_changed(&mut self, id: &[u8; 16]) {
        if let Ok(chat) = self.no_trace_view(id) {
            self.emit(Event::NoTrace { chat });
        }
        self.flush_events();
    }

    /// Opens a leave-no-trace chat with a friend: a direct stream to their
    /// device, which they accept.
    fn no_trace_new(&mut self, friend: &str) -> NodeResult<NoTraceView> {
        let c = self.find_contact(friend)?;
        if c.state != FriendState::Friend || c.blocked {
            return Err(NodeError::State("you can start a chat with a friend only".into()));
        }
        let cert =
            c.certificate.clone().ok_or_else(|| NodeError::State("no device for it".into()))?;
        let (peer, addrs) =
            self.route(&c).ok_or_else(|| NodeError::State("no address for their device".into()))?;
        if !self.no_trace_room_for(&peer) {
            return Err(NodeError::State(format!(
                "at most {MAX_CHATS} leave-no-trace chats at once, {MAX_CHATS_PER_PEER} with one \
                 friend; end one first"
            )));
        }
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        let (out, rx) = mpsc::channel(OUT_QUEUE);
        let chat = self.new_chat(peer, cert, &c, NoTraceState::Offered, out);
        crate::notrace::protect_memory();
        self.no_trace.insert(id, chat);
        let (net, input) = (self.net.clone(), self.input.clone());
        self.spawn(async move {
            let opened = tokio::time::timeout(DIRECT_TIMEOUT, async {
                net.dial(peer, addrs).await?;
                net.open_notrace_stream(peer).await
            })
            .await;
            match opened {
                Ok(Ok(stream)) => {
                    let offer = frame(Body::Offer(wire::NoTraceOffer { chat_id: id.to_vec() }));
                    run_stream(stream, id, Some(offer), rx, input).await;
                }
                Ok(Err(e)) => closed(&input, id, format!("no direct connection: {e}")).await,
                Err(_) => closed(&input, id, "no direct connection in time".into()).await,
            }
        });
        self.no_trace_view(&id)
    }

    /// A chat with `c`'s device `peer`, offered by this device (`Offered`)
    /// or to it (`Invited`), with a fresh in-memory MLS state.
    fn new_chat(
        &self,
        peer: PeerId,
        cert: DeviceCertificate,
        c: &crate::contacts::ContactRow,
        state: NoTraceState,
        out: mpsc::Sender<wire::NoTraceFrame>,
    ) -> NoTraceChat {
        NoTraceChat {
            peer,
            cert,
            contact: ContactView::from(c),
            opener: state == NoTraceState::Offered,
            state,
            out,
            mls: EphemeralMls::new(self.identity.mls_signer(), self.identity.certificate().clone()),
            messages: Default::default(),
            bytes: 0,
            sequence: 0,
            since: self.options.clock.now_ms(),
        }
    }

    /// Whether this device takes one more chat with `peer`.
    fn no_trace_room_for(&self, peer: &PeerId) -> bool {
        self.no_trace.len() < MAX_CHATS
            && self.no_trace.values().filter(|c| c.peer == *peer).count() < MAX_CHATS_PER_PEER
    }

    /// Whether `peer` is a friend's device this node would take an offer
    /// from now (asked before its stream is read at all).
    pub(in crate::node) fn no_trace_may_offer(&self, peer: PeerId) -> bool {
        matches!(
            self.contacts_store().by_peer(&peer.to_string()),
            Ok(Some(c)) if c.state == FriendState::Friend && !c.blocked && c.certificate.is_some()
        ) && self.no_trace_room_for(&peer)
    }

    /// A friend's device offered a chat on a new stream: kept under an id
    /// this device chooses (never the one the friend sent, which could
    /// name one of this device's conversations); `out` writes to that
    /// stream. None if it is not taken.
    pub(in crate::node) fn no_trace_offered(
        &mut self,
        peer: PeerId,
        out: mpsc::Sender<wire::NoTraceFrame>,
    ) -> Option<[u8; 16]> {
        if !self.no_trace_may_offer(peer) {
            return None;
        }
        let c = self.contacts_store().by_peer(&peer.to_string()).ok()??;
        let cert = c.certificate.clone()?;
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        let chat = self.new_chat(peer, cert, &c, NoTraceState::Invited, out);
        crate::notrace::protect_memory();
        self.no_trace.insert(id, chat);
        // Nothing of it may cross a relay: relayed connections to the peer
        // (which could carry this stream) are closed, and without a direct
        // one the chat ends.
        let (net, input) = (self.net.clone(), self.input.clone());
        self.spawn(async move {
            if net.ensure_direct(peer).await.is_err() {
                closed(&input, id, "no direct connection to your friend's device".into()).await;
            }
        });
        self.no_trace_changed(&id);
        Some(id)
    }

    /// Ends chats still not open [`SETUP_MS`] after they were offered.
    pub(super) fn expire_no_trace(&mut self) {
        let now = self.options.clock.now_ms();
        let stale: Vec<[u8; 16]> = self
            .no_trace
            .iter()
            .filter(|(_, c)| c.state != NoTraceState::Open && now - c.since > SETUP_MS)
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            self.no_trace_close(id, Some("it was not accepted in time".into()));
        }
    }

    /// When the next chat being set up expires (ms).
    pub(super) fn next_no_trace_expiry(&self) -> Option<i64> {
        self.no_trace
            .values()
            .filter(|c| c.state != NoTraceState::Open)
            .map(|c| c.since + SETUP_MS + 1)
            .min()
    }

    /// Ends the chats with devices that are no longer a friend's (removed,
    /// blocked).
    pub(super) fn no_trace_prune(&mut self) {
        let gone: Vec<[u8; 16]> = self
            .no_trace
            .iter()
            .filter(|(_, c)| {
                !matches!(
                    self.contacts_store().by_peer(&c.peer.to_string()),
                    Ok(Some(k)) if k.state == FriendState::Friend && !k.blocked
                )
            })
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            self.no_trace_close(id, Some("you are no longer friends".into()));
        }
    }

    fn no_trace_answer(&mut self, who: &str, accept: bool) -> NodeResult<NoTraceView> {
        let id = self.no_trace_id(who).ok_or_else(ended)?;
        let chat = self.no_trace.get_mut(&id).ok_or_else(ended)?;
        if chat.state != NoTraceState::Invited {
            return Err(NodeError::State("this chat is not waiting for an answer".into()));
        }
        if !accept {
            let view = self.no_trace_view(&id)?;
            self.no_trace_close(id, None);
            return Ok(view);
        }
        let kp = chat.mls.key_package().map_err(internal)?;
        chat.out
            .try_send(frame(Body::KeyPackage(kp)))
            .map_err(|_| NodeError::State("the chat ended".into()))?;
        chat.state = NoTraceState::Joining;
        self.no_trace_changed(&id);
        self.no_trace_view(&id)
    }

    /// A frame from a chat's stream.
    pub(in crate::node) fn no_trace_frame(&mut self, id: [u8; 16], f: wire::NoTraceFrame) {
        if let Err(reason) = self.no_trace_apply(id, f) {
            self.no_trace_close(id, Some(reason));
        }
    }

    fn no_trace_apply(&mut self, id: [u8; 16], f: wire::NoTraceFrame) -> Result<(), String> {
        let now = now_secs();
        let Some(chat) = self.no_trace.get_mut(&id) else { return Ok(()) };
        match (chat.state, chat.opener, f.body) {
            (_, _, Some(Body::End(_))) => Err("your friend ended the chat".into()),
            (NoTraceState::Offered, true, Some(Body::KeyPackage(kp))) => {
                let welcome = chat
                    .mls
                    .start(&kp, &chat.cert, now)
                    .map_err(|e| format!("their device's answer was refused: {e}"))?;
                chat.out
                    .try_send(frame(Body::Welcome(welcome)))
                    .map_err(|_| "the connection closed".to_string())?;
                chat.state = NoTraceState::Open;
                self.no_trace_changed(&id);
                Ok(())
            }
            (NoTraceState::Joining, false, Some(Body::Welcome(w))) => {
                chat.mls
                    .join(&w, &chat.cert, now)
                    .map_err(|e| format!("the chat's group was refused: {e}"))?;
                chat.state = NoTraceState::Open;
                self.no_trace_changed(&id);
                Ok(())
            }
            (NoTraceState::Open, _, Some(Body::Message(m))) => {
                let mut plain = chat.mls.decrypt(&m).map_err(|e| format!("a bad message: {e}"))?;
                let app = kovan_spec::validate_app_envelope(&plain);
                plain.zeroize();
                let app = app.map_err(|e| format!("a bad message: {e}"))?;
                if app.sender_device != chat.peer.to_bytes() {
                    return Err("a message naming another device".into());
                }
                // Text only: nothing else is kept in memory yet.
                let Content::Text { body } = app.content else { return Ok(()) };
                let view = MessageView::ephemeral(
                    &id,
                    app.message_id,
                    chat.contact.account.clone(),
                    false,
                    app.timestamp_ms as i64,
                    body,
                );
                push(chat, view.clone());
                self.emit(Event::Message { message: view });
                self.flush_events();
                Ok(())
            }
            _ => Err("your friend's device broke the chat's protocol".into()),
        }
    }

    fn no_trace_send(&mut self, id: [u8; 16], text: &str) -> NodeResult<MessageView> {
        let me = self.my_account();
        let device = self.net.peer_id().to_bytes();
        let chat = self.no_trace.get_mut(&id).ok_or_else(ended)?;
        if chat.state != NoTraceState::Open {
            return Err(NodeError::State(
                "the chat has not started: your friend must accept".into(),
            ));
        }
        let mut message_id = [0u8; 16];
        OsRng.fill_bytes(&mut message_id);
        chat.sequence += 1;
        let now = self.options.clock.now_ms();
        let env = wire::AppEnvelope {
            version: 1,
            message_id: message_id.to_vec(),
            sender_device: device,
            sequence: chat.sequence,
            timestamp_ms: now as u64,
            reply_to: Vec::new(),
            content: Some(wire::app_envelope::Content::Text(wire::Text { body: text.to_owned() })),
        };
        let mut plain = kovan_spec::encode(&env);
        let sealed = chat.mls.encrypt(&plain);
        plain.zeroize();
        let sealed = sealed.map_err(internal)?;
        chat.out
            .try_send(frame(Body::Message(sealed)))
            .map_err(|_| NodeError::State("the chat ended".into()))?;
        let view =
            MessageView::ephemeral(&id, message_id, hex::encode(me), true, now, text.to_owned());
        push(chat, view.clone());
        self.emit(Event::Message { message: view.clone() });
        self.flush_events();
        Ok(view)
    }

    /// A leave-no-trace chat's messages, newest first.
    pub(super) fn no_trace_history(&self, id: &[u8; 16], limit: usize) -> Vec<MessageView> {
        self.no_trace
            .get(id)
            .map(|c| c.messages.iter().rev().take(limit).cloned().collect())
            .unwrap_or_default()
    }

    /// Ends a chat on this device: the other side is told (if `reason`
    /// is None: this user ended it), everything it held is wiped.
    pub(super) fn no_trace_close(&mut self, id: [u8; 16], reason: Option<String>) {
        let Some(chat) = self.no_trace.remove(&id) else { return };
        if reason.is_none() || chat.state != NoTraceState::Open {
            let _ = chat.out.try_send(frame(Body::End(wire::NoTraceEnd {})));
        }
        drop(chat);
        self.emit(Event::NoTraceEnded {
            id: hex::encode(id),
            reason: reason.unwrap_or_else(|| "you ended the chat".into()),
        });
        self.flush_events();
    }

    /// Every chat ends when the node stops.
    pub(super) fn no_trace_stop(&mut self) {
        for (_, chat) in self.no_trace.drain() {
            let _ = chat.out.try_send(frame(Body::End(wire::NoTraceEnd {})));
        }
    }

    fn no_trace_end(&mut self, who: &str) -> NodeResult<()> {
        let id = self.no_trace_id(who).ok_or_else(ended)?;
        self.no_trace_close(id, None);
        Ok(())
    }

    pub(super) fn no_trace_chats_now(&self) -> Vec<NoTraceView> {
        self.no_trace_list()
    }

    fn no_trace_list(&self) -> Vec<NoTraceView> {
        self.no_trace.keys().filter_map(|id| self.no_trace_view(id).ok()).collect()
    }

    /// Sends text into a leave-no-trace chat if `to` names one.
    pub(super) fn no_trace_text(
        &mut self,
        to: &str,
        text: &str,
    ) -> Option<NodeResult<MessageView>> {
        let id = self.no_trace_id(to)?;
        Some(self.no_trace_send(id, text))
    }
}

/// Keeps a message in memory within the chat's budget (the oldest go,
/// wiped).
fn push(chat: &mut NoTraceChat, view: MessageView) {
    let len = view.text.as_ref().map_or(0, String::len);
    while !chat.messages.is_empty()
        && (chat.messages.len() >= MAX_MESSAGES || chat.bytes + len > MAX_CHAT_BYTES)
    {
        if let Some(mut old) = chat.messages.pop_front()
            && let Some(t) = &mut old.text
        {
            chat.bytes = chat.bytes.saturating_sub(t.len());
            t.zeroize();
        }
    }
    chat.bytes += len;
    chat.messages.push_back(view);
}

fn ended() -> NodeError {
    NodeError::NotFound("no such leave-no-trace chat (it ended, or never was)".into())
}

async fn closed(input: &mpsc::Sender<Input>, id: [u8; 16], reason: String) {
    let job: crate::node::Job = Box::new(move |core| core.no_trace_close(id, Some(reason)));
    let _ = input.send(Input::Job(job)).await;
}

/// Runs one chat's stream: frames read go to the core, frames the core
/// queues are written; when either side stops, the core is told.
pub(in crate::node) async fn run_stream(
    stream: libp2p::Stream,
    id: [u8; 16],
    first: Option<wire::NoTraceFrame>,
    mut out: mpsc::Receiver<wire::NoTraceFrame>,
    input: mpsc::Sender<Input>,
) {
    use futures_util::AsyncReadExt as _;
    let (mut r, mut w) = stream.split();
    let reading = async {
        loop {
            match read_frame(&mut r).await {
                Ok(f) => {
                    let job: crate::node::Job = Box::new(move |core| core.no_trace_frame(id, f));
                    if input.send(Input::Job(job)).await.is_err() {
                        return "the node stopped".to_string();
                    }
                }
                Err(e) => return format!("the connection to your friend's device ended ({e})"),
            }
        }
    };
    let writing = async {
        if let Some(f) = first
            && write_frame(&mut w, &f).await.is_err()
        {
            return "the connection to your friend's device ended".to_string();
        }
        while let Some(f) = out.recv().await {
            let end = matches!(f.body, Some(Body::End(_)));
            if write_frame(&mut w, &f).await.is_err() || end {
                break;
            }
        }
        "the chat ended".to_string()
    };
    let reason = tokio::select! {
        r = reading => r,
        w = writing => w,
    };
    let _ = futures_util::AsyncWriteExt::close(&mut w).await;
    closed(&input, id, reason).await;
}

/// Leave-no-trace chats.
impl NodeHandle {
    /// Starts a leave-no-trace chat with a friend (X3): it exists only in
    /// the memory of your two devices while a direct connection joins
    /// them; they accept it first.
    pub async fn chat_new_no_trace(&self, friend: &str) -> NodeResult<NoTraceView> {
        let friend = friend.to_owned();
        self.call(move |c| c.no_trace_new(&friend)).await
    }

    /// Accepts or declines a leave-no-trace chat a friend offered.
    pub async fn no_trace_answer(&self, chat: &str, accept: bool) -> NodeResult<NoTraceView> {
        let chat = chat.to_owned();
        self.call(move |c| c.no_trace_answer(&chat, accept)).await
    }

    /// Ends a leave-no-trace chat for both sides; nothing of it remains.
    pub async fn no_trace_end(&self, chat: &str) -> NodeResult<()> {
        let chat = chat.to_owned();
        self.call(move |c| c.no_trace_end(&chat)).await
    }

    /// The leave-no-trace chats this device holds now.
    pub async fn no_trace_chats(&self) -> NodeResult<Vec<NoTraceView>> {
        self.call(|c| Ok(c.no_trace_list())).await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "no_trace_answer" => {
        let accept = p["accept"].as_bool().unwrap_or(false);
        to_value(node.no_trace_answer(s(p, "chat")?, accept).await?)
    }
    "no_trace_end" => {
        node.no_trace_end(s(p, "chat")?).await?;
        Ok(serde_json::json!({}))
    }
    "no_trace_chats" => to_value(node.no_trace_chats().await?),
});
