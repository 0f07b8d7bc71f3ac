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

mod core;
pub(crate) mod views;

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use kovan_crypto::identity::DeviceCertificate;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::home::Home;
use crate::identity::{Identity, now_secs};
use crate::net::{self, NetHandle};
use crate::relay_client::{Keepalive, RelayClient, RelayError};
use kovan_spec::validate::Media;

pub use core::{GroupChange, HistoryAt, LiveShare, ScheduledContent};

pub use views::{
    ContactView, ConversationView, Event, FileMeta, FileView, GroupView, ImageMeta, InvitationView,
    LanPeer, LocationView, MemberView, MessageView, PollOptionView, PollView, ReactionView,
    ScheduledView, SearchResult, Status, VoiceMeta,
};

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
        let listen = config
            .listen
            .iter()
            .map(|a| a.parse().map_err(|e| format!("listen address {a:?}: {e}")))
            .collect::<Result<_, String>>()?;
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
        }
    }
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

type Job = Box<dyn FnOnce(&mut core::Core) + Send>;

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

/// Where a voice note's sound comes from.
#[derive(Debug, Clone)]
pub enum VoiceSource {
    /// A WAV file (any rate and channel count).
    Wav(std::path::PathBuf),
    /// A generated sine tone (tests, `kovan send-voice --tone`).
    Tone {
        /// Frequency.
        hz: f32,
        /// Length.
        ms: u32,
    },
    /// Mono samples at 48 kHz (a recording from the desktop client).
    Samples(Vec<f32>),
}

/// How an outgoing file is announced.
struct Outgoing {
    name: String,
    mime: String,
    media: Media,
    /// The file the user picked (shown as the sent file's path).
    source: Option<std::path::PathBuf>,
}

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

