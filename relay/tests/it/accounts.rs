//! Registration, login, sessions, password, deletion, settings, avatars.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use kovan_crypto::identity::AccountKey;

use crate::both_backends;
use crate::harness::{Db, TestRelay, User, eventually, now_secs};

both_backends!(
    info_and_openapi,
    registration_rules,
    registration_race,
    login_sessions_and_logout,
    login_failures_are_uniform_and_rate_limited,
    password_change_and_account_deletion,
    settings_and_avatar,
    expired_sessions_are_refused,
);

async fn info_and_openapi(db: Db) {
    let relay = TestRelay::start(db).await;
    assert_eq!(relay.info.software, "kovan-relay");
    assert!(relay.info.peer_id.starts_with("12D3KooW"));
    eventually("p2p listen addresses", || !relay.state().multiaddrs.read().unwrap().is_empty())
        .await;
    let (_, info) = relay.get("/v1/info", None).await;
    let addrs = info["multiaddrs"].as_array().unwrap();
    assert!(addrs.iter().any(|a| a.as_str().unwrap().contains("/tcp/")), "{info}");

    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/relay-openapi.json"))
            .unwrap_or_default();
    assert!(
        committed == kovan_relay::openapi::json(),
        "spec/relay-openapi.json is stale: run `cargo run -p kovan-relay -- openapi > spec/relay-openapi.json`"
    );
    // The served document is the committed one, byte for byte (issue 32:
    // they differed, down to the version).
    let resp = relay.http.get(format!("{}/v1/openapi.json", relay.url)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.text().await.unwrap(), committed);
    let doc: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["info"]["version"], kovan_relay::openapi::VERSION);
    // What every operation shares is documented where it occurs.
    let mut ids = std::collections::HashSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let what = format!("{method} {path}");
            assert!(
                ids.insert(op["operationId"].as_str().unwrap().to_owned()),
                "{what}: id reused"
            );
            let responses = op["responses"].as_object().unwrap();
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                assert!(responses.contains_key("401"), "{what}: 401");
            }
            if let Some(content) = op["requestBody"]["content"].as_object() {
                for key in ["400", "408", "413"] {
                    assert!(responses.contains_key(key), "{what}: {key}");
                }
                for (ty, media) in content {
                    if ty != "application/json" {
                        assert_eq!(media["schema"]["format"], "binary", "{what}: {ty}");
                    }
                }
            }
            if let Some(r) = responses.get("429") {
                assert!(r["headers"]["Retry-After"].is_object(), "{what}: Retry-After");
            }
        }
    }
    relay.stop().await;
}

