//! Conditional messages between real nodes (SPEC.md §6.10, X4): a text
//! sealed with a password and an area arrives sealed, says what it waits
//! for, opens only with the right password from inside the area, and stays
//! open after a restart; the relay and the stored message never hold the
//! text.

use std::time::Duration;

use kovan_node::clock::{ManualClock, system_now_ms};
use kovan_node::node::{Agree, Area, Locks, MembersView, MessageView};
use kovan_node::{Event, NodeHandle};
use kovan_spec::wire;

use crate::groups::{people, people_with};
use crate::harness::{TestNode, befriend_registered, relay_alice_bob};
use crate::verifiable::group_of;

async fn message(h: &NodeHandle, with: &str, id: &str) -> MessageView {
    conditional_of(h, with, id).await.unwrap()
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
        agree: None,
        relays: None,
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

/// The message `id` of conversation `conv` as a node shows it.
pub(crate) async fn conditional_of(h: &NodeHandle, conv: &str, id: &str) -> Option<MessageView> {
    h.history(conv, None, 100).await.ok()?.into_iter().find(|m| m.id == id)
}

/// Waits until `n` shows the message as `want` says.
pub(crate) async fn shows(
    n: &TestNode,
    conv: &str,
    id: &str,
    what: &str,
    want: impl Fn(&MessageView) -> bool + Clone + Send + Sync + 'static,
) {
    let (conv, id) = (conv.to_owned(), id.to_owned());
    n.until(what, move |h| {
        let (conv, id, want) = (conv.clone(), id.clone(), want.clone());
        async move { conditional_of(&h, &conv, &id).await.is_some_and(|m| want(&m)) }
    })
    .await;
}

fn agreed(m: &MessageView) -> usize {
    m.conditional.as_ref().and_then(|c| c.members.as_ref()).map_or(0, |x| x.released)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sealed_until_two_of_three_members_agree_opens_for_everyone_at_the_second() {
    let dir = tempfile::tempdir().unwrap();
    let (relay, mut nodes) = people(dir.path(), &["alice", "bob", "carol", "dave"]).await;
    let gid = group_of(&mut nodes, "Vasiyet").await;
    let [alice, bob, carol, dave]: [TestNode; 4] =
        nodes.try_into().unwrap_or_else(|_| unreachable!());

    // Not in a 1:1, not with herself, not with one member or a wrong count.
    let agree = |holders: &[&str], threshold| Locks {
        agree: Some(Agree {
            holders: holders.iter().map(|h| h.to_string()).collect(),
            threshold,
            ..Default::default()
        }),
        ..Default::default()
    };
    let err = alice.h.send_conditional("bob", "x", agree(&["bob", "carol"], 2)).await.unwrap_err();
    assert!(err.to_string().contains("sent in a group"), "{err}");
    let err = alice.h.send_conditional(&gid, "x", agree(&["alice", "bob"], 2)).await.unwrap_err();
    assert!(err.to_string().contains("your own message"), "{err}");
    let err = alice.h.send_conditional(&gid, "x", agree(&["bob"], 2)).await.unwrap_err();
    assert!(err.to_string().contains("2 to 16 members"), "{err}");
    let err = alice.h.send_conditional(&gid, "x", agree(&["bob", "carol"], 3)).await.unwrap_err();
    assert!(err.to_string().contains("how many must agree"), "{err}");

    let secret = "Kasanın şifresi 4721";
    let mut locks = agree(&["bob", "carol", "dave"], 2);
    locks.hint = "ikiniz onaylayınca".into();
    let sent = alice.h.send_conditional(&gid, secret, locks).await.unwrap();
    assert_eq!(sent.text.as_deref(), Some(secret), "the sender's own copy is open");
    let id = sent.id.clone();
    for n in [&bob, &carol, &dave] {
        shows(n, &gid, &id, "the sealed message", |m| {
            let c = m.conditional.as_ref().unwrap();
            let members = c.members.as_ref().unwrap();
            m.text.is_none()
                && c.waits_for == ["members"]
                && members.threshold == 2
                && members.holders.len() == 3
                && members.mine
        })
        .await;
    }
    let err = bob.h.open_conditional(&gid, &id, None, None).await.unwrap_err();
    assert!(err.to_string().contains("not enough members have agreed"), "{err}");
    let err = alice.h.release_share(&gid, &id).await.unwrap_err();
    assert!(err.to_string().contains("hold no share"), "{err}");

    // Bob agrees: one share says nothing, so it stays sealed everywhere.
    let one = bob.h.release_share(&gid, &id).await.unwrap();
    assert_eq!((one.text.as_deref(), agreed(&one)), (None, 1));
    assert!(one.conditional.as_ref().unwrap().members.as_ref().unwrap().agreed);
    let err = bob.h.release_share(&gid, &id).await.unwrap_err();
    assert!(err.to_string().contains("already agreed"), "{err}");
    for n in [&carol, &dave] {
        shows(n, &gid, &id, "Bob's agreement", |m| agreed(m) == 1 && m.text.is_none()).await;
    }

    // Carol agrees: the message opens by itself for all three.
    carol.h.release_share(&gid, &id).await.unwrap();
    for n in [&bob, &carol, &dave] {
        let want = secret.to_owned();
        shows(n, &gid, &id, "the opened message", move |m| {
            m.text.as_deref() == Some(want.as_str()) && m.conditional.as_ref().unwrap().opened
        })
        .await;
    }
    let dave = dave.restart().await;
    let after = conditional_of(&dave.h, &gid, &id).await.unwrap();
    assert_eq!((after.text.as_deref(), agreed(&after)), (Some(secret), 2), "after a restart");
    assert!(!contains(&relay.disk_bytes(), secret.as_bytes()), "the relay saw the text");
}

/// The conditional message `id` as a new message of the same content,
/// with its members lock due at once (what a hostile member could send).
async fn copied_lock(h: &NodeHandle, conv: &str, id: &str) -> wire::app_envelope::Content {
    let body = h.stored_envelope(conv, id).await.unwrap().unwrap();
    let env: wire::AppEnvelope = kovan_spec::decode(&body).unwrap();
    let Some(wire::app_envelope::Content::Conditional(mut c)) = env.content else {
        panic!("not a conditional message")
    };
    for cond in &mut c.conditions {
        if let Some(wire::condition::Kind::Members(m)) = cond.kind.as_mut() {
            m.release_at_ms = 1;
        }
    }
    c.hint = "Yılbaşı mektubu — erken".into();
    wire::app_envelope::Content::Conditional(c)
}

fn members(m: &MessageView) -> MembersView {
    m.conditional.as_ref().and_then(|c| c.members.clone()).unwrap()
}

/// Waits a moment and checks that `n` still shows the message sealed with
/// nobody's share released.
async fn still_sealed(n: &TestNode, conv: &str, id: &str) {
    tokio::time::sleep(Duration::from_secs(1)).await;
    let m = conditional_of(&n.h, conv, id).await.unwrap();
    assert_eq!((&m.text, members(&m).released), (&None, 0), "{} released early", n.name);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holders_release_by_themselves_at_the_time_or_when_the_sender_stays_silent() {
    const HOUR: i64 = 3_600_000;
    let hours = |h: i64| Duration::from_millis((h * HOUR) as u64);
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(system_now_ms());
    let (_relay, mut nodes) =
        people_with(dir.path(), &["alice", "bob", "carol", "dave"], Some(clock.clone())).await;
    let gid = group_of(&mut nodes, "Zaman").await;
    let [alice, bob, carol, dave]: [TestNode; 4] =
        nodes.try_into().unwrap_or_else(|_| unreachable!());
    let timed = |release_at_ms, silence_ms| Locks {
        agree: Some(Agree {
            holders: vec!["bob".into(), "carol".into()],
            threshold: 2,
            release_at_ms,
            silence_ms,
        }),
        ..Default::default()
    };
    let past = timed(Some(clock.now_ms() - 1), None);
    let err = alice.h.send_conditional(&gid, "x", past).await.unwrap_err();
    assert!(err.to_string().contains("has passed"), "{err}");
    let err = alice.h.send_conditional(&gid, "x", timed(None, Some(60_000))).await.unwrap_err();
    assert!(err.to_string().contains("an hour to 366 days"), "{err}");

    // Not before a time: nobody agrees by hand; the holders' nodes release
    // when it comes, also after a restart in between.
    let at = clock.now_ms() + 24 * HOUR;
    let letter = alice.h.send_conditional(&gid, "Yılbaşı mektubu", timed(Some(at), None)).await;
    let letter = letter.unwrap().id;
    for n in [&bob, &carol] {
        shows(n, &gid, &letter, "the timed letter", move |m| members(m).due_at == Some(at)).await;
    }
    let err = bob.h.release_share(&gid, &letter).await.unwrap_err();
    assert!(err.to_string().contains("opens by itself"), "{err}");
    // Dave, a member who holds no share, copies the letter's lock into a
    // message of his own that is due at once: the holders' shares are
    // sealed to Alice's letter, so their nodes release nothing for it.
    let copy = copied_lock(&dave.h, &gid, &letter).await;
    let copy = dave.h.send_raw_content(&gid, copy).await.unwrap().id;
    for n in [&bob, &carol] {
        shows(n, &gid, &copy, "the copy", |m| m.conditional.is_some()).await;
    }
    // (The holders' nodes look at what is due when their clock moves.)
    clock.advance(Duration::from_secs(60));
    still_sealed(&dave, &gid, &copy).await;
    let carol = carol.restart().await;
    clock.advance(hours(23));
    still_sealed(&bob, &gid, &letter).await;
    clock.advance(hours(2));
    for n in [&bob, &carol] {
        shows(n, &gid, &letter, "the letter at its time", |m| {
            m.text.as_deref() == Some("Yılbaşı mektubu")
        })
        .await;
    }

    // A dead man's switch: each check-in moves the release; silence opens it.
    let will = alice.h.send_conditional(&gid, "Vasiyet", timed(None, Some(48 * HOUR as u64))).await;
    let will = will.unwrap().id;
    let first = clock.now_ms() + 48 * HOUR;
    for n in [&bob, &carol] {
        shows(n, &gid, &will, "the switch", move |m| {
            members(m).due_at.is_some_and(|d| (d - first).abs() < 60_000)
        })
        .await;
    }
    clock.advance(hours(36));
    // Only the sender's check-in counts: Dave's is dropped by every node.
    let forged = wire::CheckIn { target: hex::decode(&will).unwrap() };
    dave.h.send_raw_content(&gid, wire::app_envelope::Content::CheckIn(forged)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let due = members(&conditional_of(&bob.h, &gid, &will).await.unwrap()).due_at;
    assert!(due.is_some_and(|d| (d - first).abs() < 60_000), "a forged check-in moved it");
    alice.h.check_in(&gid, &will).await.unwrap();
    let err = bob.h.check_in(&gid, &will).await.unwrap_err();
    assert!(err.to_string().contains("only the sender"), "{err}");
    for n in [&bob, &carol] {
        let moved = first + 36 * HOUR;
        shows(n, &gid, &will, "the check-in", move |m| members(m).due_at >= Some(moved)).await;
    }
    clock.advance(hours(36));
    still_sealed(&carol, &gid, &will).await;
    clock.advance(hours(13));
    for n in [&bob, &carol] {
        shows(n, &gid, &will, "the will", |m| m.text.as_deref() == Some("Vasiyet")).await;
    }
    shows(&alice, &gid, &will, "both releases", |m| members(m).released == 2).await;
    let err = alice.h.check_in(&gid, &will).await.unwrap_err();
    assert!(err.to_string().contains("too late"), "{err}");

    // Deleted for everyone before its time: never released.
    let soon = clock.now_ms() + 2 * HOUR;
    let gone = alice.h.send_conditional(&gid, "İptal", timed(Some(soon), None)).await;
    let gone = gone.unwrap().id;
    shows(&bob, &gid, &gone, "the cancelled one", |m| members(m).due_at.is_some()).await;
    alice.h.delete(&gid, &gone).await.unwrap();
    for n in [&bob, &carol] {
        shows(n, &gid, &gone, "its deletion", |m| m.kind == "deleted").await;
    }
    clock.advance(hours(3));
    tokio::time::sleep(Duration::from_secs(1)).await;
    for n in [&bob, &carol] {
        let db = rusqlite::Connection::open(n.home.database()).unwrap();
        let kept: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM conditional_shares WHERE message_id = ?1",
                [hex::decode(&gone).unwrap()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(kept, 0, "{} released a cancelled message's share", n.name);
        let followed: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM conditional_timers WHERE message_id = ?1",
                [hex::decode(&gone).unwrap()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(followed, 0, "{} still follows a cancelled message", n.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shares_released_for_messages_that_never_come_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, mut nodes) = people(dir.path(), &["alice", "bob"]).await;
    let gid = group_of(&mut nodes, "Sel").await;
    let [alice, mut bob]: [TestNode; 2] = nodes.try_into().unwrap_or_else(|_| unreachable!());
    // Alice releases "shares" of 300 messages nobody sent: Bob keeps 256
    // of them waiting for their messages, and drops the rest.
    for i in 0..300u16 {
        let target = [i.to_be_bytes().as_slice(), &[7; 14]].concat();
        let share = [vec![1], vec![0x5a; 32]].concat();
        let release =
            wire::app_envelope::Content::ShareRelease(wire::ShareRelease { target, share });
        alice.h.send_raw_content(&gid, release).await.unwrap();
    }
    let text = wire::app_envelope::Content::Text(wire::Text { body: "bitti".into() });
    alice.h.send_raw_content(&gid, text).await.unwrap();
    while crate::harness::next_text(&mut bob).await.1 != "bitti" {}
    let db = rusqlite::Connection::open(bob.home.database()).unwrap();
    let kept: i64 =
        db.query_row("SELECT COUNT(*) FROM conditional_shares", [], |r| r.get(0)).unwrap();
    assert_eq!(kept, 256, "early releases are bounded per member");
}
