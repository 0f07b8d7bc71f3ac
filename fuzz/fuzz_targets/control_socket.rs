//! The control-socket protocol (SPEC.md §10) against a real running node:
//! the input is split into lines as the socket does; each line that parses
//! as a request is dispatched. Invariants: nothing panics, every request
//! gets an answer (success or a typed error) within a bound, and the node
//! keeps answering afterwards.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use kovan_node::control::{MAX_LINE, dispatch};
use kovan_node::home::Home;
use kovan_node::identity::Identity;
use kovan_node::{Node, NodeHandle, NodeOptions};
use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod common;

struct World {
    rt: tokio::runtime::Runtime,
    node: NodeHandle,
    _dir: tempfile::TempDir,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let rt = common::runtime().unwrap_or_else(|e| panic!("fuzz setup failed: {e}"));
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path().join("node"));
        let id = Identity::create(&home, b"fuzz", "fuzz").unwrap();
        let node = rt.block_on(Node::start(id, NodeOptions::loopback(home, "fuzz"))).unwrap();
        World { rt, node, _dir: dir }
    })
}

/// Methods left out: they reach the network at addresses the input names.
const SKIP: &[&str] = &["connect", "friend_request", "watch"];

fuzz_target!(|data: &[u8]| {
    let w = world();
    for line in data.split(|b| *b == b'\n').take(16) {
        if line.len() > MAX_LINE {
            continue;
        }
        let Ok(req) = serde_json::from_slice::<serde_json::Value>(line) else { continue };
        let method = req["method"].as_str().unwrap_or_default();
        if SKIP.contains(&method) {
            continue;
        }
        let params = req.get("params").cloned().unwrap_or(serde_json::Value::Null);
        let answered = w.rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(5), dispatch(&w.node, method, &params)).await
        });
        assert!(answered.is_ok(), "{method} did not answer");
    }
    // Still alive.
    let status = w.rt.block_on(dispatch(&w.node, "status", &serde_json::Value::Null));
    assert!(status.is_ok(), "the node stopped answering: {status:?}");
});
