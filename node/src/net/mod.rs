//! The node's libp2p networking.
//!
//! ```text
//!   NetHandle (cloneable) ──commands (bounded)──▶  event loop task (owns the Swarm)
//!        ▲                                              │
//!        └──── oneshot replies ◀────────────────────────┤
//!   NetEvent receiver ◀──events (bounded)───────────────┘
//! ```
//!
//! One task owns the `Swarm` ([`run`]); everything else holds a [`NetHandle`]
//! whose methods send a command with a `oneshot` for the reply. Outbound
//! requests waiting for an answer are kept in a map keyed by libp2p's request
//! id. Inbound envelopes go to the application as [`NetEvent::Envelope`]; the
//! application answers with [`NetHandle::respond`] after it has stored the
//! envelope durably (SPEC.md §7.2). If the application's queue is full, the
//! event loop answers `RETRY` itself: a remote peer can never grow our memory.
//!
//! Behaviours: TCP and QUIC with Noise and Yamux, identify, ping, the
//! `/kovan/envelope/1` request-response protocol, mDNS (optional), the
//! circuit-relay client with DCUtR for peers behind NAT, and keeping
//! friends' connections open ([`keep`]: presence is what they show).

pub mod codec;
mod keep;

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use kovan_spec::wire;
use libp2p::identity::Keypair;
use libp2p::kad::{self, store::MemoryStore};
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport, ResponseChannel};
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{ConnectionId, NetworkBehaviour, SwarmEvent};
use libp2p::{
    Multiaddr, PeerId, StreamProtocol, Swarm, allow_block_list, autonat, connection_limits, dcutr,
    identify, mdns, memory_connection_limits, noise, ping, relay, tcp, yamux,
};
use tokio::sync::{mpsc, oneshot};

pub use codec::{CardCodec, EnvelopeCodec};

/// Commands queued to the event loop.
pub const COMMAND_QUEUE: usize = 64;
/// Events queued to the application. Beyond this, inbound envelopes are
/// answered `RETRY` by the event loop.
pub const EVENT_QUEUE: usize = 256;
/// How long a peer has to answer a delivery.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The identify protocol version.
pub const IDENTIFY_PROTOCOL: &str = "/kovan/id/1.0.0";
/// kovan's Kademlia protocol (the relay serves the same one).
pub const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/kovan/kad/1.0.0");
/// Established connections in all.
pub const MAX_ESTABLISHED: u32 = 512;
/// Connections being set up.
pub const MAX_PENDING: u32 = 64;
/// Established connections per peer.
pub const MAX_PER_PEER: u32 = 4;
/// New connections are refused above this share of the machine's memory.
pub const MAX_MEMORY_PERCENTAGE: f64 = 0.9;

/// Networking settings.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Listen addresses.
    pub listen: Vec<Multiaddr>,
    /// Discover peers on the LAN.
    pub mdns: bool,
    /// The card this node hands to peers that ask (SPEC.md §7.3).
    pub card: wire::ContactCard,
}

/// Why a network operation failed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetError {
    /// The peer could not be reached (or was not the expected peer).
    #[error("peer unreachable: {0}")]
    Unreachable(String),
    /// The peer did not answer in time.
    #[error("peer did not answer in time")]
    Timeout,
    /// The network task has stopped.
    #[error("network stopped")]
    Stopped,
    /// Invalid input (e.g. an address).
    #[error("{0}")]
    Invalid(String),
    /// No direct (non-relayed) connection to the peer: a direct-only
    /// conversation's payload waits (SPEC.md §7.8).
    #[error("waiting for a direct connection")]
    NoDirectPath,
}

/// An inbound request awaiting the application's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InboundId(u64);

/// What the network tells the application.
#[derive(Debug)]
#[non_exhaustive]
pub enum NetEvent {
    /// Listening on a new address.
    Listening(Multiaddr),
    /// A peer was found on the LAN.
    Discovered {
        /// The peer.
        peer: PeerId,
        /// Its addresses.
        addrs: Vec<Multiaddr>,
    },
    /// A peer connected.
    Connected(PeerId),
    /// A peer's last connection closed.
    Disconnected(PeerId),
    /// A connected peer told us the addresses it listens on.
    Identified {
        /// The peer.
        peer: PeerId,
        /// Its listen addresses.
        addrs: Vec<Multiaddr>,
    },
    /// The relay accepted a circuit reservation: peers can reach us through it.
    Reachable(Multiaddr),
    /// Sealed envelopes arrived (1..=64, oldest first); answer with
    /// [`NetHandle::respond`], one status each.
    Envelope {
        /// The request to answer.
        id: InboundId,
        /// The sending peer (authenticated by Noise).
        from: PeerId,
        /// The encoded `SealedEnvelope`s.
        envelopes: Vec<Vec<u8>>,
        /// They came over a connection relayed by a relay's circuit.
        relayed: bool,
    },
    /// A direct (non-relayed) connection to a peer opened: what waits for
    /// a direct path (SPEC.md §7.8) can go.
    DirectPath(PeerId),
}

