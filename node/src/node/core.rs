//! The core thread: owns the database and the MLS state, applies every
//! inbound envelope in one transaction, and drives the outbox.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use kovan_crypto::envelope::{self, Opened, PayloadKind};
use kovan_crypto::identity::{AccountId, DeviceCertificate};
use kovan_crypto::storage::FieldKey;
use kovan_spec::validate::{Content, ReceiptKind};
use kovan_spec::wire;
use kovan_spec::{FriendBody, validate_app_envelope, validate_friend_message};
use libp2p::{Multiaddr, PeerId};
use rand_core::{OsRng, RngCore};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use x25519_dalek::StaticSecret;
use zeroize::Zeroizing;

use super::views::{
    ContactView, ConversationView, Event, LanPeer, MessageView, SearchResult, Status, state_name,
};
use super::{DIRECT_TIMEOUT, Job, NodeError, NodeOptions, NodeResult};
use crate::contacts::{ContactRow, Contacts, FriendState};
use crate::conversation::{Conversations, Incoming};
use crate::history::{History, NewMessage, State, StoredMessage};
use crate::identity::{Identity, now_secs};
use crate::inbox::{self, Accepted};
use crate::net::{NetEvent, NetHandle, circuit_addr};
use crate::outbox::Outbox;
use crate::relay_client::{PushEvent, RelayClient, Session};
use crate::store::Database;

mod backups;
mod files;
mod group;
mod location;
mod polls;
mod scheduled;
pub use location::LiveShare;

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
pub use scheduled::ScheduledContent;

pub(super) use files::{FileInput, Preparing, SealedFile};
pub use group::GroupChange;

/// Envelopes in flight at once (one per recipient device).
const MAX_IN_FLIGHT: usize = 64;
/// How long a direct delivery that skips sequence numbers is deferred.
const GAP_PATIENCE_MS: i64 = 60_000;
/// KeyPackages kept on the relay.
const KEY_PACKAGE_TARGET: usize = 20;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

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

/// Work for the core thread.
pub enum Input {
    /// A closure from a handle.
    Job(Job),
    /// From the network.
    Net(NetEvent),
    /// From the relay's WebSocket.
    Push(PushEvent),
    /// A delivery attempt finished.
    SendDone {
        /// Recipient device.
        recipient: String,
        /// Outbox ids with their results, oldest first.
        results: Vec<(i64, SendOutcome)>,
    },
    /// A file transfer reports.
    File(FileInput),
    /// Something is due.
    Tick,
    /// Stop; answer when the database is closed.
    Shutdown(oneshot::Sender<()>),
}

pub(super) struct Setup {
    pub identity: Arc<Identity>,
    pub options: NodeOptions,
    pub net: NetHandle,
    pub relay: Option<RelayClient>,
    pub events: broadcast::Sender<Event>,
    pub input: mpsc::Sender<Input>,
    pub runtime: tokio::runtime::Handle,
}

struct RelayLink {
    client: RelayClient,
    session: Option<Session>,
    username: Option<String>,
    connected: bool,
    stop: Option<watch::Sender<bool>>,
    /// The relay's libp2p address with its `/p2p/` (for circuit addresses).
    circuit_base: Option<Multiaddr>,
    acks: Vec<i64>,
    /// A mailbox item could not be stored (disk full, I/O error): the
    /// cursor stays before it and the stream restarts from there after
    /// `resync_wait`, doubling while it keeps failing.
    hole: bool,
    resync_wait: Duration,
}

/// First wait before fetching a mailbox item again that could not be stored.
const FIRST_RESYNC: Duration = Duration::from_secs(1);
/// Longest such wait.
const MAX_RESYNC: Duration = Duration::from_secs(60);

/// Why processing an envelope failed: a bad envelope (reject it) or our
/// own storage (ask for a retry).
#[derive(Debug)]
enum Fail {
    Reject(String),
    Local(crate::Error),
    /// Not now: it would overtake earlier messages (answer RETRY).
    Later(String),
}

impl From<crate::Error> for Fail {
    fn from(e: crate::Error) -> Self {
        Fail::Local(e)
    }
}

impl From<rusqlite::Error> for Fail {
    fn from(e: rusqlite::Error) -> Self {
        Fail::Local(e.into())
    }
}

fn reject(reason: impl std::fmt::Display) -> Fail {
    Fail::Reject(reason.to_string())
}

fn internal(e: impl std::fmt::Display) -> NodeError {
    NodeError::Local(crate::Error::Internal(e.to_string()))
}

/// A LAN peer: its addresses, and its card once checked.
pub(super) type LanEntry = (Vec<Multiaddr>, Option<(DeviceCertificate, String)>);

pub struct Core {
    identity: Arc<Identity>,
    options: NodeOptions,
    db: Database,
    mls: Conversations,
    field: FieldKey,
    net: NetHandle,
    relay: Option<RelayLink>,
    events: broadcast::Sender<Event>,
    input: mpsc::Sender<Input>,
    rt: tokio::runtime::Handle,
    in_flight: HashSet<String>,
    wake: watch::Sender<Option<i64>>,
    lan: HashMap<PeerId, LanEntry>,
    /// Events of the current transaction, emitted once it commits.
    pending_events: Vec<Event>,
    /// DELIVERED receipts to send, per conversation.
    pending_receipts: HashMap<Vec<u8>, Vec<[u8; 16]>>,
    read_receipts: bool,
    stopping: bool,
    /// Re-applying parked group messages (no nested replays).
    replaying: bool,
    /// Addresses that peers who are not contacts (group members) reported
    /// through identify, for direct delivery; bounded.
    peer_addrs: HashMap<PeerId, Vec<Multiaddr>>,
    /// Member devices of groups, for fan-out (see `groups_changed`).
    recipients: std::cell::RefCell<HashMap<Vec<u8>, Vec<DeviceCertificate>>>,
    /// File transfers running, by file id.
    transfers: HashMap<[u8; 16], tokio::task::AbortHandle>,
    /// Downloads to start once the current transaction has committed.
    file_starts: Vec<[u8; 16]>,
    /// Presence: peers with an open connection now, and when each peer
    /// was last connected or delivered something (ms; this run only).
    online: HashSet<PeerId>,
    last_seen: HashMap<PeerId, i64>,
    backups: backups::Backups,
    /// The database was restored from its backup when this node started.
    restored_at_start: bool,
}

