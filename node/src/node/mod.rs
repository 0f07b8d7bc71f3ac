//! A running node: the one entry point of the library.
//!
//! ```text
//!  NodeHandle (Clone) ──Input (bounded)──▶ core thread (owns Database, MLS state)
//!     │   ▲                                     │  spawns sends, relay calls on tokio
//!     │   └──── oneshot replies ◀───────────────┤
//!     └── subscribe() ◀── broadcast<Event> ◀────┘
//!  net task (owns the Swarm) ──NetEvent──▶ forwarder ──▶ core
//!  relay push task (WebSocket) ──PushEvent──▶ forwarder ──▶ core
//! ```
//!
//! [`Node::start`] opens the database, starts the network and (if a relay
//! is configured) the relay connection, and returns a [`NodeHandle`]. The
//! database and MLS state live on one dedicated thread (SQLite writes and
//! fsyncs never block the async runtime); handle methods send it closures
//! through a bounded queue and await the answer. Network attempts and relay
//! HTTP calls run as tokio tasks that report back to the core. Several nodes
//! run in one process without sharing anything.
//!
//! Each feature of the node lives in its own module under `core/` with
//! its part of the core thread, the [`NodeHandle`] methods that serve it
//! (one `impl NodeHandle` block per feature, so the methods are grouped by
//! feature in the docs) and its control-socket methods. This file holds
//! what every feature shares: options, errors, starting the node, and the
//! handle itself.

mod core;
pub(crate) mod views;

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::home::Home;
use crate::identity::Identity;
use crate::net::{self, NetHandle};
use crate::relay_client::{Keepalive, RelayClient, RelayError};

pub(crate) use core::control;
pub use core::{
    AttachmentView, CallAudio, CallDevices, CallOptions, CallState, CallVideo, CallView,
    CommunityItemView, CommunitySettingsDraft, CommunityView, Feed, GroupChange, HistoryAt,
    LinkView, LiveShare, MAX_COMMUNITY_FILE, MAX_DRAFT, ModEntryView, NoTraceState, NoTraceView,
    PostDraft, ScheduledContent, Verification, VoiceSource, fold_for_search,
};

pub use views::{
    Agree, AnonymousPollView, Area, CallRecordView, ConditionalFileView, ConditionalView,
    ContactView, ConversationView, Event, FileMeta, FileView, GroupView, ImageMeta, InvitationView,
    InviteView, LanPeer, LocationView, Locks, MemberView, MembersView, MessageView, PollCheckView,
    PollFindingView, PollOptionView, PollView, ReactionView, ReceiptView, RelaysView,
    ScheduledView, SearchResult, SpreadSettings, SpreadView, Status, Trustees, VoiceMeta,
};
pub use views::{parse_id, shown};

/// Work queued to the core thread.
pub const INPUT_QUEUE: usize = 1024;
/// Events buffered per subscriber; a subscriber that falls further behind
/// loses the oldest (and can re-read state).
pub const EVENT_BUFFER: usize = 4096;
/// How long a dial or direct delivery may take before the mailbox is used.
pub const DIRECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How to start a node.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// The node's home (database, keystore).
    pub home: Home,
    /// A relay's base URL, if any.
    pub relay_url: Option<String>,
    /// libp2p listen addresses.
    pub listen: Vec<Multiaddr>,
    /// LAN discovery with mDNS.
    pub mdns: bool,
    /// The name shown to people this node befriends.
    pub display_name: String,
    /// Deliver directly to peers when they can be reached. Off, everything
    /// goes through the relay's mailboxes and peers never learn this
    /// device's IP addresses from it (they still do if it answers them).
    pub direct: bool,
    /// File limits.
    pub files: FileOptions,
    /// How the relay's push connection notices that it died silently.
    pub relay_keepalive: Keepalive,
    /// The clock scheduled work follows (scheduled messages, live
    /// locations): the system's, or a manual one in tests.
    pub clock: crate::clock::Clock,
    /// Calls: where their media goes, how long they ring.
    pub calls: CallOptions,
}

/// File limits (M5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileOptions {
    /// Received files up to this size are fetched at once; larger ones
    /// when asked ([`NodeHandle::fetch_file`]). Default: 32 MiB.
    pub auto_download_max: u64,
    /// Largest file sent or fetched. Default: 2 GiB.
    pub max_size: u64,
}

impl Default for FileOptions {
    fn default() -> Self {
        Self { auto_download_max: 32 * 1024 * 1024, max_size: 2 * 1024 * 1024 * 1024 }
    }
}