enum Command {
    Dial {
        peer: PeerId,
        addrs: Vec<Multiaddr>,
        reply: oneshot::Sender<Result<(), NetError>>,
    },
    Send {
        peer: PeerId,
        envelopes: Vec<Vec<u8>>,
        /// Only over a direct connection (relayed ones are closed first).
        direct_only: bool,
        reply: oneshot::Sender<Result<Vec<wire::AckStatus>, NetError>>,
    },
    Respond {
        id: InboundId,
        statuses: Vec<wire::AckStatus>,
    },
    Listening {
        reply: oneshot::Sender<Vec<Multiaddr>>,
    },
    FetchCard {
        peer: PeerId,
        reply: oneshot::Sender<Result<wire::ContactCard, NetError>>,
    },
    Connected {
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    UseRelay {
        peer: PeerId,
        addrs: Vec<Multiaddr>,
    },
    FindPeer {
        peer: PeerId,
        reply: oneshot::Sender<Vec<Multiaddr>>,
    },
    SetCard(wire::ContactCard),
    KeepAlive(std::collections::HashSet<PeerId>),
    Block {
        peer: PeerId,
        blocked: bool,
    },
    /// Answers once every connection to `peer` is direct (relayed ones are
    /// closed), or fails when none is.
    EnsureDirect {
        peer: PeerId,
        reply: oneshot::Sender<Result<(), NetError>>,
    },
    Shutdown,
}

/// What this node tells other libp2p peers it runs (identify).
pub const AGENT_VERSION: &str = concat!("kovan/", env!("CARGO_PKG_VERSION"));

/// The file-transfer protocol (SPEC.md §7.7.3): a raw stream per fetch.
pub const FILE_PROTOCOL: StreamProtocol = StreamProtocol::new("/kovan/file/1");
/// Leave-no-trace chats (SPEC.md §7.8.1): one stream per chat.
pub const NOTRACE_PROTOCOL: StreamProtocol = StreamProtocol::new("/kovan/notrace/1");

/// A cheap, cloneable handle to the network task.
#[derive(Clone)]
pub struct NetHandle {
    commands: mpsc::Sender<Command>,
    local: PeerId,
    streams: libp2p_stream::Control,
}

impl std::fmt::Debug for NetHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetHandle").field("local", &self.local).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Dial { .. } => "Dial",
            Command::Send { .. } => "Send",
            Command::Respond { .. } => "Respond",
            Command::Listening { .. } => "Listening",
            Command::FetchCard { .. } => "FetchCard",
            Command::Connected { .. } => "Connected",
            Command::UseRelay { .. } => "UseRelay",
            Command::FindPeer { .. } => "FindPeer",
            Command::SetCard(_) => "SetCard",
            Command::KeepAlive(_) => "KeepAlive",
            Command::Block { .. } => "Block",
            Command::EnsureDirect { .. } => "EnsureDirect",
            Command::Shutdown => "Shutdown",
        })
    }
}

impl NetHandle {
    /// This node's PeerId.
    pub fn peer_id(&self) -> PeerId {
        self.local
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, NetError> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(make(tx)).await.map_err(|_| NetError::Stopped)?;
        rx.await.map_err(|_| NetError::Stopped)
    }

    /// Connects to `peer` at `addrs`. The connection only counts if the
    /// remote proves it is `peer` (Noise); a different peer at the address
    /// is refused.
    pub async fn dial(&self, peer: PeerId, addrs: Vec<Multiaddr>) -> Result<(), NetError> {
        self.call(|reply| Command::Dial { peer, addrs, reply }).await?
    }

    /// Hands a sealed envelope to `peer` and waits for its acknowledgement.
    pub async fn send_envelope(
        &self,
        peer: PeerId,
        envelope: Vec<u8>,
    ) -> Result<wire::AckStatus, NetError> {
        let statuses = self.send_envelopes(peer, vec![envelope]).await?;
        Ok(statuses.first().copied().unwrap_or(wire::AckStatus::Retry))
    }

