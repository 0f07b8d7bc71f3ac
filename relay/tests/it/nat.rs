//! NAT help: two peers that cannot dial each other meet through the relay's
//! circuit relay v2 server.

use std::time::Duration;

use futures_util::StreamExt;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{
    Multiaddr, PeerId, Swarm, identity, multiaddr::Protocol, noise, ping, relay, tcp, yamux,
};

use serde_json::json;

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

both_backends!(turn_credentials_let_accounts_relay_and_nobody_else);

/// Asks the relay's TURN server for an allocation with these credentials;
/// answers how many allocations the server holds while it has it.
async fn allocate(
    relay: &TestRelay,
    server: &str,
    username: &str,
    password: &str,
) -> Result<usize, String> {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let client = turn::client::Client::new(turn::client::ClientConfig {
        stun_serv_addr: server.to_owned(),
        turn_serv_addr: server.to_owned(),
        username: username.to_owned(),
        password: password.to_owned(),
        realm: "kovan".into(),
        software: String::new(),
        rto_in_ms: 0,
        conn: std::sync::Arc::new(socket),
        vnet: None,
    })
    .await
    .map_err(|e| e.to_string())?;
    client.listen().await.map_err(|e| e.to_string())?;
    let allocated = client.allocate().await.map_err(|e| e.to_string());
    let held = match &allocated {
        Ok(_) => Ok(relay.state().turn.get().unwrap().allocations().await),
        Err(e) => Err(e.clone()),
    };
    drop(allocated);
    let _ = client.close().await;
    held
}

async fn turn_credentials_let_accounts_relay_and_nobody_else(db: Db) {
    // Without TURN: the route says so.
    let plain = TestRelay::start(db).await;
    let user = plain.register("ayse").await;
    let (status, body) = plain.post("/v1/turn/credentials", Some(&user.token), json!({})).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (404, Some("turn_off")), "{body}");
    plain.stop().await;

    let config = kovan_relay::RelayConfig {
        turn_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..crate::harness::fast_config()
    };
    let relay = TestRelay::start_with(db, config).await;
    let (status, _) = relay.post("/v1/turn/credentials", None, json!({})).await;
    assert_eq!(status.as_u16(), 401, "credentials for nobody");
    let user = relay.register("ayse").await;
    let (status, c) = relay.post("/v1/turn/credentials", Some(&user.token), json!({})).await;
    assert_eq!(status.as_u16(), 200, "{c}");
    let url = c["urls"].as_array().unwrap().iter().find_map(|u| u.as_str()?.strip_prefix("turn:"));
    let server = url.unwrap().trim_end_matches("?transport=udp").to_owned();
    assert!(server.starts_with("127.0.0.1:"), "{c}");
    assert_eq!(c["ttl_secs"], 86_400);
    let (username, password) = (c["username"].as_str().unwrap(), c["credential"].as_str().unwrap());
    let held = allocate(&relay, &server, username, password).await;
    assert!(held.as_ref().is_ok_and(|n| *n >= 1), "an account's credentials relay: {held:?}");
    // A stranger's guess, another account's name on these, a stale user.
    let guess = allocate(&relay, &server, username, "bm90IHRoZSBwYXNzd29yZA==").await;
    assert!(guess.is_err(), "{guess:?}");
    let other = username.replace(':', ":9");
    assert!(allocate(&relay, &server, &other, password).await.is_err());
    assert!(allocate(&relay, &server, "1:1", password).await.is_err());
    relay.stop().await;
}
