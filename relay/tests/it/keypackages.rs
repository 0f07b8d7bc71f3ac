//! KeyPackage upload and claim.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::harness::{Db, TestRelay};

both_backends!(upload_claim_and_last_resort);

async fn upload_claim_and_last_resort(db: Db) {
    let relay = TestRelay::start(db).await;
    let alice = relay.register("alice").await;
    let bob = relay.register("bob").await;
    let kps: Vec<String> = (0..3).map(|_| alice.key_package()).collect();
    let last = alice.last_resort_key_package();

    // Garbage, and a package of another device, are refused.
    let (s, b) =
        relay.post("/v1/keypackages", Some(&alice.token), json!({"key_packages": ["AAAA"]})).await;
    assert_eq!((s, b["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_key_package")));
    let (s, b) = relay
        .post("/v1/keypackages", Some(&alice.token), json!({"key_packages": [bob.key_package()]}))
        .await;
    assert_eq!((s, b["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_key_package")));
    let (s, _) = relay.post("/v1/keypackages", None, json!({"key_packages": kps})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // SPEC.md §2.6: packages that lack kovan's capabilities, live longer
    // than 90 days, or are marked last-resort in the wrong slot (or not
    // in the right one) are refused.
    use openmls::prelude::{KeyPackage, Lifetime};
    let bare = alice.key_package_from(KeyPackage::builder());
    let year = alice.key_package_from(
        KeyPackage::builder()
            .leaf_node_capabilities(crate::harness::kovan_capabilities())
            .key_package_lifetime(Lifetime::new(365 * 24 * 3600)),
    );
    for body in [
        json!({"key_packages": [bare]}),
        json!({"key_packages": [year]}),
        json!({"key_packages": [alice.last_resort_key_package()]}),
        json!({"key_packages": [], "last_resort": alice.key_package()}),
    ] {
        let (s, b) = relay.post("/v1/keypackages", Some(&alice.token), body.clone()).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_key_package")),
            "{body}: {b}"
        );
    }

    let (s, count) = relay
        .post(
            "/v1/keypackages",
            Some(&alice.token),
            json!({"key_packages": kps, "last_resort": last}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{count}");
    assert_eq!(count, json!({"remaining": 3, "last_resort": true}));

    // Alice's device listens for "upload more" events.
    let url = format!("{}/v1/ws", relay.url.replace("http://", "ws://"));
    let mut req =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url)
            .unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {}", alice.token).parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    crate::harness::eventually("socket registered", || relay.state().hub.len() == 1).await;

    let claim_path = format!("/v1/keypackages/{}/claim", alice.peer_id());
    let claim = || relay.post(&claim_path, None, json!({}));
    let mut got = Vec::new();
    for _ in 0..3 {
        let (s, c) = claim().await;
        assert_eq!((s, c["last_resort"].as_bool()), (StatusCode::OK, Some(false)));
        got.push(c["key_package"].as_str().unwrap().to_owned());
    }
    got.sort();
    let mut want = kps.clone();
    want.sort();
    assert_eq!(got, want, "each package handed out exactly once");
    for _ in 0..2 {
        let (s, c) = claim().await;
        assert_eq!((s, c["last_resort"].as_bool()), (StatusCode::OK, Some(true)));
        assert_eq!(c["key_package"], last);
    }
    // Every claim left fewer than 10: the owner was told each time.
    use futures_util::StreamExt;
    for _ in 0..3 {
        let msg =
            tokio::time::timeout(crate::harness::WAIT, ws.next()).await.unwrap().unwrap().unwrap();
        let ev: serde_json::Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
        assert_eq!(ev["type"], "key_packages_low");
    }
    let (_, count) = relay.get("/v1/keypackages", Some(&alice.token)).await;
    assert_eq!(count, json!({"remaining": 0, "last_resort": true}));
    let (s, _) = relay.post("/v1/keypackages/12D3KooWNobody/claim", None, json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    relay.stop().await;
}

both_backends!(duplicates_are_refused);

/// Issue 32: the same KeyPackage uploaded three times was stored and handed
/// out three times. A duplicate upload is refused with 409 and nothing of
/// it is stored.
async fn duplicates_are_refused(db: Db) {
    let relay = TestRelay::start(db).await;
    let alice = relay.register("alice").await;
    let kp = alice.key_package();
    let upload = |kps: Vec<String>| {
        relay.post("/v1/keypackages", Some(&alice.token), json!({ "key_packages": kps }))
    };
    let (s, body) = upload(vec![kp.clone(), kp.clone(), kp.clone()]).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::CONFLICT, Some("duplicate_key_package")));
    let (s, _) = upload(vec![kp.clone()]).await;
    assert_eq!(s, StatusCode::OK);
    let (s, body) = upload(vec![alice.key_package(), kp.clone()]).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::CONFLICT, Some("duplicate_key_package")));
    let (_, count) = relay.get("/v1/keypackages", Some(&alice.token)).await;
    assert_eq!(count["remaining"], 1);
    let claim = format!("/v1/keypackages/{}/claim", alice.peer_id());
    assert_eq!(relay.post(&claim, None, json!({})).await.0, StatusCode::OK);
    assert_eq!(relay.post(&claim, None, json!({})).await.0, StatusCode::NOT_FOUND);
    relay.stop().await;
}
