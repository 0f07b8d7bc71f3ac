//! Presence: two friends with their windows open see each other online,
//! and go on doing so while nothing is said.

use std::time::Duration;

use crate::ui::*;

#[test]
fn friends_with_their_windows_open_see_each_other_online_while_quiet() {
    let mut t = two_friends();
    let Two { alice, bob, .. } = &mut t;
    until(alice, "bob online", |h| has(h, "bob online"));
    click(bob, "People");
    until(bob, "alice online", |h| has(h, "alice online"));

    // A quiet while, longer than an idle connection lives.
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(75) {
        pause(alice, Duration::from_millis(250));
        pause(bob, Duration::from_millis(250));
    }
    assert!(has(alice, "bob online"), "alice sees bob offline after a quiet minute");
    assert!(has(bob, "alice online"), "bob sees alice offline after a quiet minute");
}

#[test]
fn after_a_restart_friends_see_each_other_online_again() {
    let Two { mut alice, bob, relay, dir } = two_friends();
    until(&mut alice, "bob online", |h| has(h, "bob online"));
    drop(bob);
    until(&mut alice, "bob gone", |h| !has(h, "bob online"));

    let mut bob = reopen(dir.path(), "bob", &relay.url);
    click(&mut bob, "People");
    until(&mut bob, "alice online", |h| has(h, "alice online"));
    until(&mut alice, "bob back", |h| has(h, "bob online"));

    drop(bob);
    drop(alice);
    drop(relay);
    drop(dir);
}
