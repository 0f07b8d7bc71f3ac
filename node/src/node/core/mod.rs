//! The core thread: one thread owns the database and the MLS state; this
//! module holds its struct, its loop and the dispatch of its inputs.
//! Everything else lives in one module per feature, each with its part of
//! the core (an `impl Core` block), the [`NodeHandle`](super::NodeHandle)
//! methods that serve it and its control-socket methods
//! (`control`, SPEC.md §10):
//!
//! | module | feature |
//! |---|---|
//! | `inbound` | opening, deduplicating and applying envelopes |
//! | `delivery` | the outbox, delivery attempts, the timer |
//! | `receipts` | delivered/seen receipts, per-member receipts in groups |
//! | `relay` | the relay session, push stream, acks, KeyPackages; account operations |
//! | `peers` | network events, presence, LAN cards, learnt addresses |
//! | `friends` | friend requests, accepting, removing, blocking, verification |
//! | `invites` | invite links: making, listing, revoking; admitting requests (A5) |
//! | `messages` | sending content into a conversation; text, reactions, edits, deletes |
//! | `modes` | conversation modes: direct-only chats and groups (§7.8) |
//! | `notrace` | leave-no-trace chats: in memory only, over one direct stream (§7.8.1) |
//! | `seals` | password-sealed chats: sealing, unlocking, locking, the second seal (§7.9) |
//! | `chats` | the conversation list, history pages, message views, read marks |
//! | `settings` | settings enforced on this device, status |
//! | `group` | groups: invitations, commits, fan-out, parking |
//! | `files` | file offers and transfers |
//! | `media` | images and voice notes (prepared, then sent as files) |
//! | `polls`, `location`, `scheduled` | polls, locations, scheduled messages |
//! | `backups` | database backups and the key refresh after a restore |

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use kovan_crypto::identity::DeviceCertificate;
use kovan_crypto::storage::FieldKey;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use super::views::Event;
use super::{DIRECT_TIMEOUT, Job, NodeError, NodeOptions, NodeResult};
use crate::contacts::{Contacts, FriendState};
use crate::conversation::Conversations;
use crate::history::History;
use crate::identity::Identity;
use crate::net::{NetEvent, NetHandle};
use crate::relay_client::{PushEvent, RelayClient};
use crate::store::Database;

mod backups;
mod calls;
mod chats;
mod communities;
mod conditional;
mod delivery;
mod drafts;
mod files;
mod friends;
mod group;
mod inbound;
mod invites;
mod location;
mod media;
mod messages;
mod modes;
mod notrace;
pub(in crate::node) use notrace::run_stream as run_no_trace_stream;
pub use notrace::{NoTraceState, NoTraceView};
mod peers;
mod polls;
mod receipts;
mod relay;
mod scheduled;
mod seals;
mod search;
mod settings;
mod spreads;
mod typing;

pub use calls::{
    CallAudio, CallDevices, CallOptions, CallState, CallVideo, CallView, Feed, LinkView,
};
pub use chats::HistoryAt;
pub use communities::{
    AttachmentView, CommunityItemView, CommunitySettingsDraft, CommunityView, MAX_COMMUNITY_FILE,
    ModEntryView, PostDraft,
};
pub use delivery::SendOutcome;
pub use drafts::MAX_DRAFT;
pub(super) use files::FileInput;
pub use friends::Verification;
pub use group::GroupChange;
pub use location::LiveShare;
pub use media::VoiceSource;
pub use scheduled::ScheduledContent;
pub use search::fold as fold_for_search;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// How an envelope reached this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Path {
    /// From the relay's mailbox.
    Mailbox,
    /// From the sending device over a direct connection.
    Direct,
    /// From the sending device over a connection a relay's circuit carries.
    Relayed,
    /// Parked earlier, when its path was checked, and replayed now.
    Parked,
}

