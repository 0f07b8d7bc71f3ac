//! Directory search and profiles (S1).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::harness::{Db, TestRelay};

both_backends!(search_respects_discoverability_and_pages);

async fn search_respects_discoverability_and_pages(db: Db) {
    let relay = TestRelay::start(db).await;
    let mut users = Vec::new();
    for name in ["deniz", "deniz.k", "denizhan", "derya", "hidden_deniz", "pct_user"] {
        users.push(relay.register(name).await);
    }
    let set = |i: usize, display: &str, discoverable: bool| {
        let token = users[i].token.clone();
        let body = json!({"display_name": display, "about": "", "discoverable": discoverable, "friend_policy": "everyone", "read_receipts": true});
        let relay = &relay;
        async move { relay.send(Method::PUT, "/v1/account/settings", Some(&token), Some(body)).await.0 }
    };
    assert_eq!(set(3, "Derya Deniz", true).await, StatusCode::OK);
    assert_eq!(set(4, "Deniz Hidden", false).await, StatusCode::OK);
    assert_eq!(set(5, "100% real", true).await, StatusCode::OK);

    let names = |v: &serde_json::Value| -> Vec<String> {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["username"].as_str().unwrap().to_owned())
            .collect()
    };
    // Prefix of username, substring of display name (case-insensitive);
    // the non-discoverable account is never listed.
    let (s, page) = relay.get("/v1/directory?q=DENIZ", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(names(&page), ["deniz", "deniz.k", "denizhan", "derya"]);
    let first = &page["results"][0];
    assert_eq!(first["devices"].as_array().unwrap().len(), 1);
    assert!(first["account_key"].as_str().unwrap().len() >= 43);

    let (_, p1) = relay.get("/v1/directory?q=deniz&limit=2", None).await;
    assert_eq!(names(&p1), ["deniz", "deniz.k"]);
    assert_eq!(p1["next_offset"], 2);
    let (_, p2) = relay.get("/v1/directory?q=deniz&limit=2&offset=2", None).await;
    assert_eq!(names(&p2), ["denizhan", "derya"]);

    // LIKE wildcards in the query are literal.
    let (_, pct) = relay.get("/v1/directory?q=%25", None).await;
    assert_eq!(names(&pct), ["pct_user"]);
    let (_, none) = relay.get("/v1/directory?q=_", None).await;
    assert!(names(&none).iter().all(|n| n.contains('_')), "{none}");

    assert_eq!(relay.get("/v1/directory?q=", None).await.0, StatusCode::BAD_REQUEST);
    // Exact lookup still finds a hidden account (someone who has the name).
    let (s, p) = relay.get("/v1/users/Hidden_Deniz", None).await;
    assert_eq!((s, p["display_name"].as_str()), (StatusCode::OK, Some("Deniz Hidden")));
    assert_eq!(relay.get("/v1/users/no_such_user", None).await.0, StatusCode::NOT_FOUND);
    relay.stop().await;
}

both_backends!(paging_at_the_edge_of_i64_answers);

/// Found by the schema-driven run (issue 32): a full page at an offset near
/// `i64::MAX` overflowed computing the next offset and dropped the
/// connection.
async fn paging_at_the_edge_of_i64_answers(db: Db) {
    let relay = TestRelay::start(db).await;
    relay.register("deniz").await;
    let (s, body) =
        relay.get(&format!("/v1/directory?q=d&limit={}&offset={}", i64::MIN, i64::MAX), None).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    relay.stop().await;
}
