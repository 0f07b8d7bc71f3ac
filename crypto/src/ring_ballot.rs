//! Anonymous ballots (SPEC.md §6.4.2): a per-poll ballot key on
//! ristretto255 that the account registers with its signature, and a
//! ballot that is a bLSAG linkable ring signature (Back's LSAG, from the
//! `nazgul` crate) over the poll's registered keys. It proves "one
//! registered voter chose this" without saying which; its key image is the
//! poll's link tag, the same for every ballot of one voter in that poll, and
//! unrelated to the voter's tags in other polls (each poll has its own key).

use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity as _;
use nazgul::blsag::BLSAG;
use nazgul::traits::{KeyImageGen as _, Sign as _, Verify as _};
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest as _, Sha512};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::context::SigContext;
use crate::identity::{AccountId, AccountKey};
use crate::poll::ballot_data;

/// Domain label of a ballot key's derivation.
pub const BALLOT_KEY_LABEL: &[u8] = b"kovan/v1/ballot-key";
/// Domain label of the bytes a ring ballot signs.
pub const RING_BALLOT_LABEL: &[u8] = b"kovan/v1/anonymous-ballot";
/// Most keys in one ring (a ring is a poll's registered voters, at most
/// 300 today, SPEC.md §6.4.1; a ballot over 1,024 keys still fits an
/// `AppEnvelope`).
pub const MAX_RING: usize = kovan_spec::limits::MAX_RING;

/// A ballot key's secret scalar. Zeroized on drop; never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct BallotSecret(Scalar);

impl std::fmt::Debug for BallotSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BallotSecret(..)")
    }
}

/// The account's ballot key for one poll:
/// `b = SHA-512(label ‖ 0x00 ‖ account seed ‖ poll ‖ binding) mod ℓ`,
/// public key `b·G`. Deterministic, so every device holding the account key
/// derives the same key (one voter, one key) without storing it.
pub fn ballot_key(
    account: &AccountKey,
    poll: &[u8; 16],
    binding: &[u8; 32],
) -> (BallotSecret, [u8; 32]) {
    let mut h = Sha512::new();
    h.update(BALLOT_KEY_LABEL);
    h.update([0]);
    h.update(account.seed());
    h.update(poll);
    h.update(binding);
    let mut wide: [u8; 64] = h.finalize().into();
    let b = Scalar::from_bytes_mod_order_wide(&wide);
    wide.zeroize();
    let public = RistrettoPoint::mul_base(&b).compress().to_bytes();
    (BallotSecret(b), public)
}

/// The link tag every ballot of this key carries in its poll (`b·H_p(B)`):
/// what a device compares with the ballots it holds to know that its
/// account has voted, from whichever of its devices.
pub fn key_image(secret: &BallotSecret) -> [u8; 32] {
    BLSAG::generate_key_image::<Sha512>(secret.0).compress().to_bytes()
}

/// Whether `key` can be a ring's key: a ristretto255 encoding of a point
/// other than the identity (one that is not would spoil every ballot over
/// the ring).
pub fn ballot_key_valid(key: &[u8; 32]) -> bool {
    CompressedRistretto(*key).decompress().is_some_and(|p| !p.is_identity())
}

/// Domain label of a ring's digest.
pub const RING_LABEL: &[u8] = b"kovan/v1/ring";

/// A ring's digest, which an anonymous ballot carries (SPEC.md §6.4.2):
/// `SHA-256("kovan/v1/ring" ‖ 0x00 ‖ key_1 ‖ … ‖ key_n)`, keys in ring order.
pub fn ring_digest(ring: &[[u8; 32]]) -> [u8; 32] {
    use sha2::Sha256;
    let mut h = Sha256::new();
    h.update(RING_LABEL);
    h.update([0]);
    for k in ring {
        h.update(k);
    }
    h.finalize().into()
}

/// The bytes an account signs to register `key` for a poll:
/// `poll (16) ‖ binding (32) ‖ key (32)`, label `kovan/v1/ballot-key`.
pub fn registration_data(poll: &[u8; 16], binding: &[u8; 32], key: &[u8; 32]) -> Vec<u8> {
    [poll.as_slice(), binding, key].concat()
}

/// The account's signature over its registration.
pub fn sign_registration(
    account: &AccountKey,
    poll: &[u8; 16],
    binding: &[u8; 32],
    key: &[u8; 32],
) -> [u8; 64] {
    account.sign(SigContext::BallotKey, &registration_data(poll, binding, key))
}

/// Whether `signature` registers `key` for `account` in this poll.
pub fn registration_signed(
    account: &[u8; 32],
    poll: &[u8; 16],
    binding: &[u8; 32],
    key: &[u8; 32],
    signature: &[u8; 64],
) -> bool {
    AccountId::from_bytes(account).is_ok_and(|a| {
        a.verify(SigContext::BallotKey, &registration_data(poll, binding, key), signature).is_ok()
    })
}

