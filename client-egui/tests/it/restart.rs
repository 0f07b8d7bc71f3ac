//! Coming back: after a restart the relay session, the whole history and
//! the files already saved are there; after locking, the chat that was
//! open is open again.

use kovan_desktop::app::Screen;

use crate::ui::*;

#[test]
fn after_a_restart_the_session_the_history_and_saved_files_are_there() {
    let mut t = two_friends();
    open_chats(&mut t);
    let Two { mut alice, bob, relay, dir } = t;
    let mut bob = bob;
    send(&mut alice, "önce");
    until(&mut bob, "the first message", |h| has(h, "önce"));
    let report = dir.path().join("rapor.txt");
    std::fs::write(&report, "kovan raporu\n".repeat(100)).unwrap();
    click(&mut alice, "Attach, location, poll, send later");
    type_into(&mut alice, "File path", report.to_str().unwrap());
    click(&mut alice, "Attach file");
    until(&mut bob, "the file saved", |h| has_text(h, "saved"));

    // Bob closes the window; Alice writes meanwhile.
    drop(bob);
    send(&mut alice, "sen yokken");
    until(&mut alice, "her message sent", |h| has(h, "sen yokken"));
    let mut bob = reopen(dir.path(), "bob", &relay.url);

    // Still signed in: no sign-up form.
    until(&mut bob, "the session", |h| has_text(h, "signed in as bob"));
    click(&mut bob, "People");
    assert!(!has(&bob, "Sign up"), "no sign-up form while signed in");

    // The chat has what came meanwhile and everything before it.
    until(&mut bob, "the unread message", |h| has(h, "Chats (1)"));
    click(&mut bob, "Chats (1)");
    click(&mut bob, "alice (@alice) (1)");
    until(&mut bob, "what came meanwhile", |h| has(h, "sen yokken"));
    until(&mut bob, "the older history", |h| has(h, "önce"));
    // The file is still saved.
    until(&mut bob, "the file", |h| has(h, "rapor.txt"));
    until(&mut bob, "the file saved", |h| has_text(h, "saved"));
    assert!(!has(&bob, "Download rapor.txt"), "a saved file is not offered again");

    drop(bob);
    drop(alice);
    drop(relay);
    drop(dir);
}

#[test]
fn unlocking_opens_the_chat_that_was_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = alone_in_a_group(dir.path());
    send(&mut alice, "not defteri");
    until(&mut alice, "the message", |h| has(h, "not defteri"));
    click(&mut alice, "Lock");
    until(&mut alice, "the lock screen", |h| h.state().screen == Screen::Unlock);
    unlock(&mut alice);
    until(&mut alice, "the chat open again", |h| has(h, "Message") && has(h, "not defteri"));
    pause(&mut alice, std::time::Duration::from_millis(300));
    assert!(alice.state().errors().is_empty(), "{:?}", alice.state().errors());
}

/// What was typed and not sent is there after the window closes and opens
/// again, over two lines (Shift+Enter); sending it leaves no draft behind.
#[test]
fn a_draft_with_two_lines_survives_a_restart_and_goes_once_sent() {
    use eframe::egui::{Key, Modifiers};
    use egui_kittest::kittest::Queryable;

    let dir = tempfile::tempdir().unwrap();
    let mut alice = alone_in_a_group(dir.path());
    type_into(&mut alice, "Message", "yarın");
    alice.key_press_modifiers(Modifiers::SHIFT, Key::Enter);
    alice.step();
    alice.get_by_label("Message").type_text("sabah");
    alice.step();
    assert!(alice.query_all_by_value("yarın\nsabah").next().is_some(), "Shift+Enter makes a line");
    // Kept within a second of typing, whatever happens next.
    pause(&mut alice, std::time::Duration::from_millis(1500));
    drop(alice);

    let mut alice = notes_again(dir.path());
    until(&mut alice, "the draft", |h| h.query_all_by_value("yarın\nsabah").next().is_some());
    alice.get_by_label("Message").focus();
    alice.key_press(Key::Enter);
    until(&mut alice, "sent", |h| has(h, "yarın\nsabah"));
    pause(&mut alice, std::time::Duration::from_millis(1500));
    drop(alice);

    let mut alice = notes_again(dir.path());
    until(&mut alice, "the message", |h| has(h, "yarın\nsabah"));
    pause(&mut alice, std::time::Duration::from_millis(300));
    let field = alice.get_by_label("Message").value();
    assert_eq!(field.as_deref().unwrap_or_default(), "", "the sent draft came back");
}

/// Alice's window on her home again, unlocked, her notes open (no relay).
fn notes_again(dir: &std::path::Path) -> Client {
    let mut alice = window(kovan_desktop::app::App::new(config(dir, "alice", None)));
    until(&mut alice, "the lock screen", |h| h.state().screen == Screen::Unlock);
    unlock(&mut alice);
    click(&mut alice, "notes");
    alice
}