impl NodeOptions {
    /// Options from the home's configuration file (`kovan.toml`); `relay`
    /// overrides its relay.
    pub fn from_config(
        home: Home,
        config: &crate::config::NodeConfig,
        relay: Option<String>,
        display_name: &str,
    ) -> Result<Self, String> {
        let listen: Vec<Multiaddr> = config
            .listen
            .iter()
            .map(|a| a.parse().map_err(|e| format!("listen address {a:?}: {e}")))
            .collect::<Result<_, String>>()?;
        if let Some(url) = &relay {
            crate::config::check_relay_url(url)?;
        }
        let calls = CallOptions::on(call_addresses(&listen));
        Ok(Self {
            home,
            relay_url: relay.or_else(|| config.relay_url.clone()),
            listen,
            mdns: config.mdns,
            direct: config.direct,
            files: FileOptions {
                auto_download_max: config.auto_download_max,
                max_size: config.max_file_size,
            },
            display_name: display_name.to_owned(),
            relay_keepalive: Keepalive::default(),
            clock: crate::clock::Clock::System,
            calls: CallOptions {
                // Peers never learn this device's addresses from it: calls
                // too go only through the relay's TURN server.
                media: crate::call::MediaConfig { relay_only: !config.direct, ..calls.media },
                links: config.file_links,
                ..calls
            },
        })
    }

    /// Options for a node in `home` listening on loopback only: for tests
    /// and the demo.
    pub fn loopback(home: Home, display_name: &str) -> Self {
        Self {
            home,
            relay_url: None,
            listen: vec![
                Multiaddr::empty().with(Ipv4Addr::LOCALHOST.into()).with(Protocol::Tcp(0)),
                Multiaddr::empty()
                    .with(Ipv4Addr::LOCALHOST.into())
                    .with(Protocol::Udp(0))
                    .with(Protocol::QuicV1),
            ],
            mdns: false,
            display_name: display_name.into(),
            direct: true,
            files: FileOptions::default(),
            relay_keepalive: Keepalive::default(),
            clock: crate::clock::Clock::System,
            calls: CallOptions::on(vec![std::net::SocketAddr::from((Ipv4Addr::LOCALHOST, 0))]),
        }
    }
}

/// Where calls' media binds: every interface ICE finds, or loopback alone
/// when the node listens on nothing else (a machine without a network, a
/// test).
fn call_addresses(listen: &[Multiaddr]) -> Vec<std::net::SocketAddr> {
    let loopback_only = !listen.is_empty()
        && listen.iter().all(|a| {
            a.iter().any(|p| match p {
                Protocol::Ip4(ip) => ip.is_loopback(),
                Protocol::Ip6(ip) => ip.is_loopback(),
                _ => false,
            })
        });
    let ip = if loopback_only { Ipv4Addr::LOCALHOST } else { Ipv4Addr::UNSPECIFIED };
    vec![std::net::SocketAddr::from((ip, 0))]
}

/// What went wrong, for a person.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// Local storage or identity failure.
    #[error(transparent)]
    Local(#[from] crate::Error),
    /// The relay refused or was unreachable.
    #[error(transparent)]
    Relay(#[from] RelayError),
    /// This node has no relay configured.
    #[error("no relay configured; set relay_url in kovan.toml or pass --relay")]
    NoRelay,
    /// Not logged in to the relay.
    #[error("not logged in to the relay; run `kovan login` or `kovan register`")]
    NotLoggedIn,
    /// No such contact or conversation.
    #[error("not found: {0}")]
    NotFound(String),
    /// The operation does not fit the current state (e.g. accepting a
    /// request that was never made).
    #[error("{0}")]
    State(String),
    /// Invalid input.
    #[error("{0}")]
    Invalid(String),
    /// A peer could not be reached.
    #[error("peer unreachable: {0}")]
    Unreachable(String),
    /// The node has stopped.
    #[error("the node has stopped")]
    Stopped,
}

impl From<rusqlite::Error> for NodeError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Local(e.into())
    }
}

/// Error kinds a UI can explain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NodeErrorKind {
    /// See [`crate::ErrorKind`].
    Storage,
    /// Relay unreachable.
    RelayUnreachable,
    /// The relay said no (wrong password, name taken, quota…).
    RelayRefused,
    /// No relay configured.
    NoRelay,
    /// Not logged in.
    NotLoggedIn,
    /// Not found.
    NotFound,
    /// Wrong state for this operation.
    State,
    /// Invalid input.
    InvalidInput,
    /// Peer unreachable.
    Unreachable,
    /// Stopped.
    Stopped,
}