pub(super) fn run(
    setup: Setup,
    mut rx: mpsc::Receiver<Input>,
    ready: oneshot::Sender<NodeResult<()>>,
) {
    // Tasks spawned from this thread go to the node's runtime.
    let runtime = setup.runtime.clone();
    let _guard = runtime.enter();
    let mut core = match Core::open(setup) {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let _ = ready.send(Ok(()));
    core.started();
    while let Some(input) = rx.blocking_recv() {
        match input {
            Input::Shutdown(done) => {
                core.stop();
                drop(core);
                let _ = done.send(());
                return;
            }
            other => core.handle(other),
        }
        if rx.is_empty() {
            core.idle();
        }
    }
}

impl Core {
    fn open(s: Setup) -> NodeResult<Self> {
        let (db, restored) = Database::open_or_restore(&s.options.home.database())?;
        let mls =
            Conversations::new(&db, s.identity.mls_signer(), s.identity.certificate().clone())?;
        let field = s.identity.storage_key().field_key();
        let read_receipts = db.setting("read_receipts")?.is_none_or(|v| v != b"0");
        let relay = s.relay.map(|client| RelayLink {
            client,
            session: None,
            username: None,
            connected: false,
            stop: None,
            circuit_base: None,
            acks: Vec::new(),
            hole: false,
            resync_wait: FIRST_RESYNC,
        });
        let (wake, wake_rx) = watch::channel(None);
        // The timer: sleeps until the earliest due time the core asks for.
        {
            let input = s.input.clone();
            s.runtime.spawn(timer(wake_rx, input));
        }
        if let Some(mut moved) = s.options.clock.changes() {
            let input = s.input.clone();
            s.runtime.spawn(async move {
                while moved.changed().await.is_ok() {
                    if input.send(Input::Tick).await.is_err() {
                        return;
                    }
                }
            });
        }
        let changes = db.total_changes();
        let mut core = Self {
            identity: s.identity,
            options: s.options,
            db,
            mls,
            field,
            net: s.net,
            relay,
            events: s.events,
            input: s.input,
            rt: s.runtime,
            in_flight: HashSet::new(),
            wake,
            lan: HashMap::new(),
            pending_events: Vec::new(),
            pending_receipts: HashMap::new(),
            read_receipts,
            stopping: false,
            replaying: false,
            recipients: Default::default(),
            peer_addrs: HashMap::new(),
            transfers: HashMap::new(),
            file_starts: Vec::new(),
            online: HashSet::new(),
            last_seen: HashMap::new(),
            backups: backups::Backups::new(changes),
            restored_at_start: restored.is_some(),
        };
        core.load_session()?;
        Ok(core)
    }

    fn emit(&mut self, ev: Event) {
        self.pending_events.push(ev);
    }

    fn flush_events(&mut self) {
        for ev in self.pending_events.drain(..) {
            let _ = self.events.send(ev);
        }
    }

    fn history(&self) -> History<'_> {
        History::new(&self.db, self.identity.storage_key())
    }

    fn contacts_store(&self) -> Contacts<'_> {
        Contacts::new(&self.db, &self.field)
    }

    fn my_account(&self) -> [u8; 32] {
        *self.identity.account().as_bytes()
    }

    fn spawn<F: std::future::Future<Output = ()> + Send + 'static>(&self, f: F) {
        self.rt.spawn(f);
    }

    // -----------------------------------------------------------------
    // Lifecycle
    // -----------------------------------------------------------------

    fn started(&mut self) {
        // Before anything is sent: a restored state refreshes its keys.
        self.rekey_after_restore();
        // Reconnect to friends we know addresses for: a restarted node
        // tells its peers it is back, and their outboxes resume.
        if let Ok(list) = self.contacts_store().list()
            && self.options.direct
        {
            for c in list.into_iter().filter(|c| c.state == FriendState::Friend && !c.blocked) {
                if let Some((peer, addrs)) = self.route(&c) {
                    let net = self.net.clone();
                    self.spawn(async move {
                        let _ = tokio::time::timeout(DIRECT_TIMEOUT, net.dial(peer, addrs)).await;
                    });
                }
            }
        }
        self.start_relay();
        self.pump();
        self.resume_files();
        // What fell due while the node was off goes now (marked late);
        // live shares that ended meanwhile end.
        self.run_scheduled();
        self.run_locations();
        self.schedule();
    }

    fn stop(&mut self) {
        self.stopping = true;
        for (_, t) in self.transfers.drain() {
            t.abort();
        }
        if let Some(r) = &mut self.relay
            && let Some(stop) = r.stop.take()
        {
            let _ = stop.send(true);
        }
        self.flush_acks();
        self.backup_at_stop();
    }

    fn handle(&mut self, input: Input) {
        match input {
            Input::Job(job) => job(self),
            Input::Net(ev) => self.on_net(ev),
            Input::Push(ev) => self.on_push(ev),
            Input::SendDone { recipient, results } => self.on_sent(recipient, results),
            Input::File(f) => self.on_file(f),
            Input::Tick => {
                self.pump();
                self.run_scheduled();
                self.run_locations();
                self.schedule();
            }
            Input::Shutdown(_) => {}
        }
        self.flush_events();
        self.start_queued_files();
    }

    /// Called when the input queue is empty: batch work goes out.
    fn idle(&mut self) {
        self.flush_receipts();
        self.flush_acks();
        self.flush_events();
        self.maybe_backup();
    }

    // -----------------------------------------------------------------
    // Relay
    // -----------------------------------------------------------------

    /// The settings key of `key` for the relay in use: a session, a
    /// username and a mailbox cursor belong to one relay (another relay's
    /// sequence numbers start anew, so its cursor would skip mail).
    fn relay_key(&self, key: &str) -> String {
        match &self.relay {
            Some(r) => format!("{key}@{}", r.client.base()),
            None => key.to_owned(),
        }
    }

    fn load_session(&mut self) -> NodeResult<()> {
        if self.relay.is_none() {
            return Ok(());
        }
        // Databases from before keys were per relay: what they hold
        // belongs to the relay they run with.
        if self.db.setting("relay_session")?.is_some() || self.db.setting("relay_cursor")?.is_some()
        {
            let keys: Vec<(&str, String)> = ["relay_session", "relay_username", "relay_cursor"]
                .into_iter()
                .map(|k| (k, self.relay_key(k)))
                .collect();
            self.db.atomic(|| -> crate::Result<()> {
                for (old, new) in &keys {
                    if let Some(v) = self.db.setting(old)? {
                        self.db.set_setting(new, &v)?;
                        self.db.remove_setting(old)?;
                    }
                }
                Ok(())
            })?;
        }
        let (session_key, username_key) =
            (self.relay_key("relay_session"), self.relay_key("relay_username"));
        let Some(relay) = &mut self.relay else { return Ok(()) };
        let Some(sealed) = self.db.setting(&session_key)? else { return Ok(()) };
        let plain = self
            .field
            .open(b"settings/relay_session", &sealed)
            .map_err(|e| NodeError::Local(crate::Error::Invalid(e.to_string())))?;
        if let Ok(session) = serde_json::from_slice::<Session>(&plain) {
            relay.session = Some(session);
        }
        relay.username =
            self.db.setting(&username_key)?.map(|u| String::from_utf8_lossy(&u).into_owned());
        Ok(())
    }

    fn start_relay(&mut self) {
        let cursor = self
            .db
            .setting(&self.relay_key("relay_cursor"))
            .ok()
            .flatten()
            .and_then(|v| v.try_into().ok())
            .map(i64::from_be_bytes)
            .unwrap_or(0);
        let Some(relay) = &mut self.relay else { return };
        // The relay's libp2p side: circuit reservation and DHT bootstrap.
        if relay.circuit_base.is_none() {
            let client = relay.client.clone();
            let net = self.net.clone();
            let input = self.input.clone();
            self.rt.spawn(async move {
                let Ok(info) = client.info().await else { return };
                let Some(peer) = info["peer_id"].as_str().and_then(|p| p.parse::<PeerId>().ok())
                else {
                    return;
                };
                let addrs: Vec<Multiaddr> = info["multiaddrs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a.as_str()?.parse().ok())
                    .collect();
                let Some(base) = addrs
                    .iter()
                    .find(|a| a.iter().any(|p| matches!(p, libp2p::multiaddr::Protocol::Tcp(_))))
                    .or(addrs.first())
                    .cloned()
                else {
                    return;
                };
                let _ = net.use_relay(peer, addrs).await;
                let base =
                    crate::net::without_p2p(&base).with(libp2p::multiaddr::Protocol::P2p(peer));
                let job: Job = Box::new(move |core: &mut Core| {
                    if let Some(r) = &mut core.relay {
                        r.circuit_base = Some(base);
                    }
                    core.pump();
                });
                let _ = input.send(Input::Job(job)).await;
            });
        }
        let Some(session) = relay.session.clone() else { return };
        if relay.stop.is_some() {
            return;
        }
        let (stop_tx, stop_rx) = watch::channel(false);
        relay.stop = Some(stop_tx);
        let mut events = relay.client.push(session.token.clone(), cursor, stop_rx);
        let input = self.input.clone();
        self.rt.spawn(async move {
            while let Some(ev) = events.recv().await {
                if input.send(Input::Push(ev)).await.is_err() {
                    break;
                }
            }
        });
        self.top_up_key_packages(None);
    }

    /// Restarts the mailbox stream from the stored cursor (after an item
    /// could not be stored).
    fn resync_mailbox(&mut self) {
        let Some(r) = &mut self.relay else { return };
        if let Some(stop) = r.stop.take() {
            let _ = stop.send(true);
        }
        r.hole = false;
        self.flush_acks();
        self.start_relay();
    }

    pub(super) fn logged_in(&mut self, username: String, session: Session) -> NodeResult<()> {
        let plain = Zeroizing::new(serde_json::to_vec(&session).map_err(internal)?);
        let sealed = self.field.seal(&mut OsRng, b"settings/relay_session", &plain);
        self.db.set_setting(&self.relay_key("relay_session"), &sealed)?;
        self.db.set_setting(&self.relay_key("relay_username"), username.as_bytes())?;
        let Some(relay) = &mut self.relay else { return Err(NodeError::NoRelay) };
        if let Some(stop) = relay.stop.take() {
            let _ = stop.send(true);
        }
        relay.session = Some(session);
        relay.username = Some(username);
        self.start_relay();
        Ok(())
    }

    pub(super) fn logged_out(&mut self) -> NodeResult<()> {
        self.db.remove_setting(&self.relay_key("relay_session"))?;
        if let Some(relay) = &mut self.relay {
            relay.session = None;
            relay.connected = false;
            if let Some(stop) = relay.stop.take() {
                let _ = stop.send(true);
            }
        }
        Ok(())
    }

    pub(super) fn session_token(&mut self) -> NodeResult<Option<String>> {
        let relay = self.relay.as_ref().ok_or(NodeError::NoRelay)?;
        Ok(relay.session.as_ref().map(|s| s.token.clone()))
    }

    fn top_up_key_packages(&mut self, remaining: Option<i64>) {
        let Some(relay) = &self.relay else { return };
        let Some(session) = &relay.session else { return };
        let client = relay.client.clone();
        let token = session.token.clone();
        let input = self.input.clone();
        // Ask the relay how many it has (unless it just said), then make
        // the missing ones here and upload them from a task.
        self.rt.spawn(async move {
            let (have, last_resort) = match remaining {
                Some(n) => (n, true),
                None => match client.key_package_count(&token).await {
                    Ok(v) => v,
                    Err(_) => return,
                },
            };
            let want = KEY_PACKAGE_TARGET.saturating_sub(have.max(0) as usize);
            if want == 0 && last_resort {
                return;
            }
            let (tx, rx) = oneshot::channel();
            let job: Job = Box::new(move |core: &mut Core| {
                let mut kps = Vec::new();
                for _ in 0..want {
                    if let Ok(k) = core.new_key_package(false) {
                        kps.push(k);
                    }
                }
                let lr = if last_resort { None } else { core.new_key_package(true).ok() };
                let _ = tx.send((kps, lr));
            });
            if input.send(Input::Job(job)).await.is_err() {
                return;
            }
            let Ok((kps, lr)) = rx.await else { return };
            if let Err(e) = client.upload_key_packages(&token, &kps, lr.as_deref()).await {
                tracing::warn!(error = %e, "uploading key packages failed");
            }
        });
    }

    fn on_push(&mut self, ev: PushEvent) {
        match ev {
            PushEvent::Connected => {
                if let Some(r) = &mut self.relay {
                    r.connected = true;
                }
                self.emit(Event::RelayConnected);
            }
            PushEvent::Disconnected { retry_in } => {
                if let Some(r) = &mut self.relay {
                    r.connected = false;
                }
                self.emit(Event::RelayDisconnected { retry_in_ms: retry_in.as_millis() as u64 });
            }
            PushEvent::Item(item) => {
                // After a hole, later items wait for the stream to start
                // again from the hole: order is kept.
                if self.relay.as_ref().is_some_and(|r| r.hole) {
                    return;
                }
                let status = self.on_envelope(&item.envelope, None);
                let cursor_key = self.relay_key("relay_cursor");
                let Some(r) = &mut self.relay else { return };
                if status != wire::AckStatus::Retry {
                    r.acks.push(item.seq);
                    r.resync_wait = FIRST_RESYNC;
                    let _ = self.db.set_setting(&cursor_key, &item.seq.to_be_bytes());
                } else {
                    // Not stored: the relay keeps it (unacknowledged), but
                    // this stream has passed it. The cursor stays before it
                    // and the stream starts again from there.
                    r.hole = true;
                    let wait = r.resync_wait;
                    r.resync_wait = (wait * 2).min(MAX_RESYNC);
                    let input = self.input.clone();
                    self.spawn(async move {
                        tokio::time::sleep(wait).await;
                        let job: Job = Box::new(|core: &mut Core| core.resync_mailbox());
                        let _ = input.send(Input::Job(job)).await;
                    });
                }
            }
            PushEvent::KeyPackagesLow(n) => self.top_up_key_packages(Some(n)),
            PushEvent::SessionEnded => {
                let _ = self.logged_out();
                self.emit(Event::RelaySessionEnded);
            }
        }
    }

    fn flush_acks(&mut self) {
        let Some(relay) = &mut self.relay else { return };
        if relay.acks.is_empty() {
            return;
        }
        let Some(session) = &relay.session else { return };
        let seqs = std::mem::take(&mut relay.acks);
        let client = relay.client.clone();
        let token = session.token.clone();
        // An ack that fails is harmless: the items come again and are
        // recognised by their envelope ids.
        self.rt.spawn(async move {
            for chunk in seqs.chunks(500) {
                if let Err(e) = client.ack(&token, chunk).await {
                    tracing::debug!(error = %e, "mailbox ack failed");
                }
            }
        });
    }

    // -----------------------------------------------------------------
    // Network events
    // -----------------------------------------------------------------

    fn on_net(&mut self, ev: NetEvent) {
        match ev {
            NetEvent::Listening(a) => self.emit(Event::Listening { addr: a.to_string() }),
            NetEvent::Connected(peer) => {
                let p = peer.to_string();
                if self.outbox().retry_now(&p, now_ms()).unwrap_or(false) {
                    self.pump();
                }
                self.retry_files_from(&p);
                self.presence(peer, true);
                self.emit(Event::PeerConnected { peer_id: p });
            }
            NetEvent::Disconnected(peer) => {
                self.presence(peer, false);
                self.emit(Event::PeerDisconnected { peer_id: peer.to_string() })
            }
            NetEvent::Identified { peer, addrs } => {
                let direct: Vec<Multiaddr> =
                    addrs.iter().filter(|a| !crate::net::is_circuit(a)).take(8).cloned().collect();
                if self.peer_addrs.len() >= 4096 && !self.peer_addrs.contains_key(&peer) {
                    self.peer_addrs.clear();
                }
                self.peer_addrs.insert(peer, direct);
                self.learn_addrs(peer, &addrs, false)
            }
            NetEvent::Discovered { peer, addrs } => {
                self.learn_addrs(peer, &addrs, true);
                let entry = self.lan.entry(peer).or_insert_with(|| (Vec::new(), None));
                for a in addrs {
                    if !entry.0.contains(&a) {
                        entry.0.push(a);
                    }
                }
                if entry.1.is_none() {
                    self.fetch_lan_card(peer);
                }
            }
            NetEvent::Reachable(addr) => {
                tracing::info!(%addr, "reachable through the relay");
            }
            NetEvent::Envelope { id, from, envelopes } => {
                self.seen(from);
                let statuses = self.on_envelopes(&envelopes, Some(from));
                let net = self.net.clone();
                self.spawn(async move {
                    let _ = net.respond(id, statuses).await;
                });
            }
        }
    }

    /// A connection to `peer` opened or its last one closed: a contact's
    /// presence changes.
    fn presence(&mut self, peer: PeerId, online: bool) {
        let changed = if online { self.online.insert(peer) } else { self.online.remove(&peer) };
        self.seen(peer);
        if !changed {
            return;
        }
        if let Ok(Some(c)) = self.contacts_store().by_peer(&peer.to_string()) {
            let last_seen = self.last_seen.get(&peer).copied();
            self.emit(Event::Presence { account: hex::encode(c.account), online, last_seen });
        }
    }

    /// `peer` is there now (connected, or delivered something).
    fn seen(&mut self, peer: PeerId) {
        // Bounded like `peer_addrs`: strangers' connections must not grow it.
        if self.last_seen.len() >= 4096 && !self.last_seen.contains_key(&peer) {
            self.last_seen.retain(|p, _| self.online.contains(p));
        }
        self.last_seen.insert(peer, self.options.clock.now_ms());
    }

    /// A contact's presence for its view.
    fn with_presence(&self, mut v: ContactView) -> ContactView {
        if let Some(peer) = v.peer_id.as_deref().and_then(|p| p.parse::<PeerId>().ok()) {
            v.online = self.online.contains(&peer);
            v.last_seen = self.last_seen.get(&peer).copied();
        }
        v
    }

    fn fetch_lan_card(&mut self, peer: PeerId) {
        let net = self.net.clone();
        let input = self.input.clone();
        let addrs = self.lan.get(&peer).map(|e| e.0.clone()).unwrap_or_default();
        self.spawn(async move {
            if tokio::time::timeout(DIRECT_TIMEOUT, net.dial(peer, addrs)).await.is_err() {
                return;
            }
            let Ok(Ok(card)) = tokio::time::timeout(DIRECT_TIMEOUT, net.fetch_card(peer)).await
            else {
                return;
            };
            let job: Job = Box::new(move |core: &mut Core| {
                let Some((cert, name)) = super::views::check_card(&card, peer, now_secs()) else {
                    return;
                };
                if cert.account() == &core.identity.account() {
                    return;
                }
                let view = LanPeer {
                    peer_id: peer.to_string(),
                    account: Some(hex::encode(cert.account().as_bytes())),
                    display_name: name.clone(),
                };
                if let Some(e) = core.lan.get_mut(&peer) {
                    e.1 = Some((cert, name));
                }
                core.emit(Event::LanPeer { peer: view });
            });
            let _ = input.send(Input::Job(job)).await;
        });
    }

    fn learn_addrs(&mut self, peer: PeerId, addrs: &[Multiaddr], replace: bool) {
        let p = peer.to_string();
        let Ok(Some(mut c)) = self.contacts_store().by_peer(&p) else { return };
        let mut list: Vec<String> = if replace { Vec::new() } else { c.addrs.clone() };
        for a in addrs.iter().filter(|a| !crate::net::is_circuit(a)) {
            let s = a.to_string();
            if !list.contains(&s) {
                list.push(s);
            }
        }
        list.truncate(16);
        if list != c.addrs {
            c.addrs = list;
            let _ = self.contacts_store().put(&c, now_ms());
            if self.outbox().retry_now(&p, now_ms()).unwrap_or(false) {
                self.pump();
            }
        }
    }

    // -----------------------------------------------------------------
    // Inbound envelopes
    // -----------------------------------------------------------------

    /// Applies one sealed envelope from the mailbox.
    fn on_envelope(&mut self, bytes: &[u8], via: Option<PeerId>) -> wire::AckStatus {
        let statuses = self.on_envelopes(std::slice::from_ref(&bytes.to_vec()), via);
        statuses.first().copied().unwrap_or(wire::AckStatus::Retry)
    }

    /// Applies sealed envelopes in order, from a peer (`via`) or the
    /// mailbox: each on its own (a savepoint), all made durable by one
    /// commit; returns one acknowledgement each.
    fn on_envelopes(&mut self, batch: &[Vec<u8>], via: Option<PeerId>) -> Vec<wire::AckStatus> {
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
                                self.pending_receipts.entry(conv).or_default().push(mid);
                            }
                            return Ok(());
                        }
                        Ok(Accepted::New(o)) => o,
                    };
                    self.apply(*opened, via.is_some())
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
                    kind: super::NodeErrorKind::Storage,
                    message: format!(
                        "could not store incoming messages ({e}); they will be fetched again"
                    ),
                });
                vec![wire::AckStatus::Retry; batch.len()]
            }
        }
    }

    fn apply(&mut self, opened: Opened, direct: bool) -> Result<(), Fail> {
        let sender_account = *opened.sender.account().as_bytes();
        if sender_account == self.my_account() {
            return Err(reject("envelope from our own account"));
        }
        let contact = self.contacts_store().get(&sender_account)?;
        if contact.as_ref().is_some_and(|c| c.blocked) {
            tracing::debug!("dropped an envelope from a blocked account");
            return Ok(());
        }
        tracing::trace!(kind = ?opened.kind, "applying an envelope");
        match opened.kind {
            PayloadKind::Friend => self.apply_friend(&opened, contact),
            PayloadKind::MlsWelcome => self.apply_welcome(&opened, contact),
            PayloadKind::MlsMessage => self.apply_mls(&opened, contact, direct),
            PayloadKind::Group => self.apply_group_control(&opened, contact),
        }
    }

    fn apply_friend(&mut self, o: &Opened, contact: Option<ContactRow>) -> Result<(), Fail> {
        let m = validate_friend_message(&o.payload).map_err(reject)?;
        let now = now_ms();
        let account = *o.sender.account().as_bytes();
        let mut c = contact.unwrap_or_else(|| ContactRow::new(account));
        match m.body {
            FriendBody::Request {
                key_package,
                display_name,
                note,
                recipient_account,
                username,
            } => {
                if recipient_account != self.my_account() {
                    return Err(reject("friend request for another account"));
                }
                let kp_device = self
                    .mls
                    .inspect_key_package(&key_package, now_secs())
                    .map_err(|e| reject(format!("friend request key package: {e}")))?;
                if kp_device.digest() != o.sender.digest() {
                    return Err(reject("key package is not the requesting device's"));
                }
                if c.state != FriendState::Outgoing
                    && self.db.setting("friend_policy")?.as_deref() == Some(b"nobody")
                {
                    // The user takes no friend requests (A5): dropped unseen.
                    tracing::debug!("friend request dropped: policy is nobody");
                    return Ok(());
                }
                if c.state == FriendState::Outgoing {
                    // Crossed requests: the smaller account key accepts.
                    if self.my_account() < account {
                        c.request_key_package = Some(key_package);
                        c.certificate = Some(o.sender.clone());
                        c.peer_id = Some(o.sender.peer_id().to_string());
                        self.accept_row(c)?;
                    }
                    return Ok(());
                }
                c.state = FriendState::Incoming;
                c.display_name = display_name;
                c.request_note = note;
                c.request_id = Some(m.request_id);
                c.request_key_package = Some(key_package);
                c.certificate = Some(o.sender.clone());
                c.peer_id = Some(o.sender.peer_id().to_string());
                self.contacts_store().put(&c, now)?;
                self.emit(Event::FriendRequest { contact: ContactView::from(&c) });
                if c.username.is_none() && !username.is_empty() {
                    self.check_claimed_username(account, username);
                }
            }
            FriendBody::Decline => {
                if c.state == FriendState::Outgoing && c.request_id == Some(m.request_id) {
                    c.state = FriendState::Declined;
                    c.request_id = None;
                    self.contacts_store().put(&c, now)?;
                    self.emit(Event::FriendDeclined { contact: ContactView::from(&c) });
                }
            }
            FriendBody::Remove => {
                if c.state == FriendState::Friend {
                    c.state = FriendState::Removed;
                    if let Some(conv) = &c.conversation_id {
                        self.history().close(conv)?;
                    }
                    self.contacts_store().put(&c, now)?;
                    self.emit(Event::FriendRemoved { contact: ContactView::from(&c) });
                }
            }
            _ => return Err(reject("unknown friend message")),
        }
        Ok(())
    }

    fn apply_welcome(&mut self, o: &Opened, contact: Option<ContactRow>) -> Result<(), Fail> {
        if self.apply_group_welcome(o)? {
            return Ok(());
        }
        let Some(mut c) = contact.filter(|c| c.state == FriendState::Outgoing) else {
            // Nobody asked for this conversation.
            tracing::info!("dropped an unsolicited Welcome");
            return Ok(());
        };
        let joined = self.mls.join(&o.payload, now_secs()).map_err(reject)?;
        self.mls_changed();
        let me = self.identity.certificate().digest();
        let them = o.sender.digest();
        let ok = joined.members.len() == 2
            && joined.members.iter().any(|m| m.digest() == me)
            && joined.members.iter().any(|m| m.digest() == them);
        if !ok {
            return Err(reject("the Welcome's members are not the two of us"));
        }
        let now = now_ms();
        if let Some(old) = c.conversation_id.take() {
            self.history().close(&old)?;
        }
        self.history().ensure_conversation(&joined.group_id, Some(&c.account), now)?;
        c.state = FriendState::Friend;
        c.conversation_id = Some(joined.group_id);
        c.certificate = Some(o.sender.clone());
        c.peer_id = Some(o.sender.peer_id().to_string());
        c.request_id = None;
        self.contacts_store().put(&c, now)?;
        self.emit(Event::FriendAccepted { contact: ContactView::from(&c) });
        Ok(())
    }

    fn apply_mls(
        &mut self,
        o: &Opened,
        contact: Option<ContactRow>,
        direct: bool,
    ) -> Result<(), Fail> {
        let now = now_ms();
        let incoming = self.mls.receive(&self.db, &o.payload, now_secs()).map_err(reject)?;
        let (group_id, sender, plaintext) = match incoming {
            Incoming::Application { group_id, sender, plaintext } => (group_id, sender, plaintext),
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
            | Content::Unknown
            | Content::File(_)
            | Content::Poll(_)
            | Content::Location(_)
            | Content::Invalid { .. } => {
                if let Content::File(offer) = &app.content {
                    self.file_offered(&group_id, app.message_id, &device, offer)?;
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
                        self.pending_receipts
                            .entry(group_id.clone())
                            .or_default()
                            .push(app.message_id);
                    }
                }
            }
            Content::Vote { poll, ref choices } => {
                self.on_vote(&group_id, &poll, &account, choices, &app)?;
            }
            Content::PollClose { poll, ballots } => {
                self.on_poll_close(&group_id, &poll, &account, &ballots, now)?;
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
                if self.history().react(&group_id, &target, &account, &emoji, remove, now)?
                    && let Some(view) = self.message_view(&group_id, &target)?
                {
                    self.emit(Event::Reactions { message: view });
                }
            }
            Content::Edit { target, body } => {
                if let Some(old) = self.history().get(&group_id, &target)? {
                    let new_body = edited_body(old.body.as_deref(), &body);
                    if self.history().edit(&group_id, &target, &account, &new_body, now)?
                        && let Some(view) = self.message_view(&group_id, &target)?
                    {
                        self.emit(Event::MessageEdited { message: view });
                    }
                }
            }
            Content::Delete { target }
                if self.history().delete(&group_id, &target, &account)? =>
            {
                self.file_message_deleted(&group_id, &target);
                self.emit(Event::MessageDeleted {
                    conversation: hex::encode(&group_id),
                    id: hex::encode(target),
                });
            }
            Content::Receipt { kind, targets } => {
                let state = match kind {
                    ReceiptKind::Delivered => State::Delivered,
                    ReceiptKind::Seen => State::Seen,
                };
                for t in targets {
                    if is_group && !self.group_receipt(&group_id, &t, &account, state)? {
                        continue;
                    }
                    if self.history().advance(&group_id, &t, state)? {
                        self.emit(Event::MessageState {
                            conversation: hex::encode(&group_id),
                            id: hex::encode(t),
                            state: state_name(state),
                        });
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn message_view(&self, conv: &[u8], id: &[u8; 16]) -> crate::Result<Option<MessageView>> {
        let Some(m) = self.history().get(conv, id)? else { return Ok(None) };
        self.view_of(conv, &m).map(Some)
    }

    /// A stored message as shown: with its reactions and, for a poll, its
    /// tally.
    fn view_of(&self, conv: &[u8], m: &StoredMessage) -> crate::Result<MessageView> {
        let history = self.history();
        let me = self.my_account();
        let reactions = history.reactions(conv, &m.message_id)?;
        let mut view = MessageView::new(conv, m, &reactions, &me);
        if view.poll.is_some() {
            let votes = history.poll_votes(conv, &m.message_id)?;
            return Ok(view.with_votes(&votes, &me));
        }
        if view.kind == "location"
            && let Some(place) = m.body.as_deref().and_then(Self::place_of)
        {
            view.location = Some(self.location_view(conv, &m.message_id, &place, m.sent_at)?);
        }
        Ok(view)
    }

    // -----------------------------------------------------------------
    // Outbox
    // -----------------------------------------------------------------

    fn outbox(&self) -> Outbox<'_> {
        Outbox::new(&self.db)
    }

    pub(super) fn outbox_len(&mut self) -> NodeResult<i64> {
        Ok(self.outbox().len()?)
    }

    /// Seals `payload` for a contact's device and queues it.
    fn enqueue(
        &self,
        to: &DeviceCertificate,
        kind: PayloadKind,
        payload: &[u8],
        conversation: Option<&[u8]>,
        message_id: Option<&[u8; 16]>,
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
        self.outbox().enqueue(
            &to.peer_id().to_string(),
            &sealed.bytes,
            conversation,
            message_id.map(|m| m.as_slice()),
            now_ms(),
        )?;
        Ok(())
    }

    /// Where to reach a contact directly: known addresses, then a circuit
    /// through our relay.
    fn route(&self, c: &ContactRow) -> Option<(PeerId, Vec<Multiaddr>)> {
        let peer: PeerId = c.peer_id.as_ref()?.parse().ok()?;
        let mut addrs: Vec<Multiaddr> = c.addrs.iter().filter_map(|a| a.parse().ok()).collect();
        if let Some(base) = self.relay.as_ref().and_then(|r| r.circuit_base.as_ref()) {
            addrs.push(circuit_addr(base, peer));
        }
        Some((peer, addrs))
    }

    /// Starts delivery attempts for every recipient whose oldest item is due.
    fn pump(&mut self) {
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
            let Ok(peer) = recipient.parse::<PeerId>() else {
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
            let direct = self.options.direct;
            let addrs = match self.contacts_store().by_peer(&recipient) {
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
            let mailbox = self.relay.as_ref().map(|r| r.client.clone());
            let input = self.input.clone();
            self.spawn(async move {
                let ids: Vec<i64> = batch.iter().map(|i| i.id).collect();
                let envelopes = batch.into_iter().map(|i| i.envelope).collect();
                let outcomes = attempt(net, mailbox, peer, addrs, direct, envelopes).await;
                let results = ids.into_iter().zip(outcomes).collect();
                let _ = input.send(Input::SendDone { recipient, results }).await;
            });
        }
        self.schedule();
    }

    fn schedule(&mut self) {
        let mut next = self.outbox().next_due().ok().flatten();
        // A manual clock ticks the core itself when it moves.
        if matches!(self.options.clock, crate::clock::Clock::System) {
            for at in [self.next_scheduled(), self.next_location_update()].into_iter().flatten() {
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

    fn on_sent(&mut self, recipient: String, results: Vec<(i64, SendOutcome)>) {
        self.in_flight.remove(&recipient);
        let now = now_ms();
        // One transaction (one disk sync) for the whole batch.
        let tx = self.db.tx();
        let mut mailboxed = Vec::new();
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
                if let (Some(State::Sent), Some(item)) = (state, &item)
                    && let (Some(conv), Some(mid)) = (&item.conversation_id, &item.message_id)
                    && let Ok(mid) = <[u8; 16]>::try_from(mid.as_slice())
                {
                    mailboxed.push((conv.clone(), mid));
                }
                if let (Some(state), Some(item)) = (state, item)
                    && let (Some(conv), Some(mid)) = (item.conversation_id, item.message_id)
                    && let Ok(mid) = <[u8; 16]>::try_from(mid.as_slice())
                    && self.sent_state(&conv, &mid, &recipient, state)?
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
        self.pump();
    }

    /// Whether a delivery to `recipient` moves our message to `state`: in
    /// a group, `sent` once any copy left and `delivered` once every member
    /// has it.
    fn sent_state(
        &self,
        conv: &[u8],
        mid: &[u8; 16],
        recipient: &str,
        state: State,
    ) -> crate::Result<bool> {
        if state != State::Delivered || !self.is_group(conv)? {
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

    fn flush_receipts(&mut self) {
        if self.pending_receipts.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending_receipts);
        for (conv, ids) in pending {
            for chunk in ids.chunks(kovan_spec::limits::MAX_RECEIPT_TARGETS) {
                if let Err(e) = self.send_receipt(&conv, ReceiptKind::Delivered, chunk) {
                    tracing::debug!(error = %e, "sending a receipt failed");
                }
            }
        }
        self.pump();
    }

    // -----------------------------------------------------------------
    // Friends
    // -----------------------------------------------------------------

    fn find_contact(&self, who: &str) -> NodeResult<ContactRow> {
        let store = self.contacts_store();
        let who = who.trim().trim_start_matches('@');
        if let Ok(bytes) = hex::decode(who)
            && let Ok(account) = <[u8; 32]>::try_from(bytes.as_slice())
        {
            return Ok(store.get(&account)?.unwrap_or_else(|| ContactRow::new(account)));
        }
        let lower = who.to_ascii_lowercase();
        if let Some(c) = store.by_username(&lower)?.into_iter().next() {
            return Ok(c);
        }
        let list = store.list()?;
        let matches: Vec<_> = list
            .into_iter()
            .filter(|c| {
                let hexed = hex::encode(c.account);
                (who.len() >= 8 && hexed.starts_with(&lower))
                    || c.display_name.eq_ignore_ascii_case(who)
                    || c.peer_id.as_deref() == Some(who)
            })
            .collect();
        if matches.len() > 1 {
            return Err(NodeError::Invalid(format!(
                "{who:?} matches several contacts; use the id"
            )));
        }
        matches.into_iter().next().ok_or_else(|| NodeError::NotFound(format!("no contact {who:?}")))
    }

    /// A friend request named the requester's relay username: believed
    /// once the relay's directory maps it to the requester's account, then
    /// recorded on the contact (so its avatar and identity checks work).
    fn check_claimed_username(&mut self, account: [u8; 32], username: String) {
        let Some(client) = self.relay.as_ref().map(|r| r.client.clone()) else { return };
        let input = self.input.clone();
        self.spawn(async move {
            let profile = match tokio::time::timeout(DIRECT_TIMEOUT, client.user(&username)).await {
                Ok(Ok(p)) => p,
                _ => return,
            };
            let listed = profile["account_key"]
                .as_str()
                .and_then(|k| B64.decode(k).ok())
                .is_some_and(|k| k.as_slice() == account.as_slice());
            if !listed {
                tracing::info!(%username, "a friend request claimed a username of another account");
                return;
            }
            let job: Job = Box::new(move |core: &mut Core| {
                let Ok(Some(mut c)) = core.contacts_store().get(&account) else { return };
                if c.username.is_some() {
                    return;
                }
                c.username = Some(username);
                if core.contacts_store().put(&c, now_ms()).is_ok() {
                    core.emit(Event::ContactChanged { contact: ContactView::from(&c) });
                }
            });
            let _ = input.send(Input::Job(job)).await;
        });
    }

    pub(super) fn note_usernames(&mut self, results: &[SearchResult]) -> NodeResult<()> {
        let now = now_ms();
        for r in results {
            let Some(name) = &r.username else { continue };
            for mut old in self.contacts_store().by_username(name)? {
                if hex::encode(old.account) != r.account && !old.identity_changed {
                    old.identity_changed = true;
                    old.verified = false;
                    self.contacts_store().put(&old, now)?;
                    self.emit(Event::IdentityChanged {
                        contact: ContactView::from(&old),
                        new_account: r.account.clone(),
                    });
                }
            }
        }
        self.flush_events();
        Ok(())
    }

    pub(super) fn friend_request(
        &mut self,
        cert: DeviceCertificate,
        username: Option<String>,
        display_name: String,
        addrs: Vec<String>,
        note: String,
    ) -> NodeResult<ContactView> {
        let account = *cert.account().as_bytes();
        let now = now_ms();
        let mut c =
            self.contacts_store().get(&account)?.unwrap_or_else(|| ContactRow::new(account));
        if c.blocked {
            return Err(NodeError::State("this account is blocked; unblock it first".into()));
        }
        if c.state == FriendState::Friend {
            return Err(NodeError::State("you are friends already".into()));
        }
        if username.is_some() {
            c.username = username;
        }
        if !display_name.is_empty() {
            c.display_name = display_name;
        }
        for a in addrs {
            if !c.addrs.contains(&a) {
                c.addrs.push(a);
            }
        }
        c.peer_id = Some(cert.peer_id().to_string());
        c.certificate = Some(cert.clone());
        if c.state == FriendState::Incoming {
            // They asked first: answering is accepting.
            let tx = self.db.tx();
            let view = tx.atomic(|| self.accept_row(c).map_err(fail_to_node))?;
            self.flush_events();
            self.pump();
            return Ok(view);
        }
        let mut request_id = [0u8; 16];
        OsRng.fill_bytes(&mut request_id);
        let key_package = self.new_key_package(false).map_err(internal)?;
        let msg = wire::FriendMessage {
            version: 1,
            request_id: request_id.to_vec(),
            body: Some(wire::friend_message::Body::Request(wire::FriendRequest {
                key_package,
                display_name: self.options.display_name.clone(),
                note,
                recipient_account: account.to_vec(),
                username: self
                    .relay
                    .as_ref()
                    .and_then(|r| r.session.as_ref().and(r.username.clone()))
                    .unwrap_or_default(),
            })),
        };
        c.state = FriendState::Outgoing;
        c.request_id = Some(request_id);
        c.request_note = String::new();
        self.db.atomic(|| {
            self.contacts_store().put(&c, now)?;
            self.enqueue(&cert, PayloadKind::Friend, &kovan_spec::encode(&msg), None, None)
        })?;
        let view = ContactView::from(&c);
        self.emit(Event::ContactChanged { contact: view.clone() });
        self.flush_events();
        self.pump();
        Ok(view)
    }

    /// Accepts `c`'s request (its KeyPackage): creates the conversation and
    /// queues the Welcome. Runs inside the caller's transaction.
    fn accept_row(&mut self, mut c: ContactRow) -> Result<ContactView, Fail> {
        let kp = c.request_key_package.take().ok_or_else(|| reject("no request to accept"))?;
        let cert = c.certificate.clone().ok_or_else(|| reject("no device for this contact"))?;
        let started = self.mls.start(&kp, now_secs()).map_err(reject)?;
        self.mls_changed();
        if started.peer.digest() != cert.digest() {
            return Err(reject("the request's key package belongs to another device"));
        }
        let now = now_ms();
        if let Some(old) = c.conversation_id.take() {
            self.history().close(&old)?;
        }
        self.history().ensure_conversation(&started.group_id, Some(&c.account), now)?;
        c.state = FriendState::Friend;
        c.conversation_id = Some(started.group_id.clone());
        c.request_id = None;
        c.request_note = String::new();
        self.contacts_store().put(&c, now)?;
        self.enqueue(&cert, PayloadKind::MlsWelcome, &started.welcome, None, None)
            .map_err(|e| reject(e.to_string()))?;
        let view = ContactView::from(&c);
        self.emit(Event::FriendAccepted { contact: view.clone() });
        Ok(view)
    }

    pub(super) fn friend_accept(&mut self, who: &str) -> NodeResult<ContactView> {
        let c = self.find_contact(who)?;
        if c.state != FriendState::Incoming {
            return Err(NodeError::State(format!("no friend request from {who}")));
        }
        let tx = self.db.tx();
        let view = tx.atomic(|| self.accept_row(c).map_err(fail_to_node))?;
        self.flush_events();
        self.pump();
        Ok(view)
    }

    pub(super) fn friend_decline(&mut self, who: &str) -> NodeResult<ContactView> {
        let mut c = self.find_contact(who)?;
        if c.state != FriendState::Incoming {
            return Err(NodeError::State(format!("no friend request from {who}")));
        }
        let cert = c.certificate.clone().ok_or_else(|| NodeError::State("no device".into()))?;
        let msg = wire::FriendMessage {
            version: 1,
            request_id: c.request_id.unwrap_or_default().to_vec(),
            body: Some(wire::friend_message::Body::Decline(wire::FriendDecline {})),
        };
        c.state = FriendState::None;
        c.request_key_package = None;
        c.request_id = None;
        c.request_note = String::new();
        self.db.atomic(|| {
            self.contacts_store().put(&c, now_ms())?;
            self.enqueue(&cert, PayloadKind::Friend, &kovan_spec::encode(&msg), None, None)
        })?;
        self.pump();
        Ok(ContactView::from(&c))
    }

    pub(super) fn friend_remove(&mut self, who: &str) -> NodeResult<ContactView> {
        let mut c = self.find_contact(who)?;
        if c.state != FriendState::Friend {
            return Err(NodeError::State(format!("{who} is not a friend")));
        }
        let cert = c.certificate.clone().ok_or_else(|| NodeError::State("no device".into()))?;
        let msg = wire::FriendMessage {
            version: 1,
            request_id: vec![0; 16],
            body: Some(wire::friend_message::Body::Remove(wire::FriendRemove {})),
        };
        c.state = FriendState::Removed;
        self.db.atomic(|| {
            if let Some(conv) = &c.conversation_id {
                self.history().close(conv)?;
            }
            self.contacts_store().put(&c, now_ms())?;
            self.enqueue(&cert, PayloadKind::Friend, &kovan_spec::encode(&msg), None, None)
        })?;
        self.pump();
        Ok(ContactView::from(&c))
    }

    pub(super) fn set_blocked(&mut self, who: &str, blocked: bool) -> NodeResult<ContactView> {
        let mut c = self.find_contact(who)?;
        c.blocked = blocked;
        self.contacts_store().put(&c, now_ms())?;
        let view = ContactView::from(&c);
        self.emit(Event::ContactChanged { contact: view.clone() });
        Ok(view)
    }

    pub(super) fn contacts(&mut self) -> NodeResult<Vec<ContactView>> {
        let list = self.contacts_store().list()?;
        Ok(list.iter().map(|c| self.with_presence(ContactView::from(c))).collect())
    }

    pub(super) fn lan_matches(&self, query: &str) -> Vec<SearchResult> {
        self.lan
            .iter()
            .filter_map(|(peer, (_, card))| {
                let (cert, name) = card.as_ref()?;
                let account = hex::encode(cert.account().as_bytes());
                let hit = query.is_empty()
                    || name.to_lowercase().contains(query)
                    || account.starts_with(query)
                    || peer.to_string() == query;
                hit.then(|| SearchResult {
                    source: "lan",
                    username: None,
                    display_name: name.clone(),
                    account,
                    peer_id: peer.to_string(),
                    target: peer.to_string(),
                })
            })
            .collect()
    }

    pub(super) fn lan_peer(&self, peer: &PeerId) -> Option<LanEntry> {
        self.lan.get(peer).cloned()
    }

    pub(super) fn safety_number(&mut self, who: &str) -> NodeResult<String> {
        let c = self.find_contact(who)?;
        let other = AccountId::from_bytes(&c.account).map_err(internal)?;
        Ok(self.identity.safety_number(&other).display())
    }

    pub(super) fn verify(&mut self, who: &str, digits: Option<String>) -> NodeResult<ContactView> {
        let mut c = self.find_contact(who)?;
        let other = AccountId::from_bytes(&c.account).map_err(internal)?;
        if let Some(d) = digits
            && self.identity.safety_number(&other).digits() != d
        {
            return Err(NodeError::Invalid(
                "the safety number does not match: do not mark this contact verified".into(),
            ));
        }
        c.verified = true;
        c.identity_changed = false;
        self.contacts_store().put(&c, now_ms())?;
        let view = ContactView::from(&c);
        self.emit(Event::ContactChanged { contact: view.clone() });
        self.flush_events();
        Ok(view)
    }

    // -----------------------------------------------------------------
    // Messages
    // -----------------------------------------------------------------

    /// A conversation by contact or id; with the device to send to.
    fn find_conversation(&self, who: &str) -> NodeResult<(Vec<u8>, Option<ContactRow>)> {
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
        if let Ok(g) = self.find_group(who) {
            return Ok((g, None));
        }
        let id = hex::decode(who.trim())
            .map_err(|_| NodeError::NotFound(format!("no conversation with {who:?}")))?;
        if !self.history().exists(&id)? {
            return Err(NodeError::NotFound(format!("no conversation {who}")));
        }
        let c = self.contacts_store().by_conversation(&id)?;
        Ok((id, c))
    }

    fn writable(&self, who: &str) -> NodeResult<(Vec<u8>, Vec<DeviceCertificate>)> {
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

    /// A member's receipt for one of our group messages; true when every
    /// other member has reached `state` (the message's own state advances
    /// then).
    fn group_receipt(
        &self,
        conv: &[u8],
        id: &[u8; 16],
        account: &[u8],
        state: State,
    ) -> crate::Result<bool> {
        let reached = self.history().member_receipt(conv, id, account, state)?;
        let me = self.my_account();
        let others = self
            .group_recipients(conv)
            .map(|r| r.iter().filter(|m| m.account().as_bytes() != &me).count())
            .unwrap_or(0);
        Ok(reached as usize >= others)
    }

    /// Encrypts an application envelope into the conversation and queues
    /// it; with `store`, the message is also written to history.
    fn send_app(
        &mut self,
        conv: &[u8],
        to: &[DeviceCertificate],
        content: wire::app_envelope::Content,
        reply_to: Option<[u8; 16]>,
        store: bool,
    ) -> NodeResult<[u8; 16]> {
        let mut message_id = [0u8; 16];
        OsRng.fill_bytes(&mut message_id);
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

    fn send_receipt(&mut self, conv: &[u8], kind: ReceiptKind, ids: &[[u8; 16]]) -> NodeResult<()> {
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
        let (conv, recipients) = self.writable(to)?;
        let content = wire::app_envelope::Content::Text(wire::Text { body: text });
        let id = self.send_app(&conv, &recipients, content, reply_to, true)?;
        let view = self.message_view(&conv, &id)?.ok_or_else(|| internal("message not stored"))?;
        self.emit(Event::Message { message: view.clone() });
        self.flush_events();
        self.pump();
        Ok(view)
    }

    pub(super) fn history_page(
        &mut self,
        who: &str,
        at: HistoryAt,
        limit: usize,
    ) -> NodeResult<Vec<MessageView>> {
        let (conv, _) = self.find_conversation(who)?;
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

    pub(super) fn react(
        &mut self,
        who: &str,
        target: [u8; 16],
        emoji: &str,
        remove: bool,
    ) -> NodeResult<MessageView> {
        let emoji = crate::emoji::expand_shortcodes(emoji.trim());
        if emoji.is_empty() || emoji.len() > kovan_spec::limits::MAX_EMOJI {
            return Err(NodeError::Invalid("a reaction is one emoji".into()));
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
        if !old.outgoing || old.body.is_none() {
            return Err(NodeError::State("you can only edit your own messages".into()));
        }
        let content = wire::app_envelope::Content::Edit(wire::Edit {
            target: target.to_vec(),
            body: text.clone(),
        });
        self.send_app(&conv, &recipients, content, None, false)?;
        let me = self.my_account();
        let body = edited_body(old.body.as_deref(), &text);
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
        self.emit(Event::MessageDeleted {
            conversation: hex::encode(&conv),
            id: hex::encode(target),
        });
        self.flush_events();
        self.pump();
        Ok(())
    }

    pub(super) fn conversations(&mut self) -> NodeResult<Vec<ConversationView>> {
        let rows = self.history().conversations()?;
        let store = self.contacts_store();
        rows.iter()
            .map(|r| {
                let c = if r.peer_account.is_some() { store.by_conversation(&r.id)? } else { None };
                let title = r.title.clone().unwrap_or_default();
                let epoch = self.mls.epoch(&r.id).ok();
                Ok(ConversationView::new(r, c.as_ref().map(ContactView::from), title, epoch))
            })
            .collect()
    }

    pub(super) fn set_friend_policy(&mut self, policy: &str) -> NodeResult<()> {
        self.db.set_setting("friend_policy", policy.as_bytes())?;
        Ok(())
    }

    pub(super) fn set_read_receipts(&mut self, on: bool) -> NodeResult<()> {
        self.db.set_setting("read_receipts", if on { b"1" } else { b"0" })?;
        self.read_receipts = on;
        Ok(())
    }

    pub(super) fn status(
        &mut self,
        listen: Vec<Multiaddr>,
        connected: usize,
    ) -> NodeResult<Status> {
        let contacts = self.contacts_store().list()?;
        Ok(Status {
            account: hex::encode(self.my_account()),
            peer_id: self.net.peer_id().to_string(),
            listen: listen.iter().map(|a| a.to_string()).collect(),
            connected_peers: connected,
            relay_url: self.options.relay_url.clone(),
            username: self.relay.as_ref().and_then(|r| r.username.clone()),
            relay_connected: self.relay.as_ref().is_some_and(|r| r.connected),
            friends: contacts.iter().filter(|c| c.state == FriendState::Friend).count(),
            incoming_requests: contacts.iter().filter(|c| c.state == FriendState::Incoming).count(),
            outbox: self.outbox().len()?,
            read_receipts: self.read_receipts,
            restored: self
                .db
                .setting(crate::backup::RESTORED)?
                .and_then(|v| serde_json::from_slice(&v).ok()),
            restored_at_start: self.restored_at_start,
        })
    }
}

fn fail_to_node(f: Fail) -> NodeError {
    match f {
        Fail::Reject(r) | Fail::Later(r) => NodeError::State(r),
        Fail::Local(e) => NodeError::Local(e),
    }
}

impl From<NodeError> for Fail {
    fn from(e: NodeError) -> Self {
        match e {
            NodeError::Local(e) => Fail::Local(e),
            other => Fail::Reject(other.to_string()),
        }
    }
}

/// The stored body of a text message after an edit: the original envelope
/// with the new text (its id, time and reply stay).
fn edited_body(old: Option<&[u8]>, text: &str) -> Vec<u8> {
    let mut env = old
        .and_then(|b| kovan_spec::decode::<wire::AppEnvelope>(b).ok())
        .unwrap_or_else(|| wire::AppEnvelope { version: 1, ..Default::default() });
    env.content = Some(wire::app_envelope::Content::Text(wire::Text { body: text.to_owned() }));
    kovan_spec::encode(&env)
}

/// One delivery attempt for a batch (oldest first): directly if the peer
/// can be reached, and whatever it did not take into its relay mailbox, in
/// order. Returns one outcome per envelope.
async fn attempt(
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
async fn timer(mut wake: watch::Receiver<Option<i64>>, input: mpsc::Sender<Input>) {
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