impl Path {
    /// It came from the sending device (not a mailbox).
    fn by_peer(self) -> bool {
        matches!(self, Path::Direct | Path::Relayed)
    }
    /// It may carry a direct-only conversation's payload (SPEC.md §7.8).
    fn direct_enough(self) -> bool {
        matches!(self, Path::Direct | Path::Parked)
    }
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
    /// A call's connection or timer reports.
    Call(calls::CallInput),
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

pub struct Core {
    identity: Arc<Identity>,
    options: NodeOptions,
    db: Database,
    mls: Conversations,
    field: FieldKey,
    net: NetHandle,
    relay: Option<relay::RelayLink>,
    events: broadcast::Sender<Event>,
    input: mpsc::Sender<Input>,
    rt: tokio::runtime::Handle,
    in_flight: HashSet<String>,
    wake: watch::Sender<Option<i64>>,
    lan: HashMap<PeerId, peers::LanEntry>,
    /// Events of the current transaction, emitted once it commits.
    pending_events: Vec<Event>,
    read_receipts: bool,
    /// Typing signals sent, by conversation: the last one and when (ms).
    typing_sent: HashMap<Vec<u8>, (bool, i64)>,
    stopping: bool,
    /// Re-applying parked group messages (no nested replays).
    replaying: bool,
    /// Addresses that peers who are not contacts (group members) reported
    /// through identify, for direct delivery; bounded.
    peer_addrs: HashMap<PeerId, Vec<Multiaddr>>,
    /// Conversations' modes (SPEC.md §7.8); a group's never changes.
    modes: std::cell::RefCell<HashMap<Vec<u8>, kovan_spec::ConversationMode>>,
    /// Leave-no-trace chats (memory only; SPEC.md §7.8.1).
    no_trace: notrace::NoTraceChats,
    /// Password-sealed chats unlocked on this device, with their keys
    /// (memory only; SPEC.md §7.9).
    unlocked: std::cell::RefCell<seals::UnlockedChats>,
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
    /// Friends' devices whose connections the net task keeps open (the
    /// set last handed to it).
    kept: HashSet<PeerId>,
    backups: backups::Backups,
    /// The call this node is in.
    calls: calls::Calls,
    /// Data links for files (SPEC.md §6.9.4).
    links: calls::Links,
    /// The database was restored from its backup when this node started.
    restored_at_start: bool,
    /// A spread came closer to its author after it was passed on: it goes
    /// on again once the input that brought it is done.
    spreads_due: bool,
    /// A sealed poll's close was applied: this account's ballot is
    /// revealed once the input that brought it is done.
    reveals_due: bool,
    /// An anonymous poll arrived, or a registration for one this account
    /// created: registrations and rings go out once the input is done.
    anonymous_due: bool,
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
        let relay = s.relay.map(relay::RelayLink::new);
        let (wake, wake_rx) = watch::channel(None);
        // The timer: sleeps until the earliest due time the core asks for.
        {
            let input = s.input.clone();
            s.runtime.spawn(delivery::timer(wake_rx, input));
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
        // Files rows from before their content columns were sealed.
        let legacy = crate::files::Files::new(&db, &field).seal_legacy()?;
        if legacy > 0 {
            tracing::info!(rows = legacy, "sealed the names and paths of earlier files");
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
            read_receipts,
            typing_sent: HashMap::new(),
            stopping: false,
            replaying: false,
            recipients: Default::default(),
            modes: Default::default(),
            unlocked: Default::default(),
            no_trace: Default::default(),
            peer_addrs: HashMap::new(),
            transfers: HashMap::new(),
            file_starts: Vec::new(),
            online: HashSet::new(),
            last_seen: HashMap::new(),
            kept: HashSet::new(),
            backups: backups::Backups::new(changes),
            calls: Default::default(),
            links: Default::default(),
            restored_at_start: restored.is_some(),
            spreads_due: false,
            reveals_due: false,
            anonymous_due: false,
        };
        core.load_session()?;
        Ok(core)
    }

    fn emit(&mut self, ev: Event) {
        self.pending_events.push(ev);
    }

