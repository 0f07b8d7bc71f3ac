//! Private chat modes in the desktop (X2, X3, X6): a sealed chat's password
//! prompt, a no-trace chat offered, accepted, used and ended, and a
//! direct-only chat started from a friend's row.

use crate::ui::*;

#[test]
fn a_sealed_chat_shows_nothing_until_its_password_is_typed() {
    let mut t = two_friends();
    open_chats(&mut t);
    let Two { alice, bob, .. } = &mut t;
    send(alice, "mühürden önce");
    until(bob, "the first message", |h| has(h, "mühürden önce"));

    seal(alice, bob, "ortak parola 123");
    assert!(!has(bob, "mühürden önce"), "a locked chat shows none of its messages");
    send(alice, "mühürlü mesaj");

    // A wrong password: still locked, and the error says so.
    type_into(bob, "Chat password", "yanlış parola");
    click(bob, "Unlock chat");
    until(bob, "the error", |h| error_says(h, "wrong password"));
    assert!(!has(bob, "mühürlü mesaj"));
    type_into(bob, "Chat password", "ortak parola 123");
    click(bob, "Unlock chat");
    until(bob, "the sealed text", |h| has(h, "mühürlü mesaj") && has(h, "mühürden önce"));
    click(bob, "Lock chat");
    until(bob, "locked again", |h| has(h, "Unlock chat") && !has(h, "mühürlü mesaj"));
}

#[test]
fn a_no_trace_chat_is_offered_accepted_and_ended() {
    let mut t = two_friends();
    let Two { alice, bob, .. } = &mut t;
    click(alice, "No-trace chat with bob");
    click(bob, "Chats");
    until(bob, "the offer", |h| has(h, "Accept no-trace chat with alice (@alice)"));
    click(bob, "Accept no-trace chat with alice (@alice)");
    click(alice, "Chats");
    until(alice, "the chat in the list", |h| has(h, "bob · no trace"));
    click(alice, "bob · no trace");
    until(alice, "open", |h| has(h, "End this chat") && !has_text(h, "Waiting for them"));
    send(alice, "iz bırakma");
    until(bob, "the chat in bob's list", |h| has(h, "alice (@alice) · no trace"));
    click(bob, "alice (@alice) · no trace");
    until(bob, "the message", |h| has(h, "iz bırakma"));
    click(bob, "End this chat");
    until(alice, "alice told", |h| error_says(h, "no-trace chat ended"));
    until(alice, "gone from the list", |h| !has(h, "bob · no trace"));
}

#[test]
fn a_direct_only_chat_starts_from_a_friends_row() {
    let mut t = two_friends();
    let Two { alice, bob, .. } = &mut t;
    click(alice, "Direct-only chat with bob");
    click(bob, "Chats");
    until(bob, "the invitation", |h| has_text(h, "(a direct-only chat)"));
}
