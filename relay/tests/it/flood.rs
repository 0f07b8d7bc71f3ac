//! Abuse: while others flood the relay with bad requests — garbage mailbox
//! bodies, wrong tokens, oversized uploads, WebSockets sending junk — a
//! good client (another IP, as a trusted proxy reports it) registers, puts,
//! is pushed and fetches as usual, and nothing of the flood is stored.
//! Latency under the flood is measured by `kovan-relay-load` (README).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::both_backends;
use crate::harness::{Db, TestRelay, WAIT, fast_config};

both_backends!(a_good_client_is_served_through_a_flood_and_nothing_of_it_is_stored);

const FLOODER: &str = "10.9.9.9";
const GOOD: &str = "10.1.1.1";

async fn a_good_client_is_served_through_a_flood_and_nothing_of_it_is_stored(db: Db) {
    let mut config = fast_config();
    config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    let relay = TestRelay::start_with(db, config).await;
    let alice = relay.register("alice").await;
    let bob = relay.register("bob").await;
    let mallory = relay.register("mallory").await;

    let stop = Arc::new(AtomicBool::new(false));
    let refused = Arc::new(AtomicU64::new(0));
    let mut flood = Vec::new();
    for kind in 0..8 {
        let (url, peer, token) = (relay.url.clone(), bob.peer_id(), mallory.token.clone());
        let (stop, refused) = (stop.clone(), refused.clone());
        flood.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let big = vec![0x55u8; 10 * 1024 * 1024];
            while !stop.load(Ordering::Relaxed) {
                let status = match kind % 4 {
                    0 => http
                        .post(format!("{url}/v1/mailbox/{peer}"))
                        .header("x-forwarded-for", FLOODER)
                        .body(crate::harness::rand_bytes::<1500>().to_vec())
                        .send()
                        .await
                        .map(|r| r.status()),
                    1 => http
                        .get(format!("{url}/v1/mailbox"))
                        .header("x-forwarded-for", FLOODER)
                        .bearer_auth("not-a-token")
                        .send()
                        .await
                        .map(|r| r.status()),
                    2 => http
                        .post(format!("{url}/v1/mailbox/{peer}"))
                        .header("x-forwarded-for", FLOODER)
                        .body(big.clone())
                        .send()
                        .await
                        .map(|r| r.status()),
                    _ => {
                        // A WebSocket that speaks junk is closed; it comes back.
                        let mut req = format!("{}/v1/ws", url.replace("http://", "ws://"))
                            .into_client_request()
                            .unwrap();
                        req.headers_mut()
                            .insert("authorization", format!("Bearer {token}").parse().unwrap());
                        if let Ok((mut ws, _)) = tokio_tungstenite::connect_async(req).await {
                            let _ = ws.send(Message::Text("junk".into())).await;
                            while let Some(Ok(m)) = ws.next().await {
                                if matches!(m, Message::Close(_)) {
                                    break;
                                }
                            }
                        }
                        Ok(StatusCode::BAD_REQUEST)
                    }
                };
                if !status.is_ok_and(|s| s.is_success()) {
                    refused.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    // The good client: 30 envelopes from alice to bob, each accepted, then
    // all fetched.
    for i in 0..30 {
        let bytes = alice.seal_to(&bob, format!("good {i}").as_bytes());
        let resp = relay
            .http
            .post(format!("{}/v1/mailbox/{}", relay.url, bob.peer_id()))
            .header("x-forwarded-for", GOOD)
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "good put {i}: {}", resp.status());
    }
    let (s, page) = relay.get("/v1/mailbox", Some(&bob.token)).await;
    assert_eq!(s, StatusCode::OK);
    stop.store(true, Ordering::Relaxed);
    for f in flood {
        let _ = tokio::time::timeout(WAIT, f).await;
    }
    let items = page["items"].as_array().unwrap();
    let texts: Vec<String> = items
        .iter()
        .map(|i| String::from_utf8(bob.open(i["envelope"].as_str().unwrap())).unwrap())
        .collect();
    let want: Vec<String> = (0..30).map(|i| format!("good {i}")).collect();
    assert_eq!(texts, want, "the good client's envelopes, and nothing of the flood");
    assert!(refused.load(Ordering::Relaxed) > 50, "the flood ran and was refused");
    relay.stop().await;
}
