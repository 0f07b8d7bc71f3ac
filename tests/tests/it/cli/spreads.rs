//! Spreading messages from the CLI (SPEC.md §6.11): `kovan spread on`,
//! `send`, `list` (which counts as seeing them), `retract`.

use super::*;

/// The spreads `p`'s node holds, without marking them seen.
fn spreads(p: &Person) -> Vec<Value> {
    p.json(&["spread", "list", "--unseen-stays"]).as_array().cloned().unwrap_or_default()
}

#[test]
fn a_spread_goes_on_once_its_reader_lists_it_and_its_retraction_follows() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, [alice, bob, carol]) = registered(dir.path(), ["alice", "bob", "carol"]);
    make_friends(&alice, "alice", &bob, "bob");
    make_friends(&bob, "bob", &carol, "carol");

    let (ok, _, err) = text(&alice, &["spread", "send", "erken"]);
    assert!(!ok && err.contains("none of your friends takes part"), "{err}");
    for p in [&alice, &bob, &carol] {
        let (ok, out, _) = text(p, &["spread", "on"]);
        assert!(ok && out.contains("takes part"), "{out}");
    }
    eventually("bob hears both friends take part", || {
        bob.json(&["spread", "status"])["friends"].as_array().is_some_and(|f| f.len() == 2)
    });
    let (ok, _, err) = text(&alice, &["spread", "send", "x", "--hops", "9"]);
    assert!(!ok && err.contains("1..=8 hops"), "{err}");
    let sent = alice.json(&["spread", "send", "Kayıp köpek: Karabaş", "--hops", "2"]);
    let id = sent["id"].as_str().unwrap().to_owned();
    assert_eq!((sent["mine"].as_bool(), sent["passed_to"].as_u64()), (Some(true), Some(1)));

    eventually("bob has it", || spreads(&bob).len() == 1);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(spreads(&carol).is_empty(), "nothing goes on before bob saw it");
    let (ok, listed, _) = text(&bob, &["spread", "list"]);
    assert!(ok && listed.contains("hop 1 of 2") && listed.contains("[new]"), "{listed}");
    assert!(listed.contains("Kayıp köpek: Karabaş"), "{listed}");
    eventually("carol has it from bob", || spreads(&carol).len() == 1);
    let got = &spreads(&carol)[0];
    assert_eq!((got["id"].as_str(), got["hop"].as_u64()), (Some(id.as_str()), Some(2)));
    assert_eq!(got["from_name"], "bob");

    let (ok, _, err) = text(&bob, &["spread", "retract", &id]);
    assert!(!ok && err.contains("only its author"), "{err}");
    let (ok, out, _) = text(&alice, &["spread", "retract", &id]);
    assert!(ok && out.contains("taken back"), "{out}");
    eventually("carol's copy is taken back", || !spreads(&carol)[0]["retracted_at"].is_null());
    let (_, listed, _) = text(&carol, &["spread", "list"]);
    assert!(listed.contains("taken back") && !listed.contains("Karabaş"), "{listed}");
}
