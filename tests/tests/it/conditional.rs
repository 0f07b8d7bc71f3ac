//! Conditional messages between real nodes (SPEC.md §6.10, X4): a text
//! sealed with a password and an area arrives sealed, says what it waits
//! for, opens only with the right password from inside the area, and stays
//! open after a restart; the relay and the stored message never hold the
//! text.

use kovan_node::node::{Area, Locks};
use kovan_node::{Event, NodeHandle};

use crate::harness::{TestNode, befriend_registered, relay_alice_bob};

async fn message(h: &NodeHandle, with: &str, id: &str) -> kovan_node::node::MessageView {
    let page = h.history(with, None, 50).await.unwrap();
    page.into_iter().find(|m| m.id == id).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sealed_with_a_password_and_an_area_opens_only_when_both_hold() {
    let dir = tempfile::tempdir().unwrap();
    let (relay, mut alice, mut bob) = relay_alice_bob(dir.path()).await;
    befriend_registered(&mut alice, &mut bob).await;
    let secret = "kasanın şifresi 4721";
    let locks = Locks {
        password: Some("mavi kapı".into()),
        area: Some(Area { lat: 41.0082, lon: 28.9784, radius_m: 500 }),
        hint: "doğum günün".into(),
    };
    let sent = alice.h.send_conditional("bob", secret, locks).await.unwrap();
    assert_eq!(sent.kind, "conditional");
    assert_eq!(sent.text.as_deref(), Some(secret), "the sender's own copy is open");

    let ev = bob.wait("the sealed message", |e| matches!(e, Event::Message { .. })).await;
    let Event::Message { message: got } = ev else { unreachable!() };
    let c = got.conditional.clone().unwrap();
    assert_eq!((got.kind, got.text.as_deref()), ("conditional", None));
    assert_eq!(
        (c.waits_for, c.hint.as_str(), c.opened),
        (vec!["password", "area"], "doğum günün", false)
    );
    assert_eq!(c.area.map(|a| a.radius_m), Some(500));

    // Neither condition alone opens it; a wrong password does not either.
    let inside = Some((41.0090, 28.9790));
    let err = bob.h.open_conditional("alice", &got.id, None, inside).await.unwrap_err();
    assert!(err.to_string().contains("opens with a password"), "{err}");
    let err = bob.h.open_conditional("alice", &got.id, Some("mavi kapı"), None).await.unwrap_err();
    assert!(err.to_string().contains("give your position"), "{err}");
    let far = Some((39.9255, 32.8663));
    let err = bob.h.open_conditional("alice", &got.id, Some("mavi kapı"), far).await.unwrap_err();
    assert!(err.to_string().contains("not inside the area"), "{err}");
    let err = bob.h.open_conditional("alice", &got.id, Some("kırmızı"), inside).await.unwrap_err();
    assert!(err.to_string().contains("wrong password"), "{err}");
    assert_eq!(message(&bob.h, "alice", &got.id).await.text, None, "still sealed");

    // Both: it opens, and stays open after a restart.
    let opened = bob.h.open_conditional("alice", &got.id, Some("mavi kapı"), inside).await.unwrap();
    assert_eq!(opened.text.as_deref(), Some(secret));
    assert!(opened.conditional.unwrap().opened);
    let bob = bob.restart().await;
    assert_eq!(message(&bob.h, "alice", &got.id).await.text.as_deref(), Some(secret));

    // What the relay stored never shows the text.
    assert!(!contains(&relay.disk_bytes(), secret.as_bytes()), "the relay saw the text");

    // Deleted for everyone: the opened text goes from Bob's device too.
    let mut bob = bob;
    alice.h.delete("bob", &got.id).await.unwrap();
    bob.wait("the deletion", |e| matches!(e, Event::MessageDeleted { .. })).await;
    assert_eq!(message(&bob.h, "alice", &got.id).await.text, None);
    let db = rusqlite::Connection::open(bob.home.database()).unwrap();
    let kept: i64 =
        db.query_row("SELECT COUNT(*) FROM conditional_opened", [], |r| r.get(0)).unwrap();
    assert_eq!(kept, 0, "the opened text was kept after the deletion");
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conditional_message_needs_a_condition_and_sane_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, mut alice, mut bob) = relay_alice_bob(dir.path()).await;
    befriend_registered(&mut alice, &mut bob).await;
    let none = alice.h.send_conditional("bob", "x", Locks::default()).await.unwrap_err();
    assert!(none.to_string().contains("what the message waits for"), "{none}");
    let wide =
        Locks { area: Some(Area { lat: 1.0, lon: 2.0, radius_m: 500_000 }), ..Default::default() };
    let err = alice.h.send_conditional("bob", "x", wide).await.unwrap_err();
    assert!(err.to_string().contains("radius"), "{err}");
    let short = Locks { password: Some("abc".into()), ..Default::default() };
    let err = alice.h.send_conditional("bob", "x", short).await.unwrap_err();
    assert!(err.to_string().contains("at least 4"), "{err}");
    let _: &TestNode = &bob;
}
