//! The relay account from Settings: logging out and in, changing the
//! password, revoking another session, deleting the account.

use kovan_node::home::Home;
use kovan_node::identity::Identity;
use kovan_node::relay_client::RelayClient;

use crate::ui::*;

/// Alice, signed up, on her Settings tab with its sessions loaded.
fn alice_in_settings(dir: &std::path::Path, relay: &TestRelay) -> Client {
    let mut alice = client(dir, "alice", &relay.url);
    sign_up(&mut alice, "alice");
    click(&mut alice, "Settings");
    until(&mut alice, "the sessions", |h| has_text(h, "(this one)"));
    alice
}

/// Logs out from Settings and waits until kovan says so.
fn log_out(h: &mut Client) {
    click(h, "Log out");
    until(h, "signed out", |h| {
        has(h, "not signed in to a relay")
            && has(h, "Sign up or log in under People to change relay settings.")
    });
}

/// Logs in on the People tab (the form kept the username).
fn log_in(h: &mut Client, password: &str) {
    click(h, "People");
    type_into(h, "Password", password);
    click(h, "Log in");
}

#[test]
fn logging_out_and_in_and_the_new_password_after_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path());
    let mut alice = alice_in_settings(dir.path(), &relay);

    log_out(&mut alice);
    log_in(&mut alice, PASSWORD);
    until(&mut alice, "signed in again", |h| has(h, "signed in as alice"));

    click(&mut alice, "Settings");
    until(&mut alice, "the sessions", |h| has_text(h, "(this one)"));
    type_into(&mut alice, "Current password", PASSWORD);
    type_into(&mut alice, "New password", "a newer long password");
    click(&mut alice, "Change password");
    // Nothing shows a change that worked: let it run before logging out.
    pause(&mut alice, std::time::Duration::from_secs(1));
    let errors = alice.state().errors();
    assert!(!errors.iter().any(|e| e.contains("password")), "{errors:?}");
    log_out(&mut alice);
    log_in(&mut alice, "a newer long password");
    until(&mut alice, "signed in with the new password", |h| has(h, "signed in as alice"));

    // The old one no longer opens the account.
    click(&mut alice, "Settings");
    until(&mut alice, "the sessions", |h| has_text(h, "(this one)"));
    log_out(&mut alice);
    log_in(&mut alice, PASSWORD);
    until(&mut alice, "the old password refused", |h| error_says(h, "Error logging in"));
    assert!(has(&alice, "not signed in to a relay"));
}

#[test]
fn revoking_another_session_ends_it() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path());
    let mut alice = alice_in_settings(dir.path(), &relay);

    // Another session of this device (as the command line would open).
    let id = Identity::unlock(&Home::at(dir.path().join("alice")), PASSPHRASE.as_bytes()).unwrap();
    let other = RelayClient::new(&relay.url).unwrap();
    let session = relay.rt.block_on(other.login(&id, "alice", PASSWORD)).unwrap();
    // Settings lists it once read again.
    click(&mut alice, "Settings");
    until(&mut alice, "the other session", |h| has_text(h, "Revoke "));

    click_containing(&mut alice, "Revoke ");
    until(&mut alice, "only this session left", |h| {
        !has_text(h, "Revoke ") && has_text(h, "(this one)")
    });
    let refused = relay.rt.block_on(other.sessions(&session.token));
    assert!(refused.is_err(), "the revoked session still works: {refused:?}");
    assert!(has(&alice, "signed in as alice"), "this session goes on");
}

#[test]
fn a_deleted_account_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path());
    let mut alice = alice_in_settings(dir.path(), &relay);

    click(&mut alice, "Delete account");
    type_into(&mut alice, "Password to delete", PASSWORD);
    click(&mut alice, "Delete my account");
    until(&mut alice, "signed out", |h| has(h, "not signed in to a relay"));
    log_in(&mut alice, PASSWORD);
    until(&mut alice, "the account unknown", |h| error_says(h, "Error logging in"));
}
