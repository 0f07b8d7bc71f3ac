//! The HTTP server's protections (issue 32): timeouts for headers, bodies
//! and idle connections; connection caps; bodies refused before they are
//! read; JSON errors everywhere; `Retry-After`; lookups rate-limited alike.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::both_backends;
use crate::harness::{Db, TestRelay, fast_config};

both_backends!(
    slow_headers_and_idle_connections_are_closed,
    slow_bodies_get_408,
    oversized_bodies_are_refused_before_they_are_read,
    connections_are_capped_per_address_and_in_all,
    errors_are_json_and_429_says_when,
    the_avatar_lookup_is_rate_limited_like_the_profile,
);

fn addr(relay: &TestRelay) -> SocketAddr {
    relay.relay.as_ref().unwrap().addr
}

/// A TCP connection to the relay from `from` (another loopback address
/// counts as another client).
async fn dial(relay: &TestRelay, from: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(addr(relay)).await.unwrap()
}

/// Reads until the peer closes (or `within` passes): what arrived, and
/// whether it closed.
async fn read_to_close(stream: &mut TcpStream, within: Duration) -> (String, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&out).into(), true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&out).into(), false),
        }
    }
}

/// Issue 32: slow-header and idle connections stayed open indefinitely.
async fn slow_headers_and_idle_connections_are_closed(db: Db) {
    let mut config = fast_config();
    config.limits.header_timeout_secs = 1;
    let relay = TestRelay::start_with(db, config).await;
    let mut slow = dial(&relay, "127.0.0.1").await;
    slow.write_all(b"GET /v1/info HTTP/1.1\r\nHost: relay\r\n").await.unwrap();
    let (_, closed) = read_to_close(&mut slow, Duration::from_secs(4)).await;
    assert!(closed, "a connection that never finished its headers stayed open");
    // A kept-alive connection that goes quiet after a request is closed too.
    let mut idle = dial(&relay, "127.0.0.1").await;
    idle.write_all(b"GET /v1/info HTTP/1.1\r\nHost: relay\r\n\r\n").await.unwrap();
    let (text, closed) = read_to_close(&mut idle, Duration::from_secs(4)).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(closed, "an idle kept-alive connection stayed open");
    relay.stop().await;
}

/// Issue 32: a body trickled in stayed open; it gets 408 once it is too
/// slow, and the connection closes.
async fn slow_bodies_get_408(db: Db) {
    let mut config = fast_config();
    config.limits.body_timeout_secs = 1;
    let relay = TestRelay::start_with(db, config).await;
    let mut slow = dial(&relay, "127.0.0.1").await;
    slow.write_all(
        b"POST /v1/sessions HTTP/1.1\r\nHost: relay\r\ncontent-type: application/json\r\n\
          content-length: 100\r\n\r\n{\"user",
    )
    .await
    .unwrap();
    let t = Instant::now();
    let (text, closed) = read_to_close(&mut slow, Duration::from_secs(5)).await;
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("body_timeout") && text.contains("connection: close"), "{text}");
    assert!(closed && t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    relay.stop().await;
}

/// Issue 32: `Content-Length: 10 GiB` was read instead of refused. Every
/// route refuses a length over its limit with 413 before reading a byte of
/// the body (a blob upload: over what the blob still takes).
async fn oversized_bodies_are_refused_before_they_are_read(db: Db) {
    let relay = TestRelay::start(db).await;
    let alice = relay.register("alice").await;
    let (_, blob) = relay.post("/v1/blobs", Some(&alice.token), json!({"size": 1000})).await;
    let blob = blob["id"].as_str().unwrap().to_owned();
    let ten_gib = 10u64 << 30;
    let auth = format!("authorization: Bearer {}\r\n", alice.token);
    for (method, path, extra) in [
        ("POST", "/v1/accounts".to_owned(), String::new()),
        ("POST", "/v1/sessions".to_owned(), String::new()),
        ("PUT", "/v1/account/avatar".to_owned(), auth.clone()),
        ("POST", format!("/v1/mailbox/{}", alice.peer_id()), String::new()),
        ("POST", "/v1/keypackages".to_owned(), auth.clone()),
        ("PATCH", format!("/v1/blobs/{blob}"), format!("{auth}upload-offset: 0\r\n")),
    ] {
        let mut s = dial(&relay, "127.0.0.1").await;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: relay\r\ncontent-type: application/json\r\n\
             {extra}content-length: {ten_gib}\r\n\r\n"
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let (text, _) = read_to_close(&mut s, Duration::from_secs(3)).await;
        assert!(text.starts_with("HTTP/1.1 413"), "{method} {path}: {text}");
        assert!(text.contains("\"too_large\""), "{method} {path}: {text}");
    }
    // The blob is untouched.
    let (_, info) = relay.get(&format!("/v1/blobs/{blob}/info"), None).await;
    assert_eq!(info["received"], 0);
    relay.stop().await;
}

