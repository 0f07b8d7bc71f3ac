//! Spreading messages (SPEC.md §6.11): the author's signature over the
//! message's core, and the hop chain that lets anyone passing it on raise
//! its hop count and no one lower it.
//!
//! The author draws a secret seed and signs `hop_anchor = H^hop_limit(seed)`
//! with the text. Its own recipients get hop 1 with `H(seed)`; whoever
//! passes a spread at hop h on sends hop h + 1 with `H(token)`. A receiver
//! checks `H^(hop_limit - hop)(token) = hop_anchor`: going back a hop would
//! need a preimage of SHA-256.

use kovan_spec::validate::{SpreadCoreSpec, SpreadRetractSpec, SpreadSpec};
use kovan_spec::{encode, limits, wire};
use rand_core::CryptoRngCore;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use crate::context::SigContext;
use crate::identity::{AccountId, AccountKey};

/// The label of the hop chain's hash.
pub const HOP_LABEL: &[u8] = b"kovan/v1/spread-hop";

/// One step of the hop chain: SHA-256([`HOP_LABEL`] ‖ x).
pub fn hop_hash(x: &[u8; 32]) -> [u8; 32] {
    Sha256::new().chain_update(HOP_LABEL).chain_update(x).finalize().into()
}

fn iterate(x: &[u8; 32], n: usize) -> [u8; 32] {
    (0..n).fold(*x, |acc, _| hop_hash(&acc))
}

/// Why a spread cannot be made or is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpreadError {
    /// The text or the hop limit is out of bounds.
    #[error("a spreading message has 1..=4,096 bytes of text and 1..=8 hops")]
    Bounds,
    /// The author's signature does not verify.
    #[error("the spreading message is not signed by its author")]
    BadSignature,
    /// The hop token does not lead to the signed anchor.
    #[error("the spreading message's hop count was tampered with")]
    BadHop,
}

/// Makes a spread to send to the author's own recipients (hop 1).
pub fn author(
    rng: &mut impl CryptoRngCore,
    key: &AccountKey,
    text: &str,
    hop_limit: u8,
    created_ms: u64,
) -> Result<wire::Spread, SpreadError> {
    let mut id = [0u8; 16];
    rng.fill_bytes(&mut id);
    let mut seed = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(seed.as_mut());
    author_with(key, &seed, id, text, hop_limit, created_ms)
}

/// [`author`] with the seed and id given: for test vectors only.
pub fn author_with(
    key: &AccountKey,
    seed: &[u8; 32],
    id: [u8; 16],
    text: &str,
    hop_limit: u8,
    created_ms: u64,
) -> Result<wire::Spread, SpreadError> {
    if text.is_empty()
        || text.len() > limits::MAX_SPREAD_TEXT
        || !(1..=limits::MAX_SPREAD_HOPS).contains(&usize::from(hop_limit))
    {
        return Err(SpreadError::Bounds);
    }
    let core = encode(&wire::SpreadCore {
        id: id.to_vec(),
        author: key.id().as_bytes().to_vec(),
        text: text.to_owned(),
        hop_limit: u32::from(hop_limit),
        hop_anchor: iterate(seed, usize::from(hop_limit)).to_vec(),
        created_ms,
    });
    let signature = key.sign(SigContext::Spread, &core).to_vec();
    Ok(wire::Spread { core, signature, hop: 1, hop_token: hop_hash(seed).to_vec() })
}

/// A spread whose author's signature and hop chain verified: only such a
/// spread can be passed on ([`pass_on`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSpread(SpreadSpec);

impl std::ops::Deref for VerifiedSpread {
    type Target = SpreadSpec;
    fn deref(&self) -> &SpreadSpec {
        &self.0
    }
}

/// Checks a structurally valid spread: its author signed its core, and its
/// hop token leads to the signed anchor in `hop_limit - hop` steps.
pub fn verify(s: SpreadSpec) -> Result<VerifiedSpread, SpreadError> {
    check(&s)?;
    Ok(VerifiedSpread(s))
}

fn check(s: &SpreadSpec) -> Result<(), SpreadError> {
    let author = AccountId::from_bytes(&s.core.author).map_err(|_| SpreadError::BadSignature)?;
    author
        .verify(SigContext::Spread, &s.core_bytes, &s.signature)
        .map_err(|_| SpreadError::BadSignature)?;
    if s.hop == 0 || s.hop > s.core.hop_limit {
        return Err(SpreadError::BadHop);
    }
    let steps = usize::from(s.core.hop_limit - s.hop);
    if !bool::from(iterate(&s.hop_token, steps).ct_eq(&s.core.hop_anchor)) {
        return Err(SpreadError::BadHop);
    }
    Ok(())
}

/// The spread one hop further, to pass on; `None` at its hop limit.
pub fn pass_on(s: &VerifiedSpread) -> Option<wire::Spread> {
    (s.hop < s.core.hop_limit).then(|| wire::Spread {
        core: s.core_bytes.clone(),
        signature: s.signature.to_vec(),
        hop: u32::from(s.hop) + 1,
        hop_token: hop_hash(&s.hop_token).to_vec(),
    })
}

