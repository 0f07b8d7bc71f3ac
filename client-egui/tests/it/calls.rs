//! Calls from the desktop: the chat's call button, the ringing window
//! with its notification, accept, the running call's window (mute), and
//! how it ended on both sides — over a real WebRTC connection, with the
//! tests' PulseAudio microphone and speaker.

use crate::ui::*;

#[test]
fn a_call_rings_is_answered_runs_and_ends_on_both_sides() {
    let mut t = two_friends();
    open_chats(&mut t);
    let Two { alice, bob, .. } = &mut t;
    click(alice, "📞 Call");
    until(alice, "calling", |h| has_text(h, "Calling bob"));
    until(bob, "ringing", |h| has(h, "alice is calling"));
    let notes = bob.state().notifications().to_vec();
    assert!(
        notes.iter().any(|n| n.title == "Incoming call" && n.body == "alice is calling"),
        "{notes:?}"
    );
    click(bob, "Accept");
    until(alice, "her side of the call", |h| has(h, "In a call with bob"));
    until(bob, "his side of the call", |h| has(h, "In a call with alice"));
    // The sound devices opened: nothing went wrong on either side.
    assert!(alice.state().errors().is_empty(), "{:?}", alice.state().errors());
    assert!(bob.state().errors().is_empty(), "{:?}", bob.state().errors());
    click(alice, "Mute");
    until(alice, "muted", |h| has(h, "Unmute"));
    click(bob, "Hang up");
    until(alice, "the end on her side", |h| has_text(h, "Call with bob ended after 0:0"));
    until(bob, "the end on his side", |h| has_text(h, "Call with alice ended after 0:0"));
    assert!(!has(alice, "Hang up"), "the call window stayed");
    // Both chats keep the call, with its length.
    until(alice, "the call in her chat", |h| has_text(h, "📞 Outgoing call · 0:0"));
    until(bob, "the call in his chat", |h| has_text(h, "📞 Incoming call · 0:0"));
}

#[test]
fn a_declined_call_says_so_to_the_caller() {
    let mut t = two_friends();
    open_chats(&mut t);
    let Two { alice, bob, .. } = &mut t;
    click(alice, "📞 Call");
    until(bob, "ringing", |h| has(h, "alice is calling"));
    click(bob, "Decline");
    until(alice, "declined", |h| has(h, "bob declined the call"));
    until(bob, "the ringing ends", |h| {
        !has(h, "Accept") && has(h, "You declined the call from alice")
    });
    until(alice, "the record in her chat", |h| has_text(h, "📞 Call declined"));
    until(bob, "the record in his chat", |h| has_text(h, "📞 You declined a call"));
}
