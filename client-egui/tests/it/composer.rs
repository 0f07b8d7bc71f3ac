//! The message box keeps the keyboard: typing around `:shortcode:`
//! completions, Tab and Enter. One person alone in a group, no relay.

use eframe::egui;
use egui_kittest::kittest::Queryable;

use crate::ui::*;

/// Keys as a keyboard sends them: to whatever has the focus.
fn keys(h: &mut Client, text: &str) {
    h.event(egui::Event::Text(text.to_owned()));
    h.step();
    h.step();
}

#[test]
fn typing_goes_on_into_the_message_box_while_completions_come_and_change() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = alone_in_a_group(dir.path());

    type_into(&mut alice, "Message", "hi");
    // The suggestion strip appears, changes, wraps and goes; the keys
    // keep landing in the message box.
    keys(&mut alice, " :");
    keys(&mut alice, "s");
    keys(&mut alice, "m");
    until(&mut alice, "completions", |h| has_text(h, "Complete :sm"));
    keys(&mut alice, "i");
    keys(&mut alice, "le: there");
    assert!(alice.get_by_label("Message").is_focused(), "the message box keeps the focus");
    until(&mut alice, "the whole draft", |h| {
        h.query_all_by_value("hi :smile: there").next().is_some()
    });
    // Enter sends it.
    alice.key_press(egui::Key::Enter);
    until(&mut alice, "the message sent", |h| has(h, "hi 😄 there"));
    assert!(alice.get_by_label("Message").is_focused(), "still in the message box");
}
