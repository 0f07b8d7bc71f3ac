//! Relays as trustees between real nodes and real relays (SPEC.md §6.10.6,
//! X4): a message whose key part waits with relays opens for its recipient
//! when they release it, and not before; fewer relays than needed open
//! nothing; the sender checks in and cancels with signed requests; a share
//! that does not match the message is dropped.

use std::time::Duration;

use kovan_node::NodeHandle;
use kovan_node::clock::system_now_ms;
use kovan_node::identity::Identity;
use kovan_node::node::{Locks, MessageView, RelaysView, Trustees};
use kovan_spec::wire;
use rand_core::{OsRng, RngCore as _};

use crate::conditional::{conditional_of, shows};
use crate::harness::{PASSPHRASE, TestRelay, befriend_registered, relay_alice_bob};

fn relays(m: &MessageView) -> RelaysView {
    m.conditional.as_ref().and_then(|c| c.relays.clone()).unwrap()
}

fn kept(relays: &[&str], threshold: u8, at: Option<i64>, silence: Option<u64>) -> Locks {
    let relays = relays.iter().map(|r| (*r).to_owned()).collect();
    let t = Trustees { relays, threshold, release_at_ms: at, silence_ms: silence };
    Locks { relays: Some(t), ..Default::default() }
}

/// The relay lock's trustees as the message carries them.
async fn trustees(h: &NodeHandle, conv: &str, id: &str) -> Vec<wire::RelayTrustee> {
    let body = h.stored_envelope(conv, id).await.unwrap().unwrap();
    let env: wire::AppEnvelope = kovan_spec::decode(&body).unwrap();
    let Some(wire::app_envelope::Content::Conditional(c)) = env.content else {
        panic!("not a conditional message")
    };
    c.conditions
        .into_iter()
        .find_map(|c| match c.kind {
            Some(wire::condition::Kind::Relays(r)) => Some(r.trustees),
            _ => None,
        })
        .unwrap()
}

