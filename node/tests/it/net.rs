//! Two nodes' networking in one process, over real loopback TCP and QUIC.

use std::time::Duration;

use kovan_crypto::envelope::{self, PayloadKind, Sender};
use kovan_crypto::identity::{AccountKey, DeviceCertificate, DeviceKeys};
use kovan_node::inbox::{self, Accepted, Refused};
use kovan_node::net::{self, NetConfig, NetEvent, NetHandle};
use kovan_node::store::Database;
use kovan_spec::wire::AckStatus;
use libp2p::Multiaddr;
use rand_core::OsRng;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(15);

struct Dev {
    keys: DeviceKeys,
    cert: DeviceCertificate,
    net: NetHandle,
    events: mpsc::Receiver<NetEvent>,
}

fn now() -> u64 {
    kovan_node::identity::now_secs()
}

fn dev(listen: &str) -> Dev {
    let account = AccountKey::generate(&mut OsRng);
    let keys = DeviceKeys::generate(&mut OsRng);
    let cert = account.certify(&keys.public(), "t", now() - 10, 3600).unwrap();
    let config =
        NetConfig { listen: vec![listen.parse().unwrap()], mdns: false, card: Default::default() };
    let (net, events) = net::start(keys.p2p_keypair().unwrap(), config).unwrap();
    assert_eq!(net.peer_id(), cert.peer_id());
    Dev { keys, cert, net, events }
}

async fn listening(d: &mut Dev) -> Multiaddr {
    tokio::time::timeout(WAIT, async {
        loop {
            if let Some(NetEvent::Listening(a)) = d.events.recv().await {
                return a;
            }
        }
    })
    .await
    .expect("no listen address")
}

async fn next_envelope(d: &mut Dev) -> (net::InboundId, libp2p::PeerId, Vec<u8>) {
    tokio::time::timeout(WAIT, async {
        loop {
            if let Some(NetEvent::Envelope { id, from, mut envelopes, .. }) = d.events.recv().await
            {
                return (id, from, envelopes.remove(0));
            }
        }
    })
    .await
    .expect("no envelope")
}

fn seal(from: &Dev, to: &Dev, payload: &[u8]) -> Vec<u8> {
    let s = Sender { keys: &from.keys, certificate: &from.cert };
    envelope::seal(&mut OsRng, &s, &to.keys.public().envelope, PayloadKind::MlsMessage, payload, 1)
        .unwrap()
        .bytes
}

async fn deliver_and_accept(transport: &str) {
    let mut a = dev(transport);
    let mut b = dev(transport);
    let b_addr = listening(&mut b).await;
    let _ = listening(&mut a).await;
    let dir = tempfile::tempdir().unwrap();
    let b_db = Database::open(&dir.path().join("b.sqlite3")).unwrap();

    // Dialling B's address while expecting someone else fails: the Noise
    // handshake proves who answers.
    let stranger = DeviceKeys::generate(&mut OsRng).p2p_keypair().unwrap().public().to_peer_id();
    assert!(a.net.dial(stranger, vec![b_addr.clone()]).await.is_err());
    a.net.dial(b.net.peer_id(), vec![b_addr]).await.unwrap();

    let sealed = seal(&a, &b, b"merhaba");
    let sender = a.net.clone();
    let b_peer = b.net.peer_id();
    let sent = tokio::spawn({
        let sealed = sealed.clone();
        async move { sender.send_envelope(b_peer, sealed).await }
    });
    let (id, from, bytes) = next_envelope(&mut b).await;
    assert_eq!(from, a.net.peer_id());
    let accepted = inbox::accept(&b_db, &b.keys.envelope, &bytes, Some(&from.to_string()), now())
        .unwrap()
        .unwrap();
    let Accepted::New(opened) = accepted else { panic!("first delivery seen as replay") };
    assert_eq!(opened.payload, b"merhaba");
    assert_eq!(opened.sender.account(), a.cert.account());
    b.net.respond(id, vec![AckStatus::Accepted]).await.unwrap();
    assert_eq!(tokio::time::timeout(WAIT, sent).await.unwrap().unwrap(), Ok(AckStatus::Accepted));

    // The same envelope again (say, also through the mailbox) is a replay.
    let again = inbox::accept(&b_db, &b.keys.envelope, &sealed, None, now()).unwrap().unwrap();
    assert!(matches!(again, Accepted::Replay { .. }));
    // An envelope A relays for someone else's device is refused.
    let c = dev(transport);
    let from_c = seal(&c, &b, b"from c");
    let refused =
        inbox::accept(&b_db, &b.keys.envelope, &from_c, Some(&from.to_string()), now()).unwrap();
    assert!(matches!(refused, Err(Refused::WrongPeer)));
    // A tampered envelope is refused.
    let mut bad = seal(&a, &b, b"x");
    let n = bad.len();
    bad[n - 5] ^= 1;
    assert!(matches!(
        inbox::accept(&b_db, &b.keys.envelope, &bad, None, now()).unwrap(),
        Err(Refused::Envelope(_))
    ));

    a.net.shutdown().await;
    b.net.shutdown().await;
    c.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelopes_travel_directly_over_tcp() {
    deliver_and_accept("/ip4/127.0.0.1/tcp/0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelopes_travel_directly_over_quic() {
    deliver_and_accept("/ip4/127.0.0.1/udp/0/quic-v1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_delivery_times_out_or_fails_cleanly() {
    let a = dev("/ip4/127.0.0.1/tcp/0");
    let nobody = DeviceKeys::generate(&mut OsRng).p2p_keypair().unwrap().public().to_peer_id();
    let r = tokio::time::timeout(WAIT, a.net.send_envelope(nobody, vec![1, 2, 3])).await.unwrap();
    assert!(r.is_err(), "{r:?}");
    let too_big = vec![0u8; kovan_spec::limits::MAX_SEALED_ENVELOPE + 1];
    assert!(a.net.send_envelope(nobody, too_big).await.is_err());
    a.net.shutdown().await;
}

#[tokio::test]
async fn a_node_names_itself_kovan_to_other_libp2p_peers() {
    use futures_util::StreamExt;
    use libp2p::{identify, noise, swarm::SwarmEvent, tcp, yamux};
    let mut node = dev("/ip4/127.0.0.1/tcp/0");
    let addr = listening(&mut node).await;
    // Any libp2p client that asks (identify) hears kovan's agent, not
    // rust-libp2p's default.
    let mut probe = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(tcp::Config::default(), noise::Config::new, yamux::Config::default)
        .unwrap()
        .with_behaviour(|key| {
            identify::Behaviour::new(identify::Config::new("/ipfs/id/1.0.0".into(), key.public()))
        })
        .unwrap()
        .build();
    probe.dial(addr).unwrap();
    let agent = tokio::time::timeout(WAIT, async {
        loop {
            if let SwarmEvent::Behaviour(identify::Event::Received { info, .. }) =
                probe.select_next_some().await
            {
                return info.agent_version;
            }
        }
    })
    .await
    .expect("no identify answer");
    assert_eq!(agent, net::AGENT_VERSION);
    assert!(agent.starts_with("kovan/"), "{agent}");
}
