//! Regression tests of the interaction model (`kovan_node::sim`, the
//! `interaction` fuzz target): fixed scripts and a sweep of pseudo-random
//! ones, each checked for exactly-once delivery, no altered message
//! decrypting, and agreement on the group state; and the crashes the
//! `node_inbound` target found (`kovan_node::sim::inbound`).

use kovan_node::sim::{Action, MAX_ACTIONS, run, script};

fn dir() -> tempfile::TempDir {
    match std::path::Path::new("/dev/shm").is_dir() {
        true => tempfile::tempdir_in("/dev/shm").unwrap(),
        false => tempfile::tempdir().unwrap(),
    }
}

#[test]
fn messages_and_a_key_refresh_in_order_reach_everyone_once() {
    use Action::*;
    let actions = [Send(0), Send(1), Send(2), Commit, Send(1), Deliver(0), Deliver(0), Deliver(0)];
    let r = run(dir().path(), 3, 0, &actions).unwrap();
    assert_eq!(r.sent, 4);
    assert_eq!(r.delivered, 4 * 2, "every message reached both other parties");
    assert_eq!(r.epoch, 3, "two adds and one refresh after creation");
}

#[test]
fn reordering_duplicates_tampering_restarts_and_a_commit_in_flight_lose_and_forge_nothing() {
    use Action::*;
    let actions = [
        Send(0),
        Send(1),
        Delay(2),     // party 2 gets party 1's message first
        Duplicate(2), // and one of them twice
        Tamper(2, 40, 0x5a),
        Commit,  // party 0 refreshes while messages are in flight
        Send(0), // a message of the new epoch…
        Delay(1),
        Delay(1), // …that party 1 sees before the commit: parked
        Deliver(1),
        Restart(1), // party 1's device restarts with that in its inbox
        Tamper(1, 7, 0x01),
        Deliver(1),
        Send(2),
        Restart(0),
        Deliver(0),
    ];
    let r = run(dir().path(), 3, 0, &actions).unwrap();
    assert_eq!(r.sent, 4);
    assert_eq!(r.delivered, 8);
    assert!(r.refused >= 1, "the altered copies were refused: {r:?}");
}

#[test]
fn a_sweep_of_pseudo_random_scripts_keeps_every_promise() {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for seed in 0..8u64 {
        let bytes: Vec<u8> = (0..2 * MAX_ACTIONS)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let parties = 2 + (seed % 2) as usize;
        let actions = script(&bytes, parties);
        if let Err(e) = run(dir().path(), parties, seed, &actions) {
            panic!("seed {seed}: {e}\nscript: {actions:?}");
        }
    }
}

/// `node_inbound` crash b19def7e: two flips of the same byte by the same
/// mask cancel, so the message Bob got was the one Alice sent. It must
/// decrypt, and the harness must not call it altered.
#[test]
fn flips_that_cancel_leave_a_message_that_decrypts_and_one_real_flip_is_refused() {
    use kovan_node::sim::inbound::Pair;
    let d = dir();
    let pair = Pair::new(d.path()).unwrap();
    let mut crash = vec![1u8];
    crash.extend([0x6b; 17]);
    crash.extend([0; 5]);
    crash.extend([0x6b; 48]);
    assert_eq!(crash.len(), 71);
    pair.check(&crash).unwrap();
    // One of the two triples alone does alter the message: refused.
    pair.check(&crash[..crash.len() - 3]).unwrap();
    // Arbitrary bytes as a message: an answer, no panic.
    pair.check(&[0, 0x00, 0x01, 0x00, 0x40, 0xff]).unwrap();
}
