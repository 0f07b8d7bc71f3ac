//! The node's inbound MLS path as the `node_inbound` fuzz target drives it:
//! a real two-member group in SQLite whose receiver is fed either arbitrary
//! bytes as an incoming MLS message, or a real message from the other
//! member with bytes flipped. [`Pair::check`] says whether a promise broke:
//! nothing panics, an altered message never decrypts, an unaltered one
//! decrypts to exactly what was sent, once.

use std::path::Path;

use super::{Party, Violation, v};
use crate::conversation::Incoming;
use crate::identity::now_secs;

/// Longest plaintext taken from an input.
const MAX_PLAIN: usize = 64;

/// Two members of one group, each a [`Party`] of the interaction model with
/// its own database.
pub struct Pair {
    alice: Party,
    bob: Party,
    group: Vec<u8>,
}

impl Pair {
    /// Alice starts a conversation with Bob, who joins it; their files are
    /// in `dir`.
    pub fn new(dir: &Path) -> Result<Self, Violation> {
        let alice = Party::new(dir, 0)?;
        let bob = Party::new(dir, 1)?;
        let kp = bob.mls.key_package(false).map_err(v)?;
        let started = alice.mls.start(&kp, now_secs()).map_err(v)?;
        bob.mls.join(&started.welcome, now_secs()).map_err(v)?;
        Ok(Self { alice, bob, group: started.group_id })
    }

    /// Runs one input. Its first byte picks the case: even, the rest is
    /// fed to Bob as it is; odd, up to 64 bytes are a plaintext Alice
    /// encrypts, and each following triple `(hi, lo, mask)` XORs `mask`
    /// into the message at `(hi·256 + lo) mod len` before Bob receives it.
    pub fn check(&self, data: &[u8]) -> Result<(), Violation> {
        let Some((&mode, rest)) = data.split_first() else { return Ok(()) };
        let now = now_secs();
        if mode % 2 == 0 {
            // Any answer is fine, as long as there is one.
            let _ = self.bob.mls.receive(&self.bob.db, rest, now);
            return Ok(());
        }
        let (plain, flips) = rest.split_at(rest.len().min(MAX_PLAIN));
        let Ok(sent) = self.alice.mls.encrypt(&self.group, plain) else { return Ok(()) };
        let mut msg = sent.clone();
        for t in flips.chunks_exact(3) {
            let i = (usize::from(t[0]) << 8 | usize::from(t[1])) % msg.len();
            msg[i] ^= t[2];
        }
        // Two flips of the same byte by the same mask cancel: what counts
        // is whether the bytes Bob gets differ from what Alice sent.
        let altered = msg != sent;
        let bad = |what: String| Err(Violation(what));
        match self.bob.mls.receive(&self.bob.db, &msg, now) {
            Ok(Incoming::Application { .. }) if altered => {
                bad("an altered message decrypted".into())
            }
            Ok(Incoming::Application { plaintext, .. }) if plaintext != plain => {
                bad("a message decrypted to something else".into())
            }
            Ok(Incoming::Application { .. }) => Ok(()),
            Ok(_) | Err(_) if altered => Ok(()),
            Ok(Incoming::Duplicate) => bad("a fresh message was taken for a duplicate".into()),
            Ok(other) => bad(format!("an application message became {other:?}")),
            Err(e) => bad(format!("an unaltered message failed: {e}")),
        }
    }
}
