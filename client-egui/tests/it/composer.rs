//! The message box keeps the keyboard: typing around `:shortcode:`
//! completions, Tab and Enter. One person alone in a group, no relay.

use eframe::egui;
use egui_kittest::kittest::Queryable;
use kovan_desktop::app::Screen;

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
    // The arrows move the cursor, not the focus.
    for key in [egui::Key::ArrowLeft, egui::Key::ArrowRight, egui::Key::ArrowUp] {
        alice.key_press(key);
        alice.step();
        alice.step();
    }
    assert!(alice.get_by_label("Message").is_focused(), "an arrow moved the focus");
    until(&mut alice, "the whole draft", |h| {
        h.query_all_by_value("hi :smile: there").next().is_some()
    });
    // Enter sends it.
    alice.key_press(egui::Key::Enter);
    until(&mut alice, "the message sent", |h| has(h, "hi 😄 there"));
    assert!(alice.get_by_label("Message").is_focused(), "still in the message box");
}

#[test]
fn tab_completes_and_the_next_enter_sends() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = alone_in_a_group(dir.path());

    type_into(&mut alice, "Message", "ok :thumbsu");
    until(&mut alice, "the completion", |h| has(h, "Complete :thumbsup:"));
    alice.key_press(egui::Key::Tab);
    alice.step();
    alice.step();
    until(&mut alice, "the completed draft", |h| h.query_all_by_value("ok 👍 ").next().is_some());
    assert!(alice.get_by_label("Message").is_focused(), "Tab stays in the message box");
    alice.key_press(egui::Key::Enter);
    alice.step();
    alice.step();
    assert_eq!(alice.state().screen, Screen::Main, "Enter did not lock the app");
    until(&mut alice, "the message sent", |h| has_text(h, "ok 👍"));
}