/// Accepts `/kovan/file/1` streams; each is served by its own task after
/// the core says whether that peer may have that file. At most
/// [`files::MAX_SERVING`](crate::files::MAX_SERVING) at once; more are told
/// `BUSY`.
async fn serve_files(
    mut incoming: libp2p_stream::IncomingStreams,
    input: mpsc::Sender<core::Input>,
) {
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

    /// Where this node listens.
    pub async fn listen_addrs(&self) -> NodeResult<Vec<Multiaddr>> {
        self.inner.net.listen_addrs().await.map_err(|_| NodeError::Stopped)
    }

    /// An overview: identity, relay, counts, addresses.
    pub async fn status(&self) -> NodeResult<Status> {
        let addrs = self.listen_addrs().await?;
        let connected = self.inner.net.connected().await.map_err(|_| NodeError::Stopped)?;
        self.call(move |c| c.status(addrs, connected.len())).await
    }

    fn relay(&self) -> NodeResult<&RelayClient> {
        self.inner.relay.as_ref().ok_or(NodeError::NoRelay)
    }

    /// Registers `username` on the relay and logs this device in.
    pub async fn register(&self, username: &str, password: &str) -> NodeResult<()> {
        let session = self.relay()?.register(&self.inner.identity, username, password).await?;
        let name = username.to_ascii_lowercase();
        self.call(move |c| c.logged_in(name, session)).await?;
        self.cache_settings().await
    }

    /// Keeps the settings the node enforces itself (the friend-request
    /// policy) in its database.
    async fn cache_settings(&self) -> NodeResult<()> {
        let settings = self.settings().await?;
        let policy = settings["friend_policy"].as_str().unwrap_or("everyone").to_owned();
        self.call(move |c| c.set_friend_policy(&policy)).await
    }

    /// Logs this device in to the relay.
    pub async fn login(&self, username: &str, password: &str) -> NodeResult<()> {
        let session = self.relay()?.login(&self.inner.identity, username, password).await?;
        let name = username.to_ascii_lowercase();
        self.call(move |c| c.logged_in(name, session)).await?;
        self.cache_settings().await
    }

    /// Logs out: the relay revokes the session; the mailbox stops.
    pub async fn logout(&self) -> NodeResult<()> {
        let token = self.call(|c| c.session_token()).await?;
        if let Some(token) = token {
            // Forget locally even if the relay cannot be told.
            let res = self.relay()?.logout(&token).await;
            self.call(|c| c.logged_out()).await?;
            res?;
        }
        Ok(())
    }

    async fn token(&self) -> NodeResult<String> {
        self.call(|c| c.session_token()).await?.ok_or(NodeError::NotLoggedIn)
    }

    /// The account's settings on the relay.
    pub async fn settings(&self) -> NodeResult<serde_json::Value> {
        let token = self.token().await?;
        Ok(self.relay()?.account(&token).await?["settings"].clone())
    }

    /// Changes some of the account's settings on the relay (fields of
    /// `patch` replace the current ones: `display_name`, `about`,
    /// `discoverable`, `friend_policy`, `read_receipts`). Read receipts
    /// also apply to this node at once.
    pub async fn update_settings(
        &self,
        patch: &serde_json::Value,
    ) -> NodeResult<serde_json::Value> {
        let token = self.token().await?;
        let relay = self.relay()?;
        let mut settings = relay.account(&token).await?["settings"].clone();
        let (Some(cur), Some(p)) = (settings.as_object_mut(), patch.as_object()) else {
            return Err(NodeError::Invalid("settings must be an object".into()));
        };
        for (k, v) in p {
            if !cur.contains_key(k) {
                return Err(NodeError::Invalid(format!("unknown setting {k:?}")));
            }
            cur.insert(k.clone(), v.clone());
        }
        let new = relay.put_settings(&token, &settings).await?;
        if let Some(on) = new["read_receipts"].as_bool() {
            self.set_read_receipts(on).await?;
        }
        let policy = new["friend_policy"].as_str().unwrap_or("everyone").to_owned();
        self.call(move |c| c.set_friend_policy(&policy)).await?;
        Ok(new)
    }

    /// Deletes the account on the relay (its directory entry, devices,
    /// sessions, mailboxes) and logs out. Local history stays.
    pub async fn delete_account(&self, password: &str) -> NodeResult<()> {
        let token = self.token().await?;
        self.relay()?.delete_account(&token, password).await?;
        self.call(|c| c.logged_out()).await
    }

    /// The account's sessions on the relay (one per logged-in device or login).
    pub async fn sessions(&self) -> NodeResult<serde_json::Value> {
        let token = self.token().await?;
        Ok(self.relay()?.sessions(&token).await?)
    }

    /// Revokes a session by its id (see [`Self::sessions`]).
    pub async fn revoke_session(&self, id: &str) -> NodeResult<()> {
        let token = self.token().await?;
        Ok(self.relay()?.revoke_session(&token, id).await?)
    }

    /// Changes the relay password; the relay ends every other session.
    pub async fn change_password(&self, old: &str, new: &str) -> NodeResult<()> {
        let token = self.token().await?;
        Ok(self.relay()?.change_password(&token, old, new).await?)
    }

    /// Sets (or with `None` removes) the avatar shown in the directory.
    pub async fn set_avatar(&self, image: Option<Vec<u8>>) -> NodeResult<()> {
        let token = self.token().await?;
        Ok(self.relay()?.set_avatar(&token, image).await?)
    }

    /// A user's avatar from the relay directory (`None`: they have none).
    pub async fn avatar(&self, username: &str) -> NodeResult<Option<Vec<u8>>> {
        Ok(self.relay()?.avatar(username).await?)
    }

    /// Searches the relay's directory and the peers seen on the LAN.
    pub async fn search(&self, query: &str) -> NodeResult<Vec<SearchResult>> {
        let q = query.to_lowercase();
        let mut out = self.call(move |c| Ok(c.lan_matches(&q))).await?;
        if let Some(relay) = &self.inner.relay {
            let v = relay.search(query).await?;
            let now = now_secs();
            let mut found = Vec::new();
            for p in v["results"].as_array().into_iter().flatten() {
                if let Some(r) = views::search_result_from_profile(p, now) {
                    found.push(r);
                }
            }
            let checked = found.clone();
            self.call(move |c| c.note_usernames(&checked)).await?;
            out.extend(found);
        }
        Ok(out)
    }

    /// Sends a friend request. `target` is a username on the relay, a LAN
    /// peer's PeerId (from [`Self::search`]), or a full address ending in
    /// `/p2p/<PeerId>`.
    pub async fn friend_request(&self, target: &str, note: &str) -> NodeResult<ContactView> {
        if note.len() > kovan_spec::limits::MAX_FRIEND_NOTE {
            return Err(NodeError::Invalid("the note is longer than 512 bytes".into()));
        }
        let (cert, username, display_name, addrs) = self.resolve(target).await?;
        if cert.account() == &self.inner.identity.account() {
            return Err(NodeError::Invalid("that is your own account".into()));
        }
        let note = note.to_owned();
        self.call(move |c| c.friend_request(cert, username, display_name, addrs, note)).await
    }

    async fn resolve(
        &self,
        target: &str,
    ) -> NodeResult<(DeviceCertificate, Option<String>, String, Vec<String>)> {
        let now = now_secs();
        // A full address: dial it and ask for the card.
        if let Ok(addr) = target.parse::<Multiaddr>() {
            let peer = addr
                .iter()
                .find_map(|p| match p {
                    libp2p::multiaddr::Protocol::P2p(id) => Some(id),
                    _ => None,
                })
                .ok_or_else(|| NodeError::Invalid("the address must end with /p2p/<id>".into()))?;
            let (cert, name) = self.card(peer, vec![addr.clone()], now).await?;
            return Ok((cert, None, name, vec![addr.to_string()]));
        }
        // A LAN peer.
        if let Ok(peer) = target.parse::<PeerId>() {
            let known = self.call(move |c| Ok(c.lan_peer(&peer))).await?;
            let Some((addrs, card)) = known else {
                return Err(NodeError::NotFound(format!("no peer {peer} seen on the LAN")));
            };
            let (cert, name) = match card {
                Some(c) => c,
                None => self.card(peer, addrs.clone(), now).await?,
            };
            return Ok((cert, None, name, addrs.iter().map(|a| a.to_string()).collect()));
        }
        // A username on the relay.
        let relay = self.relay()?;
        let v = relay.user(target).await.map_err(|e| match e.code() {
            Some("not_found") => NodeError::NotFound(format!("no user {target:?} on the relay")),
            _ => e.into(),
        })?;
        let r = views::search_result_from_profile(&v, now)
            .ok_or_else(|| NodeError::Invalid("the relay sent an invalid profile".into()))?;
        let cert_b64 = v["devices"][0]["certificate"].as_str().unwrap_or_default();
        let cert = B64
            .decode(cert_b64)
            .ok()
            .and_then(|b| DeviceCertificate::verify(&b, now).ok())
            .ok_or_else(|| NodeError::Invalid("the relay sent an invalid certificate".into()))?;
        let checked = vec![r.clone()];
        self.call(move |c| c.note_usernames(&checked)).await?;
        Ok((cert, r.username, r.display_name, Vec::new()))
    }

    async fn card(
        &self,
        peer: PeerId,
        addrs: Vec<Multiaddr>,
        now: u64,
    ) -> NodeResult<(DeviceCertificate, String)> {
        let net = &self.inner.net;
        tokio::time::timeout(DIRECT_TIMEOUT, net.dial(peer, addrs))
            .await
            .map_err(|_| NodeError::Unreachable("timed out".into()))?
            .map_err(|e| NodeError::Unreachable(e.to_string()))?;
        let card = tokio::time::timeout(DIRECT_TIMEOUT, net.fetch_card(peer))
            .await
            .map_err(|_| NodeError::Unreachable("timed out".into()))?
            .map_err(|e| NodeError::Unreachable(e.to_string()))?;
        views::check_card(&card, peer, now)
            .ok_or_else(|| NodeError::Invalid("the peer's card does not match its identity".into()))
    }

    /// Accepts a friend request: creates the 1:1 conversation.
    pub async fn friend_accept(&self, who: &str) -> NodeResult<ContactView> {
        let who = who.to_owned();
        self.call(move |c| c.friend_accept(&who)).await
    }

    /// Declines a friend request.
    pub async fn friend_decline(&self, who: &str) -> NodeResult<ContactView> {
        let who = who.to_owned();
        self.call(move |c| c.friend_decline(&who)).await
    }

    /// Ends a friendship: the other side is told; the conversation closes.
    pub async fn friend_remove(&self, who: &str) -> NodeResult<ContactView> {
        let who = who.to_owned();
        self.call(move |c| c.friend_remove(&who)).await
    }

    /// Blocks an account (a contact, or an account key in hex): everything
    /// from it is dropped on arrival.
    pub async fn block(&self, who: &str) -> NodeResult<ContactView> {
        let who = who.to_owned();
        self.call(move |c| c.set_blocked(&who, true)).await
    }

    /// Unblocks an account.
    pub async fn unblock(&self, who: &str) -> NodeResult<ContactView> {
        let who = who.to_owned();
        self.call(move |c| c.set_blocked(&who, false)).await
    }

    /// Contacts: friends, requests both ways, blocked accounts.
    pub async fn contacts(&self) -> NodeResult<Vec<ContactView>> {
        self.call(|c| c.contacts()).await
    }

    /// Creates a group (G1) with this account as its admin.
    pub async fn group_create(
        &self,
        name: &str,
        description: &str,
        members_invite: bool,
    ) -> NodeResult<GroupView> {
        let (name, description) = (name.to_owned(), description.to_owned());
        self.call(move |c| c.group_create(&name, &description, members_invite)).await
    }

    /// Invites a friend into a group (G2); they accept or decline (G3).
    pub async fn group_invite(&self, group: &str, friend: &str) -> NodeResult<InvitationView> {
        let (group, friend) = (group.to_owned(), friend.to_owned());
        self.call(move |c| c.group_invite(&group, &friend)).await
    }

    /// Group invitations, sent and received, newest first.
    pub async fn group_invitations(&self) -> NodeResult<Vec<InvitationView>> {
        self.call(|c| c.group_invitations()).await
    }

    /// Accepts (joins through the Welcome that follows) or declines an
    /// invitation.
    pub async fn group_answer(&self, invitation: &str, accept: bool) -> NodeResult<InvitationView> {
        let invitation = invitation.to_owned();
        self.call(move |c| c.group_answer(&invitation, accept)).await
    }

    /// One group: name, members and roles as its MLS state has them.
    pub async fn group(&self, group: &str) -> NodeResult<GroupView> {
        let group = group.to_owned();
        self.call(move |c| c.group_info(&group)).await
    }

    /// Every group this device is or was in.
    pub async fn groups(&self) -> NodeResult<Vec<GroupView>> {
        self.call(|c| c.groups()).await
    }

    /// Commits a change to a group (rename, roles, remove, ban, delete…).
    pub async fn group_change(&self, group: &str, change: GroupChange) -> NodeResult<GroupView> {
        let group = group.to_owned();
        self.call(move |c| c.group_change(&group, change)).await
    }

    /// Leaves a group (G4): proposes our removal and forgets its keys.
    pub async fn group_leave(&self, group: &str) -> NodeResult<GroupView> {
        let group = group.to_owned();
        self.call(move |c| c.group_leave(&group)).await
    }

    /// Mutes (or unmutes) a member for ourselves only (G7).
    pub async fn group_mute(&self, group: &str, member: &str, on: bool) -> NodeResult<GroupView> {
        let (group, member) = (group.to_owned(), member.to_owned());
        self.call(move |c| c.group_mute(&group, &member, on)).await
    }

    /// Conversations, most recent first.
    pub async fn conversations(&self) -> NodeResult<Vec<ConversationView>> {
        self.call(|c| c.conversations()).await
    }

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

    /// Sends a file into a conversation (SPEC.md §7.7): seals it into the
    /// node's home (progress as `Event::File`… once recorded; sealing a
    /// large file takes a few seconds), reserves a relay copy if logged in
    /// (uploaded only if a recipient cannot be reached directly), and sends
    /// the message that announces it.
    pub async fn send_file(
        &self,
        to: &str,
        path: &std::path::Path,
        caption: &str,
        reply_to: Option<&str>,
    ) -> NodeResult<MessageView> {
        let name = crate::files::offer_name(path);
        let mime = crate::files::guess_mime(&name).to_owned();
        let how = Outgoing { name, mime, media: Media::None, source: Some(path.to_path_buf()) };
        let who = to.to_owned();
        let prep = self.call(move |c| c.file_prepare(&who)).await?;
        self.send_file_as(to, prep, path, how, caption, reply_to).await
    }

    /// Sends an image (SPEC.md §6.6): decoded under limits, turned upright,
    /// re-encoded from its pixels so no metadata (EXIF with GPS, XMP, IPTC,
    /// comments) leaves the device, with a thumbnail inline in the message;
    /// then sent like a file. A damaged image or a decompression bomb is a
    /// clear error (`NodeError::Invalid`) and nothing is sent.
    pub async fn send_image(
        &self,
        to: &str,
        path: &std::path::Path,
        caption: &str,
        reply_to: Option<&str>,
    ) -> NodeResult<MessageView> {
        let who = to.to_owned();
        let prep = self.call(move |c| c.file_prepare(&who)).await?;
        let src = path.to_path_buf();
        let image = tokio::task::spawn_blocking(move || {
            let len = std::fs::metadata(&src)?.len();
            if len > crate::media::MAX_IMAGE_FILE as u64 {
                return Ok(Err(crate::media::ImageError::TooLarge(format!(
                    "{len} bytes; images above {} bytes go as files",
                    crate::media::MAX_IMAGE_FILE
                ))));
            }
            std::fs::read(&src).map(|b| crate::media::prepare_image(&b))
        })
        .await
        .map_err(|e| NodeError::Local(crate::Error::Internal(e.to_string())))?
        .map_err(|e| NodeError::Invalid(format!("{}: {e}", path.display())))?
        .map_err(|e| NodeError::Invalid(format!("{}: {e}", path.display())))?;
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        let name = crate::files::offer_name(std::path::Path::new(&format!(
            "{}.{}",
            stem.as_deref().unwrap_or("image"),
            image.extension
        )));
        let how = Outgoing {
            name,
            mime: image.mime.to_owned(),
            media: Media::Image {
                width: image.width,
                height: image.height,
                thumbnail: image.thumbnail,
            },
            source: Some(path.to_path_buf()),
        };
        self.send_generated(to, prep, &image.bytes, how, caption, reply_to).await
    }

    /// Sends a voice note (SPEC.md §6.7): the source is encoded with Opus
    /// in an Ogg container on a blocking thread, its length and waveform go
    /// in the message, and the file is sent like any other.
    pub async fn send_voice(
        &self,
        to: &str,
        source: VoiceSource,
        caption: &str,
        reply_to: Option<&str>,
    ) -> NodeResult<MessageView> {
        let who = to.to_owned();
        let prep = self.call(move |c| c.file_prepare(&who)).await?;
        let (what, name) = match &source {
            VoiceSource::Wav(p) => (
                p.display().to_string(),
                p.file_stem().map_or("voice".into(), |s| s.to_string_lossy().into_owned()),
            ),
            VoiceSource::Tone { hz, ms } => (format!("a {hz} Hz tone of {ms} ms"), "tone".into()),
            VoiceSource::Samples(_) => ("the recording".into(), "voice".into()),
        };
        let source_path = match &source {
            VoiceSource::Wav(p) => Some(p.clone()),
            _ => None,
        };
        let note = tokio::task::spawn_blocking(move || {
            let samples = match source {
                VoiceSource::Wav(p) => {
                    let f = std::fs::File::open(&p)
                        .map_err(|e| crate::voice::VoiceError::Unsupported(e.to_string()))?;
                    crate::voice::read_wav(std::io::BufReader::new(f))?
                }
                VoiceSource::Tone { hz, ms } => crate::voice::tone(hz, ms as f32 / 1000.0),
                VoiceSource::Samples(s) => s,
            };
            crate::voice::encode(&samples)
        })
        .await
        .map_err(|e| NodeError::Local(crate::Error::Internal(e.to_string())))?
        .map_err(|e| NodeError::Invalid(format!("{what}: {e}")))?;
        let how = Outgoing {
            name: crate::files::offer_name(std::path::Path::new(&format!("{name}.ogg"))),
            mime: kovan_spec::validate::VOICE_MIME.to_owned(),
            media: Media::Voice { duration_ms: note.duration_ms, waveform: note.waveform },
            source: source_path,
        };
        self.send_generated(to, prep, &note.ogg, how, caption, reply_to).await
    }

    /// Sends bytes made on this device (a cleaned image, an encoded voice
    /// note): sealed from a private file in `files/out`, which is removed.
    async fn send_generated(
        &self,
        to: &str,
        prep: core::Preparing,
        bytes: &[u8],
        how: Outgoing,
        caption: &str,
        reply_to: Option<&str>,
    ) -> NodeResult<MessageView> {
        let mut tmp_id = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut tmp_id);
        let file = prep.out_dir.join(format!("{}.clean", hex::encode(tmp_id)));
        tokio::fs::write(&file, bytes)
            .await
            .map_err(|e| NodeError::Local(crate::Error::io("writing a file to send")(e)))?;
        let sent = self.send_file_as(to, prep, &file, how, caption, reply_to).await;
        let _ = tokio::fs::remove_file(&file).await;
        sent
    }

    /// Seals `path` and announces it as `how` says (`prep` from
    /// `file_prepare`, once per send).
    async fn send_file_as(
        &self,
        to: &str,
        prep: core::Preparing,
        path: &std::path::Path,
        how: Outgoing,
        caption: &str,
        reply_to: Option<&str>,
    ) -> NodeResult<MessageView> {
        let to = to.to_owned();
        let reply_to = reply_to.map(views::parse_message_id).transpose()?;
        let meta = tokio::fs::metadata(path)
            .await
            .map_err(|e| NodeError::Invalid(format!("{}: {e}", path.display())))?;
        if !meta.is_file() {
            return Err(NodeError::Invalid(format!("{} is not a file", path.display())));
        }
        if meta.len() > prep.max_size {
            return Err(NodeError::Invalid(format!(
                "the file is {} bytes; the limit is {} bytes",
                meta.len(),
                prep.max_size
            )));
        }
        let mut file_id = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut file_id);
        let key = kovan_crypto::file::FileKey::generate(&mut rand_core::OsRng);
        let ciphertext = prep.out_dir.join(format!("{}.sealed", hex::encode(file_id)));
        let (src, dst, k, max) =
            (path.to_path_buf(), ciphertext.clone(), key.clone(), prep.max_size);
        let sealed = tokio::task::spawn_blocking(move || {
            crate::files::seal_file(&src, &dst, &k, max, |_| {})
        })
        .await
        .map_err(|e| NodeError::Local(crate::Error::Internal(e.to_string())))?
        .map_err(|e| NodeError::Invalid(format!("{}: {e}", path.display())))?;
        let blob = match &prep.relay {
            Some((client, token)) => {
                match client.create_blob(token, kovan_crypto::file::sealed_len(sealed.size)).await {
                    Ok(info) => match hex::decode(&info.id).ok().and_then(|b| b.try_into().ok()) {
                        Some(id) => Ok((client.base().to_owned(), id)),
                        None => Err("the relay gave a malformed blob id".to_owned()),
                    },
                    Err(e) => Err(format!("no relay copy: {e}")),
                }
            }
            None => Err("no relay copy: not logged in to a relay".to_owned()),
        };
        let prepared = core::SealedFile {
            file_id,
            key,
            mime: how.mime,
            name: how.name,
            media: how.media,
            size: sealed.size,
            sha256: sealed.sha256,
            ciphertext,
            source: how.source.map(|p| p.to_string_lossy().into_owned()),
            blob,
        };
        let caption = caption.to_owned();
        self.call(move |c| c.file_send(&to, prepared, caption, reply_to)).await
    }

    /// Files sent and received, newest first, optionally of one conversation.
    pub async fn files(
        &self,
        conversation: Option<&str>,
        limit: usize,
    ) -> NodeResult<Vec<FileView>> {
        let conversation = conversation.map(str::to_owned);
        self.call(move |c| c.file_list(conversation.as_deref(), limit)).await
    }

    /// One file transfer.
    pub async fn file(&self, id: &str) -> NodeResult<FileView> {
        let id = views::parse_message_id(id)?;
        self.call(move |c| c.file_get(id)).await
    }

    /// Fetches a received file (one above the automatic limit, or again
    /// after a failure or cancel); watch `Event::File` for progress.
    pub async fn fetch_file(&self, id: &str) -> NodeResult<FileView> {
        let id = views::parse_message_id(id)?;
        self.call(move |c| c.file_fetch(id)).await
    }

    /// Cancels a transfer: a download stops and its partial bytes go; a
    /// sent file stops being served and its relay copy is deleted.
    pub async fn cancel_file(&self, id: &str) -> NodeResult<FileView> {
        let id = views::parse_message_id(id)?;
        self.call(move |c| c.file_cancel(id)).await
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

    /// Shares a location (SPEC.md §6.5): a fixed point, or with `live`
    /// the start of a live share that this node updates every
    /// `live.every` from its track (and from `location_update`) until it
    /// ends or `location_stop`.
    pub async fn share_location(
        &self,
        to: &str,
        point: kovan_spec::Point,
        label: &str,
        live: Option<LiveShare>,
    ) -> NodeResult<MessageView> {
        let (to, label) = (to.to_owned(), label.to_owned());
        self.call(move |c| c.share_location(&to, point, &label, live)).await
    }

    /// Queues a new position for one of your live shares (the location
    /// source: a GPS, a track, a point the user sets); it goes out at the
    /// share's next interval.
    pub async fn location_update(
        &self,
        conversation: &str,
        id: &str,
        point: kovan_spec::Point,
    ) -> NodeResult<MessageView> {
        let conversation = conversation.to_owned();
        let id = views::parse_message_id(id)?;
        self.call(move |c| c.location_update(&conversation, id, point)).await
    }

    /// Stops one of your live shares now, for everyone.
    pub async fn location_stop(&self, conversation: &str, id: &str) -> NodeResult<MessageView> {
        let conversation = conversation.to_owned();
        let id = views::parse_message_id(id)?;
        self.call(move |c| c.location_stop(&conversation, id)).await
    }

    /// Starts a poll in a conversation (SPEC.md §6.4): 2..=12 options,
    /// single or multiple choice.
    pub async fn poll_create(
        &self,
        to: &str,
        question: &str,
        options: Vec<String>,
        multiple: bool,
    ) -> NodeResult<MessageView> {
        let (to, question) = (to.to_owned(), question.to_owned());
        self.call(move |c| c.poll_create(&to, &question, options, multiple)).await
    }

    /// Votes in a poll (option indexes from 0; empty withdraws the vote).
    /// A later vote replaces this account's earlier one until the poll is
    /// closed. Returns the poll with its tally.
    pub async fn poll_vote(
        &self,
        conversation: &str,
        poll: &str,
        choices: Vec<u32>,
    ) -> NodeResult<MessageView> {
        let conversation = conversation.to_owned();
        let poll = views::parse_message_id(poll)?;
        self.call(move |c| c.poll_vote(&conversation, poll, choices)).await
    }

    /// Closes a poll you created: the tally is final for everyone.
    pub async fn poll_close(&self, conversation: &str, poll: &str) -> NodeResult<MessageView> {
        let conversation = conversation.to_owned();
        let poll = views::parse_message_id(poll)?;
        self.call(move |c| c.poll_close(&conversation, poll)).await
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
        self.call(move |c| c.delete(&conversation, target)).await
    }

    /// The safety number with a contact (60 digits, in groups of five).
    pub async fn safety_number(&self, who: &str) -> NodeResult<String> {
        let who = who.to_owned();
        self.call(move |c| c.safety_number(&who)).await
    }

    /// Marks a contact verified (after comparing safety numbers). With
    /// `digits`, they must match.
    pub async fn verify(&self, who: &str, digits: Option<&str>) -> NodeResult<ContactView> {
        let who = who.to_owned();
        let digits = digits.map(|d| d.chars().filter(char::is_ascii_digit).collect::<String>());
        self.call(move |c| c.verify(&who, digits)).await
    }

    /// Turns read receipts on or off.
    pub async fn set_read_receipts(&self, on: bool) -> NodeResult<()> {
        self.call(move |c| c.set_read_receipts(on)).await
    }

    /// Connects to a peer at a known address (the PeerId must be in it).
    pub async fn connect(&self, addr: &Multiaddr) -> NodeResult<()> {
        let peer = addr
            .iter()
            .find_map(|p| match p {
                libp2p::multiaddr::Protocol::P2p(id) => Some(id),
                _ => None,
            })
            .ok_or_else(|| NodeError::Invalid("the address must end with /p2p/<id>".into()))?;
        self.inner
            .net
            .dial(peer, vec![addr.clone()])
            .await
            .map_err(|e| NodeError::Unreachable(e.to_string()))
    }

    /// Envelopes waiting in the outbox.
    pub async fn outbox_len(&self) -> NodeResult<i64> {
        self.call(|c| c.outbox_len()).await
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
