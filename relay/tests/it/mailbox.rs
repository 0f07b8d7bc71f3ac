//! Mailboxes: put, fetch, ack, quotas, TTL, isolation, restarts.

use std::time::Duration;

use kovan_relay::services::mailbox::MailboxStore;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::harness::{Db, TestRelay, fast_config};

both_backends!(put_fetch_ack_and_isolation, quotas_and_ttl, nothing_lost_across_restart);

async fn put_fetch_ack_and_isolation(db: Db) {
    let relay = TestRelay::start(db).await;
    let alice = relay.register("alice").await;
    let bob = relay.register("bob").await;

    let (s, r, first) = relay.put_envelope(&bob, &alice, b"one").await;
    assert_eq!((s, r), (StatusCode::ACCEPTED, json!({"duplicate": false})));
    // The same envelope again is stored once.
    let (s, r) = relay
        .raw(
            Method::POST,
            &format!("/v1/mailbox/{}", alice.peer_id()),
            None,
            first,
            "application/octet-stream",
        )
        .await;
    assert_eq!((s, r), (StatusCode::ACCEPTED, json!({"duplicate": true})));
    relay.put_envelope(&bob, &alice, b"two: a plaintext marker").await;

    let (s, page) = relay.get("/v1/mailbox", Some(&alice.token)).await;
    assert_eq!(s, StatusCode::OK);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(alice.open(items[0]["envelope"].as_str().unwrap()), b"one");
    assert_eq!(alice.open(items[1]["envelope"].as_str().unwrap()), b"two: a plaintext marker");
    let (s1, s2) = (items[0]["seq"].as_i64().unwrap(), items[1]["seq"].as_i64().unwrap());
    assert!(s1 < s2);

    // Bob's token reads Bob's mailbox, never Alice's.
    let (_, bobs) = relay.get("/v1/mailbox", Some(&bob.token)).await;
    assert_eq!(bobs["items"].as_array().unwrap().len(), 0);
    let (_, r) = relay.post("/v1/mailbox/ack", Some(&bob.token), json!({"seqs": [s1, s2]})).await;
    assert_eq!(r["deleted"], 0, "Bob cannot delete Alice's items");

    let (_, after) = relay.get(&format!("/v1/mailbox?after={s1}"), Some(&alice.token)).await;
    assert_eq!(after["items"].as_array().unwrap().len(), 1);
    let (_, r) = relay.post("/v1/mailbox/ack", Some(&alice.token), json!({"seqs": [s1]})).await;
    assert_eq!(r["deleted"], 1);
    let (_, left) = relay.get("/v1/mailbox", Some(&alice.token)).await;
    assert_eq!(left["items"][0]["seq"], s2);
    assert_eq!(relay.get("/v1/mailbox", None).await.0, StatusCode::UNAUTHORIZED);

    // Garbage, unknown mailboxes and oversized bodies are refused cleanly.
    let put = |peer: String, body: Vec<u8>| {
        let relay = &relay;
        async move {
            relay
                .raw(
                    Method::POST,
                    &format!("/v1/mailbox/{peer}"),
                    None,
                    body,
                    "application/octet-stream",
                )
                .await
        }
    };
    let (s, b) = put(alice.peer_id(), b"not an envelope".to_vec()).await;
    assert_eq!((s, b["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_envelope")));
    let (s, _) = put("12D3KooWNoSuchDevice".into(), bob.seal_to(&alice, b"x")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let too_large = kovan_spec::limits::MAX_SEALED_ENVELOPE + 1;
    let path = format!("/v1/mailbox/{}", alice.peer_id());
    assert_eq!(relay.declared_length_status(&path, None, too_large).await, 413);
    let (s, _) = relay
        .raw(
            Method::POST,
            "/v1/mailbox/ack",
            Some(&alice.token),
            b"{\"seqs\": \"x\"}".to_vec(),
            "application/json",
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // The relay stores only ciphertext.
    let stored = relay.state().store.fetch(&alice.peer_id(), 0, 10, 0).await.unwrap();
    for item in stored {
        assert!(!item.envelope.windows(23).any(|w| w == b"two: a plaintext marker"));
        assert!(!item.envelope.windows(32).any(|w| w == bob.account.id().as_bytes()));
    }
    relay.stop().await;
}

async fn quotas_and_ttl(db: Db) {
    let mut config = fast_config();
    config.limits.mailbox_max_items = 2;
    config.limits.mailbox_ttl_secs = 1;
    let relay = TestRelay::start_with(db, config).await;
    let alice = relay.register("alice").await;
    let bob = relay.register("bob").await;
    assert_eq!(relay.put_envelope(&bob, &alice, b"1").await.0, StatusCode::ACCEPTED);
    assert_eq!(relay.put_envelope(&bob, &alice, b"2").await.0, StatusCode::ACCEPTED);
    let (s, b, _) = relay.put_envelope(&bob, &alice, b"3").await;
    assert_eq!((s, b["code"].as_str()), (StatusCode::INSUFFICIENT_STORAGE, Some("quota_exceeded")));
    // Other mailboxes are unaffected.
    assert_eq!(relay.put_envelope(&alice, &bob, b"1").await.0, StatusCode::ACCEPTED);

    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (_, page) = relay.get("/v1/mailbox", Some(&alice.token)).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 0, "expired items are not served");
    kovan_relay::services::sweep(relay.state()).await;
    assert_eq!(
        relay.put_envelope(&bob, &alice, b"4").await.0,
        StatusCode::ACCEPTED,
        "sweep freed the quota"
    );
    relay.stop().await;
}

async fn nothing_lost_across_restart(db: Db) {
    let mut relay = TestRelay::start(db).await;
    let alice = relay.register("alice").await;
    let bob = relay.register("bob").await;
    let puts = futures_util::future::join_all((0..20).map(|i| {
        let relay = &relay;
        let (bob, alice) = (&bob, &alice);
        async move { relay.put_envelope(bob, alice, format!("m{i}").as_bytes()).await.0 }
    }))
    .await;
    assert!(puts.iter().all(|s| *s == StatusCode::ACCEPTED), "{puts:?}");
    relay.restart().await;
    let (s, page) = relay.get("/v1/mailbox?limit=256", Some(&alice.token)).await;
    assert_eq!(s, StatusCode::OK, "sessions survive a restart");
    let mut got: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| alice.open(i["envelope"].as_str().unwrap()))
        .collect();
    got.sort();
    let mut want: Vec<_> = (0..20).map(|i| format!("m{i}").into_bytes()).collect();
    want.sort();
    assert_eq!(got, want);
    relay.stop().await;
}