    /// Hands up to [`MAX_DIRECT_BATCH`](kovan_spec::limits::MAX_DIRECT_BATCH)
    /// envelopes, oldest first, to `peer` in one request; returns one
    /// status per envelope (a missing status counts as `RETRY`).
    pub async fn send_envelopes(
        &self,
        peer: PeerId,
        envelopes: Vec<Vec<u8>>,
    ) -> Result<Vec<wire::AckStatus>, NetError> {
        self.send_batch(peer, envelopes, false).await
    }

    /// Like [`Self::send_envelopes`], but only over a direct connection: a
    /// relayed one to `peer` is closed first, and with none but relayed
    /// ones it fails with [`NetError::NoDirectPath`] (SPEC.md §7.8).
    pub async fn send_envelopes_direct(
        &self,
        peer: PeerId,
        envelopes: Vec<Vec<u8>>,
    ) -> Result<Vec<wire::AckStatus>, NetError> {
        self.send_batch(peer, envelopes, true).await
    }

    async fn send_batch(
        &self,
        peer: PeerId,
        envelopes: Vec<Vec<u8>>,
        direct_only: bool,
    ) -> Result<Vec<wire::AckStatus>, NetError> {
        let total: usize = envelopes.iter().map(Vec::len).sum();
        if envelopes.is_empty()
            || envelopes.len() > kovan_spec::limits::MAX_DIRECT_BATCH
            || total + 16 * envelopes.len() > kovan_spec::limits::MAX_DIRECT_DELIVERY
        {
            return Err(NetError::Invalid("envelope batch empty or too large".into()));
        }
        let n = envelopes.len();
        let mut statuses =
            self.call(|reply| Command::Send { peer, envelopes, direct_only, reply }).await??;
        statuses.resize(n, wire::AckStatus::Retry);
        Ok(statuses)
    }

    /// Answers an inbound request, one status per envelope.
    pub async fn respond(
        &self,
        id: InboundId,
        statuses: Vec<wire::AckStatus>,
    ) -> Result<(), NetError> {
        self.commands.send(Command::Respond { id, statuses }).await.map_err(|_| NetError::Stopped)
    }

    /// The current listen addresses.
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, NetError> {
        self.call(|reply| Command::Listening { reply }).await
    }

    /// Asks a peer for its contact card (SPEC.md §7.3). The caller checks
    /// that the certificate belongs to `peer`.
    pub async fn fetch_card(&self, peer: PeerId) -> Result<wire::ContactCard, NetError> {
        self.call(|reply| Command::FetchCard { peer, reply }).await?
    }

    /// The peers we are connected to.
    pub async fn connected(&self) -> Result<Vec<PeerId>, NetError> {
        self.call(|reply| Command::Connected { reply }).await
    }

    /// Connects to a relay, listens through it (a circuit reservation, so
    /// peers behind NAT can reach us) and bootstraps Kademlia from it.
    pub async fn use_relay(&self, peer: PeerId, addrs: Vec<Multiaddr>) -> Result<(), NetError> {
        self.commands.send(Command::UseRelay { peer, addrs }).await.map_err(|_| NetError::Stopped)
    }

    /// Looks a peer's addresses up in the DHT (best effort: empty if no
    /// DHT node knows it).
    pub async fn find_peer(&self, peer: PeerId) -> Result<Vec<Multiaddr>, NetError> {
        self.call(|reply| Command::FindPeer { peer, reply }).await
    }

    /// Replaces the card served to LAN peers.
    pub async fn set_card(&self, card: wire::ContactCard) -> Result<(), NetError> {
        self.commands.send(Command::SetCard(card)).await.map_err(|_| NetError::Stopped)
    }

    /// Refuses (or again allows) connections with `peer`: a blocked peer's
    /// open connections are closed and new ones, both ways, are denied, so
    /// it never sees this device online (S5).
    pub async fn set_blocked(&self, peer: PeerId, blocked: bool) -> Result<(), NetError> {
        self.commands.send(Command::Block { peer, blocked }).await.map_err(|_| NetError::Stopped)
    }

    /// Connections to these peers (friends' devices) stay open while both
    /// sides run; the others close when idle. Never waits: `false` when
    /// the command queue is full (call again later) or the task stopped.
    pub fn keep_alive(&self, peers: std::collections::HashSet<PeerId>) -> bool {
        self.commands.try_send(Command::KeepAlive(peers)).is_ok()
    }

    /// Waits until every connection to `peer` is direct: relayed ones are
    /// closed; fails with [`NetError::NoDirectPath`] when none is direct.
    /// What must not cross a relay (SPEC.md §7.8) opens its stream then.
    pub async fn ensure_direct(&self, peer: PeerId) -> Result<(), NetError> {
        self.call(|reply| Command::EnsureDirect { peer, reply }).await?
    }

