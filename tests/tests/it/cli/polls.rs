//! A sealed poll from the CLI (SPEC.md §6.4.3): `kovan poll create
//! --sealed`; nobody sees a choice before the close, then the voter's node
//! reveals it.

use super::*;

#[test]
fn a_sealed_poll_shows_choices_only_after_the_close_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, [alice, bob]) = registered(dir.path(), ["alice", "bob"]);
    make_friends(&alice, "alice", &bob, "bob");
    let args = ["poll", "create", "bob", "Hangisi?", "--option", "a", "--option", "b", "--sealed"];
    let poll = alice.json(&args);
    assert_eq!(poll["poll"]["verifiable"]["sealed"], true);
    let id = poll["id"].as_str().unwrap().to_owned();
    eventually("bob's copy of the sealed poll", || {
        bob.json(&["history", "alice"]).as_array().unwrap().iter().any(|m| m["id"] == id)
    });

    let (ok, out, _) = text(&bob, &["poll", "vote", "alice", &id, "--choice", "1"]);
    assert!(ok && out.contains("the choices show once the poll is closed"), "{out}");
    assert!(out.contains("*1. b — 0"), "his own choice, and no count: {out}");
    eventually("alice holds bob's sealed ballot", || {
        alice.json(&["poll", "verify", "bob", &id])["poll"]["voters"] == 1
    });
    let (_, out, _) = text(&alice, &["poll", "verify", "bob", &id]);
    assert!(out.contains("b — 0") && out.contains("a — 0"), "a choice showed early: {out}");

    alice.json(&["poll", "close", "bob", &id]);
    eventually("bob's reveal at alice's", || {
        alice.json(&["poll", "verify", "bob", &id])["poll"]["options"][1]["votes"] == 1
    });
    let (ok, out, _) = text(&alice, &["poll", "verify", "bob", &id]);
    assert!(ok && out.contains("0 not revealed yet") && out.contains("b — 1"), "{out}");
}
