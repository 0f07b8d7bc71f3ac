//! Relays as trustees (SPEC.md §6.10.6) over real HTTP: a deposit signed
//! with an account key waits for its time, is handed to anyone with its id
//! from then on, and only its owner, with a fresh and valid signature,
//! checks in or cancels.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use kovan_crypto::identity::AccountKey;
use kovan_spec::wire::{self, trustee_request::Body};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::{Db, TestRelay, User, rand_bytes};

both_backends!(a_share_waits_for_its_time_and_only_its_owner_cancels_it);

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

/// A request signed by `key` (as its owner), as the API takes it.
fn signed(key: &AccountKey, created_ms: u64, body: Body) -> Value {
    let req =
        wire::TrusteeRequest { owner: key.id().as_bytes().to_vec(), created_ms, body: Some(body) };
    let (bytes, sig) = kovan_crypto::trustee::sign_request(key, &req).unwrap();
    json!({"request": B64.encode(bytes), "signature": B64.encode(sig)})
}

fn deposit(id: [u8; 16], share: &[u8; 33], release_at_ms: u64) -> Body {
    Body::Deposit(wire::TrusteeDeposit {
        deposit: id.to_vec(),
        share: share.to_vec(),
        release_at_ms,
        silence_ms: 0,
    })
}

fn ids(id: [u8; 16]) -> wire::TrusteeIds {
    wire::TrusteeIds { deposits: vec![id.to_vec()] }
}

async fn a_share_waits_for_its_time_and_only_its_owner_cancels_it(db: Db) {
    let relay = TestRelay::start(db).await;
    let (alice, mallory) = (User::new("alice"), User::new("mallory"));
    let (id, other): ([u8; 16], [u8; 16]) = (rand_bytes(), rand_bytes());
    let mut share = [0x5a; 33];
    share[0] = 2;
    let at = now_ms() + 2_000;
    let (s, v) = relay
        .post("/v1/trustee", None, signed(&alice.account, now_ms(), deposit(id, &share, at)))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["deposits"][0]["state"], "waiting");
    assert_eq!(v["deposits"][0]["due_ms"], at);
    let path = format!("/v1/trustee/{}", hex::encode(id));
    let (s, v) = relay.get(&path, None).await;
    assert_eq!((s, &v["state"], &v["share"]), (StatusCode::OK, &json!("waiting"), &Value::Null));

    // Refused: another's signature over Alice's request, a request made 10
    // minutes ago, another share under the same id, no such body.
    let mut forged = signed(&alice.account, now_ms(), deposit(other, &share, at));
    forged["signature"] =
        signed(&mallory.account, now_ms(), deposit(other, &share, at))["signature"].clone();
    let (s, v) = relay.post("/v1/trustee", None, forged).await;
    assert_eq!((s, &v["code"]), (StatusCode::BAD_REQUEST, &json!("bad_signature")));
    let stale = signed(&alice.account, now_ms() - 600_000, deposit(other, &share, at));
    let (s, v) = relay.post("/v1/trustee", None, stale).await;
    assert_eq!((s, &v["code"]), (StatusCode::BAD_REQUEST, &json!("clock_skew")));
    let mut changed = share;
    changed[5] ^= 1;
    let again = signed(&alice.account, now_ms(), deposit(id, &changed, at));
    assert_eq!(relay.post("/v1/trustee", None, again).await.0, StatusCode::CONFLICT);
    let junk = json!({"request": B64.encode([1, 2, 3]), "signature": B64.encode([0; 64])});
    let (s, v) = relay.post("/v1/trustee", None, junk).await;
    assert_eq!((s, &v["code"]), (StatusCode::BAD_REQUEST, &json!("invalid_request")));

    // Mallory cannot cancel Alice's share (she is not its owner); Alice
    // cancels a second one, which is then gone for good.
    let body = signed(&mallory.account, now_ms(), Body::Cancel(ids(id)));
    let (s, v) = relay.post("/v1/trustee", None, body).await;
    assert_eq!((s, &v["deposits"][0]["state"]), (StatusCode::OK, &json!("unknown")));
    let body = signed(&alice.account, now_ms(), deposit(other, &share, at));
    assert_eq!(relay.post("/v1/trustee", None, body).await.0, StatusCode::OK);
    let body = signed(&alice.account, now_ms(), Body::Cancel(ids(other)));
    let (_, v) = relay.post("/v1/trustee", None, body).await;
    assert_eq!(v["deposits"][0]["state"], "cancelled");
    let (_, v) = relay.get(&format!("/v1/trustee/{}", hex::encode(other)), None).await;
    assert_eq!((&v["state"], &v["share"]), (&json!("cancelled"), &Value::Null));

    // From its time on, anyone with the id gets the share; a cancellation
    // is then too late.
    tokio::time::sleep(Duration::from_millis(at - now_ms() + 50)).await;
    let (s, v) = relay.get(&path, None).await;
    assert_eq!((s, &v["state"]), (StatusCode::OK, &json!("released")), "{v}");
    assert_eq!(B64.decode(v["share"].as_str().unwrap()).unwrap(), share);
    let body = signed(&alice.account, now_ms(), Body::Cancel(ids(id)));
    assert_eq!(relay.post("/v1/trustee", None, body).await.1["deposits"][0]["state"], "released");
    let (s, _) = relay.get(&format!("/v1/trustee/{}", hex::encode([7u8; 16])), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(relay.get("/v1/trustee/not-hex", None).await.0, StatusCode::NOT_FOUND);
    relay.stop().await;
}
