//! The node's inbound MLS path with a real two-member group in SQLite: the
//! input is either raw bytes fed to the receiver as an incoming MLS
//! message, or a real message from the other member with bytes flipped.
//! Invariants: nothing panics; an altered message never decrypts; an
//! unaltered one decrypts to exactly what was sent, once.
#![no_main]

use std::cell::RefCell;

use kovan_crypto::identity::{AccountKey, DeviceKeys};
use kovan_crypto::mls::MlsSigner;
use kovan_node::conversation::{Conversations, Incoming};
use kovan_node::identity::now_secs;
use kovan_node::store::Database;
use libfuzzer_sys::fuzz_target;
use rand_core::OsRng;

struct Pair {
    _dir: tempfile::TempDir,
    alice: (Database, Conversations),
    bob: (Database, Conversations),
    group: Vec<u8>,
}

fn party(dir: &std::path::Path, name: &str) -> (Database, Conversations) {
    let account = AccountKey::generate(&mut OsRng);
    let keys = DeviceKeys::generate(&mut OsRng);
    let cert = account.certify(&keys.public(), name, now_secs() - 10, 86_400).unwrap();
    let db = Database::open(&dir.join(format!("{name}.sqlite3"))).unwrap();
    let mls = Conversations::new(&db, MlsSigner::new(keys.mls.clone()), cert).unwrap();
    (db, mls)
}

fn setup() -> Pair {
    // tmpfs when there is one: the database syncs every write.
    let dir = match std::path::Path::new("/dev/shm").is_dir() {
        true => tempfile::tempdir_in("/dev/shm").unwrap(),
        false => tempfile::tempdir().unwrap(),
    };
    let alice = party(dir.path(), "alice");
    let bob = party(dir.path(), "bob");
    let started = alice.1.start(&bob.1.key_package(false).unwrap(), now_secs()).unwrap();
    bob.1.join(&started.welcome, now_secs()).unwrap();
    Pair { _dir: dir, alice, bob, group: started.group_id }
}

thread_local! {
    static PAIR: RefCell<Pair> = RefCell::new(setup());
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    PAIR.with(|p| {
        let p = p.borrow();
        let now = now_secs();
        if mode % 2 == 0 {
            // Arbitrary bytes as an incoming message.
            let _ = p.bob.1.receive(&p.bob.0, rest, now);
            return;
        }
        // A real message, then flips at the positions the input names.
        let (plain, flips) = rest.split_at(rest.len().min(64));
        let Ok(mut msg) = p.alice.1.encrypt(&p.group, plain) else { return };
        let mut altered = false;
        for pair in flips.chunks(3) {
            if let [hi, lo, x] = pair
                && *x != 0
            {
                let i = (usize::from(*hi) << 8 | usize::from(*lo)) % msg.len();
                msg[i] ^= x;
                altered = true;
            }
        }
        match p.bob.1.receive(&p.bob.0, &msg, now) {
            Ok(Incoming::Application { plaintext, .. }) => {
                assert!(!altered, "an altered message decrypted");
                assert_eq!(plaintext, plain, "decrypted to something else");
            }
            Ok(Incoming::Duplicate) => assert!(altered, "a fresh message reported as duplicate"),
            Ok(other) => assert!(altered, "an application message became {other:?}"),
            Err(e) => assert!(altered, "an unaltered message failed: {e}"),
        }
    });
});