/// Issue 32: ~1,100 idle connections from one address exhausted the
/// descriptors. The limit is raised at start, one address gets at most
/// `connections_per_ip` (429), and the relay sheds load (503) before it
/// runs out.
async fn connections_are_capped_per_address_and_in_all(db: Db) {
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    let mut config = fast_config();
    config.limits.connections_per_ip = 3;
    config.limits.max_connections = 5;
    let relay = TestRelay::start_with(db, config).await;
    let (soft_after, _) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    assert!(soft_after >= soft && soft_after == hard, "{soft} → {soft_after} (hard {hard})");

    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(dial(&relay, "127.0.0.1").await);
    }
    let mut fourth = dial(&relay, "127.0.0.1").await;
    let (text, closed) = read_to_close(&mut fourth, Duration::from_secs(3)).await;
    assert!(text.starts_with("HTTP/1.1 429") && closed, "{text}");
    assert!(text.contains("too_many_connections"), "{text}");
    // Another address still gets in, until the relay is full.
    for from in ["127.0.0.2", "127.0.0.3"] {
        held.push(dial(&relay, from).await);
    }
    let mut sixth = dial(&relay, "127.0.0.4").await;
    let (text, closed) = read_to_close(&mut sixth, Duration::from_secs(3)).await;
    assert!(text.starts_with("HTTP/1.1 503") && closed, "{text}");
    // Closing frees the slots.
    held.clear();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(relay.get("/v1/info", None).await.0, StatusCode::OK);
    relay.stop().await;
}

/// Issue 32: query errors came back as text/plain, 429s without
/// `Retry-After`, and a lowercase `bearer` was refused.
async fn errors_are_json_and_429_says_when(db: Db) {
    let mut config = fast_config();
    config.limits.lookups_per_ip_per_minute = 2;
    let relay = TestRelay::start_with(db, config).await;
    let alice = relay.register("alice").await;
    for (path, auth) in [
        ("/v1/mailbox?after=abc", true),
        ("/v1/mailbox?limit=1.5", true),
        ("/v1/directory?q=a&limit=x", false),
        ("/v1/directory", false),
    ] {
        let mut req = relay.http.get(format!("{}{path}", relay.url));
        if auth {
            req = req.bearer_auth(&alice.token);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(resp.headers()["content-type"], "application/json", "{path}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "invalid_query", "{path}");
    }
    let (s, body) = relay.get("/v1/nowhere", None).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (s, body) = relay.send(Method::PATCH, "/v1/info", None, None).await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
    );

    for scheme in ["bearer", "BEARER", "Bearer  "] {
        let resp = relay
            .http
            .get(format!("{}/v1/account", relay.url))
            .header("authorization", format!("{scheme} {}", alice.token))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{scheme:?}");
    }

    // The lookup limit used up: 429 with Retry-After.
    let mut last = None;
    for _ in 0..3 {
        last = Some(relay.http.get(format!("{}/v1/users/alice", relay.url)).send().await.unwrap());
    }
    let last = last.unwrap();
    assert_eq!(last.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = last.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    relay.stop().await;
}

/// Issue 32: while `/v1/users/NAME` answered 429, its avatar kept
/// answering: an unthrottled existence check. Both take the same limiter
/// and answer for the same accounts.
async fn the_avatar_lookup_is_rate_limited_like_the_profile(db: Db) {
    let mut config = fast_config();
    config.limits.lookups_per_ip_per_minute = 3;
    let relay = TestRelay::start_with(db, config).await;
    let alice = relay.register("alice").await;
    let settings = json!({"display_name": "", "about": "", "discoverable": false,
        "friend_policy": "everyone", "read_receipts": true});
    relay.send(Method::PUT, "/v1/account/settings", Some(&alice.token), Some(settings)).await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let (s, _) =
        relay.raw(Method::PUT, "/v1/account/avatar", Some(&alice.token), png, "image/png").await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // A non-discoverable account is found by its exact name, profile and
    // avatar alike (discoverable governs search only, SPEC.md §9.9).
    assert_eq!(relay.get("/v1/users/alice", None).await.0, StatusCode::OK);
    let avatar = |name: &str| {
        let url = format!("{}/v1/users/{name}/avatar", relay.url);
        let http = relay.http.clone();
        async move { http.get(url).send().await.unwrap().status() }
    };
    assert_eq!(avatar("alice").await, StatusCode::OK);
    assert_eq!(avatar("nobody_here").await, StatusCode::NOT_FOUND);
    assert_eq!(avatar("alice").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(relay.get("/v1/users/alice", None).await.0, StatusCode::TOO_MANY_REQUESTS);
    relay.stop().await;
}