async fn registration_rules(db: Db) {
    let relay = TestRelay::start(db).await;
    let alice = relay.register("Alice").await;
    let (s, me) = relay.get("/v1/account", Some(&alice.token)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["username"], "alice");

    // Taken case-insensitively.
    let other = User::new("ALICE");
    let (s, body) =
        relay.post("/v1/accounts", None, other.register_body(&relay.info.peer_id)).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(body["code"], "username_taken");

    // A proof signed for another relay, or by another key, is refused.
    let bob = User::new("bob");
    let (s, body) =
        relay.post("/v1/accounts", None, bob.register_body("12D3KooWSomeOtherRelay")).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_signature")));
    let mut forged = bob.register_body(&relay.info.peer_id);
    forged["account_key"] =
        User::new("x").register_body(&relay.info.peer_id)["account_key"].clone();
    let (s, body) = relay.post("/v1/accounts", None, forged).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_certificate")));

    for (field, value, code) in [
        ("username", json!("ab"), "invalid_username"),
        ("username", json!("bad name"), "invalid_username"),
        ("password", json!("short"), "weak_password"),
        ("device_certificate", json!("!!notbase64"), "invalid_field"),
    ] {
        let mut body = bob.register_body(&relay.info.peer_id);
        body[field] = value;
        let (s, b) = relay.post("/v1/accounts", None, body).await;
        assert_eq!((s, b["code"].as_str()), (StatusCode::BAD_REQUEST, Some(code)), "{field}");
    }

    // Malformed and oversized JSON get clean errors.
    let (s, b) = relay
        .raw(Method::POST, "/v1/accounts", None, b"{not json".to_vec(), "application/json")
        .await;
    assert_eq!((s, b["code"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed_json")));
    let huge = format!("{{\"username\":\"{}\"}}", "a".repeat(100 * 1024));
    let (s, b) =
        relay.raw(Method::POST, "/v1/accounts", None, huge.into_bytes(), "application/json").await;
    assert_eq!((s, b["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")));

    let (s, _) = relay.post("/v1/accounts", None, bob.register_body(&relay.info.peer_id)).await;
    assert_eq!(s, StatusCode::CREATED);
    relay.stop().await;
}

async fn registration_race(db: Db) {
    let relay = TestRelay::start(db).await;
    let bodies: Vec<_> =
        (0..6).map(|_| User::new("contested").register_body(&relay.info.peer_id)).collect();
    let results = futures_util::future::join_all(
        bodies.into_iter().map(|b| relay.post("/v1/accounts", None, b)),
    )
    .await;
    let created = results.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    let conflicts = results.iter().filter(|(s, _)| *s == StatusCode::CONFLICT).count();
    assert_eq!((created, conflicts), (1, 5), "{results:?}");
    relay.stop().await;
}

async fn login_sessions_and_logout(db: Db) {
    let relay = TestRelay::start(db).await;
    let alice = relay.register("alice").await;
    let peer = relay.info.peer_id.clone();
    let login = |device: serde_json::Value| {
        let mut body = json!({"username": "ALICE", "password": alice.password,
            "user_agent": "second",
            "device_signature": alice.device_proof(&alice.device, &alice.cert, &peer)});
        body.as_object_mut().unwrap().extend(device.as_object().unwrap().clone());
        body
    };
    let (s, second) =
        relay.post("/v1/sessions", None, login(json!({"device_peer_id": alice.peer_id()}))).await;
    assert_eq!(s, StatusCode::OK, "{second}");
    let second_token = second["token"].as_str().unwrap().to_owned();

    // A new device joins by presenting a certificate from the account key.
    let laptop = kovan_crypto::identity::DeviceKeys::generate(&mut rand_core::OsRng);
    let cert = alice
        .account
        .certify(&laptop.public(), "laptop", crate::harness::now_secs() - 5, 3600)
        .unwrap();
    let b64 = B64.encode(cert.encoded());
    let proof = alice.device_proof(&laptop, &cert, &peer);
    let (s, third) = relay
        .post(
            "/v1/sessions",
            None,
            login(json!({"device_certificate": b64, "device_signature": proof})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{third}");
    assert_eq!(third["device_peer_id"], cert.peer_id().to_string());
    let (_, me) = relay.get("/v1/account", Some(&alice.token)).await;
    assert_eq!(me["devices"].as_array().unwrap().len(), 2);

    // A certificate from another account is refused; an unknown device too.
    let mallory = User::new("mallory");
    let b64 = B64.encode(mallory.cert.encoded());
    let (s, _) = relay.post("/v1/sessions", None, login(json!({"device_certificate": b64}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) =
        relay.post("/v1/sessions", None, login(json!({"device_peer_id": mallory.peer_id()}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let (s, list) = relay.get("/v1/sessions", Some(&alice.token)).await;
    assert_eq!(s, StatusCode::OK);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);

    // Revoke the second session from the first: refused at once.
    let id = second["session_id"].as_str().unwrap();
    let (s, _) =
        relay.send(Method::DELETE, &format!("/v1/sessions/{id}"), Some(&alice.token), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(relay.get("/v1/account", Some(&second_token)).await.0, StatusCode::UNAUTHORIZED);

    // Another account cannot revoke Alice's sessions (looks like not found).
    let bob = relay.register("bob").await;
    let third_id = third["session_id"].as_str().unwrap();
    let (s, _) = relay
        .send(Method::DELETE, &format!("/v1/sessions/{third_id}"), Some(&bob.token), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(
        relay.get("/v1/account", Some(third["token"].as_str().unwrap())).await.0,
        StatusCode::OK
    );

    // Logout revokes the calling session.
    let (s, _) = relay.send(Method::DELETE, "/v1/sessions/current", Some(&alice.token), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(relay.get("/v1/account", Some(&alice.token)).await.0, StatusCode::UNAUTHORIZED);
    for bad in ["", "garbage", &"x".repeat(500)] {
        assert_eq!(relay.get("/v1/account", Some(bad)).await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(relay.get("/v1/account", None).await.0, StatusCode::UNAUTHORIZED);
    relay.stop().await;
}

async fn login_failures_are_uniform_and_rate_limited(db: Db) {
    let mut config = crate::harness::fast_config();
    config.limits.login_failures_per_account_per_minute = 3;
    let relay = TestRelay::start_with(db, config).await;
    let alice = relay.register("alice").await;
    let attempt = |user: &str, pw: &str| {
        let mut body = alice.login_body(&relay.info.peer_id);
        body["username"] = json!(user);
        body["password"] = json!(pw);
        relay.post("/v1/sessions", None, body)
    };
    // Wrong password and unknown user: same status, same body, similar time.
    let t = Instant::now();
    let wrong = attempt("alice", "wrong password").await;
    let t_wrong = t.elapsed();
    let t = Instant::now();
    let unknown = attempt("nobody_here", "wrong password").await;
    let t_unknown = t.elapsed();
    assert_eq!(wrong, unknown);
    assert_eq!(wrong.0, StatusCode::UNAUTHORIZED);
    // Without the dummy hash an unknown user would answer ~100x faster.
    assert!(t_unknown * 3 > t_wrong, "unknown {t_unknown:?} vs wrong {t_wrong:?}");

    for _ in 0..2 {
        assert_eq!(attempt("alice", "wrong password").await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(attempt("nobody_here", "wrong password").await.0, StatusCode::UNAUTHORIZED);
    }
    // Locked out, even with the right password; the same for a missing user.
    assert_eq!(attempt("alice", &alice.password).await.0, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(attempt("nobody_here", "x").await.0, StatusCode::TOO_MANY_REQUESTS);
    // Other accounts are not affected.
    let bob = relay.register("bob").await;
    let ok = relay.post("/v1/sessions", None, bob.login_body(&relay.info.peer_id)).await;
    assert_eq!(ok.0, StatusCode::OK);
    relay.stop().await;
}

async fn password_change_and_account_deletion(db: Db) {
    let relay = TestRelay::start(db).await;
    let alice = relay.register("alice").await;
    let (_, second) = relay.post("/v1/sessions", None, alice.login_body(&relay.info.peer_id)).await;
    let second = second["token"].as_str().unwrap().to_owned();

    let (s, b) = relay
        .post(
            "/v1/account/password",
            Some(&alice.token),
            json!({"old_password": "not it at all", "new_password": "a new password"}),
        )
        .await;
    assert_eq!((s, b["code"].as_str()), (StatusCode::FORBIDDEN, Some("wrong_password")));
    let (s, _) = relay
        .post(
            "/v1/account/password",
            Some(&alice.token),
            json!({"old_password": alice.password, "new_password": "a new password"}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        relay.get("/v1/account", Some(&alice.token)).await.0,
        StatusCode::OK,
        "the changing session stays"
    );
    assert_eq!(
        relay.get("/v1/account", Some(&second)).await.0,
        StatusCode::UNAUTHORIZED,
        "others are revoked"
    );
    let login = |pw: &str| {
        let mut body = alice.login_body(&relay.info.peer_id);
        body["password"] = json!(pw);
        relay.post("/v1/sessions", None, body)
    };
    assert_eq!(login(&alice.password).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(login("a new password").await.0, StatusCode::OK);

    // Deletion removes directory entry, mailbox, key packages and sessions.
    let bob = relay.register("bob").await;
    let (s, _) = relay
        .post("/v1/keypackages", Some(&alice.token), json!({"key_packages": [alice.key_package()]}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(relay.put_envelope(&bob, &alice, b"hi").await.0, StatusCode::ACCEPTED);
    let (s, _) = relay
        .send(
            Method::DELETE,
            "/v1/account",
            Some(&alice.token),
            Some(json!({"password": "wrong wrong"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = relay
        .send(
            Method::DELETE,
            "/v1/account",
            Some(&alice.token),
            Some(json!({"password": "a new password"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(relay.get("/v1/account", Some(&alice.token)).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(relay.get("/v1/users/alice", None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(relay.put_envelope(&bob, &alice, b"hi again").await.0, StatusCode::NOT_FOUND);
    let (s, _) =
        relay.post(&format!("/v1/keypackages/{}/claim", alice.peer_id()), None, json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The name is free again.
    let again = User::new("alice");
    assert_eq!(
        relay.post("/v1/accounts", None, again.register_body(&relay.info.peer_id)).await.0,
        StatusCode::CREATED
    );
    relay.stop().await;
}

async fn settings_and_avatar(db: Db) {
    let relay = TestRelay::start(db).await;
    let alice = relay.register("alice").await;
    let settings = json!({"display_name": "Alice Ö.", "about": "hello", "discoverable": false, "friend_policy": "link", "read_receipts": false});
    let (s, back) = relay
        .send(Method::PUT, "/v1/account/settings", Some(&alice.token), Some(settings.clone()))
        .await;
    assert_eq!((s, &back), (StatusCode::OK, &settings));
    let (_, me) = relay.get("/v1/account", Some(&alice.token)).await;
    assert_eq!(me["settings"], settings);
    let mut bad = settings.clone();
    bad["friend_policy"] = json!("anyone");
    assert_eq!(
        relay.send(Method::PUT, "/v1/account/settings", Some(&alice.token), Some(bad)).await.0,
        StatusCode::BAD_REQUEST
    );
    let mut bad = settings.clone();
    bad["display_name"] = json!("x".repeat(65));
    assert_eq!(
        relay.send(Method::PUT, "/v1/account/settings", Some(&alice.token), Some(bad)).await.0,
        StatusCode::BAD_REQUEST
    );

    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR fake but typed".to_vec();
    let (s, _) = relay
        .raw(Method::PUT, "/v1/account/avatar", Some(&alice.token), png.clone(), "image/png")
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let resp = relay.http.get(format!("{}/v1/users/alice/avatar", relay.url)).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(resp.bytes().await.unwrap().to_vec(), png);
    let (s, b) = relay
        .raw(
            Method::PUT,
            "/v1/account/avatar",
            Some(&alice.token),
            b"<svg onload=alert(1)>".to_vec(),
            "image/png",
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_image"))
    );
    let mut big = b"\xff\xd8\xff".to_vec();
    big.resize(256 * 1024 + 1, 0);
    let (s, _) =
        relay.raw(Method::PUT, "/v1/account/avatar", Some(&alice.token), big, "image/jpeg").await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    let (s, _) = relay.send(Method::DELETE, "/v1/account/avatar", Some(&alice.token), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(relay.get("/v1/users/alice/avatar", None).await.0, StatusCode::NOT_FOUND);
    relay.stop().await;
}

async fn expired_sessions_are_refused(db: Db) {
    let mut config = crate::harness::fast_config();
    config.limits.session_ttl_secs = 1;
    let relay = TestRelay::start_with(db, config).await;
    let alice = relay.register("alice").await;
    assert_eq!(relay.get("/v1/account", Some(&alice.token)).await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(relay.get("/v1/account", Some(&alice.token)).await.0, StatusCode::UNAUTHORIZED);
    relay.stop().await;
}

both_backends!(every_endpoint_refuses_bad_auth_and_bad_bodies);

/// Every authenticated endpoint refuses missing and revoked tokens; every
/// JSON endpoint refuses malformed and oversized bodies with a JSON error.
async fn every_endpoint_refuses_bad_auth_and_bad_bodies(db: Db) {
    let relay = TestRelay::start(db).await;
    let alice = relay.register("alice").await;
    let (_, revoked) =
        relay.post("/v1/sessions", None, alice.login_body(&relay.info.peer_id)).await;
    let revoked = revoked["token"].as_str().unwrap().to_owned();
    relay.send(Method::DELETE, "/v1/sessions/current", Some(&revoked), None).await;

    let authed: &[(Method, &str)] = &[
        (Method::GET, "/v1/account"),
        (Method::DELETE, "/v1/account"),
        (Method::PUT, "/v1/account/settings"),
        (Method::POST, "/v1/account/password"),
        (Method::PUT, "/v1/account/avatar"),
        (Method::DELETE, "/v1/account/avatar"),
        (Method::GET, "/v1/sessions"),
        (Method::DELETE, "/v1/sessions/current"),
        (Method::DELETE, "/v1/sessions/abc"),
        (Method::GET, "/v1/keypackages"),
        (Method::POST, "/v1/keypackages"),
        (Method::GET, "/v1/mailbox"),
        (Method::POST, "/v1/mailbox/ack"),
        (Method::GET, "/v1/ws"),
    ];
    for (method, path) in authed {
        for token in [None, Some(revoked.as_str()), Some("not-a-token")] {
            let (s, body) = relay.send(method.clone(), path, token, Some(json!({}))).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{method} {path} with {token:?}");
            assert_eq!(body["code"], "unauthorized", "{method} {path}");
        }
    }

    let json_bodies: &[(Method, &str, bool)] = &[
        (Method::POST, "/v1/accounts", false),
        (Method::POST, "/v1/sessions", false),
        (Method::PUT, "/v1/account/settings", true),
        (Method::POST, "/v1/account/password", true),
        (Method::DELETE, "/v1/account", true),
        (Method::POST, "/v1/keypackages", true),
        (Method::POST, "/v1/mailbox/ack", true),
    ];
    for (method, path, auth) in json_bodies {
        let token = auth.then_some(alice.token.as_str());
        for bad in [&b"{\"truncated\": "[..], b"[1,2,3]", b"{\"seqs\": \"x\", \"password\": 7}"] {
            let (s, body) =
                relay.raw(method.clone(), path, token, bad.to_vec(), "application/json").await;
            assert_eq!(
                s,
                StatusCode::BAD_REQUEST,
                "{method} {path} {:?}",
                String::from_utf8_lossy(bad)
            );
            assert_eq!(body["code"], "malformed_json", "{method} {path}");
        }
        // Just over each route's limit (a far larger body is cut off by the
        // server before the client finishes sending, as HTTP servers do).
        let limit = if *path == "/v1/keypackages" { 2_200_000 } else { 64 * 1024 };
        let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(limit + 1024));
        let mut req = relay
            .http
            .request(method.clone(), format!("{}{path}", relay.url))
            .header("content-type", "application/json")
            .body(huge);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        match req.send().await {
            Ok(resp) => assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE, "{method} {path}"),
            Err(e) => assert!(e.is_request() && *path == "/v1/keypackages", "{method} {path}: {e}"),
        }
    }
    // The account still works after all that.
    assert_eq!(relay.get("/v1/account", Some(&alice.token)).await.0, StatusCode::OK);
    relay.stop().await;
}

both_backends!(
    peer_ids_cannot_be_squatted,
    keys_names_and_devices_are_unique,
    expired_certificates_cannot_log_in,
);

/// Issue 32: registering someone else's p2p key under one's own account
/// took their PeerId, and so their mailbox. The device's proof of its p2p
/// key stops it, and the victim registers.
async fn peer_ids_cannot_be_squatted(db: Db) {
    let relay = TestRelay::start(db).await;
    let peer = relay.info.peer_id.clone();
    let victim = User::new("victim");
    let mut mallory = User::new("mallory");
    let mut keys = mallory.device.public();
    keys.p2p = victim.device.public().p2p;
    mallory.cert = mallory.account.certify(&keys, "stolen", now_secs() - 10, 3600).unwrap();
    assert_eq!(mallory.peer_id(), victim.peer_id());
    // Mallory can sign everything but the proof of the victim's p2p key.
    let (s, body) = relay.post("/v1/accounts", None, mallory.register_body(&peer)).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_device_signature")));
    let (s, body) = relay.post("/v1/accounts", None, victim.register_body(&peer)).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");

    // Nor can a login add the victim's device to another account, or a
    // password alone open a session for a device.
    let mallory = relay.register("mallory").await;
    let mut keys = mallory.device.public();
    keys.p2p = victim.device.public().p2p;
    let stolen = mallory.account.certify(&keys, "stolen", now_secs() - 10, 3600).unwrap();
    let login = mallory.cert_login_body(&peer, &mallory.device, &stolen);
    let (s, body) = relay.post("/v1/sessions", None, login).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_device_signature")));
    let mut login = victim.login_body(&peer);
    login["device_signature"] = json!(B64.encode([7u8; 64]));
    let (s, body) = relay.post("/v1/sessions", None, login).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_device_signature")));
    // A proof made for another relay does not do either.
    let (s, _) = relay.post("/v1/sessions", None, victim.login_body("12D3KooWOther")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = relay.post("/v1/sessions", None, victim.login_body(&peer)).await;
    assert_eq!(s, StatusCode::OK);

    // Mail for the victim's PeerId reaches the victim.
    let (_, session) = relay.post("/v1/sessions", None, victim.login_body(&peer)).await;
    let victim = victim.with_token(session["token"].as_str().unwrap());
    let (s, _, _) = relay.put_envelope(&mallory, &victim, b"for the victim").await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let (_, items) = relay.get("/v1/mailbox", Some(&victim.token)).await;
    assert_eq!(items["items"].as_array().unwrap().len(), 1);
    relay.stop().await;
}

/// Usernames, account keys and devices (PeerIds) are unique, and each
/// collision has its own code.
async fn keys_names_and_devices_are_unique(db: Db) {
    let relay = TestRelay::start(db).await;
    let peer = relay.info.peer_id.clone();
    let alice = relay.register("alice").await;
    // The same account key under another name.
    let mut again = User::new("alice2");
    again.account = AccountKey::from_seed(alice.account.seed());
    again.cert = again.account.certify(&again.device.public(), "x", now_secs() - 10, 3600).unwrap();
    let (s, body) = relay.post("/v1/accounts", None, again.register_body(&peer)).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::CONFLICT, Some("account_key_taken")));
    // The same device (its holder) under another account.
    let mut twice = User::new("bob");
    twice.device = alice.device.clone();
    twice.cert = twice.account.certify(&twice.device.public(), "x", now_secs() - 10, 3600).unwrap();
    let (s, body) = relay.post("/v1/accounts", None, twice.register_body(&peer)).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::CONFLICT, Some("device_taken")));
    let (s, body) = relay.post("/v1/accounts", None, User::new("Alice").register_body(&peer)).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::CONFLICT, Some("username_taken")));
    // Bob, registered, cannot add Alice's device by logging in either.
    let bob = relay.register("bob").await;
    let cert = bob.account.certify(&alice.device.public(), "x", now_secs() - 10, 3600).unwrap();
    let login = bob.cert_login_body(&peer, &alice.device, &cert);
    let (s, body) = relay.post("/v1/sessions", None, login).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::CONFLICT, Some("device_taken")));
    relay.stop().await;
}

/// A device whose certificate expired cannot log in by its PeerId; a
/// login with a new certificate of the same device replaces the stored one.
async fn expired_certificates_cannot_log_in(db: Db) {
    let relay = TestRelay::start(db).await;
    let peer = relay.info.peer_id.clone();
    let mut alice = User::new("alice");
    alice.cert =
        alice.account.certify(&alice.device.public(), "short", now_secs() - 10, 12).unwrap();
    let (s, _) = relay.post("/v1/accounts", None, alice.register_body(&peer)).await;
    assert_eq!(s, StatusCode::CREATED);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (s, body) = relay.post("/v1/sessions", None, alice.login_body(&peer)).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("certificate_expired")));
    // Presenting the expired certificate does not do either.
    let mut login = alice.login_body(&peer);
    login["device_certificate"] = json!(B64.encode(alice.cert.encoded()));
    let (s, body) = relay.post("/v1/sessions", None, login).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("certificate_expired")));
    // A renewed certificate logs in and replaces it.
    alice.cert =
        alice.account.certify(&alice.device.public(), "renewed", now_secs() - 1, 3600).unwrap();
    let mut login = alice.login_body(&peer);
    login["device_certificate"] = json!(B64.encode(alice.cert.encoded()));
    let (s, body) = relay.post("/v1/sessions", None, login).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, _) = relay.post("/v1/sessions", None, alice.login_body(&peer)).await;
    assert_eq!(s, StatusCode::OK);
    let (_, me) = relay.get("/v1/account", Some(body["token"].as_str().unwrap())).await;
    assert_eq!(me["devices"][0]["certificate"], json!(B64.encode(alice.cert.encoded())));
    relay.stop().await;
}

both_backends!(ip_limits_ignore_untrusted_forwarded_for);

/// Rotating `X-Forwarded-For` does not escape the per-IP login limit unless
/// the operator trusts the proxy sending it.
async fn ip_limits_ignore_untrusted_forwarded_for(db: Db) {
    let mut config = crate::harness::fast_config();
    config.limits.logins_per_ip_per_minute = 3;
    let relay = TestRelay::start_with(db, config).await;
    let login = |xff: String| {
        let req = relay
            .http
            .post(format!("{}/v1/sessions", relay.url))
            .header("x-forwarded-for", xff)
            .json(&json!({"username": "nobody", "password": "whatever1", "device_peer_id": "x", "device_signature": ""}));
        async move { req.send().await.unwrap().status() }
    };
    let mut statuses = Vec::new();
    for i in 0..5 {
        statuses.push(login(format!("203.0.113.{i}")).await);
    }
    assert_eq!(&statuses[..3], &[StatusCode::UNAUTHORIZED; 3]);
    assert_eq!(&statuses[3..], &[StatusCode::TOO_MANY_REQUESTS; 2], "{statuses:?}");
    relay.stop().await;

    // Behind a trusted proxy, the forwarded address is the client.
    let headers = |v: &str| {
        let mut h = axum::http::HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap());
        h
    };
    let proxy: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    let client: std::net::IpAddr = "203.0.113.7".parse().unwrap();
    let ip = |peer: std::net::IpAddr, h: &axum::http::HeaderMap, trusted: &[std::net::IpAddr]| {
        kovan_relay::http::client_ip(peer, h, trusted)
    };
    assert_eq!(ip(proxy, &headers("203.0.113.7"), &[proxy]), client);
    assert_eq!(
        ip(proxy, &headers("198.51.100.1, 203.0.113.7"), &[proxy]),
        client,
        "right-most untrusted hop"
    );
    assert_eq!(
        ip(proxy, &headers("203.0.113.7"), &[]),
        proxy,
        "untrusted peers' headers are ignored"
    );
    assert_eq!(ip(proxy, &headers("garbage"), &[proxy]), proxy);
}
