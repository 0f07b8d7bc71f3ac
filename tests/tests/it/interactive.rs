//! Interactive content between real nodes (SPEC.md §6.4): polls in a
//! group and in a 1:1 chat, and malformed content from a peer.

use kovan_node::node::PollView;
use kovan_node::{Event, NodeHandle};
use kovan_spec::wire;

use crate::groups::{answer, group_until, people};
use crate::harness::{TestNode, WAIT};

/// The poll `id` in conversation `conv` as `h` shows it.
async fn poll_of(h: &NodeHandle, conv: &str, id: &str) -> Option<PollView> {
    let page = h.history(conv, None, 200).await.ok()?;
    page.into_iter().find(|m| m.id == id).and_then(|m| m.poll)
}

/// Votes per option.
fn tally(p: &PollView) -> Vec<usize> {
    p.options.iter().map(|o| o.votes).collect()
}

/// Waits until every node shows the poll with `want` votes per option.
async fn all_see(nodes: &[&TestNode], conv: &str, id: &str, want: &[usize], closed: bool) {
    for n in nodes {
        let (conv, id, want) = (conv.to_owned(), id.to_owned(), want.to_vec());
        n.until(&format!("tally {want:?} (closed: {closed})"), move |h| {
            let (conv, id, want) = (conv.clone(), id.clone(), want.clone());
            async move {
                poll_of(&h, &conv, &id)
                    .await
                    .is_some_and(|p| tally(&p) == want && p.closed == closed)
            }
        })
        .await;
    }
}