    fn flush_events(&mut self) {
        // A friendship began or ended, or a contact was (un)blocked: the
        // connections kept open follow.
        let friendships = self.pending_events.iter().any(|e| {
            matches!(
                e,
                Event::FriendAccepted { .. }
                    | Event::FriendRemoved { .. }
                    | Event::ContactChanged { .. }
            )
        });
        if friendships {
            self.keep_friends();
        }
        // A new friend hears whether this node passes spreads on.
        let new_friends: Vec<String> = self
            .pending_events
            .iter()
            .filter_map(|e| match e {
                Event::FriendAccepted { contact } => Some(contact.account.clone()),
                _ => None,
            })
            .collect();
        for ev in self.pending_events.drain(..) {
            let _ = self.events.send(ev);
        }
        if friendships {
            // Leave-no-trace chats with someone no longer a friend end.
            self.no_trace_prune();
        }
        for account in new_friends {
            if let Ok(Ok(a)) = hex::decode(account).map(<[u8; 32]>::try_from) {
                self.tell_spread_opt_in(&a);
            }
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

    /// The earliest time a timed feature has work (`sql` selects one
    /// nullable MIN), if any.
    fn earliest(&self, sql: &str) -> Option<i64> {
        self.db.conn().query_row(sql, [], |r| r.get::<_, Option<i64>>(0)).ok().flatten()
    }

    /// The (conversation, message) pairs a timed feature has due at `now`
    /// (`sql` selects them with `?1` = now); none, logged, if they cannot
    /// be read.
    fn due_messages(&self, sql: &str, now: i64, what: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
        let rows = self.db.conn().prepare_cached(sql).and_then(|mut s| {
            s.query_map(rusqlite::params![now], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
        });
        rows.unwrap_or_else(|e| {
            tracing::error!(error = %e, what, "reading due work failed");
            Vec::new()
        })
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
        // Blocked accounts' devices may not connect (S5).
        if let Ok(list) = self.contacts_store().list() {
            for c in list.iter().filter(|c| c.blocked) {
                self.refuse_connections(c, true);
            }
        }
        self.keep_friends();
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
        // Receipts owed from before a crash go first.
        self.flush_receipts();
        self.pump();
        self.resume_files();
        self.resume_conditional_files();
        self.send_due_reveals();
        self.send_due_anonymous();
        // What fell due while the node was off goes now (marked late);
        // live shares that ended meanwhile end.
        self.run_scheduled();
        self.run_locations();
        self.schedule();
    }

    fn stop(&mut self) {
        self.stopping = true;
        self.no_trace_stop();
        self.stop_calls();
        self.flush_events();
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
            Input::Call(c) => self.on_call(c),
            Input::Tick => {
                self.lock_idle_chats();
                self.expire_no_trace();
                self.pump();
                self.run_scheduled();
                self.run_locations();
                self.run_conditional_releases();
                self.run_relay_asks();
                self.run_relay_cancels();
                self.run_spread_passes();
                self.schedule();
            }
            Input::Shutdown(_) => {}
        }
        if std::mem::take(&mut self.spreads_due) {
            self.run_spread_passes();
        }
        if std::mem::take(&mut self.reveals_due) {
            self.send_due_reveals();
        }
        if std::mem::take(&mut self.anonymous_due) {
            self.send_due_anonymous();
        }
        self.flush_events();
        self.start_queued_files();
    }

    /// Called when the input queue is empty: batch work goes out.
    fn idle(&mut self) {
        self.lock_idle_chats();
        self.expire_no_trace();
        self.flush_receipts();
        self.flush_acks();
        self.flush_events();
        self.maybe_backup();
    }

    // -----------------------------------------------------------------
    // Relay
    // -----------------------------------------------------------------

    // -----------------------------------------------------------------
    // Network events
    // -----------------------------------------------------------------

    // -----------------------------------------------------------------
    // Inbound envelopes
    // -----------------------------------------------------------------

    // -----------------------------------------------------------------
    // Outbox
    // -----------------------------------------------------------------

    // -----------------------------------------------------------------
    // Friends
    // -----------------------------------------------------------------

    // -----------------------------------------------------------------
    // Messages
    // -----------------------------------------------------------------
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

/// Runs one control-socket request (SPEC.md §10) by the feature that owns
/// its method.
pub(crate) async fn control(
    node: &super::NodeHandle,
    method: &str,
    params: &serde_json::Value,
) -> NodeResult<serde_json::Value> {
    macro_rules! by_feature {
        ($($feature:ident),*) => {$(
            if let Some(v) = $feature::control(node, method, params).await? {
                return Ok(v);
            }
        )*};
    }
    by_feature!(
        settings,
        relay,
        friends,
        invites,
        chats,
        messages,
        modes,
        notrace,
        seals,
        receipts,
        group,
        files,
        media,
        polls,
        conditional,
        scheduled,
        location,
        peers,
        search,
        drafts,
        typing,
        communities,
        calls,
        spreads
    );
    Err(NodeError::Invalid(format!("unknown method {}", super::views::shown(method))))
}