/// What a trustee relay says about its share, asked as anyone.
async fn share_state(t: &wire::RelayTrustee) -> serde_json::Value {
    let url = format!("{}/v1/trustee/{}", t.relay, hex::encode(&t.deposit));
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_left_with_two_of_three_relays_opens_at_its_time_and_not_before() {
    let dir = tempfile::tempdir().unwrap();
    let (relay, mut alice, mut bob) = relay_alice_bob(dir.path()).await;
    befriend_registered(&mut alice, &mut bob).await;
    let r2 = TestRelay::start(&dir.path().join("r2")).await;
    let r3 = TestRelay::start(&dir.path().join("r3")).await;
    let err = alice.h.send_conditional("bob", "x", kept(&["mine"], 1, None, None)).await;
    assert!(err.unwrap_err().to_string().contains("say when the relays release"));
    let later = Some(system_now_ms() + 60_000);
    let gone = kept(&["mine", "http://127.0.0.1:9"], 2, later, None);
    let err = alice.h.send_conditional("bob", "x", gone).await.unwrap_err();
    assert!(err.to_string().contains("did not keep its share, so nothing was sent"), "{err}");

    // Two messages due in 8 s: one needs 2 of its 3 relays, one all 3.
    let at = system_now_ms() + 8_000;
    let three = ["mine", r2.url.as_str(), r3.url.as_str()];
    let secret = "Kutu 17: anahtar saksının altında";
    let sent = alice.h.send_conditional("bob", secret, kept(&three, 2, Some(at), None)).await;
    let sent = sent.unwrap();
    assert_eq!(sent.text.as_deref(), Some(secret), "the sender's own copy is open");
    assert_eq!(relays(&sent).state, "sent");
    let all = alice.h.send_conditional("bob", "üçü birden", kept(&three, 3, Some(at), None)).await;
    let all = all.unwrap();
    for id in [&sent.id, &all.id] {
        shows(&bob, "alice", id, "the sealed messages", |m| {
            m.text.is_none() && m.conditional.as_ref().is_some_and(|c| c.waits_for == ["relays"])
        })
        .await;
    }
    let r = relays(&conditional_of(&bob.h, "alice", &sent.id).await.unwrap());
    assert_eq!((r.threshold, r.relays.len(), r.released), (2, 3, 0));
    assert_eq!((r.relays[0].as_str(), r.state.as_str()), (relay.url.as_str(), "waiting"));
    assert_eq!(r.next_ask_at, Some(at), "asked no earlier than its time");
    // Before the time no relay hands anything out, and nothing opens.
    for t in trustees(&bob.h, "alice", &sent.id).await {
        let v = share_state(&t).await;
        assert_eq!((&v["state"], &v["share"]), (&"waiting".into(), &serde_json::Value::Null));
    }
    let err = bob.h.open_conditional("alice", &sent.id, None, None).await.unwrap_err();
    assert!(err.to_string().contains("not enough relays"), "{err}");

    // One relay goes away for good, and Bob's node restarts meanwhile.
    r3.relay.shutdown(Duration::from_secs(2)).await;
    let bob = bob.restart().await;
    shows(&bob, "alice", &sent.id, "the message at its time", move |m| {
        m.text.as_deref() == Some(secret)
    })
    .await;
    assert!(system_now_ms() >= at, "it opened before its time");
    let r = relays(&conditional_of(&bob.h, "alice", &sent.id).await.unwrap());
    assert_eq!((r.released, r.state.as_str(), r.next_ask_at), (2, "released", None));
    // The one that needs all three: two shares open nothing.
    shows(&bob, "alice", &all.id, "two of three shares", |m| relays(m).released == 2).await;
    let m = conditional_of(&bob.h, "alice", &all.id).await.unwrap();
    assert_eq!((m.text.as_deref(), relays(&m).state.as_str()), (None, "waiting"));
    let err = bob.h.open_conditional("alice", &all.id, None, None).await.unwrap_err();
    assert!(err.to_string().contains("not enough relays"), "{err}");
    for r in [&relay, &r2] {
        assert!(!contains(&r.disk_bytes(), secret.as_bytes()), "a relay saw the text");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_keep_a_dead_man_switch_shut_while_the_sender_checks_in() {
    const HOUR: u64 = 3_600_000;
    let dir = tempfile::tempdir().unwrap();
    let (_relay, mut alice, mut bob) = relay_alice_bob(dir.path()).await;
    befriend_registered(&mut alice, &mut bob).await;
    let r2 = TestRelay::start(&dir.path().join("r2")).await;
    let two = ["mine", r2.url.as_str()];
    let err = alice.h.send_conditional("bob", "x", kept(&two, 1, None, Some(60_000))).await;
    assert!(err.unwrap_err().to_string().contains("an hour to 366 days"));

    // A dead man's switch of a day: each relay's due time is a day after
    // the sender was last heard from, and moves with a check-in.
    let will =
        alice.h.send_conditional("bob", "Vasiyet", kept(&two, 1, None, Some(24 * HOUR))).await;
    let will = will.unwrap();
    shows(&bob, "alice", &will.id, "the switch", |m| m.conditional.is_some()).await;
    let ts = trustees(&bob.h, "alice", &will.id).await;
    let before = share_state(&ts[0]).await["due_ms"].as_i64().unwrap();
    let expected = system_now_ms() + (24 * HOUR) as i64;
    assert!((before - expected).abs() < 60_000, "due {before}, expected about {expected}");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let err = bob.h.check_in("alice", &will.id).await.unwrap_err();
    assert!(err.to_string().contains("only the sender"), "{err}");
    alice.h.check_in("bob", &will.id).await.unwrap();
    for t in &ts {
        let v = share_state(t).await;
        assert_eq!(v["state"], "waiting");
        assert!(v["due_ms"].as_i64().unwrap() > before, "the check-in did not move it: {v}");
    }

    // Deleting it for everyone cancels the shares: at once with the relay
    // that is up, and with the one that is down once it is back.
    let (addr, r2_dir) = (r2.relay.addr, r2.dir.clone());
    r2.relay.shutdown(Duration::from_secs(2)).await;
    alice.h.delete("bob", &will.id).await.unwrap();
    shows(&bob, "alice", &will.id, "its deletion", |m| m.kind == "deleted").await;
    assert_eq!(share_state(&ts[0]).await["state"], "cancelled");
    let config =
        kovan_relay::RelayConfig { listen: addr, data_dir: Some(r2_dir), ..Default::default() };
    let _back = kovan_relay::Relay::start(config).await.unwrap();
    alice
        .until("the cancellation at the relay that was down", |_| {
            let t = ts[1].clone();
            async move { share_state(&t).await["state"] == "cancelled" }
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_that_does_not_match_the_message_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let (relay, mut alice, mut bob) = relay_alice_bob(dir.path()).await;
    befriend_registered(&mut alice, &mut bob).await;
    // A relay hands out a share other than the one the message committed
    // to (here Alice's own signed deposit, to play the cheating relay).
    let id = Identity::unlock(&alice.home, PASSPHRASE).unwrap();
    let mut deposit = [0u8; 16];
    OsRng.fill_bytes(&mut deposit);
    let (mut real, mut handed) = ([1u8; 33], [1u8; 33]);
    OsRng.fill_bytes(&mut real[1..]);
    OsRng.fill_bytes(&mut handed[1..]);
    let at = system_now_ms() + 2_000;
    let body = wire::trustee_request::Body::Deposit(wire::TrusteeDeposit {
        deposit: deposit.to_vec(),
        share: handed.to_vec(),
        release_at_ms: at as u64,
        silence_ms: 0,
    });
    let (req, sig) = id.sign_trustee_request(system_now_ms() as u64, body).unwrap();
    let http = reqwest::Client::new();
    kovan_node::relay_client::trustee_request(&http, &relay.url, &req, &sig).await.unwrap();
    let lock = wire::RelayLock {
        threshold: 1,
        trustees: vec![wire::RelayTrustee {
            relay: relay.url.clone(),
            deposit: deposit.to_vec(),
            commitment: kovan_crypto::conditional::commitment(&real).to_vec(),
        }],
        release_at_ms: at as u64,
        silence_ms: 0,
    };
    let content = wire::app_envelope::Content::Conditional(wire::Conditional {
        conditions: vec![wire::Condition { kind: Some(wire::condition::Kind::Relays(lock)) }],
        nonce: vec![7; 24],
        ciphertext: vec![9; 40],
        ..Default::default()
    });
    let sent = alice.h.send_raw_content("bob", content).await.unwrap();
    shows(&bob, "alice", &sent.id, "the message", |m| m.conditional.is_some()).await;
    // Bob's node asks at the time, gets the wrong share and keeps nothing.
    let t = trustees(&bob.h, "alice", &sent.id).await.remove(0);
    tokio::time::sleep(Duration::from_millis((at - system_now_ms()).max(0) as u64 + 3_000)).await;
    assert_eq!(share_state(&t).await["state"], "released");
    let m = conditional_of(&bob.h, "alice", &sent.id).await.unwrap();
    let r = relays(&m);
    assert_eq!((r.released, r.state.as_str()), (0, "waiting"), "{r:?}");
    assert!(r.next_ask_at.is_some_and(|n| n > system_now_ms()), "asked again later");
    let db = rusqlite::Connection::open(bob.home.database()).unwrap();
    let kept: i64 =
        db.query_row("SELECT COUNT(*) FROM conditional_relay_shares", [], |r| r.get(0)).unwrap();
    assert_eq!(kept, 0, "a share that does not match was kept");
}