impl NodeError {
    /// The kind of error.
    pub fn kind(&self) -> NodeErrorKind {
        match self {
            NodeError::Local(e) => match e.kind() {
                crate::ErrorKind::InvalidInput => NodeErrorKind::InvalidInput,
                _ => NodeErrorKind::Storage,
            },
            NodeError::Relay(RelayError::Unreachable(_)) => NodeErrorKind::RelayUnreachable,
            NodeError::Relay(RelayError::Refused { .. }) => NodeErrorKind::RelayRefused,
            NodeError::Relay(_) => NodeErrorKind::InvalidInput,
            NodeError::NoRelay => NodeErrorKind::NoRelay,
            NodeError::NotLoggedIn => NodeErrorKind::NotLoggedIn,
            NodeError::NotFound(_) => NodeErrorKind::NotFound,
            NodeError::State(_) => NodeErrorKind::State,
            NodeError::Invalid(_) => NodeErrorKind::InvalidInput,
            NodeError::Unreachable(_) => NodeErrorKind::Unreachable,
            NodeError::Stopped => NodeErrorKind::Stopped,
        }
    }
}

/// The node's result type.
pub type NodeResult<T> = std::result::Result<T, NodeError>;

pub(crate) type Job = Box<dyn FnOnce(&mut core::Core) + Send>;

/// A cheap, cloneable handle to a running node.
#[derive(Clone)]
pub struct NodeHandle {
    inner: Arc<Inner>,
}

struct Inner {
    input: mpsc::Sender<core::Input>,
    events: broadcast::Sender<Event>,
    net: NetHandle,
    identity: Arc<Identity>,
    relay: Option<RelayClient>,
}

impl std::fmt::Debug for NodeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeHandle").field("peer_id", &self.inner.net.peer_id()).finish()
    }
}

/// Starting a node.
#[derive(Debug)]
pub struct Node;

impl Node {
    /// Starts a node for `identity` with `options`. Must be called inside a
    /// tokio runtime.
    pub async fn start(identity: Identity, options: NodeOptions) -> NodeResult<NodeHandle> {
        options.home.ensure()?;
        let identity = Arc::new(identity);
        let relay = match &options.relay_url {
            Some(url) => Some(RelayClient::new(url)?.with_keepalive(options.relay_keepalive)),
            None => None,
        };
        let card = kovan_spec::wire::ContactCard {
            device_certificate: identity.certificate().encoded().to_vec(),
            display_name: options.display_name.clone(),
        };
        let p2p = identity
            .device_keys()
            .p2p_keypair()
            .map_err(|e| NodeError::Invalid(format!("device key: {e}")))?;
        let (net, mut net_events) = net::start(
            p2p,
            net::NetConfig { listen: options.listen.clone(), mdns: options.mdns, card },
        )
        .map_err(|e| NodeError::Invalid(e.to_string()))?;
        let (input_tx, input_rx) = mpsc::channel(INPUT_QUEUE);
        let (events, _) = broadcast::channel(EVENT_BUFFER);

        // Network events into the core.
        {
            let tx = input_tx.clone();
            tokio::spawn(async move {
                while let Some(ev) = net_events.recv().await {
                    if tx.send(core::Input::Net(ev)).await.is_err() {
                        break;
                    }
                }
            });
        }

        // Peers fetching files we sent (SPEC.md §7.7.3).
        {
            let incoming =
                net.incoming_file_streams().map_err(|e| NodeError::Invalid(e.to_string()))?;
            tokio::spawn(serve_files(incoming, input_tx.clone()));
        }

        // Friends opening leave-no-trace chats (SPEC.md §7.8.1).
        {
            let incoming =
                net.incoming_notrace_streams().map_err(|e| NodeError::Invalid(e.to_string()))?;
            tokio::spawn(serve_no_trace(incoming, input_tx.clone()));
        }

        let (ready_tx, ready_rx) = oneshot::channel();
        let setup = core::Setup {
            identity: identity.clone(),
            options,
            net: net.clone(),
            relay: relay.clone(),
            events: events.clone(),
            input: input_tx.clone(),
            runtime: tokio::runtime::Handle::current(),
        };
        std::thread::Builder::new()
            .name("kovan-core".into())
            .spawn(move || core::run(setup, input_rx, ready_tx))
            .map_err(|e| NodeError::Local(crate::Error::io("starting the node thread")(e)))?;
        ready_rx.await.map_err(|_| NodeError::Stopped)??;

        Ok(NodeHandle { inner: Arc::new(Inner { input: input_tx, events, net, identity, relay }) })
    }
}