    /// Opens a `/kovan/file/1` stream to `peer`, which must be connected
    /// (dial it with its expected PeerId first, [`Self::dial`]).
    pub async fn open_file_stream(&self, peer: PeerId) -> Result<libp2p::Stream, NetError> {
        self.open_stream(peer, FILE_PROTOCOL).await
    }

    async fn open_stream(
        &self,
        peer: PeerId,
        protocol: StreamProtocol,
    ) -> Result<libp2p::Stream, NetError> {
        let mut control = self.streams.clone();
        control.open_stream(peer, protocol).await.map_err(|e| NetError::Unreachable(e.to_string()))
    }

    fn incoming(
        &self,
        protocol: StreamProtocol,
    ) -> Result<libp2p_stream::IncomingStreams, NetError> {
        let mut control = self.streams.clone();
        let name = protocol.to_string();
        control
            .accept(protocol)
            .map_err(|_| NetError::Invalid(format!("{name} streams are already being accepted")))
    }

    /// Inbound `/kovan/file/1` streams; only one taker.
    pub fn incoming_file_streams(&self) -> Result<libp2p_stream::IncomingStreams, NetError> {
        self.incoming(FILE_PROTOCOL)
    }

    /// Opens a `/kovan/notrace/1` stream to `peer` over a direct
    /// connection (relayed ones are closed first; none direct: an error).
    pub async fn open_notrace_stream(&self, peer: PeerId) -> Result<libp2p::Stream, NetError> {
        self.ensure_direct(peer).await?;
        self.open_stream(peer, NOTRACE_PROTOCOL).await
    }

    /// Inbound `/kovan/notrace/1` streams; only one taker.
    pub fn incoming_notrace_streams(&self) -> Result<libp2p_stream::IncomingStreams, NetError> {
        self.incoming(NOTRACE_PROTOCOL)
    }

    /// Stops the network task.
    pub async fn shutdown(&self) {
        let _ = self.commands.send(Command::Shutdown).await;
    }
}

pub use behaviour::{NodeBehaviour, NodeBehaviourEvent};

mod behaviour {
    #![allow(missing_docs)]
    use super::*;

    /// The node's behaviours.
    #[derive(NetworkBehaviour)]
    pub struct NodeBehaviour {
        pub blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
        pub limits: connection_limits::Behaviour,
        pub memory: memory_connection_limits::Behaviour,
        pub envelope: request_response::Behaviour<EnvelopeCodec>,
        pub card: request_response::Behaviour<CardCodec>,
        pub kad: kad::Behaviour<MemoryStore>,
        pub autonat: autonat::v2::client::Behaviour,
        pub identify: identify::Behaviour,
        pub ping: ping::Behaviour,
        pub mdns: Toggle<mdns::tokio::Behaviour>,
        pub relay: relay::client::Behaviour,
        pub dcutr: dcutr::Behaviour,
        pub stream: libp2p_stream::Behaviour,
        pub keep: super::keep::Behaviour,
    }
}

/// Starts the network with the device's libp2p key. Returns the handle and
/// the event stream; the task runs until [`NetHandle::shutdown`] or until
/// every handle is dropped.
pub fn start(
    key: Keypair,
    config: NetConfig,
) -> Result<(NetHandle, mpsc::Receiver<NetEvent>), NetError> {
    let local = key.public().to_peer_id();
    let err = |e: &dyn std::fmt::Display| NetError::Invalid(e.to_string());
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .map_err(|e| err(&e))?
        .with_quic()
        .with_relay_client(noise::Config::new, yamux::Config::default)
        .map_err(|e| err(&e))?
        .with_behaviour(|key, relay| {
            let peer = key.public().to_peer_id();
            let mdns = if config.mdns {
                mdns::tokio::Behaviour::new(mdns::Config::default(), peer).ok()
            } else {
                None
            };
            let mut kad = kad::Behaviour::with_config(
                peer,
                MemoryStore::new(peer),
                kad::Config::new(KAD_PROTOCOL),
            );
            // Client until AutoNAT confirms a public address.
            kad.set_mode(None);
            NodeBehaviour {
                blocked: allow_block_list::Behaviour::default(),
                limits: connection_limits::Behaviour::new(
                    connection_limits::ConnectionLimits::default()
                        .with_max_established(Some(MAX_ESTABLISHED))
                        .with_max_pending_incoming(Some(MAX_PENDING))
                        .with_max_pending_outgoing(Some(MAX_PENDING))
                        .with_max_established_per_peer(Some(MAX_PER_PEER)),
                ),
                memory: memory_connection_limits::Behaviour::with_max_percentage(
                    MAX_MEMORY_PERCENTAGE,
                ),
                envelope: request_response::Behaviour::new(
                    [(codec::PROTOCOL, ProtocolSupport::Full)],
                    request_response::Config::default().with_request_timeout(REQUEST_TIMEOUT),
                ),
                card: request_response::Behaviour::new(
                    [(codec::CARD_PROTOCOL, ProtocolSupport::Full)],
                    request_response::Config::default()
                        .with_request_timeout(Duration::from_secs(10)),
                ),
                kad,
                autonat: autonat::v2::client::Behaviour::default(),
                identify: identify::Behaviour::new(
                    identify::Config::new(IDENTIFY_PROTOCOL.into(), key.public())
                        .with_agent_version(AGENT_VERSION.into()),
                ),
                ping: ping::Behaviour::default(),
                mdns: Toggle::from(mdns),
                relay,
                dcutr: dcutr::Behaviour::new(peer),
                stream: libp2p_stream::Behaviour::new(),
                keep: keep::Behaviour::default(),
            }
        })
        .map_err(|e| err(&e))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    for addr in &config.listen {
        swarm.listen_on(addr.clone()).map_err(|e| err(&e))?;
    }
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
    let (ev_tx, ev_rx) = mpsc::channel(EVENT_QUEUE);
    let streams = swarm.behaviour().stream.new_control();
    tokio::spawn(run(swarm, cmd_rx, ev_tx, config.card));
    Ok((NetHandle { commands: cmd_tx, local, streams }, ev_rx))
}

