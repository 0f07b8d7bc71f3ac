//! The relay against its own OpenAPI document (issue 32): schemathesis
//! (SPEC.md §9; installed by `scripts/schemathesis.sh`, which the test
//! command runs) generates requests for every operation from the document
//! and checks that every response is one the document describes (status,
//! content type, headers, body schema) and that nothing answers 5xx, on a
//! real relay with real accounts, on SQLite and on PostgreSQL.
//!
//! Without `KOVAN_SCHEMATHESIS` (the path of the `schemathesis` command)
//! the test says so and passes; CI sets it.

use std::process::Command;

use reqwest::Method;
use serde_json::json;

use crate::both_backends;
use crate::harness::{Db, TestRelay, fast_config};

/// Test cases per operation and phase: enough to reach every documented
/// answer, few enough that both backends take about a minute.
const EXAMPLES: &str = "25";

/// The checks: every one about responses.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance";

both_backends!(the_relay_answers_as_its_document_says);

fn schemathesis(relay: &TestRelay, token: &str, config: &std::path::Path, extra: &[&str]) {
    let Ok(bin) = std::env::var("KOVAN_SCHEMATHESIS") else { return };
    let seed = std::env::var("KOVAN_SCHEMATHESIS_SEED").unwrap_or_else(|_| "3232".into());
    let checks = std::env::var("KOVAN_SCHEMATHESIS_CHECKS").unwrap_or_else(|_| CHECKS.into());
    let out = Command::new(bin)
        .arg("--config-file")
        .arg(config)
        .args(["run", &format!("{}/v1/openapi.json", relay.url), "--url", &relay.url])
        .args(["--checks", &checks, "--max-examples", EXAMPLES, "--seed", &seed])
        .args(["--phases", "examples,coverage,fuzzing", "--workers", "2"])
        .args(["--request-timeout", "15", "--max-failures", "20"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(extra)
        .env("NO_COLOR", "1")
        // Its cache goes where the relay's data is, not into the tree.
        .current_dir(relay.dir.path())
        .output()
        .expect("running schemathesis");
    let text = String::from_utf8_lossy(&out.stdout);
    let summary: Vec<&str> = text.lines().rev().take(25).collect();
    eprintln!("{}", summary.into_iter().rev().collect::<Vec<_>>().join("\n"));
    assert!(
        out.status.success(),
        "the relay and its document disagree:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn the_relay_answers_as_its_document_says(db: Db) {
    if std::env::var("KOVAN_SCHEMATHESIS").is_err() {
        eprintln!("skipped: KOVAN_SCHEMATHESIS is not set (bash scripts/schemathesis.sh)");
        return;
    }
    let mut config = fast_config();
    // The limits stay on (429 is checked too), loose enough that most
    // requests reach the handlers.
    config.limits.lookups_per_ip_per_minute = 600;
    config.limits.logins_per_ip_per_minute = 300;
    let relay = TestRelay::start_with(db, config).await;
    let alice = relay.register("alice").await;
    let bob = relay.register("bob").await;
    let kps: Vec<String> = (0..3).map(|_| alice.key_package()).collect();
    relay.post("/v1/keypackages", Some(&alice.token), json!({ "key_packages": kps })).await;
    relay.put_envelope(&bob, &alice, b"for the fetch").await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    relay.raw(Method::PUT, "/v1/account/avatar", Some(&bob.token), png, "image/png").await;
    let (_, blob) = relay.post("/v1/blobs", Some(&bob.token), json!({"size": 64})).await;
    let blob = blob["id"].as_str().unwrap().to_owned();
    let (_, done) = relay.post("/v1/blobs", Some(&bob.token), json!({"size": 4})).await;
    let done = done["id"].as_str().unwrap().to_owned();
    relay
        .raw(Method::PATCH, &format!("/v1/blobs/{done}"), Some(&bob.token), vec![1, 2, 3, 4], "x")
        .await;
    let _ = blob;

    // Path parameters that name things that exist, so that the answers
    // with bodies are checked too.
    let file = relay.dir.path().join("schemathesis.toml");
    let toml = format!(
        r#"
[[operations]]
include-path-regex = "^/v1/users/"
parameters = {{ "path.username" = "bob" }}

[[operations]]
include-path-regex = "^/v1/(keypackages|mailbox)/\\{{peer_id\\}}"
parameters = {{ "path.peer_id" = "{peer}" }}

[[operations]]
include-path-regex = "^/v1/blobs/"
parameters = {{ "path.id" = "{done}" }}
"#,
        peer = alice.peer_id(),
    );
    std::fs::write(&file, toml).unwrap();
    // Everything but logging out with Alice's session, then logging out
    // with a session of its own.
    schemathesis(&relay, &alice.token, &file, &["--exclude-operation-id", "logout"]);
    let (_, other) = relay.post("/v1/sessions", None, bob.login_body(&relay.info.peer_id)).await;
    schemathesis(
        &relay,
        other["token"].as_str().unwrap(),
        &file,
        &["--include-operation-id", "logout"],
    );
    relay.stop().await;
}