/// Accepts `/kovan/file/1` streams (or a call's file channels, SPEC.md
/// §6.9.1); each is served by its own task after the core says whether
/// that peer may have that file. At most
/// [`files::MAX_SERVING`](crate::files::MAX_SERVING) at once; more are told
/// `BUSY`.
pub(in crate::node) async fn serve_files<S>(
    mut incoming: impl futures_util::Stream<Item = (PeerId, S)> + Unpin,
    input: mpsc::Sender<core::Input>,
) where
    S: futures_util::AsyncRead + futures_util::AsyncWrite + Unpin + Send + 'static,
{
    use futures_util::StreamExt;
    let active = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    while let Some((peer, stream)) = incoming.next().await {
        let busy = active.load(std::sync::atomic::Ordering::Relaxed) >= crate::files::MAX_SERVING;
        let input = input.clone();
        let active = active.clone();
        active.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tokio::spawn(async move {
            let decide = async move |peer: PeerId, id: [u8; 16]| {
                let (tx, rx) = oneshot::channel();
                let job: Job = Box::new(move |core| {
                    let _ = tx.send(core.file_to_serve(peer, id));
                });
                if input.send(core::Input::Job(job)).await.is_err() {
                    return None;
                }
                rx.await.ok().flatten()
            };
            if let Err(e) = crate::files::serve(stream, peer, decide, busy).await {
                tracing::debug!(%peer, error = %e, "serving a file stopped");
            }
            active.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        });
    }
}

/// Takes leave-no-trace chats friends offer: only from a friend's device
/// with room for one more (asked before anything is read), at most a few
/// handshakes at once, and the first frame must be a small offer, within
/// a few seconds; the core keeps the chat under an id of its own.
async fn serve_no_trace(
    mut incoming: libp2p_stream::IncomingStreams,
    input: mpsc::Sender<core::Input>,
) {
    use futures_util::StreamExt;
    use kovan_spec::wire::no_trace_frame::Body;
    /// An offer is a 16-byte id and a few bytes of framing.
    const MAX_OFFER: usize = 64;
    let handshakes = Arc::new(tokio::sync::Semaphore::new(8));
    while let Some((peer, mut stream)) = incoming.next().await {
        let Ok(permit) = handshakes.clone().try_acquire_owned() else { continue };
        let input = input.clone();
        tokio::spawn(async move {
            let (tx, rx) = oneshot::channel();
            let job: Job = Box::new(move |core| {
                let _ = tx.send(core.no_trace_may_offer(peer));
            });
            if input.send(core::Input::Job(job)).await.is_err() || rx.await != Ok(true) {
                return;
            }
            let first = tokio::time::timeout(
                Duration::from_secs(10),
                crate::notrace::read_frame_max(&mut stream, MAX_OFFER),
            )
            .await;
            let Ok(Ok(kovan_spec::wire::NoTraceFrame { body: Some(Body::Offer(_)) })) = first
            else {
                return;
            };
            drop(permit);
            let (out, rx) = mpsc::channel(64);
            let (tx, taken) = oneshot::channel();
            let job: Job = Box::new(move |core| {
                let _ = tx.send(core.no_trace_offered(peer, out));
            });
            if input.send(core::Input::Job(job)).await.is_err() {
                return;
            }
            let Ok(Some(id)) = taken.await else { return };
            core::run_no_trace_stream(stream, id, None, rx, input).await;
        });
    }
}

impl NodeHandle {
    async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut core::Core) -> NodeResult<T> + Send + 'static,
    ) -> NodeResult<T> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |core| {
            let _ = tx.send(f(core));
        });
        self.inner.input.send(core::Input::Job(job)).await.map_err(|_| NodeError::Stopped)?;
        rx.await.map_err(|_| NodeError::Stopped)?
    }

    /// Events for a UI: messages, state changes, requests, errors.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// This device's PeerId.
    pub fn peer_id(&self) -> PeerId {
        self.inner.net.peer_id()
    }

    /// This account's key, hex.
    pub fn account_hex(&self) -> String {
        hex::encode(self.inner.identity.account().as_bytes())
    }

    /// The network handle (for tests and tools that need addresses).
    pub fn net(&self) -> &NetHandle {
        &self.inner.net
    }

    /// Stops the node and waits until its database is closed, so the same
    /// home can be opened again at once.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.inner.input.send(core::Input::Shutdown(tx)).await.is_ok() {
            let _ = rx.await;
        }
        self.inner.net.shutdown().await;
    }
}