/// A ring ballot as it travels: the choices and the bLSAG signature
/// without its ring (every member knows the poll's ring).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingBallot {
    /// Option indexes, strictly increasing.
    pub choices: Vec<u32>,
    /// The first challenge `c_0`.
    pub challenge: [u8; 32],
    /// One response per ring member, in ring order.
    pub responses: Vec<[u8; 32]>,
    /// The key image: the voter's link tag in this poll.
    pub key_image: [u8; 32],
}

impl RingBallot {
    /// Its size on the wire, without framing: `32 · (n + 2)` bytes and the
    /// choices.
    pub fn size(&self) -> usize {
        32 * (self.responses.len() + 2) + 4 * self.choices.len()
    }
}

/// Why a ring ballot could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RingError {
    /// The ring is empty, too large, unordered or holds a key twice.
    #[error("a ring holds 1..=1024 distinct keys in increasing order")]
    BadRing,
    /// A ring key is not a ristretto255 point.
    #[error("a ring key is not a valid point")]
    BadKey,
    /// The signer's key is not in the ring.
    #[error("this ballot key is not in the poll's ring")]
    NotInRing,
}

/// The bytes a ring ballot signs: `label ‖ 0x00 ‖` the verifiable ballot's
/// data (`poll ‖ binding ‖ choices`, §6.4.1).
pub fn ring_message(poll: &[u8; 16], binding: &[u8; 32], choices: &[u32]) -> Vec<u8> {
    [RING_BALLOT_LABEL, &[0], &ballot_data(poll, binding, choices)].concat()
}

fn ring_points(ring: &[[u8; 32]]) -> Result<Vec<RistrettoPoint>, RingError> {
    if ring.is_empty() || ring.len() > MAX_RING || ring.windows(2).any(|w| w[0] >= w[1]) {
        return Err(RingError::BadRing);
    }
    ring.iter().map(|k| CompressedRistretto(*k).decompress().ok_or(RingError::BadKey)).collect()
}

/// Signs a ballot as one of `ring` (the poll's registered keys, in
/// increasing byte order) with the randomness `R` gives.
pub fn sign_ring_ballot<R: CryptoRng + RngCore + Default>(
    secret: &BallotSecret,
    ring: &[[u8; 32]],
    poll: &[u8; 16],
    binding: &[u8; 32],
    choices: &[u32],
) -> Result<RingBallot, RingError> {
    let mut points = ring_points(ring)?;
    let mine = RistrettoPoint::mul_base(&secret.0).compress().to_bytes();
    let at = ring.iter().position(|k| *k == mine).ok_or(RingError::NotInRing)?;
    points.remove(at);
    let sig = BLSAG::sign::<Sha512, R>(secret.0, points, at, &ring_message(poll, binding, choices));
    Ok(RingBallot {
        choices: choices.to_vec(),
        challenge: sig.challenge.to_bytes(),
        responses: sig.responses.iter().map(|s| s.to_bytes()).collect(),
        key_image: sig.key_image.compress().to_bytes(),
    })
}

