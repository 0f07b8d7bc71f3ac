//! Locking by itself: after the idle time the keys are put away.

use std::time::Duration;

use kovan_desktop::app::{App, Screen};

use crate::ui::*;

#[test]
fn the_app_locks_itself_after_the_idle_time() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::new(config(dir.path(), "alice", None)).idle_lock_after(Duration::from_secs(2));
    let mut alice = window(app);
    create_identity(&mut alice, "alice");

    // No input: the lock screen comes by itself.
    until(&mut alice, "the idle lock", |h| h.state().screen == Screen::Unlock);
    assert!(has(&alice, "kovan is locked"));
    unlock(&mut alice);
    assert!(has(&alice, "Lock"), "unlocked again");
}
