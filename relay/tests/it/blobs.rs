//! The blob store (SPEC.md §9.8): reserve, upload in parts (an interrupted
//! upload resumes at the stored offset), download whole or by range,
//! quotas, size limits, ownership, deletion — on both backends.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::{TestRelay, fast_config};

both_backends!(upload_in_parts_then_download_whole_and_by_range, quotas_sizes_and_ownership);

async fn patch(
    relay: &TestRelay,
    token: &str,
    id: &str,
    offset: i64,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let resp = relay
        .http
        .request(Method::PATCH, format!("{}/v1/blobs/{id}", relay.url))
        .bearer_auth(token)
        .header("upload-offset", offset.to_string())
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn download(relay: &TestRelay, id: &str, range: Option<&str>) -> (StatusCode, Vec<u8>) {
    let mut req = relay.http.get(format!("{}/v1/blobs/{id}", relay.url));
    if let Some(r) = range {
        req = req.header("range", r);
    }
    let resp = req.send().await.unwrap();
    (resp.status(), resp.bytes().await.unwrap().to_vec())
}

async fn upload_in_parts_then_download_whole_and_by_range(db: crate::harness::Db) {
    let relay = TestRelay::start(db).await;
    let alice = relay.register("alice").await;
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();

    let (s, blob) = relay.post("/v1/blobs", Some(&alice.token), json!({"size": data.len()})).await;
    assert_eq!(s, StatusCode::CREATED, "{blob}");
    let id = blob["id"].as_str().unwrap().to_owned();
    assert_eq!((blob["received"].as_i64(), blob["complete"].as_bool()), (Some(0), Some(false)));
    // Not downloadable before it is complete.
    assert_eq!(download(&relay, &id, None).await.0, StatusCode::CONFLICT);

    // Part one; then a part at the wrong offset is refused with where to go on.
    let (s, info) = patch(&relay, &alice.token, &id, 0, data[..100_000].to_vec()).await;
    assert_eq!((s, info["received"].as_i64()), (StatusCode::OK, Some(100_000)));
    let (s, err) = patch(&relay, &alice.token, &id, 50_000, data[50_000..].to_vec()).await;
    assert_eq!((s, err["code"].as_str()), (StatusCode::CONFLICT, Some("offset_mismatch")));
    // The relay restarts in between: what it stored survives.
    let mut relay = relay;
    relay.restart().await;
    let (_, info) = relay.get(&format!("/v1/blobs/{id}/info"), None).await;
    assert_eq!(info["received"], 100_000);
    let (s, info) = patch(&relay, &alice.token, &id, 100_000, data[100_000..].to_vec()).await;
    assert_eq!((s, info["complete"].as_bool()), (StatusCode::OK, Some(true)), "{info}");
    // Nothing beyond the size.
    let (s, _) = patch(&relay, &alice.token, &id, data.len() as i64, vec![1]).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);

    let (s, whole) = download(&relay, &id, None).await;
    assert_eq!((s, whole == data), (StatusCode::OK, true));
    let (s, tail) = download(&relay, &id, Some("bytes=299000-")).await;
    assert_eq!((s, tail.as_slice()), (StatusCode::PARTIAL_CONTENT, &data[299_000..]));
    let (s, mid) = download(&relay, &id, Some("bytes=10-19")).await;
    assert_eq!((s, mid.as_slice()), (StatusCode::PARTIAL_CONTENT, &data[10..20]));
    assert_eq!(
        download(&relay, &id, Some("bytes=300000-")).await.0,
        StatusCode::RANGE_NOT_SATISFIABLE
    );
    assert_eq!(download(&relay, &id, Some("lines=1-2")).await.0, StatusCode::RANGE_NOT_SATISFIABLE);
    // Unknown and malformed ids are simply not found.
    assert_eq!(download(&relay, &"0".repeat(32), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(download(&relay, "../../etc/passwd", None).await.0, StatusCode::NOT_FOUND);
    relay.stop().await;
}

async fn quotas_sizes_and_ownership(db: crate::harness::Db) {
    let mut config = fast_config();
    config.limits.blob_max_bytes = 1000;
    config.limits.blob_quota_bytes = 1500;
    let relay = TestRelay::start_with(db, config).await;
    let alice = relay.register("alice").await;
    let bob = relay.register("bob").await;

    let create = |token: String, size: i64| {
        let relay = &relay;
        async move { relay.post("/v1/blobs", Some(&token), json!({"size": size})).await }
    };
    assert_eq!(create(alice.token.clone(), 1001).await.1["code"], "too_large");
    assert_eq!(create(alice.token.clone(), 0).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        relay.post("/v1/blobs", None, json!({"size": 10})).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (s, first) = create(alice.token.clone(), 1000).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, over) = create(alice.token.clone(), 600).await;
    assert_eq!(
        (s, over["code"].as_str()),
        (StatusCode::INSUFFICIENT_STORAGE, Some("quota_exceeded"))
    );
    // Concurrent reservations cannot overshoot the quota together.
    let tries =
        futures_util::future::join_all((0..8).map(|_| create(alice.token.clone(), 100))).await;
    let ok = tries.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    assert_eq!(ok, 5, "exactly the 500 bytes left are granted");
    // Another account has its own quota.
    assert_eq!(create(bob.token.clone(), 1000).await.0, StatusCode::CREATED);

    // Only the owner uploads or deletes; deleting refunds the quota.
    let id = first["id"].as_str().unwrap();
    assert_eq!(patch(&relay, &bob.token, id, 0, vec![1; 10]).await.0, StatusCode::NOT_FOUND);
    let (s, _) =
        relay.send(Method::DELETE, &format!("/v1/blobs/{id}"), Some(&bob.token), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The owner withdraws it: readers are told so (410), for good.
    assert_eq!(patch(&relay, &alice.token, id, 0, vec![1; 10]).await.0, StatusCode::OK);
    let (s, _) =
        relay.send(Method::DELETE, &format!("/v1/blobs/{id}"), Some(&alice.token), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, gone) = relay.get(&format!("/v1/blobs/{id}/info"), None).await;
    assert_eq!((s, gone["code"].as_str()), (StatusCode::GONE, Some("withdrawn")));
    assert_eq!(download(&relay, id, None).await.0, StatusCode::GONE);
    assert!(!relay.dir.path().join("blobs").join(id).exists(), "its bytes are gone");
    assert_eq!(create(alice.token.clone(), 1000).await.0, StatusCode::CREATED, "refunded");
    // One never used is given back: readers see nothing there (404), so
    // they keep trying the sender; one with bytes cannot be.
    let (_, spare) = create(bob.token.clone(), 10).await;
    let spare = spare["id"].as_str().unwrap();
    let unused = format!("/v1/blobs/{spare}?unused=true");
    assert_eq!(
        relay.send(Method::DELETE, &unused, Some(&bob.token), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(relay.get(&format!("/v1/blobs/{spare}/info"), None).await.0, StatusCode::NOT_FOUND);
    let (_, used) = create(bob.token.clone(), 10).await;
    let used = used["id"].as_str().unwrap();
    assert_eq!(patch(&relay, &bob.token, used, 0, vec![1; 5]).await.0, StatusCode::OK);
    let path = format!("/v1/blobs/{used}?unused=true");
    let (s, refused) = relay.send(Method::DELETE, &path, Some(&bob.token), None).await;
    assert_eq!((s, refused["code"].as_str()), (StatusCode::CONFLICT, Some("blob_in_use")));

    // Deleting the account deletes its blobs' bytes.
    let blobs_before = std::fs::read_dir(relay.dir.path().join("blobs")).unwrap().count();
    assert_eq!(relay.delete_account(&bob).await, StatusCode::NO_CONTENT);
    let blobs_after = std::fs::read_dir(relay.dir.path().join("blobs")).unwrap().count();
    assert_eq!(blobs_after, blobs_before - 2, "bob's two blobs went with his account");
    relay.stop().await;
}
