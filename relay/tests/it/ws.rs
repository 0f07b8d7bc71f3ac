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

/// The close code of the next close frame (skipping other frames), or None
/// if the socket ended without one.
async fn close_code(ws: &mut Ws) -> Option<u16> {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await.expect("timed out waiting for a close") {
            Some(Ok(Message::Close(f))) => return f.map(|f| u16::from(f.code)),
            None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

both_backends!(
    expired_sessions_close_their_sockets,
    sockets_per_session_are_capped,
    binary_frames_close_with_1003,
    account_events_reach_the_other_sessions,
);

/// Issue 32: a socket outlived its session. It closes at the expiry like a
/// revocation (the sweeper runs only every 30 s).
async fn expired_sessions_close_their_sockets(db: Db) {
    let mut config = fast_config();
    config.limits.session_ttl_secs = 2;
    let relay = TestRelay::start_with(db, config).await;
    let alice = relay.register("alice").await;
    let mut ws = connect(&relay, Some(&alice.token), 0).await.unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(4), async {
        assert_eq!(next_event(&mut ws).await.unwrap()["type"], "session_revoked");
        close_code(&mut ws).await
    })
    .await;
    assert_eq!(closed.ok().flatten(), Some(4001), "the socket outlived its session");
    relay.stop().await;
}

/// Issue 32: one session opened hundreds of sockets. A session holds at
/// most `ws_per_session`; a newer one replaces the oldest (4002).
async fn sockets_per_session_are_capped(db: Db) {
    let mut config = fast_config();
    config.limits.ws_per_session = 2;
    let relay = TestRelay::start_with(db, config).await;
    let alice = relay.register("alice").await;
    // The relay orders sockets by when it registered them, which can come
    // after a later client's handshake: wait for each in turn.
    let mut first = connect(&relay, Some(&alice.token), 0).await.unwrap();
    eventually("one socket", || relay.state().hub.len() == 1).await;
    let _second = connect(&relay, Some(&alice.token), 0).await.unwrap();
    eventually("two sockets", || relay.state().hub.len() == 2).await;
    let _third = connect(&relay, Some(&alice.token), 0).await.unwrap();
    assert_eq!(close_code(&mut first).await, Some(4002));
    eventually("two sockets again", || relay.state().hub.len() == 2).await;
    let mut many = Vec::new();
    for _ in 0..20 {
        many.push(connect(&relay, Some(&alice.token), 0).await.unwrap());
    }
    eventually("still two sockets", || relay.state().hub.len() == 2).await;
    relay.stop().await;
}

/// Issue 32: a binary frame left the socket open; §9.6 closes anything but
/// an ack with 1003.
async fn binary_frames_close_with_1003(db: Db) {
    let relay = TestRelay::start(db).await;
    let alice = relay.register("alice").await;
    let mut ws = connect(&relay, Some(&alice.token), 0).await.unwrap();
    ws.send(Message::Binary(vec![1, 2, 3].into())).await.unwrap();
    assert_eq!(close_code(&mut ws).await, Some(1003));
    let mut ws = connect(&relay, Some(&alice.token), 0).await.unwrap();
    ws.send(Message::Text(r#"{"type":"subscribe"}"#.into())).await.unwrap();
    assert_eq!(close_code(&mut ws).await, Some(1003));
    relay.stop().await;
}

/// W1: the account's other sessions hear of a new login and of settings
/// changed elsewhere; the session that acted does not; a deleted account's
/// sockets are told, then closed (4003).
async fn account_events_reach_the_other_sessions(db: Db) {
    let relay = TestRelay::start(db).await;
    let alice = relay.register("alice").await;
    let bob = relay.register("bob").await;
    let mut ws = connect(&relay, Some(&alice.token), 0).await.unwrap();
    let mut bobs = connect(&relay, Some(&bob.token), 0).await.unwrap();
    eventually("sockets registered", || relay.state().hub.len() == 2).await;

    let mut login = alice.login_body(&relay.info.peer_id);
    login["user_agent"] = json!("the other laptop");
    let (_, second) = relay.post("/v1/sessions", None, login).await;
    let second_token = second["token"].as_str().unwrap().to_owned();
    let ev = next_event(&mut ws).await.unwrap();
    assert_eq!((ev["type"].as_str(), ev["topic"].as_str()), (Some("event"), Some("account")));
    assert_eq!(ev["kind"], "new_login");
    assert_eq!(ev["data"]["session_id"], second["session_id"]);
    assert_eq!(ev["data"]["device_peer_id"], alice.peer_id());
    assert_eq!(ev["data"]["user_agent"], "the other laptop");
    assert_eq!(ev["data"]["new_device"], false);
    assert!(ev["at"].as_i64().unwrap() > 0);

    // The second session's socket does not hear its own change.
    let mut own = connect(&relay, Some(&second_token), 0).await.unwrap();
    eventually("third socket", || relay.state().hub.len() == 3).await;
    let settings = json!({"display_name": "A", "about": "", "discoverable": false,
        "friend_policy": "nobody", "read_receipts": false});
    let (s, _) = relay
        .send(Method::PUT, "/v1/account/settings", Some(&second_token), Some(settings.clone()))
        .await;
    assert_eq!(s, StatusCode::OK);
    let ev = next_event(&mut ws).await.unwrap();
    assert_eq!(
        (ev["topic"].as_str(), ev["kind"].as_str()),
        (Some("account"), Some("settings_changed"))
    );
    assert_eq!(ev["data"]["settings"], settings);

    assert_eq!(relay.delete_account(&alice).await, StatusCode::NO_CONTENT);
    for socket in [&mut ws, &mut own] {
        let ev = next_event(socket).await.unwrap();
        assert_eq!(
            (ev["topic"].as_str(), ev["kind"].as_str()),
            (Some("account"), Some("deleted")),
            "{ev}"
        );
        assert_eq!(close_code(socket).await, Some(4003));
    }
    // Bob heard none of it.
    bobs.send(Message::Ping(Default::default())).await.unwrap();
    match tokio::time::timeout(WAIT, bobs.next()).await.unwrap() {
        Some(Ok(Message::Pong(_))) => {}
        other => panic!("bob got {other:?}"),
    }
    relay.stop().await;
}
