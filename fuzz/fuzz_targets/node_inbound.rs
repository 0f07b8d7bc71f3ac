//! The node's inbound MLS path with a real two-member group in SQLite
//! (`kovan_node::sim::inbound`): the input is either raw bytes fed to the
//! receiver as an incoming MLS message, or a real message from the other
//! member with bytes flipped. Invariants: nothing panics; an altered
//! message never decrypts; an unaltered one decrypts to exactly what was
//! sent, once. Found crashes become regression tests in
//! `node/tests/it/interaction.rs`.
#![no_main]

use kovan_node::sim::inbound::Pair;
use libfuzzer_sys::fuzz_target;

struct Setup {
    _dir: tempfile::TempDir,
    pair: Pair,
}

fn setup() -> Result<Setup, String> {
    // tmpfs when there is one: the database syncs every write.
    let dir = match std::path::Path::new("/dev/shm").is_dir() {
        true => tempfile::tempdir_in("/dev/shm"),
        false => tempfile::tempdir(),
    }
    .map_err(|e| e.to_string())?;
    let pair = Pair::new(dir.path()).map_err(|e| e.to_string())?;
    Ok(Setup { _dir: dir, pair })
}

thread_local! {
    static SETUP: Setup = setup().unwrap_or_else(|e| panic!("setting up the group failed: {e}"));
}

fuzz_target!(|data: &[u8]| {
    SETUP.with(|s| {
        if let Err(e) = s.pair.check(data) {
            panic!("{e}");
        }
    });
});
