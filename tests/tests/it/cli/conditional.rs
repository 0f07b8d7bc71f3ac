//! A message sealed until members of a group agree, from the CLI
//! (SPEC.md §6.10.3): `kovan send --holders [--agree]`, `kovan agree`.

use super::*;

/// A group called `name` made by `owner` with `members` in it, once every
/// one of them sees everyone.
pub(super) fn group_of(owner: &Person, name: &str, members: &[(&Person, &str)]) -> String {
    let gid = owner.json(&["group", "create", name])["id"].as_str().unwrap().to_owned();
    for (p, p_name) in members {
        owner.json(&["group", "invite", name, p_name]);
        let mut invitation = Value::Null;
        eventually("the invitation", || {
            let list = p.json(&["group", "invitations"]);
            invitation = list.as_array().unwrap().first().cloned().unwrap_or(Value::Null);
            invitation["state"] == "pending"
        });
        p.json(&["group", "accept", invitation["id"].as_str().unwrap()]);
    }
    let all = members.len() + 1;
    for p in members.iter().map(|(p, _)| *p).chain([owner]) {
        eventually("everyone in the group", || {
            let out = kovan(&p.home, &["--json", "group", "info", &gid]);
            out.status.success()
                && serde_json::from_slice::<Value>(&out.stdout).unwrap()["members"]
                    .as_array()
                    .is_some_and(|m| m.len() == all)
        });
    }
    gid
}

/// The message `id` in `p`'s history of `conv`.
pub(super) fn in_history(p: &Person, conv: &str, id: &str) -> Value {
    let history = p.json(&["history", conv]);
    history.as_array().unwrap().iter().find(|m| m["id"] == id).cloned().unwrap_or(Value::Null)
}

#[test]
fn a_message_sealed_until_its_members_agree_opens_when_they_do_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, [alice, bob, carol]) = registered(dir.path(), ["alice", "bob", "carol"]);
    make_friends(&alice, "alice", &bob, "bob");
    make_friends(&alice, "alice", &carol, "carol");
    let gid = group_of(&alice, "Miras", &[(&bob, "bob"), (&carol, "carol")]);

    let (ok, _, err) = text(&alice, &["send", &gid, "x", "--holders", "bob", "--agree", "2"]);
    assert!(!ok && err.contains("2 to 16 members"), "{err}");
    // Without --agree, all of the holders must agree.
    let secret = "anahtar saksının altında";
    let sent = alice.json(&["send", &gid, secret, "--holders", "bob,carol", "--hint", "ikiniz"]);
    assert_eq!(sent["conditional"]["members"]["threshold"], 2);
    let id = sent["id"].as_str().unwrap().to_owned();
    eventually("carol's sealed copy", || in_history(&carol, &gid, &id)["kind"] == "conditional");
    let (_, listed, _) = text(&carol, &["history", &gid]);
    assert!(listed.contains("0 of 2 agreed") && listed.contains("kovan agree"), "{listed}");

    let (ok, out, _) = text(&bob, &["agree", &gid, &id]);
    assert!(ok && out.contains("1 of 2 agreed (2 needed)"), "{out}");
    let (ok, _, err) = text(&alice, &["agree", &gid, &id]);
    assert!(!ok && err.contains("hold no share"), "{err}");
    assert!(in_history(&bob, &gid, &id)["text"].is_null(), "one of two opens nothing");

    eventually("bob's share at carol's", || {
        in_history(&carol, &gid, &id)["conditional"]["members"]["released"] == 1
    });
    let (ok, out, _) = text(&carol, &["agree", &gid, &id]);
    assert!(ok && out.contains(secret), "{out}");
    eventually("bob reads it", || in_history(&bob, &gid, &id)["text"] == secret);
}

#[test]
fn a_file_under_a_password_goes_sealed_and_opens_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, [alice, bob]) = registered(dir.path(), ["alice", "bob"]);
    make_friends(&alice, "alice", &bob, "bob");
    let pw = alice.home.join("message-password");
    std::fs::write(&pw, "mavi kapı\n").unwrap();
    let pw = pw.to_str().unwrap();
    let deed = alice.home.join("tapu.pdf");
    let bytes: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&deed, &bytes).unwrap();
    let deed = deed.to_str().unwrap();

    let (ok, _, err) = text(&alice, &["send-file", "bob", deed, "--password", "--reply-to", "00"]);
    assert!(!ok && err.contains("cannot be a reply"), "{err}");
    let sent = alice.json(&[
        "send-file",
        "bob",
        deed,
        "--password",
        "--password-file",
        pw,
        "--caption",
        "the deed",
    ]);
    let file = &sent["conditional"]["file"];
    assert_eq!((&file["name"], &file["state"]), (&json!("tapu.pdf"), &json!("open")));
    let id = sent["id"].as_str().unwrap().to_owned();

    eventually("bob's sealed bytes", || {
        in_history(&bob, "alice", &id)["conditional"]["file"]["transfer_state"] == "complete"
    });
    let (_, listed, _) = text(&bob, &["history", "alice"]);
    assert!(listed.contains("sealed file, 100032 bytes (complete)"), "{listed}");
    assert!(!listed.contains("tapu.pdf"), "the name shows before it opens: {listed}");

    let (ok, out, _) = text(&bob, &["open", "alice", &id, "--password", "--password-file", pw]);
    assert!(ok && out.contains("the deed") && out.contains("file tapu.pdf"), "{out}");
    eventually("bob's opened file", || {
        in_history(&bob, "alice", &id)["conditional"]["file"]["state"] == "open"
    });
    let opened = in_history(&bob, "alice", &id);
    let at = opened["conditional"]["file"]["path"].as_str().unwrap().to_owned();
    assert_eq!(std::fs::read(&at).unwrap(), bytes);
    let (_, listed, _) = text(&bob, &["history", "alice"]);
    assert!(listed.contains(&format!("[file tapu.pdf, 100000 bytes: {at}]")), "{listed}");
}

#[test]
fn a_message_left_with_relays_opens_at_its_time_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, [alice, bob]) = registered(dir.path(), ["alice", "bob"]);
    make_friends(&alice, "alice", &bob, "bob");
    let (ok, _, err) = text(&alice, &["send", "bob", "x", "--relays", "mine"]);
    assert!(!ok && err.contains("say when the relays release"), "{err}");
    let (ok, _, err) = text(&alice, &["send", "bob", "x", "--dead-man", "7d"]);
    assert!(!ok && err.contains("--holders or --relays"), "{err}");
    let secret = "kapının şifresi 0417";
    let sent = alice.json(&["send", "bob", secret, "--relays", "mine", "--not-before", "+4s"]);
    let r = &sent["conditional"]["relays"];
    assert_eq!((&r["threshold"], &r["state"]), (&json!(1), &json!("sent")));
    let id = sent["id"].as_str().unwrap().to_owned();
    eventually("bob's sealed copy", || in_history(&bob, "alice", &id)["kind"] == "conditional");
    let (_, listed, _) = text(&bob, &["history", "alice"]);
    assert!(
        listed.contains("[sealed until: relays") && listed.contains("0 of 1 needed from 1 relays"),
        "{listed}"
    );
    assert!(!listed.contains(secret), "{listed}");
    eventually("bob reads it at its time", || in_history(&bob, "alice", &id)["text"] == secret);
}
