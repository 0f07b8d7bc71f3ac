//! NAT help: two peers that cannot dial each other meet through the relay's
//! circuit relay v2 server.

use std::time::Duration;

use futures_util::StreamExt;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{
    Multiaddr, PeerId, Swarm, identity, multiaddr::Protocol, noise, ping, relay, tcp, yamux,
};

use crate::both_backends;
use crate::harness::{Db, TestRelay, WAIT, eventually};

#[derive(NetworkBehaviour)]
struct Peer {
    relay: relay::client::Behaviour,
    ping: ping::Behaviour,
}

fn peer() -> Swarm<Peer> {
    libp2p::SwarmBuilder::with_existing_identity(identity::Keypair::generate_ed25519())
        .with_tokio()
        .with_tcp(tcp::Config::default(), noise::Config::new, yamux::Config::default)
        .unwrap()
        .with_relay_client(noise::Config::new, yamux::Config::default)
        .unwrap()
        .with_behaviour(|_, relay| Peer {
            relay,
            ping: ping::Behaviour::new(
                ping::Config::new().with_interval(Duration::from_millis(200)),
            ),
        })
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(30)))
        .build()
}

both_backends!(peers_meet_through_the_circuit_relay);

async fn peers_meet_through_the_circuit_relay(db: Db) {
    let relay = TestRelay::start(db).await;
    eventually("relay tcp address", || {
        relay.state().multiaddrs.read().unwrap().iter().any(|a| a.contains("/tcp/"))
    })
    .await;
    let relay_addr: Multiaddr = relay
        .state()
        .multiaddrs
        .read()
        .unwrap()
        .iter()
        .find(|a| a.contains("/tcp/"))
        .unwrap()
        .parse()
        .unwrap();

    // B listens only through the relay (as a peer behind NAT would).
    let mut b = peer();
    let b_id = *b.local_peer_id();
    b.listen_on(relay_addr.clone().with(Protocol::P2pCircuit)).unwrap();
    let reserved = tokio::time::timeout(WAIT, async {
        loop {
            if let SwarmEvent::Behaviour(PeerEvent::Relay(
                relay::client::Event::ReservationReqAccepted { .. },
            )) = b.select_next_some().await
            {
                break;
            }
        }
    })
    .await;
    assert!(reserved.is_ok(), "no reservation at the relay");

    // A dials B through the relay and pings it.
    let mut a = peer();
    let via_relay = relay_addr.with(Protocol::P2pCircuit).with(Protocol::P2p(b_id));
    a.dial(via_relay).unwrap();
    let pinged: Result<PeerId, _> = tokio::time::timeout(WAIT, async {
        loop {
            tokio::select! {
                ev = a.select_next_some() => {
                    if let SwarmEvent::Behaviour(PeerEvent::Ping(ping::Event { peer, result: Ok(_), .. })) = ev
                        && peer == b_id
                    {
                        return peer;
                    }
                }
                _ = b.select_next_some() => {}
            }
        }
    })
    .await;
    assert_eq!(pinged.ok(), Some(b_id), "A could not reach B through the relay");
    relay.stop().await;
}
