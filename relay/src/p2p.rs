//! The relay's libp2p host: NAT help for nodes (circuit relay v2 server,
//! AutoNAT v2 server), a Kademlia bootstrap peer, identify and ping, within
//! connection and memory limits.
//!
//! One task owns the `Swarm` ([`run`]); it reports listen addresses into the
//! shared state and stops when the shutdown signal flips.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use libp2p::connection_limits::{self, ConnectionLimits};
use libp2p::identity::Keypair;
use libp2p::kad::{self, store::MemoryStore};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{
    Multiaddr, StreamProtocol, Swarm, autonat, identify, memory_connection_limits, noise, ping,
    relay, tcp, yamux,
};
use rand_core::{OsRng, RngCore};

use crate::state::AppState;

/// The Kademlia protocol of kovan's DHT (not the public IPFS one).
pub const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/kovan/kad/1.0.0");
/// The identify protocol version string.
pub const IDENTIFY_PROTOCOL: &str = "/kovan/id/1.0.0";
/// Established connections in total: a relay for a few thousand nodes.
pub const MAX_ESTABLISHED: u32 = 10_000;
/// Established connections per peer.
pub const MAX_PER_PEER: u32 = 4;
/// New connections are refused when the process uses more than this share of
/// the machine's memory.
pub const MAX_MEMORY_PERCENTAGE: f64 = 0.8;

pub use behaviour::{RelayBehaviour, RelayBehaviourEvent};

mod behaviour {
    #![allow(missing_docs)]
    use super::*;

    /// The relay's behaviours.
    #[derive(NetworkBehaviour)]
    pub struct RelayBehaviour {
        pub limits: connection_limits::Behaviour,
        pub memory: memory_connection_limits::Behaviour,
        pub relay: relay::Behaviour,
        pub autonat: autonat::v2::server::Behaviour,
        pub kad: kad::Behaviour<MemoryStore>,
        pub identify: identify::Behaviour,
        pub ping: ping::Behaviour,
    }
}

/// Loads the relay's libp2p key from `dir/p2p.key` (a 32-byte Ed25519
/// seed), creating it (mode 0600) on first start.
pub fn load_or_create_key(dir: &Path) -> anyhow::Result<Keypair> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("p2p.key");
    let mut seed = match std::fs::read(&path) {
        Ok(b) if b.len() == 32 => zeroize::Zeroizing::new(b),
        Ok(_) => anyhow::bail!("{} is not a 32-byte key", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut b = zeroize::Zeroizing::new(vec![0u8; 32]);
            OsRng.fill_bytes(&mut b);
            let tmp = dir.join("p2p.key.tmp");
            {
                use std::io::Write;
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create(true).truncate(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
                let mut f = opts.open(&tmp)?;
                f.write_all(&b)?;
                f.sync_all()?;
            }
            std::fs::rename(&tmp, &path)?;
            b
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Keypair::ed25519_from_bytes(&mut seed[..])?)
}

/// Builds the swarm and starts listening on `listen`.
pub fn build(key: Keypair, listen: &[String]) -> anyhow::Result<Swarm<RelayBehaviour>> {
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)?
        .with_quic()
        .with_behaviour(|key| {
            let peer_id = key.public().to_peer_id();
            // The relay is where its nodes bootstrap from: it has nobody to
            // bootstrap from itself (kad would warn about that at every
            // start), so it learns peers as they connect.
            let mut kad_config = kad::Config::new(KAD_PROTOCOL);
            kad_config.set_periodic_bootstrap_interval(None);
            let mut kad =
                kad::Behaviour::with_config(peer_id, MemoryStore::new(peer_id), kad_config);
            kad.set_mode(Some(kad::Mode::Server));
            RelayBehaviour {
                limits: connection_limits::Behaviour::new(
                    ConnectionLimits::default()
                        .with_max_established(Some(MAX_ESTABLISHED))
                        .with_max_established_per_peer(Some(MAX_PER_PEER))
                        .with_max_pending_incoming(Some(512)),
                ),
                memory: memory_connection_limits::Behaviour::with_max_percentage(
                    MAX_MEMORY_PERCENTAGE,
                ),
                relay: relay::Behaviour::new(peer_id, relay::Config::default()),
                autonat: autonat::v2::server::Behaviour::default(),
                kad,
                identify: identify::Behaviour::new(
                    identify::Config::new(IDENTIFY_PROTOCOL.into(), key.public())
                        .with_agent_version(
                            concat!("kovan-relay/", env!("CARGO_PKG_VERSION")).into(),
                        ),
                ),
                ping: ping::Behaviour::default(),
            }
        })?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    for addr in listen {
        let addr: Multiaddr =
            addr.parse().map_err(|e| anyhow::anyhow!("p2p listen address {addr}: {e}"))?;
        swarm.listen_on(addr)?;
    }
    Ok(swarm)
}

/// Drives the swarm until shutdown, publishing listen addresses.
pub async fn run(mut swarm: Swarm<RelayBehaviour>, state: Arc<AppState>) {
    let mut shutdown = state.shutdown.clone();
    let local = *swarm.local_peer_id();
    let external: Vec<Multiaddr> =
        state.config.p2p_external.iter().filter_map(|a| a.parse().ok()).collect();
    for addr in &external {
        swarm.add_external_address(addr.clone());
    }
    loop {
        tokio::select! {
            biased;
            _ = shutdown.changed() => break,
            ev = swarm.select_next_some() => match ev {
                SwarmEvent::NewListenAddr { address, .. } => {
                    // Circuit relay v2 hands its external addresses to the
                    // peers that reserve a slot and refuses reservations
                    // without any: unless the operator names them, the
                    // listen addresses are taken to be reachable.
                    if external.is_empty() {
                        swarm.add_external_address(address.clone());
                    }
                    let full = format!("{address}/p2p/{local}");
                    tracing::info!(%full, "p2p listening");
                    if let Ok(mut m) = state.multiaddrs.write() {
                        m.push(full);
                    }
                }
                SwarmEvent::ExpiredListenAddr { address, .. } => {
                    let full = format!("{address}/p2p/{local}");
                    if let Ok(mut m) = state.multiaddrs.write() {
                        m.retain(|a| a != &full);
                    }
                }
                SwarmEvent::Behaviour(RelayBehaviourEvent::Identify(identify::Event::Received {
                    peer_id,
                    info,
                    ..
                })) if info.protocols.contains(&KAD_PROTOCOL) => {
                    // Nodes that speak kovan's DHT become routable through it.
                    for addr in info.listen_addrs {
                        swarm.behaviour_mut().kad.add_address(&peer_id, addr);
                    }
                }
                SwarmEvent::Behaviour(RelayBehaviourEvent::Relay(ev)) => tracing::debug!(?ev, "relay"),
                SwarmEvent::IncomingConnectionError { error, .. } => tracing::debug!(%error, "incoming connection failed"),
                _ => {}
            },
        }
    }
    tracing::info!("p2p host stopped");
}
