//! Calls from the desktop: the chat's call button, the ringing window
//! with its notification, accept, the running call's window (mute, the
//! camera and the other side's video), and
//! how it ended on both sides — over a real WebRTC connection, with the
//! tests' PulseAudio microphone and speaker.

use egui_kittest::kittest::Queryable;

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

    // Alice turns her camera on (the tests' camera is the test pattern):
    // Bob sees her, in the pattern's colours; she sees herself.
    click(alice, "Turn camera on");
    until(alice, "her own picture", |h| has(h, "Your camera"));
    until(bob, "her picture", |h| has(h, "alice's camera"));
    pause(bob, std::time::Duration::from_millis(500));
    let tile = bob.query_by_label("alice's camera").expect("her tile").rect();
    assert!((tile.width() - 320.0).abs() < 1.0 && (tile.height() - 240.0).abs() < 1.0, "{tile:?}");
    let shot = bob.render().expect("rendering needs a wgpu adapter");
    for (i, &(y, u, v)) in kovan_node::call::video::BARS.iter().enumerate() {
        let bar = kovan_node::call::video::I420::from_planes(2, 2, vec![y, y, y, y, u, v]).unwrap();
        let want = &bar.to_rgba()[..3];
        let x = tile.left() + tile.width() * (2 * i + 1) as f32 / 16.0;
        let px = shot.get_pixel(x as u32, (tile.top() + tile.height() * 0.6) as u32);
        let off = (0..3).map(|c| px[c].abs_diff(want[c])).max().unwrap_or(0);
        assert!(off < 40, "bar {i}: {px:?} where the pattern has {want:?}");
    }
    assert!(has(bob, "Turn camera on"), "his own camera stays off");
    click(alice, "Turn camera off");
    until(bob, "her picture gone", |h| !has(h, "alice's camera"));
    until(alice, "her own picture gone", |h| !has(h, "Your camera"));
    // Bob shares his screen (the tests' screen is a test pattern too):
    // Alice sees it as his screen, not his camera.
    click(bob, "Share screen");
    until(bob, "sharing", |h| has(h, "You are sharing your screen") && has(h, "Stop sharing"));
    until(alice, "his screen", |h| has(h, "bob's screen"));
    assert!(!has(alice, "bob's camera"));
    click(bob, "Stop sharing");
    until(alice, "his screen gone", |h| !has(h, "bob's screen"));

    click(bob, "Hang up");
    until(alice, "the end on her side", |h| has_text(h, "Call with bob ended after "));
    until(bob, "the end on his side", |h| has_text(h, "Call with alice ended after "));
    assert!(!has(alice, "Hang up"), "the call window stayed");
    // Both chats keep the call, with its length (however long the
    // steps above took).
    until(alice, "the call in her chat", |h| has_text(h, "📞 Outgoing call · "));
    until(bob, "the call in his chat", |h| has_text(h, "📞 Incoming call · "));
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
