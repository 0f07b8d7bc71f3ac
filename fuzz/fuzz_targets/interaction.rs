//! The interaction target (libsignal style): the input is a small header
//! (two or three parties, which one commits) and a script of actions —
//! send, deliver, delay, duplicate, tamper, restart a party, commit a key
//! refresh — run by `kovan_node::sim` on real MLS devices with their own
//! SQLite files. After the script the network settles, and the run fails if
//! a message was not decrypted exactly once by every other party, if an
//! altered copy ever decrypted, or if the parties disagree on the group's
//! epoch or members. Scripts are bounded (`sim::MAX_ACTIONS`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else { return };
    let parties = 2 + usize::from(head & 1);
    // tmpfs when there is one: the databases sync every write.
    let dir = match std::path::Path::new("/dev/shm").is_dir() {
        true => tempfile::tempdir_in("/dev/shm").unwrap(),
        false => tempfile::tempdir().unwrap(),
    };
    let actions = kovan_node::sim::script(rest, parties);
    if let Err(e) = kovan_node::sim::run(dir.path(), parties, u64::from(head >> 1), &actions) {
        panic!("{e}\nscript: {actions:?}");
    }
});
