//! Sealed and anonymous polls from the CLI: `kovan poll create --sealed`
//! (SPEC.md §6.4.3), where nobody sees a choice before the close, then the
//! voter's node reveals it; `--anonymous` (§6.4.2), where ballots name
//! nobody.

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

#[test]
fn an_anonymous_poll_counts_ballots_that_name_nobody_from_the_cli() {
    use super::conditional::{group_of, in_history};
    let dir = tempfile::tempdir().unwrap();
    let (_relay, [alice, bob, carol]) = registered(dir.path(), ["alice", "bob", "carol"]);
    make_friends(&alice, "alice", &bob, "bob");
    make_friends(&alice, "alice", &carol, "carol");
    let (ok, _, err) = text(
        &alice,
        &["poll", "create", "bob", "?", "--option", "a", "--option", "b", "--anonymous"],
    );
    assert!(!ok && err.contains("3 voters at least"), "{err}");
    let gid = group_of(&alice, "Bina", &[(&bob, "bob"), (&carol, "carol")]);

    let args = [
        "poll",
        "create",
        &gid,
        "Kapı?",
        "--option",
        "kırmızı",
        "--option",
        "yeşil",
        "--anonymous",
    ];
    let poll = alice.json(&args);
    let id = poll["id"].as_str().unwrap().to_owned();
    // Every voter's node registers; then the creator's publishes the ring.
    for p in [&alice, &bob, &carol] {
        eventually("a ring of three", || {
            in_history(p, &gid, &id)["poll"]["verifiable"]["anonymous"]["ring"] == 3
        });
    }
    for (p, choice) in [(&bob, "1"), (&carol, "1"), (&alice, "0")] {
        let (ok, out, err) = text(p, &["poll", "vote", &gid, &id, "--choice", choice]);
        assert!(ok && out.contains("you have voted"), "{out}{err}");
    }
    eventually("three ballots at carol's", || in_history(&carol, &gid, &id)["poll"]["voters"] == 3);
    let (ok, out, _) = text(&carol, &["poll", "verify", &gid, &id]);
    assert!(ok && out.contains("yeşil — 2") && out.contains("verified"), "{out}");
    let shown = carol.json(&["poll", "verify", &gid, &id]);
    for o in shown["poll"]["options"].as_array().unwrap() {
        assert_eq!(o["by"], serde_json::json!([]), "a voter named: {o}");
    }

    alice.json(&["poll", "close", &gid, &id]);
    eventually("the close at bob's", || in_history(&bob, &gid, &id)["poll"]["closed"] == true);
    let (ok, out, _) = text(&bob, &["poll", "verify", &gid, &id]);
    assert!(ok && out.contains("closed") && out.contains("kırmızı — 1"), "{out}");
}
