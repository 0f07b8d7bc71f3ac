//! Every relay route's request handling on arbitrary input, against a real
//! relay (SQLite in a temporary directory) with one registered account.
//! The input picks a route, whether the request carries that account's
//! token, a garbage token or none, a path parameter and a body. Invariants:
//! nothing panics, no request ends in a 5xx (bad input is a 4xx with a
//! code), every answer is bounded, and the relay answers `/v1/info` after.
#![no_main]

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

#[path = "common/mod.rs"]
mod common;

fn world() -> &'static common::RelayWorld {
    static W: OnceLock<common::RelayWorld> = OnceLock::new();
    W.get_or_init(|| common::RelayWorld::start(true))
}

/// Every route (method, path with `{}` for its parameter).
const ROUTES: &[(Method, &str)] = &[
    (Method::GET, "/v1/info"),
    (Method::POST, "/v1/accounts"),
    (Method::POST, "/v1/sessions"),
    (Method::GET, "/v1/sessions"),
    (Method::DELETE, "/v1/sessions/{}"),
    (Method::GET, "/v1/account"),
    (Method::POST, "/v1/account/password"),
    (Method::PUT, "/v1/account/settings"),
    (Method::PUT, "/v1/account/avatar"),
    (Method::GET, "/v1/users/{}"),
    (Method::GET, "/v1/users/{}/avatar"),
    (Method::GET, "/v1/directory?q={}"),
    (Method::GET, "/v1/keypackages"),
    (Method::POST, "/v1/keypackages"),
    (Method::POST, "/v1/keypackages/{}/claim"),
    (Method::GET, "/v1/mailbox?after={}"),
    (Method::POST, "/v1/mailbox/ack"),
    (Method::POST, "/v1/mailbox/{}"),
    (Method::POST, "/v1/blobs"),
    (Method::PATCH, "/v1/blobs/{}"),
    (Method::GET, "/v1/blobs/{}"),
    (Method::GET, "/v1/blobs/{}/info"),
    (Method::DELETE, "/v1/blobs/{}"),
    (Method::DELETE, "/v1/sessions/current"),
    (Method::POST, "/v1/communities/actions"),
    (Method::POST, "/v1/trustee"),
    (Method::GET, "/v1/trustee/{}"),
    (Method::GET, "/v1/communities?q={}"),
    (Method::GET, "/v1/communities/joined"),
    (Method::GET, "/v1/communities/{}"),
    (Method::GET, "/v1/communities/{}/posts?sort=top"),
    (Method::GET, "/v1/communities/{}/search?q={}"),
    (Method::GET, "/v1/communities/{}/modlog"),
    (Method::GET, "/v1/communities/{}/reports"),
    (Method::GET, "/v1/communities/{}/requests"),
    (Method::GET, "/v1/community-feed?sort={}"),
    (Method::GET, "/v1/community-items/{}"),
    (Method::GET, "/v1/community-items/{}/comments?after={}"),
    (Method::GET, "/v1/community-items/{}/edits"),
    (Method::GET, "/v1/ws"),
    (Method::GET, "/v1/openapi.json"),
];

/// Answers larger than this are a bug (the largest is the OpenAPI document).
const MAX_ANSWER: usize = 4 * 1024 * 1024;

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let w = world();
    let (method, route) = &ROUTES[usize::from(data[0]) % ROUTES.len()];
    let auth = data[1] % 3;
    let plen = usize::from(data[2] % 48).min(data.len() - 3);
    let (param, body) = data[3..].split_at(plen);
    // The parameter: this account's device (so owner-only paths are
    // reached), or fuzz bytes made URL-safe.
    let param = if param.first() == Some(&0) {
        w.peer.clone()
    } else {
        param.iter().map(|b| format!("%{b:02X}")).collect()
    };
    let uri = route.replace("{}", &param);
    let mut req = Request::builder().method(method.clone()).uri(&uri);
    match auth {
        0 => {}
        1 => req = req.header("authorization", format!("Bearer {}", w.token)),
        _ => {
            req =
                req.header("authorization", format!("Bearer {}", hex(&body[..body.len().min(40)])))
        }
    }
    let content_type =
        if route.contains("avatar") || route.contains("mailbox/{}") || route.contains("blobs") {
            "application/octet-stream"
        } else {
            "application/json"
        };
    let Ok(mut req) = req.header("content-type", content_type).body(Body::from(body.to_vec()))
    else {
        return;
    };
    // A client address per input: handlers that rate-limit see many clients.
    let ip = [10, data[0], data[1], data[2]];
    req.extensions_mut().insert(ConnectInfo(SocketAddr::from((ip, 40_000))));
    let app = kovan_relay::router::routes().with_state(w.relay.state.clone());
    w.rt.block_on(async {
        let Ok(resp) = app.oneshot(req).await;
        let status = resp.status();
        assert!(!status.is_server_error(), "{method} {uri} answered {status}");
        let bytes = axum::body::to_bytes(resp.into_body(), MAX_ANSWER).await;
        assert!(bytes.is_ok(), "{method} {uri}: answer over {MAX_ANSWER} bytes");
        // The relay still serves.
        let mut probe = Request::new(Body::empty());
        *probe.uri_mut() = axum::http::Uri::from_static("/v1/info");
        probe.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 1))));
        let app = kovan_relay::router::routes().with_state(w.relay.state.clone());
        let Ok(info) = app.oneshot(probe).await;
        assert_eq!(info.status(), StatusCode::OK);
    });
});

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