/// Whether `b` is a valid ballot of one of `ring`'s keys for this poll.
/// Every encoding is checked before the signature: canonical scalars, one
/// response per ring key, a key image that is a point other than the
/// identity.
pub fn ring_ballot_valid(
    ring: &[[u8; 32]],
    poll: &[u8; 16],
    binding: &[u8; 32],
    b: &RingBallot,
) -> bool {
    let Ok(points) = ring_points(ring) else { return false };
    if b.responses.len() != points.len() {
        return false;
    }
    let scalar = |s: &[u8; 32]| Option::<Scalar>::from(Scalar::from_canonical_bytes(*s));
    let Some(challenge) = scalar(&b.challenge) else { return false };
    let Some(responses) = b.responses.iter().map(scalar).collect::<Option<Vec<_>>>() else {
        return false;
    };
    let Some(key_image) = CompressedRistretto(b.key_image).decompress() else { return false };
    if key_image.is_identity() {
        return false;
    }
    let sig = BLSAG { challenge, responses, ring: points, key_image };
    BLSAG::verify::<Sha512>(sig, &ring_message(poll, binding, &b.choices))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rand_core::OsRng;

    use super::*;

    fn ring_of(n: u8, poll: &[u8; 16], binding: &[u8; 32]) -> (Vec<BallotSecret>, Vec<[u8; 32]>) {
        let mut keys: Vec<(BallotSecret, [u8; 32])> =
            (1..=n).map(|i| ballot_key(&AccountKey::from_seed(&[i; 32]), poll, binding)).collect();
        keys.sort_by_key(|(_, p)| *p);
        keys.into_iter().unzip()
    }

    #[test]
    fn a_ring_ballot_verifies_for_its_poll_and_choices_only() {
        let (poll, binding) = ([1; 16], [2; 32]);
        let (secrets, ring) = ring_of(5, &poll, &binding);
        let b = sign_ring_ballot::<OsRng>(&secrets[3], &ring, &poll, &binding, &[1]).unwrap();
        assert!(ring_ballot_valid(&ring, &poll, &binding, &b));
        assert_eq!(b.size(), 32 * 7 + 4);
        let mut other = b.clone();
        other.choices = vec![0];
        assert!(!ring_ballot_valid(&ring, &poll, &binding, &other), "changed choices");
        assert!(!ring_ballot_valid(&ring, &[9; 16], &binding, &b), "another poll");
        assert!(!ring_ballot_valid(&ring, &poll, &[9; 32], &b), "another binding");
        assert!(!ring_ballot_valid(&ring[1..], &poll, &binding, &b), "another ring");
        let mut short = b.clone();
        short.responses.pop();
        assert!(!ring_ballot_valid(&ring, &poll, &binding, &short), "a response missing");
        let mut zero = b.clone();
        zero.key_image = [0; 32];
        assert!(!ring_ballot_valid(&ring, &poll, &binding, &zero), "identity key image");
        let mut wide = b;
        wide.challenge = [0xff; 32];
        assert!(!ring_ballot_valid(&ring, &poll, &binding, &wide), "non-canonical scalar");
    }

    #[test]
    fn one_voter_has_one_tag_per_poll_and_unrelated_tags_across_polls() {
        let (poll, binding) = ([1; 16], [2; 32]);
        let (secrets, ring) = ring_of(4, &poll, &binding);
        let a = sign_ring_ballot::<OsRng>(&secrets[0], &ring, &poll, &binding, &[0]).unwrap();
        let b = sign_ring_ballot::<OsRng>(&secrets[0], &ring, &poll, &binding, &[1]).unwrap();
        let c = sign_ring_ballot::<OsRng>(&secrets[1], &ring, &poll, &binding, &[0]).unwrap();
        assert_eq!(a.key_image, b.key_image, "a second ballot of one voter is linked");
        assert_eq!(key_image(&secrets[0]), a.key_image, "the voter knows its tag");
        assert_ne!(a.key_image, c.key_image, "two voters are not");
        assert_ne!(a.responses, b.responses, "fresh randomness in every ballot");
        // The same account in another poll: another key, another tag.
        let (secrets2, ring2) = ring_of(4, &[3; 16], &binding);
        let (_, mine) = ballot_key(&AccountKey::from_seed(&[1; 32]), &poll, &binding);
        let at = ring.iter().position(|k| *k == mine).unwrap();
        let (_, mine2) = ballot_key(&AccountKey::from_seed(&[1; 32]), &[3; 16], &binding);
        let at2 = ring2.iter().position(|k| *k == mine2).unwrap();
        let first = sign_ring_ballot::<OsRng>(&secrets[at], &ring, &poll, &binding, &[0]).unwrap();
        let other =
            sign_ring_ballot::<OsRng>(&secrets2[at2], &ring2, &[3; 16], &binding, &[0]).unwrap();
        assert_ne!(first.key_image, other.key_image);
    }

    #[test]
    fn only_a_ring_member_signs_and_registrations_bind_the_account() {
        let (poll, binding) = ([1; 16], [2; 32]);
        let (_, ring) = ring_of(3, &poll, &binding);
        let stranger = AccountKey::from_seed(&[77; 32]);
        let (s, key) = ballot_key(&stranger, &poll, &binding);
        assert_eq!(
            sign_ring_ballot::<OsRng>(&s, &ring, &poll, &binding, &[0]),
            Err(RingError::NotInRing)
        );
        let mut unordered = ring.clone();
        unordered.reverse();
        assert_eq!(
            sign_ring_ballot::<OsRng>(&s, &unordered, &poll, &binding, &[0]),
            Err(RingError::BadRing)
        );
        let sig = sign_registration(&stranger, &poll, &binding, &key);
        let id = *stranger.id().as_bytes();
        assert!(registration_signed(&id, &poll, &binding, &key, &sig));
        assert!(!registration_signed(&id, &[2; 16], &binding, &key, &sig), "another poll");
        let other = *AccountKey::from_seed(&[78; 32]).id().as_bytes();
        assert!(!registration_signed(&other, &poll, &binding, &key, &sig), "another account");
    }

    proptest! {
        #[test]
        fn arbitrary_ballots_are_refused_without_panicking(
            challenge in any::<[u8; 32]>(),
            key_image in any::<[u8; 32]>(),
            responses in proptest::collection::vec(any::<[u8; 32]>(), 0..6),
            ring in proptest::collection::vec(any::<[u8; 32]>(), 0..6),
        ) {
            let b = RingBallot { choices: vec![0], challenge, responses, key_image };
            prop_assert!(!ring_ballot_valid(&ring, &[1; 16], &[2; 32], &b));
        }
    }
}
