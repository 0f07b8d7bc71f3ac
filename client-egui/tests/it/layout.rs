//! The layout holds still: what appears (settings, errors, completions)
//! does not move the controls under the pointer.

use eframe::egui;
use egui_kittest::kittest::Queryable;
use kovan_desktop::app::{App, Screen};

use crate::ui::*;

fn rect_of(h: &Client, label: &str) -> egui::Rect {
    h.get_by_label(label).rect()
}

#[test]
fn the_sidebar_keeps_its_width_after_settings() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = alone_in_a_group(dir.path());
    let before = rect_of(&alice, "Message");
    click(&mut alice, "Settings");
    click(&mut alice, "Chats");
    until(&mut alice, "the composer", |h| has(h, "Message"));
    let after = rect_of(&alice, "Message");
    assert_eq!(before.left(), after.left(), "the sidebar widened: {before:?} → {after:?}");
    assert_eq!(before.width(), after.width(), "the message box narrowed");
}

#[test]
fn an_error_does_not_move_the_controls() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = window(App::new(config(dir.path(), "alice", None)));
    create_identity(&mut alice, "alice");
    click(&mut alice, "Lock");
    until(&mut alice, "the lock screen", |h| h.state().screen == Screen::Unlock);
    let before = rect_of(&alice, "Unlock");
    type_into(&mut alice, "Passphrase", "not the passphrase");
    click(&mut alice, "Unlock");
    until(&mut alice, "the error", |h| {
        h.state().screen == Screen::Unlock && !h.state().errors().is_empty()
    });
    alice.step();
    assert_eq!(before, rect_of(&alice, "Unlock"), "the error bar moved the button");
}

#[test]
fn completions_do_not_move_the_message_box_or_the_messages() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = alone_in_a_group(dir.path());
    // A normal window, scrolled to the newest message.
    alice.set_size(egui::vec2(1100.0, 500.0));
    for i in 0..12 {
        send(&mut alice, &format!("mesaj {i}"));
    }
    send(&mut alice, "merhaba");
    until(&mut alice, "the message", |h| has(h, "merhaba"));
    pause(&mut alice, std::time::Duration::from_millis(300));
    let field = rect_of(&alice, "Message");
    let message = alice.query_all_by_label("merhaba").next().unwrap().rect();
    type_into(&mut alice, "Message", "hi :sm");
    until(&mut alice, "completions", |h| has_text(h, "Complete :sm"));
    alice.step();
    assert_eq!(field, rect_of(&alice, "Message"), "the message box moved");
    let now = alice.query_all_by_label("merhaba").next().unwrap().rect();
    assert_eq!(message, now, "the messages moved");
}

#[test]
fn opening_and_closing_the_extras_leaves_their_toggle_under_the_pointer() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = alone_in_a_group(dir.path());
    let toggle = "Attach, location, poll, send later";
    let before = rect_of(&alice, toggle);
    click(&mut alice, toggle);
    until(&mut alice, "the extras", |h| has(h, "File path"));
    assert_eq!(before, rect_of(&alice, toggle), "the toggle moved away from the pointer");
    click(&mut alice, toggle);
    until(&mut alice, "the extras closed", |h| !has(h, "File path"));
}