fn retract_data(id: &[u8; 16], retracted_ms: u64) -> Vec<u8> {
    [id.as_slice(), &retracted_ms.to_be_bytes()].concat()
}

/// The author takes its spread back.
pub fn retract(key: &AccountKey, id: &[u8; 16], retracted_ms: u64) -> wire::SpreadRetract {
    wire::SpreadRetract {
        id: id.to_vec(),
        author: key.id().as_bytes().to_vec(),
        retracted_ms,
        signature: key.sign(SigContext::SpreadRetract, &retract_data(id, retracted_ms)).to_vec(),
    }
}

/// Whether a retraction takes back `spread`: it names that spread and its
/// author, and the author signed it.
pub fn retracts(r: &SpreadRetractSpec, spread: &SpreadCoreSpec) -> bool {
    r.id == spread.id && r.author == spread.author && retract_signed(r)
}

/// Whether a retraction is signed by the account it names.
pub fn retract_signed(r: &SpreadRetractSpec) -> bool {
    AccountId::from_bytes(&r.author).is_ok_and(|a| {
        a.verify(SigContext::SpreadRetract, &retract_data(&r.id, r.retracted_ms), &r.signature)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use kovan_spec::validate::{spread, spread_retract};

    use super::*;

    fn key(b: u8) -> AccountKey {
        AccountKey::from_seed(&[b; 32])
    }

    fn checked(s: &wire::Spread) -> Result<VerifiedSpread, SpreadError> {
        verify(spread(s.clone()).map_err(|_| SpreadError::Bounds)?)
    }

    #[test]
    fn a_spread_passes_on_up_to_its_limit_and_its_hop_cannot_be_lowered() {
        let alice = key(1);
        let first = author(&mut rand_core::OsRng, &alice, "Kayıp kedi: Tekir", 3, 7).unwrap();
        let one = checked(&first).unwrap();
        assert_eq!((one.hop, one.core.text.as_str()), (1, "Kayıp kedi: Tekir"));
        let two = checked(&pass_on(&one).unwrap()).unwrap();
        let three = checked(&pass_on(&two).unwrap()).unwrap();
        assert_eq!((two.hop, three.hop), (2, 3));
        assert_eq!(pass_on(&three), None, "no fourth hop");
        // Claiming a lower hop with a later token, or a higher limit: refused.
        let mut lowered = pass_on(&two).unwrap();
        lowered.hop = 1;
        assert_eq!(checked(&lowered).err(), Some(SpreadError::BadHop));
        let mut raised = first.clone();
        let mut core: wire::SpreadCore = kovan_spec::decode(&raised.core).unwrap();
        core.hop_limit = 8;
        raised.core = encode(&core);
        assert_eq!(checked(&raised).err(), Some(SpreadError::BadSignature));
        // Another text under the signature, or another author's name on it.
        let mut altered = first.clone();
        core.hop_limit = 3;
        core.text = "Kayıp köpek".into();
        altered.core = encode(&core);
        assert_eq!(checked(&altered).err(), Some(SpreadError::BadSignature));
        core.text = "Kayıp kedi: Tekir".into();
        core.author = key(2).id().as_bytes().to_vec();
        altered.core = encode(&core);
        assert_eq!(checked(&altered).err(), Some(SpreadError::BadSignature));
        assert_eq!(
            author(&mut rand_core::OsRng, &alice, "x", 9, 0).err(),
            Some(SpreadError::Bounds)
        );
        assert_eq!(
            author(&mut rand_core::OsRng, &alice, "", 2, 0).err(),
            Some(SpreadError::Bounds)
        );
    }

    #[test]
    fn only_the_author_retracts_and_only_that_spread() {
        let alice = key(1);
        let r = spread_retract(retract(&alice, &[4; 16], 99)).unwrap();
        assert!(retract_signed(&r));
        let mut other = r.clone();
        other.id = [5; 16];
        assert!(!retract_signed(&other), "bound to its spread");
        let mut later = r.clone();
        later.retracted_ms = 100;
        assert!(!retract_signed(&later), "bound to its time");
        let mut forged = spread_retract(retract(&key(2), &[4; 16], 99)).unwrap();
        forged.author = *alice.id().as_bytes();
        assert!(!retract_signed(&forged), "only the author's key");
        // Bob's own retraction of an id of Alice's spread does not take it back.
        let s = spread(author(&mut rand_core::OsRng, &alice, "x", 2, 0).unwrap()).unwrap();
        let mine = spread_retract(retract(&alice, &s.core.id, 5)).unwrap();
        assert!(retracts(&mine, &s.core));
        let bobs = spread_retract(retract(&key(2), &s.core.id, 5)).unwrap();
        assert!(retract_signed(&bobs) && !retracts(&bobs, &s.core));
    }
}
