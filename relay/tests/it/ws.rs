//! The WebSocket push channel (W1, W3).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use kovan_relay::services::mailbox::MailboxStore;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::both_backends;
use crate::harness::{Db, TestRelay, WAIT, eventually, fast_config};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(relay: &TestRelay, token: Option<&str>, after: i64) -> Result<Ws, u16> {
    let url = format!("{}/v1/ws?after={after}", relay.url.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    if let Some(t) = token {
        req.headers_mut().insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

/// The next JSON event (skipping pings), or None if the socket closed.
async fn next_event(ws: &mut Ws) -> Option<Value> {
    loop {
        let msg =
            tokio::time::timeout(WAIT, ws.next()).await.expect("timed out waiting for an event");
        match msg {
            Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(t.as_str()).unwrap()),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

both_backends!(
    auth_is_required,
    push_resume_and_ack,
    revoked_sessions_are_closed_within_a_second,
    slow_clients_are_cut_off
);

async fn auth_is_required(db: Db) {
    let relay = TestRelay::start(db).await;
    let alice = relay.register("alice").await;
    assert_eq!(connect(&relay, None, 0).await.err(), Some(401));
    assert_eq!(connect(&relay, Some("forged-token"), 0).await.err(), Some(401));
    let (_, second) = relay.post("/v1/sessions", None, alice.login_body(&relay.info.peer_id)).await;
    let second = second["token"].as_str().unwrap().to_owned();
    relay.send(Method::DELETE, "/v1/sessions/current", Some(&second), None).await;
    assert_eq!(
        connect(&relay, Some(&second), 0).await.err(),
        Some(401),
        "a revoked token gets no socket"
    );
    assert!(connect(&relay, Some(&alice.token), 0).await.is_ok());
    relay.stop().await;
}

async fn push_resume_and_ack(db: Db) {
    let relay = TestRelay::start(db).await;
    let alice = relay.register("alice").await;
    let bob = relay.register("bob").await;
    relay.put_envelope(&bob, &alice, b"while offline").await;

    let mut ws = connect(&relay, Some(&alice.token), 0).await.unwrap();
    let mut bob_ws = connect(&relay, Some(&bob.token), 0).await.unwrap();
    let ev = next_event(&mut ws).await.unwrap();
    assert_eq!(ev["type"], "envelope");
    assert_eq!(alice.open(ev["envelope"].as_str().unwrap()), b"while offline");
    let mut cursor = ev["seq"].as_i64().unwrap();

    // Live push.
    relay.put_envelope(&bob, &alice, b"live").await;
    let ev = next_event(&mut ws).await.unwrap();
    assert_eq!(alice.open(ev["envelope"].as_str().unwrap()), b"live");
    cursor = cursor.max(ev["seq"].as_i64().unwrap());

    // Disconnect; items put meanwhile arrive on reconnect from the cursor,
    // in order, and nothing before the cursor is sent again.
    ws.close(None).await.ok();
    for i in 0..5 {
        relay.put_envelope(&bob, &alice, format!("gap {i}").as_bytes()).await;
    }
    let mut ws = connect(&relay, Some(&alice.token), cursor).await.unwrap();
    let mut seqs = Vec::new();
    for i in 0..5 {
        let ev = next_event(&mut ws).await.unwrap();
        assert_eq!(alice.open(ev["envelope"].as_str().unwrap()), format!("gap {i}").as_bytes());
        seqs.push(ev["seq"].as_i64().unwrap());
    }
    // Ack over the socket deletes.
    ws.send(Message::Text(json!({"type": "ack", "seqs": seqs}).to_string().into())).await.unwrap();
    let store = relay.state().store.clone();
    let peer = alice.peer_id();
    let mut left = usize::MAX;
    for _ in 0..200 {
        left = store.fetch(&peer, cursor, 100, 0).await.unwrap().len();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(left, 0);

    // Bob never received any of Alice's items.
    relay.put_envelope(&alice, &bob, b"for bob").await;
    let ev = next_event(&mut bob_ws).await.unwrap();
    assert_eq!(bob.open(ev["envelope"].as_str().unwrap()), b"for bob");
    relay.stop().await;
}

async fn revoked_sessions_are_closed_within_a_second(db: Db) {
    let relay = TestRelay::start(db).await;
    let alice = relay.register("alice").await;
    let (_, other) = relay.post("/v1/sessions", None, alice.login_body(&relay.info.peer_id)).await;
    let mut ws = connect(&relay, Some(other["token"].as_str().unwrap()), 0).await.unwrap();
    eventually("socket registered", || relay.state().hub.len() == 1).await;
    let id = other["session_id"].as_str().unwrap();
    let (s, _) =
        relay.send(Method::DELETE, &format!("/v1/sessions/{id}"), Some(&alice.token), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let closed = tokio::time::timeout(Duration::from_secs(1), async {
        let ev = next_event(&mut ws).await;
        assert_eq!(ev.unwrap()["type"], "session_revoked");
        assert!(next_event(&mut ws).await.is_none());
    })
    .await;
    assert!(closed.is_ok(), "socket not closed within a second");
    relay.stop().await;
}

async fn slow_clients_are_cut_off(db: Db) {
    let mut config = fast_config();
    config.limits.ws_send_timeout_secs = 1;
    config.limits.puts_per_ip_per_second = 10_000;
    let relay = TestRelay::start_with(db, config).await;
    let alice = relay.register("alice").await;
    let bob = relay.register("bob").await;
    // A client that never reads.
    let _ws = connect(&relay, Some(&alice.token), 0).await.unwrap();
    eventually("socket registered", || relay.state().hub.len() == 1).await;
    let big = vec![7u8; 1024 * 1024];
    for _ in 0..24 {
        relay.put_envelope(&bob, &alice, &big).await;
    }
    eventually("slow socket cut off", || relay.state().hub.is_empty()).await;
    relay.stop().await;
}