struct Loop {
    swarm: Swarm<NodeBehaviour>,
    events: mpsc::Sender<NetEvent>,
    pending_sends:
        HashMap<OutboundRequestId, oneshot::Sender<Result<Vec<wire::AckStatus>, NetError>>>,
    pending_dials: HashMap<PeerId, Vec<oneshot::Sender<Result<(), NetError>>>>,
    inbound: HashMap<InboundId, ResponseChannel<wire::DirectAck>>,
    next_inbound: u64,
    pending_cards: HashMap<OutboundRequestId, oneshot::Sender<Result<wire::ContactCard, NetError>>>,
    pending_finds: HashMap<kad::QueryId, (PeerId, oneshot::Sender<Vec<Multiaddr>>)>,
    card: wire::ContactCard,
    relays: Vec<PeerId>,
    /// Open connections per peer, and whether each is relayed.
    connections: HashMap<PeerId, Vec<(ConnectionId, bool)>>,
    /// Direct-only sends waiting for a peer's relayed connections to close.
    direct_sends: HashMap<PeerId, Vec<DirectSend>>,
}

/// What waits for a peer's relayed connections to close.
enum DirectSend {
    /// A direct-only batch and where its answer goes.
    Envelopes(Vec<Vec<u8>>, oneshot::Sender<Result<Vec<wire::AckStatus>, NetError>>),
    /// Someone about to open a stream that must not be relayed.
    Ready(oneshot::Sender<Result<(), NetError>>),
}

impl DirectSend {
    /// Answers that no direct connection exists.
    fn fail(self) {
        match self {
            DirectSend::Envelopes(_, reply) => {
                let _ = reply.send(Err(NetError::NoDirectPath));
            }
            DirectSend::Ready(reply) => {
                let _ = reply.send(Err(NetError::NoDirectPath));
            }
        }
    }
}

/// The event loop: the only code that touches the `Swarm`.
async fn run(
    swarm: Swarm<NodeBehaviour>,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<NetEvent>,
    card: wire::ContactCard,
) {
    let mut l = Loop {
        swarm,
        events,
        pending_sends: HashMap::new(),
        pending_dials: HashMap::new(),
        inbound: HashMap::new(),
        next_inbound: 0,
        pending_cards: HashMap::new(),
        pending_finds: HashMap::new(),
        card,
        relays: Vec::new(),
        connections: HashMap::new(),
        direct_sends: HashMap::new(),
    };
    loop {
        tokio::select! {
            biased;
            cmd = commands.recv() => match cmd {
                None | Some(Command::Shutdown) => break,
                Some(cmd) => l.command(cmd),
            },
            ev = l.swarm.select_next_some() => l.swarm_event(ev),
        }
    }
    tracing::debug!("network task stopped");
}

fn ack(statuses: &[wire::AckStatus]) -> wire::DirectAck {
    wire::DirectAck { statuses: statuses.iter().map(|s| *s as i32).collect() }
}

