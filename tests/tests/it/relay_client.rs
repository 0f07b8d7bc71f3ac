//! The node's relay client against a real relay: register, find, deliver
//! through the mailbox with WebSocket push, survive a relay restart, end on
//! logout.

use std::time::Duration;

use base64::Engine;
use kovan_crypto::envelope::{self, PayloadKind, Sender};
use kovan_crypto::identity::DeviceCertificate;
use kovan_node::home::Home;
use kovan_node::identity::{Identity, now_secs};
use kovan_node::inbox::{self, Accepted};
use kovan_node::relay_client::{PushEvent, RelayClient};
use kovan_node::store::Database;
use kovan_relay::{Relay, RelayConfig};
use rand_core::OsRng;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(20);

async fn next(rx: &mut mpsc::Receiver<PushEvent>, want: impl Fn(&PushEvent) -> bool) -> PushEvent {
    tokio::time::timeout(WAIT, async {
        loop {
            let ev = rx.recv().await.expect("push task ended");
            if want(&ev) {
                return ev;
            }
        }
    })
    .await
    .expect("timed out waiting for a push event")
}

async fn start_relay(dir: &std::path::Path, listen: std::net::SocketAddr) -> Relay {
    let config = RelayConfig { listen, data_dir: Some(dir.to_path_buf()), ..Default::default() };
    Relay::start(config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mailbox_delivery_with_push_survives_a_relay_restart() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(&dir.path().join("relay"), "127.0.0.1:0".parse().unwrap()).await;
    let addr = relay.addr;
    let client = RelayClient::new(&relay.url()).unwrap();

    let alice = Identity::create(&Home::at(dir.path().join("alice")), b"pw", "alice").unwrap();
    let bob_home = Home::at(dir.path().join("bob"));
    let bob = Identity::create(&bob_home, b"pw", "bob").unwrap();
    let bob_db = Database::open(&bob_home.database()).unwrap();
    client.register(&alice, "alice", "alice password").await.unwrap();
    let bob_session = client.register(&bob, "Bob", "bob password").await.unwrap();
    let taken = client.register(&alice, "bob", "x password").await.unwrap_err();
    assert_eq!(taken.code(), Some("username_taken"));

    // Alice finds Bob and learns his device's keys from its certificate.
    let found = client.search("bo").await.unwrap();
    let dev = &found["results"][0]["devices"][0];
    let cert_bytes = base64::engine::general_purpose::STANDARD
        .decode(dev["certificate"].as_str().unwrap())
        .unwrap();
    let bob_cert = DeviceCertificate::verify_for(&cert_bytes, &bob.account(), now_secs()).unwrap();
    let seal = |text: &str| {
        let s = Sender { keys: alice.device_keys(), certificate: alice.certificate() };
        envelope::seal(
            &mut OsRng,
            &s,
            &bob_cert.keys().envelope,
            PayloadKind::MlsMessage,
            text.as_bytes(),
            1,
        )
        .unwrap()
        .bytes
    };

    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let mut push = client.push(bob_session.token.clone(), 0, stop);
    next(&mut push, |e| *e == PushEvent::Connected).await;

    let receive = |ev: PushEvent| {
        let PushEvent::Item(item) = ev else { unreachable!() };
        let acc =
            inbox::accept(&bob_db, &bob.device_keys().envelope, &item.envelope, None, now_secs())
                .unwrap()
                .unwrap();
        let Accepted::New(opened) = acc else { panic!("replay") };
        assert_eq!(opened.sender.account(), &alice.account());
        (item.seq, String::from_utf8(opened.payload.clone()).unwrap())
    };

    client.put_envelope(&bob_cert.peer_id().to_string(), seal("first")).await.unwrap();
    let (seq, text) = receive(next(&mut push, |e| matches!(e, PushEvent::Item(_))).await);
    assert_eq!(text, "first");
    client.ack(&bob_session.token, &[seq]).await.unwrap();

    // The relay restarts; the client reconnects by itself and resumes.
    relay.shutdown(Duration::from_secs(10)).await;
    next(&mut push, |e| matches!(e, PushEvent::Disconnected { .. })).await;
    let relay = start_relay(&dir.path().join("relay"), addr).await;
    client.put_envelope(&bob_cert.peer_id().to_string(), seal("after restart")).await.unwrap();
    let (_, text) = receive(next(&mut push, |e| matches!(e, PushEvent::Item(_))).await);
    assert_eq!(text, "after restart");

    // Logging out ends the push stream.
    client.logout(&bob_session.token).await.unwrap();
    next(&mut push, |e| *e == PushEvent::SessionEnded).await;
    let _ = stop_tx.send(true);
    relay.shutdown(Duration::from_secs(10)).await;
}
