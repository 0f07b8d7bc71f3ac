//! The window's title counts unread messages; every chat starts with the
//! end-to-end note.

use eframe::egui::{ViewportCommand, ViewportId};

use crate::ui::*;

/// Steps until the window has been told the title `want` (and the app
/// says it is the title).
#[track_caller]
fn title_becomes(h: &mut Client, want: &str) {
    let told = std::cell::RefCell::new(String::new());
    until(h, want, |h| {
        let sent = h.output().viewport_output.get(&ViewportId::ROOT).and_then(|v| {
            v.commands.iter().rev().find_map(|c| match c {
                ViewportCommand::Title(t) => Some(t.clone()),
                _ => None,
            })
        });
        if let Some(t) = sent {
            *told.borrow_mut() = t;
        }
        *told.borrow() == want && h.state().window_title() == want
    });
}

#[test]
fn the_title_counts_unread_messages_and_each_chat_says_it_is_encrypted() {
    let mut t = two_friends();
    let Two { alice, bob, .. } = &mut t;
    click(alice, "Chats");
    click(alice, "bob");
    until(alice, "the note", |h| has(h, "Messages in this chat are end-to-end encrypted."));

    // Bob is on the People tab: three messages, "kovan (3)".
    assert_eq!(bob.state().window_title(), "kovan");
    send(alice, "bir");
    send(alice, "iki");
    send(alice, "üç");
    title_becomes(bob, "kovan (3)");

    // He reads them: the count goes; his chat starts with the note too.
    click(bob, "Chats (3)");
    click_containing(bob, "alice (@alice)");
    until(bob, "the messages", |h| has(h, "üç"));
    // (The window may have been told already, while the chat opened.)
    until(bob, "no count", |h| h.state().window_title() == "kovan" && !has_text(h, "Chats ("));
    assert!(has(bob, "Messages in this chat are end-to-end encrypted."));
}
