//! 1:1 calls between real nodes on loopback (SPEC.md §6.9): signaling in
//! the MLS conversation, a real WebRTC connection, audio checked by ear
//! (its pitch and level measured on the other side), and every way a call
//! ends.

use std::time::Duration;

use kovan_node::call::video::pattern_number;
use kovan_node::call::{AudioSink, AudioSource, Recorder, Silence, TestPattern, Tone};
use kovan_node::{CallDevices, CallState, CallView, Event, Feed};

use crate::harness::{Extra, TestNode, TestRelay, befriend};

/// A tone out, a recorder in.
fn devices(hz: f32, heard: &Recorder) -> CallDevices {
    let heard = heard.clone();
    CallDevices::new(move || {
        let source: Box<dyn AudioSource> =
            if hz > 0.0 { Box::new(Tone::new(hz, 0.5)) } else { Box::new(Silence) };
        let sink: Box<dyn AudioSink> = Box::new(heard.clone());
        Ok((source, sink))
    })
}

/// Waits for a call event in `state` (and, for an ended call, `reason`).
pub(crate) async fn call_event(
    n: &mut TestNode,
    state: CallState,
    reason: Option<&str>,
) -> CallView {
    let what = format!("a call {state:?} {reason:?}");
    let ev = n
        .wait(&what, |e| {
            matches!(e, Event::Call { call } if call.state == state
                && (reason.is_none() || call.reason.as_deref() == reason))
        })
        .await;
    let Event::Call { call } = ev else { unreachable!() };
    call
}

/// The pitch of what `heard` recorded over its last second.
fn pitch(heard: &Recorder) -> (f32, f32) {
    let s = heard.samples();
    let last = &s[s.len().saturating_sub(48_000)..];
    (kovan_node::voice::tone_frequency(last), kovan_node::call::devices::rms(last))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_call_carries_each_sides_tone_and_both_log_it() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(&dir.path().join("relay")).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, alice_acct) = befriend(&mut alice, &mut bob).await;
    let (alice_heard, bob_heard) = (Recorder::new(), Recorder::new());

    let started = alice.h.call_friend(&bob_acct, devices(440.0, &alice_heard)).await.unwrap();
    assert_eq!(started.state, CallState::Calling);
    let ringing = call_event(&mut bob, CallState::Ringing, None).await;
    assert_eq!(
        (ringing.id.as_str(), ringing.peer.as_str()),
        (started.id.as_str(), alice_acct.as_str())
    );
    assert!(!ringing.outgoing);
    bob.h.answer_call(Some(&ringing.id), devices(660.0, &bob_heard)).await.unwrap();
    call_event(&mut alice, CallState::Active, None).await;
    call_event(&mut bob, CallState::Active, None).await;
    // A second call while in this one is refused.
    let err = alice.h.call_friend(&bob_acct, CallDevices::silent()).await.unwrap_err();
    assert!(err.to_string().contains("already in a call"), "{err}");

    tokio::time::sleep(Duration::from_secs(2)).await;
    let (f, level) = pitch(&bob_heard);
    assert!((f - 440.0).abs() < 5.0 && (level - 0.354).abs() < 0.05, "Bob heard {f} Hz at {level}");
    let (f, level) = pitch(&alice_heard);
    assert!(
        (f - 660.0).abs() < 5.0 && (level - 0.354).abs() < 0.05,
        "Alice heard {f} Hz at {level}"
    );
    let live = alice.h.current_call().await.unwrap().unwrap();
    let audio = live.audio.unwrap();
    assert!(audio.sent > 50 && audio.played > 50 && audio.level_in > 300, "{audio:?}");

    // Muted: Bob hears silence.
    alice.h.mute_call(true).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let s = bob_heard.samples();
    let tail = &s[s.len() - 24_000..];
    assert!(kovan_node::call::devices::rms(tail) < 0.01, "muted, yet Bob hears her");

    bob.h.hang_up(None).await.unwrap();
    let ended = call_event(&mut alice, CallState::Ended, Some("hangup")).await;
    assert!(ended.answered_at.is_some());
    call_event(&mut bob, CallState::Ended, Some("hangup")).await;
    for (n, outgoing) in [(&alice, true), (&bob, false)] {
        let log = n.h.call_log(10).await.unwrap();
        assert_eq!(log.len(), 1, "{}: {log:?}", n.name);
        assert_eq!((log[0].outgoing, log[0].reason.as_deref()), (outgoing, Some("hangup")));
        assert!(log[0].answered_at.is_some() && log[0].ended_at >= log[0].answered_at);
        assert!(n.h.current_call().await.unwrap().is_none());
    }
    // Signals never become messages; each side keeps the call's record in
    // the chat, with its length, and an answered call is not unread.
    for (n, with, outgoing) in [(&alice, &bob_acct, true), (&bob, &alice_acct, false)] {
        let page = n.h.history(with, None, 10).await.unwrap();
        assert_eq!(page.len(), 1, "{}: {page:?}", n.name);
        let m = &page[0];
        assert_eq!((m.kind, m.outgoing, m.id.as_str()), ("call", outgoing, started.id.as_str()));
        let record = m.call.as_ref().unwrap();
        assert_eq!(record.reason, "hangup");
        assert!(record.duration_ms.is_some_and(|d| d >= 3_000), "{record:?}");
        let convs = n.h.conversations().await.unwrap();
        assert_eq!(convs[0].unread, 0, "{}", n.name);
    }
}