impl Loop {
    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Dial { peer, addrs, reply } => {
                if self.swarm.is_connected(&peer) {
                    let _ = reply.send(Ok(()));
                    return;
                }
                let opts = DialOpts::peer_id(peer).addresses(addrs).build();
                match self.swarm.dial(opts) {
                    Ok(()) => self.pending_dials.entry(peer).or_default().push(reply),
                    // A dial to it is under way already (ours or a
                    // behaviour's): its outcome answers this one too.
                    Err(libp2p::swarm::DialError::DialPeerConditionFalse(_)) => {
                        self.pending_dials.entry(peer).or_default().push(reply)
                    }
                    Err(e) => {
                        let _ = reply.send(Err(NetError::Unreachable(e.to_string())));
                    }
                }
            }
            Command::Send { peer, envelopes, direct_only: false, reply } => {
                let id = self
                    .swarm
                    .behaviour_mut()
                    .envelope
                    .send_request(&peer, wire::DirectDelivery { envelopes });
                self.pending_sends.insert(id, reply);
            }
            Command::Send { peer, envelopes, direct_only: true, reply } => {
                self.when_direct(peer, DirectSend::Envelopes(envelopes, reply));
            }
            Command::Respond { id, statuses } => {
                if let Some(ch) = self.inbound.remove(&id) {
                    let _ = self.swarm.behaviour_mut().envelope.send_response(ch, ack(&statuses));
                }
            }
            Command::Listening { reply } => {
                let _ = reply.send(self.swarm.listeners().cloned().collect());
            }
            Command::FetchCard { peer, reply } => {
                let id = self.swarm.behaviour_mut().card.send_request(&peer, wire::CardRequest {});
                self.pending_cards.insert(id, reply);
            }
            Command::Connected { reply } => {
                let _ = reply.send(self.swarm.connected_peers().copied().collect());
            }
            Command::UseRelay { peer, addrs } => {
                if self.relays.contains(&peer) {
                    return;
                }
                self.relays.push(peer);
                let addrs: Vec<Multiaddr> = addrs.iter().map(without_p2p).collect();
                for addr in &addrs {
                    self.swarm.behaviour_mut().kad.add_address(&peer, addr.clone());
                }
                // Listening through the relay dials it (dialing it here too
                // would race that dial and close the listener). One circuit
                // listener is enough; TCP first.
                if let Some(addr) = addrs
                    .iter()
                    .find(|a| a.iter().any(|p| matches!(p, Protocol::Tcp(_))))
                    .or(addrs.first())
                {
                    let circuit = addr.clone().with(Protocol::P2p(peer)).with(Protocol::P2pCircuit);
                    if let Err(e) = self.swarm.listen_on(circuit) {
                        tracing::warn!(error = %e, "cannot listen through the relay");
                    }
                }
            }
            Command::FindPeer { peer, reply } => {
                let id = self.swarm.behaviour_mut().kad.get_closest_peers(peer);
                self.pending_finds.insert(id, (peer, reply));
            }
            Command::SetCard(card) => self.card = card,
            Command::KeepAlive(peers) => self.swarm.behaviour_mut().keep.set(peers),
            Command::EnsureDirect { peer, reply } => {
                self.when_direct(peer, DirectSend::Ready(reply));
            }
            Command::Block { peer, blocked: true } => {
                self.swarm.behaviour_mut().blocked.block_peer(peer);
            }
            Command::Block { peer, blocked: false } => {
                self.swarm.behaviour_mut().blocked.unblock_peer(peer);
            }
            Command::Shutdown => {}
        }
    }

    fn emit(&mut self, ev: NetEvent) {
        if let Err(e) = self.events.try_send(ev) {
            tracing::debug!(error = %e, "application queue full; event dropped");
        }
    }

    /// Runs `waiter` once every connection to `peer` is direct: now, or
    /// after closing the relayed ones (`send_waiting_direct` runs it when
    /// the last has closed); fails it when no connection is direct.
    fn when_direct(&mut self, peer: PeerId, waiter: DirectSend) {
        let conns = self.connections.get(&peer).cloned().unwrap_or_default();
        if !conns.iter().any(|(_, relayed)| !relayed) {
            return waiter.fail();
        }
        let relayed: Vec<ConnectionId> =
            conns.iter().filter(|(_, r)| *r).map(|(id, _)| *id).collect();
        if relayed.is_empty() {
            return self.run_direct(peer, waiter);
        }
        // Closed first: a request could otherwise leave on one of them.
        for id in relayed {
            self.swarm.close_connection(id);
        }
        self.direct_sends.entry(peer).or_default().push(waiter);
    }

    fn run_direct(&mut self, peer: PeerId, waiter: DirectSend) {
        match waiter {
            DirectSend::Envelopes(envelopes, reply) => {
                let id = self
                    .swarm
                    .behaviour_mut()
                    .envelope
                    .send_request(&peer, wire::DirectDelivery { envelopes });
                self.pending_sends.insert(id, reply);
            }
            DirectSend::Ready(reply) => {
                let _ = reply.send(Ok(()));
            }
        }
    }

    /// Runs what waits for `peer` once none of its connections is relayed
    /// (or fails it when no direct one is left).
    fn send_waiting_direct(&mut self, peer: PeerId) {
        let conns = self.connections.get(&peer).cloned().unwrap_or_default();
        if conns.iter().any(|(_, relayed)| *relayed) {
            return;
        }
        let Some(waiting) = self.direct_sends.remove(&peer) else { return };
        for w in waiting {
            if conns.is_empty() {
                w.fail();
            } else {
                self.run_direct(peer, w);
            }
        }
    }

    fn swarm_event(&mut self, ev: SwarmEvent<NodeBehaviourEvent>) {
        match ev {
            SwarmEvent::NewListenAddr { address, .. } => self.emit(NetEvent::Listening(address)),
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                num_established,
                ..
            } => {
                let relayed = endpoint.is_relayed();
                self.connections.entry(peer_id).or_default().push((connection_id, relayed));
                for reply in self.pending_dials.remove(&peer_id).unwrap_or_default() {
                    let _ = reply.send(Ok(()));
                }
                if num_established.get() == 1 {
                    self.emit(NetEvent::Connected(peer_id));
                }
                if !relayed {
                    self.emit(NetEvent::DirectPath(peer_id));
                }
            }
            SwarmEvent::ConnectionClosed { peer_id, connection_id, num_established, .. } => {
                if let Some(list) = self.connections.get_mut(&peer_id) {
                    list.retain(|(id, _)| *id != connection_id);
                    if list.is_empty() {
                        self.connections.remove(&peer_id);
                    }
                }
                self.send_waiting_direct(peer_id);
                if num_established == 0 {
                    self.emit(NetEvent::Disconnected(peer_id));
                }
            }
            SwarmEvent::OutgoingConnectionError { peer_id: Some(peer), error, .. } => {
                for reply in self.pending_dials.remove(&peer).unwrap_or_default() {
                    let _ = reply.send(Err(NetError::Unreachable(error.to_string())));
                }
            }
            SwarmEvent::Behaviour(NodeBehaviourEvent::Envelope(ev)) => self.envelope_event(ev),
            SwarmEvent::Behaviour(NodeBehaviourEvent::Card(ev)) => self.card_event(ev),
            SwarmEvent::Behaviour(NodeBehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => {
                if self.relays.contains(&peer_id) {
                    for addr in &info.listen_addrs {
                        self.swarm.behaviour_mut().kad.add_address(&peer_id, addr.clone());
                    }
                }
                let addrs: Vec<Multiaddr> =
                    info.listen_addrs.into_iter().take(16).filter(|a| !is_circuit(a)).collect();
                self.emit(NetEvent::Identified { peer: peer_id, addrs });
            }
            SwarmEvent::Behaviour(NodeBehaviourEvent::Relay(
                relay::client::Event::ReservationReqAccepted { relay_peer_id, .. },
            )) => {
                // Connected to the relay: bootstrap the DHT from it.
                let _ = self.swarm.behaviour_mut().kad.bootstrap();
                let addrs: Vec<Multiaddr> = self
                    .swarm
                    .listeners()
                    .filter(|a| {
                        is_circuit(a) && a.iter().any(|p| p == Protocol::P2p(relay_peer_id))
                    })
                    .cloned()
                    .collect();
                for a in addrs {
                    self.emit(NetEvent::Reachable(a));
                }
            }
            SwarmEvent::Behaviour(NodeBehaviourEvent::Kad(
                kad::Event::OutboundQueryProgressed {
                    id,
                    result: kad::QueryResult::GetClosestPeers(result),
                    step,
                    ..
                },
            )) => {
                let peers = match result {
                    Ok(ok) => ok.peers,
                    Err(kad::GetClosestPeersError::Timeout { peers, .. }) => peers,
                };
                if let Some((want, _)) = self.pending_finds.get(&id) {
                    let found: Vec<Multiaddr> = peers
                        .into_iter()
                        .filter(|p| p.peer_id == *want)
                        .flat_map(|p| p.addrs)
                        .collect();
                    if (!found.is_empty() || step.last)
                        && let Some((_, reply)) = self.pending_finds.remove(&id)
                    {
                        let _ = reply.send(found);
                    }
                }
            }
            SwarmEvent::Behaviour(NodeBehaviourEvent::Mdns(mdns::Event::Discovered(list))) => {
                let mut by_peer: HashMap<PeerId, Vec<Multiaddr>> = HashMap::new();
                for (peer, addr) in list {
                    by_peer.entry(peer).or_default().push(addr);
                }
                for (peer, addrs) in by_peer {
                    self.emit(NetEvent::Discovered { peer, addrs });
                }
            }
            _ => {}
        }
    }

    fn card_event(&mut self, ev: request_response::Event<wire::CardRequest, wire::ContactCard>) {
        match ev {
            request_response::Event::Message { message, .. } => match message {
                request_response::Message::Request { channel, .. } => {
                    let card = self.card.clone();
                    let _ = self.swarm.behaviour_mut().card.send_response(channel, card);
                }
                request_response::Message::Response { request_id, response } => {
                    if let Some(reply) = self.pending_cards.remove(&request_id) {
                        let _ = reply.send(Ok(response));
                    }
                }
            },
            request_response::Event::OutboundFailure { request_id, error, .. } => {
                if let Some(reply) = self.pending_cards.remove(&request_id) {
                    let _ = reply.send(Err(NetError::Unreachable(error.to_string())));
                }
            }
            _ => {}
        }
    }

    fn envelope_event(
        &mut self,
        ev: request_response::Event<wire::DirectDelivery, wire::DirectAck>,
    ) {
        match ev {
            request_response::Event::Message { peer, message, connection_id } => match message {
                request_response::Message::Request { request, channel, .. } => {
                    let n = request.envelopes.len();
                    if n == 0 || n > kovan_spec::limits::MAX_DIRECT_BATCH {
                        let refused = vec![wire::AckStatus::Rejected; n.max(1)];
                        let _ = self
                            .swarm
                            .behaviour_mut()
                            .envelope
                            .send_response(channel, ack(&refused));
                        return;
                    }
                    let id = InboundId(self.next_inbound);
                    self.next_inbound += 1;
                    let relayed = self
                        .connections
                        .get(&peer)
                        .and_then(|l| l.iter().find(|(c, _)| *c == connection_id))
                        .is_none_or(|(_, r)| *r);
                    let ev = NetEvent::Envelope {
                        id,
                        from: peer,
                        envelopes: request.envelopes,
                        relayed,
                    };
                    match self.events.try_send(ev) {
                        Ok(()) => {
                            self.inbound.insert(id, channel);
                        }
                        Err(_) => {
                            // Back-pressure: the sender retries later or uses the mailbox.
                            let _ = self
                                .swarm
                                .behaviour_mut()
                                .envelope
                                .send_response(channel, ack(&vec![wire::AckStatus::Retry; n]));
                        }
                    }
                }
                request_response::Message::Response { request_id, response } => {
                    if let Some(reply) = self.pending_sends.remove(&request_id) {
                        let statuses = response
                            .statuses
                            .iter()
                            .map(|s| {
                                wire::AckStatus::try_from(*s).unwrap_or(wire::AckStatus::Retry)
                            })
                            .collect();
                        let _ = reply.send(Ok(statuses));
                    }
                }
            },
            request_response::Event::OutboundFailure { request_id, error, .. } => {
                if let Some(reply) = self.pending_sends.remove(&request_id) {
                    let e = match error {
                        request_response::OutboundFailure::Timeout => NetError::Timeout,
                        other => NetError::Unreachable(other.to_string()),
                    };
                    let _ = reply.send(Err(e));
                }
            }
            request_response::Event::InboundFailure { .. }
            | request_response::Event::ResponseSent { .. } => {}
        }
    }
}

/// Whether an address is on the loopback interface (reachable from this
/// machine only).
pub fn is_loopback(addr: &Multiaddr) -> bool {
    addr.iter().any(|p| match p {
        Protocol::Ip4(ip) => ip.is_loopback(),
        Protocol::Ip6(ip) => ip.is_loopback(),
        _ => false,
    })
}

/// Whether an address goes through a relay circuit.
pub fn is_circuit(addr: &Multiaddr) -> bool {
    addr.iter().any(|p| p == Protocol::P2pCircuit)
}

/// The address at which `peer` is reachable through the relay at
/// `relay_addr` (which must end with the relay's `/p2p/`).
pub fn circuit_addr(relay_addr: &Multiaddr, peer: PeerId) -> Multiaddr {
    relay_addr.clone().with(Protocol::P2pCircuit).with(Protocol::P2p(peer))
}

/// `addr` without a trailing `/p2p/<id>`.
pub fn without_p2p(addr: &Multiaddr) -> Multiaddr {
    let mut a = addr.clone();
    if matches!(a.iter().last(), Some(Protocol::P2p(_))) {
        a.pop();
    }
    a
}