/// Sends a text and waits until `others` have it: everything `from` sent
/// before has been handled by them (one sender's messages keep order).
async fn sync(from: &TestNode, others: &mut [&mut TestNode], conv: &str, text: &str) {
    from.h.send_text(conv, text, None).await.unwrap();
    for n in others.iter_mut() {
        let text = text.to_owned();
        n.wait("the sync message", move |e| {
            matches!(e, Event::Message { message } if message.text.as_deref() == Some(text.as_str()))
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_poll_counts_each_member_once_changes_live_and_only_its_creator_closes_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, nodes) = people(dir.path(), &["alice", "bob", "carol"]).await;
    let [mut alice, mut bob, mut carol]: [TestNode; 3] =
        nodes.try_into().unwrap_or_else(|_| unreachable!());
    let gid = alice.h.group_create("Hafta sonu", "", false).await.unwrap().id;
    for who in ["bob", "carol"] {
        alice.h.group_invite(&gid, who).await.unwrap();
    }
    answer(&mut bob, true).await;
    answer(&mut carol, true).await;
    for n in [&alice, &bob, &carol] {
        group_until(n, &gid, "three members", |g| g.members.len() == 3).await;
    }

    // I6: a single-choice poll; everyone sees it with an empty tally.
    let options = ["deniz", "dağ", "şehir"].map(str::to_owned).to_vec();
    let poll = alice.h.poll_create(&gid, "Nereye gidelim?", options, false).await.unwrap();
    assert_eq!((poll.kind, poll.text.as_deref()), ("poll", Some("Nereye gidelim?")));
    for n in [&mut bob, &mut carol] {
        let ev = n
            .wait("the poll", |e| matches!(e, Event::Message { message } if message.kind == "poll"))
            .await;
        let Event::Message { message } = ev else { unreachable!() };
        let p = message.poll.unwrap();
        assert_eq!(p.options.len(), 3);
        assert!(!p.multiple && !p.closed && p.voters == 0);
    }
    let id = poll.id.clone();

    // Live tallies; a changed vote replaces the earlier one; a vote sent
    // twice counts once.
    bob.h.poll_vote(&gid, &id, vec![0]).await.unwrap();
    carol.h.poll_vote(&gid, &id, vec![1]).await.unwrap();
    let mine = alice.h.poll_vote(&gid, &id, vec![0]).await.unwrap().poll.unwrap();
    assert_eq!(mine.mine, [0]);
    all_see(&[&alice, &bob, &carol], &gid, &id, &[2, 1, 0], false).await;
    carol.h.poll_vote(&gid, &id, vec![2]).await.unwrap();
    carol.h.poll_vote(&gid, &id, vec![2]).await.unwrap();
    all_see(&[&alice, &bob, &carol], &gid, &id, &[2, 0, 1], false).await;
    let p = poll_of(&bob.h, &gid, &id).await.unwrap();
    assert_eq!(p.voters, 3, "three members, three ballots");
    assert_eq!(p.options[2].by, [carol.h.account_hex()], "who voted what is visible");
    let err = bob.h.poll_vote(&gid, &id, vec![0, 1]).await.unwrap_err();
    assert!(err.to_string().contains("one choice"), "{err}");

    // Only the creator closes it: Bob cannot, and a close he forges is
    // ignored by everyone.
    assert!(bob.h.poll_close(&gid, &id).await.is_err());
    let forged = wire::PollClose { poll: hex::decode(&id).unwrap(), ..Default::default() };
    bob.h.send_raw_content(&gid, wire::app_envelope::Content::PollClose(forged)).await.unwrap();
    sync(&bob, &mut [&mut alice, &mut carol], &gid, "after the forged close").await;
    all_see(&[&alice, &carol], &gid, &id, &[2, 0, 1], false).await;

    // Alice closes it: final for everyone, and later votes change nothing.
    let closed = alice.h.poll_close(&gid, &id).await.unwrap().poll.unwrap();
    assert!(closed.closed);
    all_see(&[&alice, &bob, &carol], &gid, &id, &[2, 0, 1], true).await;
    assert!(carol.h.poll_vote(&gid, &id, vec![0]).await.is_err(), "closed");
    let late =
        wire::Vote { poll: hex::decode(&id).unwrap(), choices: vec![1], ..Default::default() };
    carol.h.send_raw_content(&gid, wire::app_envelope::Content::Vote(late)).await.unwrap();
    sync(&carol, &mut [&mut alice, &mut bob], &gid, "after the late vote").await;
    all_see(&[&alice, &bob], &gid, &id, &[2, 0, 1], true).await;

    // The poll and its tally survive a restart.
    let bob = bob.restart().await;
    assert_eq!(tally(&poll_of(&bob.h, &gid, &id).await.unwrap()), [2, 0, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multiple_choice_poll_in_a_chat_and_malformed_polls_show_as_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, nodes) = people(dir.path(), &["alice", "bob"]).await;
    let [mut alice, mut bob]: [TestNode; 2] = nodes.try_into().unwrap_or_else(|_| unreachable!());
    let options = ["çay", "kahve", "ayran", "su"].map(str::to_owned).to_vec();
    let poll = alice.h.poll_create("bob", "Ne içersin?", options, true).await.unwrap();
    bob.wait("the poll", |e| matches!(e, Event::Message { message } if message.kind == "poll"))
        .await;
    bob.h.poll_vote("alice", &poll.id, vec![3, 0, 3]).await.unwrap();
    all_see(&[&alice, &bob], &poll.conversation, &poll.id, &[1, 0, 0, 1], false).await;
    let p = poll_of(&alice.h, &poll.conversation, &poll.id).await.unwrap();
    assert_eq!((p.voters, p.options[0].by.clone()), (1, vec![bob.h.account_hex()]));
    // Withdrawing a vote.
    bob.h.poll_vote("alice", &poll.id, vec![]).await.unwrap();
    all_see(&[&alice, &bob], &poll.conversation, &poll.id, &[0, 0, 0, 0], false).await;
    let err = alice.h.poll_create("bob", "Tek seçenek?", vec!["evet".into()], false).await;
    assert!(err.is_err(), "a poll needs two options");

    // A peer sends polls that break the rules: each shows as an
    // unsupported message, and the chat goes on.
    let bad = [
        wire::Poll {
            question: "".into(),
            options: vec!["a".into(), "b".into()],
            multiple: false,
            ..Default::default()
        },
        wire::Poll {
            question: "tek?".into(),
            options: vec!["a".into()],
            multiple: false,
            ..Default::default()
        },
        wire::Poll {
            question: "aynı?".into(),
            options: vec!["a".into(), "a".into()],
            multiple: true,
            ..Default::default()
        },
        wire::Poll {
            question: "x".repeat(5000),
            options: vec!["a".into(), "b".into()],
            multiple: false,
            ..Default::default()
        },
    ];
    for p in bad {
        bob.h.send_raw_content("alice", wire::app_envelope::Content::Poll(p)).await.unwrap();
        let ev = alice
            .wait(
                "the malformed poll",
                |e| matches!(e, Event::Message { message } if !message.outgoing),
            )
            .await;
        let Event::Message { message } = ev else { unreachable!() };
        assert_eq!(message.kind, "unsupported");
        assert!(message.poll.is_none() && message.text.is_none());
    }
    let bad_vote = wire::Vote { poll: vec![1, 2, 3], choices: vec![0], ..Default::default() };
    bob.h.send_raw_content("alice", wire::app_envelope::Content::Vote(bad_vote)).await.unwrap();
    bob.h.send_text("alice", "hâlâ burada mısın?", None).await.unwrap();
    let ev = tokio::time::timeout(WAIT, async {
        loop {
            let ev = alice
                .wait(
                    "the next message",
                    |e| matches!(e, Event::Message { message } if !message.outgoing),
                )
                .await;
            let Event::Message { message } = &ev else { unreachable!() };
            if message.kind == "text" {
                return ev;
            }
            assert_eq!(message.kind, "unsupported", "the malformed vote");
        }
    })
    .await
    .unwrap();
    let Event::Message { message } = ev else { unreachable!() };
    assert_eq!(message.text.as_deref(), Some("hâlâ burada mısın?"));
}

/// The texts `n` received so far, oldest first.
async fn received(n: &TestNode) -> Vec<String> {
    crate::harness::history_all(&n.h).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_messages_go_when_due_can_be_changed_or_cancelled_and_go_late_after_a_restart() {
    use kovan_node::clock::{Clock, ManualClock};
    use kovan_node::node::ScheduledContent;
    use std::time::Duration;
    const MIN: i64 = 60_000;
    let text = |t: &str| ScheduledContent::Text { text: t.into(), reply_to: None };

    let dir = tempfile::tempdir().unwrap();
    let relay = crate::harness::TestRelay::start(dir.path()).await;
    // Alice's scheduler follows a clock the test moves; nothing sleeps.
    let clock = ManualClock::new(kovan_node::clock::system_now_ms());
    let mut alice =
        TestNode::with_clock(dir.path(), "alice", Some(&relay.url), Clock::Manual(clock.clone()))
            .await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, _) = crate::harness::befriend(&mut alice, &mut bob).await;
    let t0 = clock.now_ms();
    let a = alice.h.schedule(&bob_acct, text("on time :clock3:"), t0 + 10 * MIN).await.unwrap();
    let b = alice.h.schedule(&bob_acct, text("to be changed"), t0 + 20 * MIN).await.unwrap();
    let c = alice.h.schedule(&bob_acct, text("to be cancelled"), t0 + 30 * MIN).await.unwrap();
    let poll = ScheduledContent::Poll {
        question: "Sabah mı akşam mı?".into(),
        options: vec!["sabah".into(), "akşam".into()],
        multiple: false,
    };
    let d = alice.h.schedule(&bob_acct, poll, t0 + 40 * MIN).await.unwrap();
    assert!(alice.h.schedule(&bob_acct, text("   "), t0).await.is_err(), "empty");
    let list = alice.h.scheduled(Some(&bob_acct)).await.unwrap();
    let ids: Vec<&str> = list.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, [&a.id, &b.id, &c.id, &d.id], "listed, soonest first");
    assert!(list.iter().all(|s| s.state == "scheduled"));

    // Nothing goes before its time.
    clock.advance(Duration::from_secs(9 * 60));
    let early = tokio::time::timeout(Duration::from_secs(1), crate::harness::next_text(&mut bob));
    assert!(early.await.is_err(), "sent before its time");
    // On time.
    clock.advance(Duration::from_secs(2 * 60));
    assert_eq!(crate::harness::next_text(&mut bob).await.1, "on time 🕒");
    let sent = alice.h.scheduled(None).await.unwrap();
    assert_eq!((sent[0].state.as_str(), sent[0].late), ("sent", false));
    assert!(sent[0].message.is_some());

    // Changed and cancelled before their time; what went cannot change.
    alice.h.schedule_edit(&b.id, Some(text("changed")), Some(t0 + 25 * MIN)).await.unwrap();
    alice.h.schedule_cancel(&c.id).await.unwrap();
    assert!(alice.h.schedule_edit(&a.id, Some(text("too late")), None).await.is_err());
    assert!(alice.h.schedule_cancel(&c.id).await.is_err(), "cancelled already");
    clock.set(t0 + 26 * MIN);
    assert_eq!(crate::harness::next_text(&mut bob).await.1, "changed");

    // Due while Alice's node is off: it goes on the next start, late.
    alice.h.shutdown().await;
    clock.set(t0 + 3 * 60 * MIN);
    let alice = alice.restart().await;
    let ev = bob
        .wait(
            "the late poll",
            |e| matches!(e, Event::Message { message } if message.kind == "poll"),
        )
        .await;
    let Event::Message { message } = ev else { unreachable!() };
    assert_eq!(message.text.as_deref(), Some("Sabah mı akşam mı?"));
    let all = alice.h.scheduled(None).await.unwrap();
    let states: Vec<(&str, bool)> = all.iter().map(|s| (s.state.as_str(), s.late)).collect();
    assert_eq!(
        states,
        [("sent", false), ("sent", false), ("cancelled", false), ("sent", true)],
        "a, b, c, d"
    );
    // The cancelled one never went, and nothing went twice.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(received(&bob).await, ["on time 🕒", "changed", "Sabah mı akşam mı?"]);
}

fn near(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

/// Waits until `n` shows the location message `id` as `check` wants.
async fn location_until(
    n: &TestNode,
    id: &str,
    what: &str,
    check: impl Fn(&kovan_node::node::LocationView) -> bool + Clone + Send + 'static,
) {
    let id = id.to_owned();
    n.until(what, move |h| {
        let (id, check) = (id.clone(), check.clone());
        async move {
            let Ok(convs) = h.conversations().await else { return false };
            let Some(conv) = convs.first() else { return false };
            let Ok(page) = h.history(&conv.id, None, 100).await else { return false };
            page.iter().find(|m| m.id == id).and_then(|m| m.location.as_ref()).is_some_and(&check)
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_locations_move_stop_and_end_for_everyone_also_while_a_recipient_is_off() {
    use kovan_node::clock::{Clock, ManualClock, system_now_ms};
    use kovan_node::node::LiveShare;
    use kovan_spec::Point;
    use std::time::Duration;
    const MIN: Duration = Duration::from_secs(60);
    let at = |lat: f64, lon: f64| Point::from_degrees(lat, lon, 10).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let relay = crate::harness::TestRelay::start(dir.path()).await;
    let (ca, cb) = (ManualClock::new(system_now_ms()), ManualClock::new(system_now_ms()));
    let url = Some(relay.url.as_str());
    let mut alice = TestNode::with_clock(dir.path(), "alice", url, Clock::Manual(ca.clone())).await;
    let mut bob = TestNode::with_clock(dir.path(), "bob", url, Clock::Manual(cb.clone())).await;
    let (bob_acct, alice_acct) = crate::harness::befriend(&mut alice, &mut bob).await;
    let tick = |d: Duration| {
        ca.advance(d);
        cb.advance(d);
    };

    // A fixed point.
    let fixed = alice.h.share_location(&bob_acct, at(41.0082, 28.9784), "Sultanahmet", None);
    let fixed = fixed.await.unwrap();
    let ev = bob
        .wait(
            "the point",
            |e| matches!(e, Event::Message { message } if message.kind == "location"),
        )
        .await;
    let Event::Message { message } = ev else { unreachable!() };
    let l = message.location.unwrap();
    assert!(near(l.lat, 41.0082) && near(l.lon, 28.9784) && l.label == "Sultanahmet");
    assert!(!l.live && !l.active);
    assert_eq!(message.id, fixed.id);

    // A live share for an hour, an update every ten minutes from a track.
    let share = LiveShare {
        duration: 60 * MIN,
        every: 10 * MIN,
        track: vec![at(41.02, 28.96), at(41.03, 28.95)],
    };
    let live = alice.h.share_location(&bob_acct, at(41.01, 28.97), "", Some(share)).await.unwrap();
    location_until(&bob, &live.id, "the live share", |l| l.active && near(l.lat, 41.01)).await;
    tick(10 * MIN);
    location_until(&bob, &live.id, "the first move", |l| l.active && near(l.lat, 41.02)).await;
    // The app's own source adds a position; it goes after the track's.
    alice.h.location_update(&bob_acct, &live.id, at(41.05, 28.90)).await.unwrap();
    tick(10 * MIN);
    location_until(&bob, &live.id, "the second move", |l| near(l.lat, 41.03)).await;
    tick(10 * MIN);
    location_until(&bob, &live.id, "the third move", |l| near(l.lat, 41.05)).await;

    // Bob cannot move Alice's location.
    let forged = wire::LocationUpdate {
        target: hex::decode(&live.id).unwrap(),
        lat_e7: 0,
        lon_e7: 0,
        accuracy_m: 1,
    };
    bob.h
        .send_raw_content(&alice_acct, wire::app_envelope::Content::LocationUpdate(forged))
        .await
        .unwrap();
    sync(&bob, &mut [&mut alice], &alice_acct, "after the forged move").await;
    location_until(&alice, &live.id, "her own position", |l| near(l.lat, 41.05)).await;

    // It expires while Bob's node is off: when it starts again, the share
    // has ended there too, at its last position, and nothing moves on.
    bob.h.shutdown().await;
    tick(40 * MIN);
    location_until(&alice, &live.id, "the end on Alice's side", |l| !l.active).await;
    let bob = bob.restart().await;
    location_until(&bob, &live.id, "the end on Bob's side", |l| {
        !l.active && !l.stopped && near(l.lat, 41.05)
    })
    .await;
    assert!(alice.h.location_update(&bob_acct, &live.id, at(1.0, 1.0)).await.is_err(), "ended");

    // Stopped early by the sharer: over for everyone at once.
    let share = LiveShare { duration: 60 * MIN, every: MIN, track: vec![] };
    let second = alice.h.share_location(&bob_acct, at(40.0, 29.0), "", Some(share)).await.unwrap();
    location_until(&bob, &second.id, "the second share", |l| l.active).await;
    let stopped = alice.h.location_stop(&bob_acct, &second.id).await.unwrap().location.unwrap();
    assert!(stopped.stopped && !stopped.active);
    location_until(&bob, &second.id, "the stop", |l| l.stopped && !l.active).await;

    // A malformed location from a peer shows as unsupported.
    let bad = wire::Location {
        lat_e7: 950_000_000,
        lon_e7: 0,
        accuracy_m: 0,
        label: String::new(),
        live_until_ms: 0,
    };
    bob.h.send_raw_content(&alice_acct, wire::app_envelope::Content::Location(bad)).await.unwrap();
    let ev = alice
        .wait(
            "the malformed location",
            |e| matches!(e, Event::Message { message } if !message.outgoing),
        )
        .await;
    let Event::Message { message } = ev else { unreachable!() };
    assert_eq!((message.kind, message.location.is_none()), ("unsupported", true));
    bob.h.send_text(&alice_acct, "still here", None).await.unwrap();
    assert_eq!(crate::harness::next_text(&mut alice).await.1, "still here");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pages_both_ways_and_jumps_to_a_replied_message() {
    use kovan_node::node::HistoryAt;
    let dir = tempfile::tempdir().unwrap();
    let relay = crate::harness::TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, alice_acct) = crate::harness::befriend(&mut alice, &mut bob).await;
    const N: usize = 300;
    let want: Vec<String> = (0..N).map(|i| format!("m{i:03}")).collect();
    for t in &want {
        alice.h.send_text(&bob_acct, t, None).await.unwrap();
    }
    bob.until("all messages", |h| async move { crate::harness::history_all(&h).await.len() >= N })
        .await;

    // Scrolling up from the newest: pages of 64, newest first.
    let text = |m: &kovan_node::node::MessageView| m.text.clone().unwrap_or_default();
    let mut up = Vec::new();
    let mut before = None;
    loop {
        let page = bob.h.history_at(&alice_acct, HistoryAt::Before(before), 64).await.unwrap();
        let Some(last) = page.last() else { break };
        assert!(page.windows(2).all(|w| w[0].seq > w[1].seq), "newest first");
        before = Some(last.seq);
        up.extend(page.iter().map(text));
    }
    up.reverse();
    assert_eq!(up, want, "every message once, going up");

    // Scrolling down from before the first: pages of 64, oldest first.
    let first = bob.h.history_at(&alice_acct, HistoryAt::After(0), 1).await.unwrap();
    let mut down = Vec::new();
    let mut after = first[0].seq - 1;
    loop {
        let page = bob.h.history_at(&alice_acct, HistoryAt::After(after), 64).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        down.extend(page.iter().map(text));
    }
    assert_eq!(down, want, "every message once, going down");

    // Jump to the message a reply answers: it comes with its neighbours.
    let page = bob.h.history_at(&alice_acct, HistoryAt::Before(None), 500).await.unwrap();
    let m010 = page.iter().find(|m| text(m) == "m010").unwrap().id.clone();
    bob.h.send_text(&alice_acct, "this one", Some(&m010)).await.unwrap();
    let ev = alice
        .wait(
            "the reply",
            |e| matches!(e, Event::Message { message } if message.reply_to.is_some()),
        )
        .await;
    let Event::Message { message } = ev else { unreachable!() };
    let target = message.reply_to.unwrap();
    assert_eq!(target, m010);
    let around = alice
        .h
        .history_at(
            &bob_acct,
            HistoryAt::Around(hex::decode(&target).unwrap().try_into().unwrap()),
            21,
        )
        .await
        .unwrap();
    let texts: Vec<String> = around.iter().map(text).collect();
    assert_eq!(texts, want[..21], "m010 in the middle of its neighbours, oldest first");
    assert_eq!(around[10].id, target);
    let missing = alice.h.history_at(&bob_acct, HistoryAt::Around([9; 16]), 21).await;
    assert!(missing.is_err(), "jumping to an unknown message says so");
}