/// Waits for the peer's next picture in `n`'s call (after number
/// `after`); its test-pattern number and size.
async fn picture(n: &TestNode, after: Option<u64>) -> (u64, u32, u32, u32) {
    for _ in 0..300 {
        if let Some((seq, p)) = n.h.call_picture(Feed::Camera, after).await.unwrap() {
            let number = pattern_number(&p).expect("the picture reads as the pattern sent");
            return (seq, number, p.width(), p.height());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{}: no picture after {after:?}", n.name);
}

/// Checks that `n` is shown no more pictures of `feed` (after half a
/// second for those on their way), over a second.
pub(crate) async fn assert_no_more_pictures(n: &TestNode, feed: Feed) {
    let shown = || async {
        let call = n.h.current_call().await.unwrap().unwrap();
        let v = if feed == Feed::Camera { call.video } else { call.screen };
        v.unwrap().shown
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = shown().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(shown().await, before, "{}: pictures of {feed:?} kept coming", n.name);
}

/// Alice and Bob, friends on a relay of their own, in a call Alice made
/// with her camera on showing the test pattern at `size`; once active on
/// both sides.
pub(crate) async fn video_call(
    dir: &std::path::Path,
    size: (u32, u32),
) -> (TestRelay, TestNode, TestNode) {
    let relay = TestRelay::start(&dir.join("relay")).await;
    let mut alice = TestNode::new(dir, "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir, "bob", Some(&relay.url)).await;
    let (bob_acct, _) = befriend(&mut alice, &mut bob).await;
    let camera = Box::new(TestPattern::new(size.0, size.1).unwrap());
    alice.h.call_friend(&bob_acct, CallDevices::silent().with_camera(camera)).await.unwrap();
    let ringing = call_event(&mut bob, CallState::Ringing, None).await;
    bob.h.answer_call(Some(&ringing.id), CallDevices::silent()).await.unwrap();
    call_event(&mut alice, CallState::Active, None).await;
    call_event(&mut bob, CallState::Active, None).await;
    (relay, alice, bob)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_camera_shows_on_the_other_side_and_each_side_turns_its_own_on_and_off() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, alice, mut bob) = video_call(dir.path(), (640, 480)).await;

    // Alice's pictures reach Bob as sent, one after another.
    let (seq, first, w, h) = picture(&bob, None).await;
    assert_eq!((w, h), (640, 480));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (_, later, ..) = picture(&bob, Some(seq)).await;
    assert!(later > first + 10, "pictures {first} then {later} a second later");
    let (mine, theirs) = (
        alice.h.current_call().await.unwrap().unwrap().video.unwrap(),
        bob.h.current_call().await.unwrap().unwrap().video.unwrap(),
    );
    assert!(mine.on && mine.sent >= 30 && mine.size_out.as_deref() == Some("640x480"), "{mine:?}");
    assert!(
        !theirs.on && theirs.shown >= 30 && theirs.size_in.as_deref() == Some("640x480"),
        "{theirs:?}"
    );
    assert!(
        alice.h.call_picture(Feed::Camera, None).await.unwrap().is_none(),
        "Bob's camera is off"
    );

    // Bob turns his on; Alice turns hers off.
    bob.h.set_camera(Some(Box::new(TestPattern::new(320, 240).unwrap()))).await.unwrap();
    let (_, _, w, h) = picture(&alice, None).await;
    assert_eq!((w, h), (320, 240));
    let off = alice.h.set_camera(None).await.unwrap().video.unwrap();
    assert!(!off.on);
    assert_no_more_pictures(&bob, Feed::Camera).await;

    alice.h.hang_up(None).await.unwrap();
    call_event(&mut bob, CallState::Ended, Some("hangup")).await;
    let err = bob.h.set_camera(None).await.unwrap_err();
    assert!(err.to_string().contains("no call"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn declined_busy_and_unanswered_calls_end_as_each_side_sees_them() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(&dir.path().join("relay")).await;
    let extra = || Extra { ring_ms: Some(3_000), ..Extra::default() };
    let mut alice = TestNode::with_extra(dir.path(), "alice", Some(&relay.url), extra()).await;
    let mut bob = TestNode::with_extra(dir.path(), "bob", Some(&relay.url), extra()).await;
    let mut carol = TestNode::with_extra(dir.path(), "carol", Some(&relay.url), extra()).await;
    let (bob_acct, _) = befriend(&mut alice, &mut bob).await;
    carol.h.register("carol", "a long password").await.unwrap();
    crate::harness::befriend_registered(&mut carol, &mut bob).await;
    let bob_for_carol = bob_acct.clone();

    // Declined.
    alice.h.call_friend(&bob_acct, CallDevices::silent()).await.unwrap();
    let ringing = call_event(&mut bob, CallState::Ringing, None).await;
    let err = bob.h.answer_call(Some("00"), CallDevices::silent()).await.unwrap_err();
    assert!(err.to_string().contains("over"), "{err}");
    bob.h.reject_call(Some(&ringing.id)).await.unwrap();
    call_event(&mut alice, CallState::Ended, Some("declined")).await;
    call_event(&mut bob, CallState::Ended, Some("declined")).await;

    // Busy: Bob's phone rings for Alice when Carol calls.
    alice.h.call_friend(&bob_acct, CallDevices::silent()).await.unwrap();
    call_event(&mut bob, CallState::Ringing, None).await;
    carol.h.call_friend(&bob_for_carol, CallDevices::silent()).await.unwrap();
    call_event(&mut carol, CallState::Ended, Some("busy")).await;
    let missed = call_event(&mut bob, CallState::Ended, Some("missed")).await;
    assert_eq!(missed.peer_name, "carol");
    assert!(bob.h.current_call().await.unwrap().is_some_and(|c| c.state == CallState::Ringing));

    // Nobody answers Alice within the ring time: she gives up, Bob missed it.
    call_event(&mut alice, CallState::Ended, Some("no_answer")).await;
    call_event(&mut bob, CallState::Ended, Some("missed")).await;

    // Alice gives up herself while it rings: missed for Bob.
    alice.h.call_friend(&bob_acct, CallDevices::silent()).await.unwrap();
    call_event(&mut bob, CallState::Ringing, None).await;
    alice.h.hang_up(None).await.unwrap();
    call_event(&mut bob, CallState::Ended, Some("missed")).await;

    let reasons = |log: Vec<CallView>| log.into_iter().filter_map(|c| c.reason).collect::<Vec<_>>();
    assert_eq!(reasons(alice.h.call_log(10).await.unwrap()), ["hangup", "no_answer", "declined"]);
    assert_eq!(
        reasons(bob.h.call_log(10).await.unwrap()),
        ["missed", "missed", "missed", "declined"]
    );
    assert_eq!(reasons(carol.h.call_log(10).await.unwrap()), ["busy"]);
    // In Bob's chat with Alice: the call he declined and two he missed,
    // each a record without a length, all unread.
    let alice_acct = alice.h.account_hex();
    let page = bob.h.history(&alice_acct, None, 10).await.unwrap();
    let reasons: Vec<_> =
        page.iter().filter_map(|m| m.call.as_ref().map(|c| c.reason.as_str())).collect();
    assert_eq!(reasons, ["missed", "missed", "declined"], "{page:?}");
    assert!(page.iter().all(|m| m.kind == "call" && !m.outgoing));
    assert!(page.iter().all(|m| m.call.as_ref().unwrap().duration_ms.is_none()));
    let convs = bob.h.conversations().await.unwrap();
    let with_alice =
        convs.iter().find(|c| c.contact.as_ref().is_some_and(|k| k.account == alice_acct)).unwrap();
    assert_eq!(with_alice.unread, 3, "missed and declined calls are unread");
    let err = bob.h.hang_up(None).await.unwrap_err();
    assert!(err.to_string().contains("no call"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn calling_each_other_at_once_ends_in_one_call() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(&dir.path().join("relay")).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, alice_acct) = befriend(&mut alice, &mut bob).await;
    let (alice_heard, bob_heard) = (Recorder::new(), Recorder::new());
    let (a, b) = tokio::join!(
        alice.h.call_friend(&bob_acct, devices(440.0, &alice_heard)),
        bob.h.call_friend(&alice_acct, devices(660.0, &bob_heard)),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.id, b.id);
    let on_alice = call_event(&mut alice, CallState::Active, None).await;
    let on_bob = call_event(&mut bob, CallState::Active, None).await;
    assert_eq!(on_alice.id, on_bob.id, "two calls");
    assert_eq!(on_alice.id, a.id.clone().min(b.id.clone()), "the smaller id wins");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!((pitch(&bob_heard).0 - 440.0).abs() < 5.0, "each hears the other's own devices");
    assert!((pitch(&alice_heard).0 - 660.0).abs() < 5.0);
    alice.h.hang_up(None).await.unwrap();
    call_event(&mut bob, CallState::Ended, Some("hangup")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_offer_that_waited_in_a_mailbox_is_missed_and_never_rings() {
    use kovan_node::clock::{Clock, ManualClock, system_now_ms};
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(&dir.path().join("relay")).await;
    // Alice's clock is a minute behind: her offer looks a minute old.
    let clock = ManualClock::new(system_now_ms() - 60_000);
    let mut alice =
        TestNode::with_clock(dir.path(), "alice", Some(&relay.url), Clock::Manual(clock)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, _) = befriend(&mut alice, &mut bob).await;
    alice.h.call_friend(&bob_acct, CallDevices::silent()).await.unwrap();
    let ev = bob.wait("the offer", |e| matches!(e, Event::Call { .. })).await;
    let Event::Call { call } = ev else { unreachable!() };
    assert_eq!((call.state, call.reason.as_deref()), (CallState::Ended, Some("missed")), "it rang");
    assert!(bob.h.current_call().await.unwrap().is_none());
    alice.h.hang_up(None).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_blocked_friends_calls_never_ring() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(&dir.path().join("relay")).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, alice_acct) = befriend(&mut alice, &mut bob).await;
    alice.h.block(&bob_acct).await.unwrap();
    bob.h.call_friend(&alice_acct, CallDevices::silent()).await.unwrap();
    let rang = tokio::time::timeout(
        Duration::from_secs(3),
        alice.wait("a call", |e| matches!(e, Event::Call { .. })),
    )
    .await;
    assert!(rang.is_err(), "a blocked friend's call reached her: {rang:?}");
    assert!(alice.h.current_call().await.unwrap().is_none());
    bob.h.hang_up(None).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_that_keep_their_addresses_call_through_the_relays_turn() {
    let dir = tempfile::tempdir().unwrap();
    let turn =
        |c: &mut kovan_relay::RelayConfig| c.turn_listen = Some("127.0.0.1:0".parse().unwrap());
    let relay = TestRelay::start_with(&dir.path().join("relay"), turn).await;
    // direct = false: their calls may use relayed candidates only.
    let mut alice = TestNode::relay_only(dir.path(), "alice", &relay.url).await;
    let mut bob = TestNode::relay_only(dir.path(), "bob", &relay.url).await;
    let (bob_acct, _) = befriend(&mut alice, &mut bob).await;
    let heard = Recorder::new();
    alice.h.call_friend(&bob_acct, devices(440.0, &Recorder::new())).await.unwrap();
    call_event(&mut bob, CallState::Ringing, None).await;
    bob.h.answer_call(None, devices(0.0, &heard)).await.unwrap();
    call_event(&mut alice, CallState::Active, None).await;
    call_event(&mut bob, CallState::Active, None).await;
    let server = relay.relay.state.turn.get().unwrap();
    assert!(server.allocations().await >= 2, "both sides relay through TURN");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!((pitch(&heard).0 - 440.0).abs() < 5.0, "through TURN: {:?}", pitch(&heard));
    alice.h.hang_up(None).await.unwrap();
    call_event(&mut bob, CallState::Ended, Some("hangup")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_turn_a_node_that_keeps_its_addresses_says_why_it_cannot_call() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(&dir.path().join("relay")).await;
    let mut alice = TestNode::relay_only(dir.path(), "alice", &relay.url).await;
    let mut bob = TestNode::relay_only(dir.path(), "bob", &relay.url).await;
    let (bob_acct, _) = befriend(&mut alice, &mut bob).await;
    alice.h.call_friend(&bob_acct, CallDevices::silent()).await.unwrap();
    let ev = alice.wait("the reason", |e| matches!(e, Event::Error { .. })).await;
    let Event::Error { message, .. } = ev else { unreachable!() };
    assert!(message.contains("TURN"), "{message}");
    call_event(&mut alice, CallState::Ended, Some("failed")).await;
}

/// Descriptors and threads of this process (every node here is in it).
fn resources() -> (usize, usize) {
    let fds = std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0);
    let threads = std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(0);
    (fds, threads)
}

/// Set in the child process that runs [`fifty_calls_in_a_row_release_their_sockets_and_threads`]
/// alone.
const ALONE: &str = "KOVAN_TEST_CALLS_ALONE";

/// The other tests of this binary open and close (and keep, until the
/// binary ends) descriptors and threads of their own nodes beside this
/// one, so the count is made in a process of its own: this binary run
/// again for this test only.
#[test]
fn fifty_calls_in_a_row_release_their_sockets_and_threads() {
    if std::env::var_os(ALONE).is_some() {
        return tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .unwrap()
            .block_on(fifty_calls());
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "calls::fifty_calls_in_a_row_release_their_sockets_and_threads"])
        .args(["--nocapture", "--test-threads", "1"])
        .env(ALONE, "1")
        .output()
        .unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn fifty_calls() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(&dir.path().join("relay")).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, _) = befriend(&mut alice, &mut bob).await;
    let mut after_first = None;
    for i in 0..50 {
        alice.h.call_friend(&bob_acct, CallDevices::silent()).await.unwrap();
        call_event(&mut bob, CallState::Ringing, None).await;
        bob.h.answer_call(None, CallDevices::silent()).await.unwrap();
        call_event(&mut alice, CallState::Active, None).await;
        call_event(&mut bob, CallState::Active, None).await;
        if i % 2 == 0 { alice.h.hang_up(None).await } else { bob.h.hang_up(None).await }.unwrap();
        call_event(&mut alice, CallState::Ended, Some("hangup")).await;
        call_event(&mut bob, CallState::Ended, Some("hangup")).await;
        if i == 0 {
            // Closing finishes on the runtime just after the event.
            tokio::time::sleep(Duration::from_millis(500)).await;
            after_first = Some(resources());
        }
    }
    let (fds0, threads0) = after_first.unwrap();
    // Closing finishes on the runtime just after the last events: the
    // counts are read until they come back near where they were (for up
    // to 10 s), and the lowest seen is judged. A call that kept one of its
    // own would add 49 for good.
    let end = std::time::Instant::now() + Duration::from_secs(10);
    let (mut fds, mut threads) = resources();
    while (fds > fds0 + 30 || threads > threads0 + 30) && std::time::Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (f, t) = resources();
        (fds, threads) = (fds.min(f), threads.min(t));
    }
    assert!(fds <= fds0 + 30, "descriptors grew from {fds0} to {fds} over 49 calls");
    assert!(threads <= threads0 + 30, "threads grew from {threads0} to {threads}");
    assert_eq!(alice.h.call_log(100).await.unwrap().len(), 50);
}

/// A relay with TURN that keeps no file over 1 MiB (a bigger one has no
/// relay copy).
async fn turn_relay_for_small_files(dir: &std::path::Path) -> TestRelay {
    TestRelay::start_with(&dir.join("relay"), |c| {
        c.turn_listen = Some("127.0.0.1:0".parse().unwrap());
        c.limits.blob_max_bytes = crate::files::MIB as i64;
    })
    .await
}

/// R9 (SPEC.md §6.9.1): two friends whose nodes keep their addresses (no
/// direct libp2p connection) and a relay that takes no file this big: the
/// file waits until they are in a call, then comes over the call's data
/// channel; the call is cut halfway, and the next call resumes it where it
/// stopped, byte-identical.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_file_no_relay_carries_comes_over_the_call_and_resumes_after_a_cut() {
    use crate::files::{MIB, file_event, make_file, offered, sealed_len, sha};
    let dir = tempfile::tempdir().unwrap();
    let relay = turn_relay_for_small_files(dir.path()).await;
    let mut alice = TestNode::relay_only(dir.path(), "alice", &relay.url).await;
    // Bob opens no data link of his own: the file waits for the call.
    let no_links = Extra { no_links: true, ..Extra::default() };
    let mut bob = TestNode::relay_only_with(dir.path(), "bob", &relay.url, no_links).await;
    let (bob_acct, _) = befriend(&mut alice, &mut bob).await;
    let size = 8 * MIB;
    let src = make_file(dir.path(), "film.bin", size, 9);
    alice.h.send_file("bob", &src, "", None).await.unwrap();
    let id = offered(&mut bob).await;
    file_event(&mut bob, "no source yet", |f| f.id == id && f.state == "waiting").await;

    let call = async |alice: &mut TestNode, bob: &mut TestNode| {
        alice.h.call_friend(&bob_acct, CallDevices::silent()).await.unwrap();
        call_event(bob, CallState::Ringing, None).await;
        bob.h.answer_call(None, CallDevices::silent()).await.unwrap();
        call_event(alice, CallState::Active, None).await;
    };
    call(&mut alice, &mut bob).await;
    let part = file_event(&mut bob, "a part over the call", |f| f.id == id && f.done > 0).await;
    assert_eq!(part.via, "call");
    alice.h.hang_up(None).await.unwrap();
    call_event(&mut bob, CallState::Ended, Some("hangup")).await;
    let cut = file_event(&mut bob, "the cut", |f| f.id == id && f.state == "waiting").await;
    assert!(cut.done < size, "the whole file came before the cut: {cut:?}");

    call(&mut alice, &mut bob).await;
    let done = file_event(&mut bob, "the rest", |f| f.id == id && f.state == "complete").await;
    assert_eq!(sha(std::path::Path::new(&done.path.clone().unwrap())), sha(&src));
    assert_eq!(done.via, "call");
    assert!(done.resumed_from > 0, "the second call started over: {done:?}");
    let total = sealed_len(size);
    assert!(
        done.wire_bytes < total + total / 5,
        "{} bytes crossed for a {total}-byte ciphertext: it started over",
        done.wire_bytes
    );
    alice.h.hang_up(None).await.unwrap();
}

/// R9 without a call (SPEC.md §6.9.4): the same friends and relay, no call.
/// Bob's node, whose download has no source, opens a data link to Alice's
/// device through the relay's TURN server; her node answers it without
/// ringing, and the file arrives over it byte-identical. Nobody's call log
/// or chat shows anything, and the link ends once it is idle.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_file_no_relay_carries_comes_over_a_data_link_without_a_call() {
    use crate::files::{MIB, file_event, make_file, offered, sha};
    let dir = tempfile::tempdir().unwrap();
    let relay = turn_relay_for_small_files(dir.path()).await;
    let quick = || Extra { link_idle_ms: Some(2_000), ..Extra::default() };
    let mut alice = TestNode::relay_only_with(dir.path(), "alice", &relay.url, quick()).await;
    let mut bob = TestNode::relay_only_with(dir.path(), "bob", &relay.url, quick()).await;
    befriend(&mut alice, &mut bob).await;
    let size = 6 * MIB + 123;
    let src = make_file(dir.path(), "film.bin", size, 21);
    alice.h.send_file("bob", &src, "", None).await.unwrap();
    let id = offered(&mut bob).await;
    let done = file_event(&mut bob, "the file", |f| f.id == id && f.state == "complete").await;
    assert_eq!(done.via, "link");
    assert_eq!(sha(std::path::Path::new(&done.path.clone().unwrap())), sha(&src));
    let server = relay.relay.state.turn.get().unwrap();
    assert!(server.allocations().await >= 2, "both sides relay through TURN");
    // Not a call: no ring, no log, nothing in the chat but the file.
    assert!(alice.h.current_call().await.unwrap().is_none());
    assert!(alice.h.call_log(10).await.unwrap().is_empty());
    assert!(bob.h.call_log(10).await.unwrap().is_empty());
    let mut rang = false;
    while let Ok(e) = alice.events.try_recv() {
        rang |= matches!(e, Event::Call { .. });
    }
    assert!(!rang, "Alice's node rang or showed a call");
    // Idle for 2 s (checked every second): both sides end it.
    let gone = async |n: &TestNode| {
        for _ in 0..100 {
            if n.h.data_links().await.unwrap().is_empty() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    };
    assert!(gone(&bob).await, "Bob's link stayed: {:?}", bob.h.data_links().await);
    assert!(gone(&alice).await, "Alice's link stayed: {:?}", alice.h.data_links().await);
}

/// A friend's node with `file_links = false` declines a link; a file that
/// no source brings keeps waiting instead of failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_that_takes_no_links_declines_them_and_the_file_waits() {
    use crate::files::{MIB, file_event, make_file, offered};
    let dir = tempfile::tempdir().unwrap();
    let relay = turn_relay_for_small_files(dir.path()).await;
    let no_links = Extra { no_links: true, ..Extra::default() };
    let mut alice = TestNode::relay_only_with(dir.path(), "alice", &relay.url, no_links).await;
    let mut bob = TestNode::relay_only(dir.path(), "bob", &relay.url).await;
    befriend(&mut alice, &mut bob).await;
    let src = make_file(dir.path(), "big.bin", 2 * MIB, 22);
    alice.h.send_file("bob", &src, "", None).await.unwrap();
    let id = offered(&mut bob).await;
    file_event(&mut bob, "no source", |f| f.id == id && f.state == "waiting").await;
    // Bob asked; Alice's node declined, so his link is gone, and the file
    // still waits (not failed, not complete).
    // (Declining takes one round trip: the link lives for tens of ms.)
    let mut asked = false;
    for _ in 0..2_000 {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let links = bob.h.data_links().await.unwrap();
        asked |= !links.is_empty();
        if asked && links.is_empty() {
            break;
        }
    }
    assert!(asked, "Bob's node never asked for a link");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(bob.h.data_links().await.unwrap().is_empty(), "a declined link stayed");
    assert!(alice.h.data_links().await.unwrap().is_empty());
    let f = bob.h.file(&id).await.unwrap();
    assert_eq!(f.state, "waiting", "{f:?}");
}
