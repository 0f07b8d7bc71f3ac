//! Errors: one per cause, gone once what failed works; nothing fails
//! silently (an empty search, a greyed-out button).

use kovan_desktop::app::{App, Screen};
use kovan_desktop::i18n::Lang;
use kovan_desktop::prefs::Theme;

use crate::ui::*;

#[test]
fn a_wrong_passphrase_error_shows_once_and_goes_after_unlocking() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = window(App::new(config(dir.path(), "alice", None)));
    create_identity(&mut alice, "alice");
    click(&mut alice, "Lock");
    until(&mut alice, "the lock screen", |h| h.state().screen == Screen::Unlock);

    for _ in 0..2 {
        type_into(&mut alice, "Passphrase", "not the passphrase");
        click(&mut alice, "Unlock");
        until(&mut alice, "the error", |h| {
            h.state().screen == Screen::Unlock && !h.state().errors().is_empty()
        });
    }
    assert_eq!(alice.state().errors().len(), 1, "the same error does not stack");

    unlock(&mut alice);
    pause(&mut alice, std::time::Duration::from_millis(300));
    assert!(alice.state().errors().is_empty(), "stale: {:?}", alice.state().errors());
    assert!(!has(&alice, "Dismiss"), "no error bar");
}

#[test]
fn an_error_can_be_dismissed() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = window(App::new(config(dir.path(), "alice", None)));
    create_identity(&mut alice, "alice");
    click(&mut alice, "Lock");
    type_into(&mut alice, "Passphrase", "not the passphrase");
    click(&mut alice, "Unlock");
    until(&mut alice, "the error", |h| !h.state().errors().is_empty());
    click(&mut alice, "Dismiss");
    assert!(alice.state().errors().is_empty());
}

#[test]
fn a_search_without_results_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path());
    let mut alice = client(dir.path(), "alice", &relay.url);
    sign_up(&mut alice, "alice");
    type_into(&mut alice, "Search people", "nobody-here");
    click(&mut alice, "Search");
    until(&mut alice, "the empty result", |h| has_text(h, "No one found for “nobody-here”"));
}

#[test]
fn a_greyed_out_sign_up_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path());
    let mut alice = client(dir.path(), "alice", &relay.url);
    create_identity(&mut alice, "alice");
    click(&mut alice, "People");
    until(&mut alice, "the form", |h| has(h, "Sign up"));
    assert!(has_text(&alice, "Choose a username"), "why Sign up is greyed out");
    type_into(&mut alice, "Username", "alice");
    type_into(&mut alice, "Password", "short");
    alice.step();
    assert!(has_text(&alice, "at least 8 characters"), "why Sign up is still greyed out");
    type_into(&mut alice, "Password", " but longer");
    alice.step();
    assert!(!has_text(&alice, "at least 8 characters"), "ready: no reason shown");
}

/// The relay's refusal in the window's language and in words: no HTTP
/// status, no relay code, no Rust type.
#[test]
fn a_taken_username_is_said_in_the_window_s_language_without_codes() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path());
    let mut alice = client(&dir.path().join("a"), "alice", &relay.url);
    sign_up(&mut alice, "alice");

    let mut bob = client(&dir.path().join("b"), "bob", &relay.url);
    create_identity(&mut bob, "bob");
    click(&mut bob, "People");
    type_into(&mut bob, "Username", "alice");
    type_into(&mut bob, "Password", PASSWORD);
    bob.state_mut().show_in(Theme::Dark, Lang::Tr);
    bob.step();
    click(&mut bob, "Kaydol");
    until(&mut bob, "the refusal", |h| error_says(h, "Bu kullanıcı adı alınmış."));
    let shown = bob.state().errors().join("\n");
    for code in ["409", "username_taken", "relay refused", "RelayError"] {
        assert!(!shown.contains(code), "{code:?} in {shown:?}");
    }

    bob.state_mut().show_in(Theme::Dark, Lang::En);
    click(&mut bob, "Dismiss");
    click(&mut bob, "Sign up");
    until(&mut bob, "the refusal in English", |h| error_says(h, "That username is taken."));
}

/// The node's own refusal (a sealed chat's wrong password) in Turkish.
#[test]
fn a_node_refusal_is_said_in_turkish() {
    let mut t = two_friends();
    open_chats(&mut t);
    let Two { alice, bob, .. } = &mut t;
    seal(alice, bob, "ortak parola 123");
    type_into(bob, "Chat password", "yanlış tahmin");
    bob.state_mut().show_in(Theme::Dark, Lang::Tr);
    bob.step();
    click(bob, "Sohbetin kilidini aç");
    until(bob, "the refusal", |h| error_says(h, "yanlış parola"));
    assert!(!bob.state().errors().join("\n").contains("wrong password"));
}
