//! Conditional messages (SPEC.md §6.10): a text sealed under a content key
//! that only its conditions give, all of them together. A password lock
//! gives its part through Argon2id (enforced by cryptography: without the
//! password the text cannot be read); an area lock's part travels in the
//! clear (enforced by the recipient's client only). A members lock's part
//! is split k-of-n among members (Shamir over GF(2^8) through `vsss-rs`),
//! each share sealed to its holder's devices; the part exists again once k
//! holders release their shares (enforced by cryptography: fewer than k
//! shares say nothing about it).

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use rand_core::CryptoRngCore;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use unicode_normalization::UnicodeNormalization as _;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::KeyError;
use crate::chat_seal::{SealError, check_params};
use crate::keystore::KdfParams;

/// The associated-data label of a conditional's seal, and the HKDF salt of
/// its content key.
pub const LABEL: &[u8] = b"kovan/v1/conditional";

/// One condition's part of the content key.
pub type Part = Zeroizing<[u8; 32]>;

/// A password lock's part: Argon2id over the password (NFC) with the
/// lock's salt and costs, which must be within what a chat seal may ask
/// (`chat_seal::check_params`).
pub fn password_part(password: &str, salt: &[u8; 16], costs: [u32; 3]) -> Result<Part, SealError> {
    let [m_kib, t, p] = costs;
    check_params(KdfParams { m_kib, t, p })?;
    let params =
        Params::new(m_kib, t, p, Some(32)).map_err(|_| SealError::UnsupportedParameters)?;
    let password: Zeroizing<String> = Zeroizing::new(password.nfc().collect());
    let mut part = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password.as_bytes(), salt, part.as_mut())
        .map_err(|_| SealError::UnsupportedParameters)?;
    Ok(part)
}

/// The content key: HKDF-SHA256 with salt [`LABEL`] over the parts in the
/// conditions' order, info `"content key"`.
pub fn content_key(parts: &[Part]) -> Zeroizing<[u8; 32]> {
    let mut ikm = Zeroizing::new(Vec::with_capacity(32 * parts.len()));
    for p in parts {
        ikm.extend_from_slice(p.as_ref());
    }
    let hk = Hkdf::<Sha256>::new(Some(LABEL), &ikm);
    let mut key = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF's limit.
    let _ = hk.expand(b"content key", key.as_mut());
    key
}

/// The associated data: [`LABEL`] ‖ SHA-256(encoding of condition 1 ‖ …),
/// so the conditions cannot be swapped under the same ciphertext.
pub fn associated_data(encoded_conditions: &[Vec<u8>]) -> Vec<u8> {
    let mut h = Sha256::new();
    for c in encoded_conditions {
        h.update((c.len() as u32).to_be_bytes());
        h.update(c);
    }
    [LABEL, h.finalize().as_slice()].concat()
}

/// Seals `body` (an encoded `ConditionalBody`): the nonce and ciphertext.
pub fn seal(
    rng: &mut impl CryptoRngCore,
    key: &[u8; 32],
    encoded_conditions: &[Vec<u8>],
    body: &[u8],
) -> ([u8; 24], Vec<u8>) {
    let mut nonce = [0u8; 24];
    rng.fill_bytes(&mut nonce);
    (nonce, seal_with(key, &nonce, encoded_conditions, body))
}

/// [`seal`] with a given nonce (test vectors).
pub fn seal_with(
    key: &[u8; 32],
    nonce: &[u8; 24],
    encoded_conditions: &[Vec<u8>],
    body: &[u8],
) -> Vec<u8> {
    let aad = associated_data(encoded_conditions);
    // Encryption into a Vec cannot fail for inputs below 256 GiB.
    XChaCha20Poly1305::new(key.into())
        .encrypt(XNonce::from_slice(nonce), Payload { msg: body, aad: &aad })
        .unwrap_or_default()
}

/// Opens a sealed body; an error means a wrong key (a wrong password) or an
/// altered message, which cannot be told apart.
pub fn open(
    key: &[u8; 32],
    nonce: &[u8; 24],
    encoded_conditions: &[Vec<u8>],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let aad = associated_data(encoded_conditions);
    XChaCha20Poly1305::new(key.into())
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
        .map(Zeroizing::new)
        .map_err(|_| SealError::WrongPassword)
}

/// The context of a share's commitment and of its seal (§6.10.3).
pub const SHARE_LABEL: &[u8] = b"kovan/v1/conditional-share";

/// A share of a members lock's part: x (1..=16) ‖ 32 bytes of y.
pub type Share = Zeroizing<[u8; 33]>;

/// `rand_core` 0.6 randomness seen through the 0.10 traits `vsss-rs` takes.
struct Rng010<'a, R: ?Sized>(&'a mut R);

impl<R: CryptoRngCore + ?Sized> rand_core_010::TryRng for Rng010<'_, R> {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.0.next_u32())
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.0.next_u64())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.0.fill_bytes(dst);
        Ok(())
    }
}

impl<R: CryptoRngCore + ?Sized> rand_core_010::TryCryptoRng for Rng010<'_, R> {}

/// Why shares cannot be made or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    /// k must be 1..=n and n 1..=16 (a members lock asks k >= 2 itself).
    #[error("a lock needs 1..=16 shares and a threshold of 1..=shares")]
    Threshold,
    /// No shares, or ones that do not fit together.
    #[error("the shares do not make a key part")]
    Combine,
    /// A sealed share does not open with this device's key, or does not
    /// match its commitment.
    #[error("the share is not this device's or was altered")]
    Open,
    /// The device key is a low-order point.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Splits a members lock's part into `n` shares of which any `k` give it
/// back; share i has x = i + 1.
///
/// The same Shamir split over GF(2^8) as `vsss_rs::Gf256::split_bytes`
/// (byte for byte, given the same randomness: its field arithmetic and its
/// uniform coefficient draws), but every coefficient is kept in memory
/// that is zeroized: `vsss-rs` drops its polynomial, which holds the part,
/// without clearing it.
pub fn split(
    rng: &mut impl CryptoRngCore,
    part: &[u8; 32],
    k: usize,
    n: usize,
) -> Result<Vec<Share>, ShareError> {
    use vsss_rs::{Gf256, IdentifierGf256, ShareIdentifier as _};
    if !(1..=16).contains(&n) || !(1..=n).contains(&k) {
        return Err(ShareError::Threshold);
    }
    let mut out: Vec<Share> = (1..=n as u8)
        .map(|x| {
            let mut share = Zeroizing::new([0u8; 33]);
            share[0] = x;
            share
        })
        .collect();
    let mut rng = Rng010(rng);
    // One polynomial of degree k − 1 per byte: f(0) is the byte.
    let mut coefficients = Zeroizing::new([0u8; 16]);
    for (j, byte) in part.iter().enumerate() {
        coefficients[0] = *byte;
        for c in coefficients.iter_mut().take(k).skip(1) {
            *c = IdentifierGf256::random_coefficient(&mut rng).0.0;
        }
        for share in out.iter_mut() {
            let x = Gf256(share[0]);
            // Horner: ((a_{k-1}·x + a_{k-2})·x + …)·x + a_0.
            let mut acc = Gf256(coefficients[k - 1]);
            for c in coefficients[..k - 1].iter().rev() {
                acc *= &x;
                acc += &Gf256(*c);
            }
            share[j + 1] = acc.0;
        }
    }
    Ok(out)
}

/// The part from shares with distinct x (at least the lock's threshold of
/// them; fewer give a wrong part, which the seal then refuses).
pub fn combine(shares: &[Share]) -> Result<Part, ShareError> {
    let mut xs: Vec<u8> = shares.iter().map(|s| s[0]).collect();
    xs.sort_unstable();
    xs.dedup();
    if xs.len() != shares.len() || xs.is_empty() || xs[0] == 0 {
        return Err(ShareError::Combine);
    }
    // A threshold of 1 (a relay lock's, §6.10.6): every share's y is the part.
    if let [one] = shares {
        let mut part = Zeroizing::new([0u8; 32]);
        part.copy_from_slice(&one[1..]);
        return Ok(part);
    }
    let input: Zeroizing<Vec<Vec<u8>>> =
        Zeroizing::new(shares.iter().map(|s| s.to_vec()).collect());
    let part = Zeroizing::new(
        vsss_rs::Gf256::combine_bytes(input.as_slice()).map_err(|_| ShareError::Combine)?,
    );
    let part: [u8; 32] = part.as_slice().try_into().map_err(|_| ShareError::Combine)?;
    Ok(Zeroizing::new(part))
}

/// A share's commitment: SHA-256([`SHARE_LABEL`] ‖ share).
pub fn commitment(share: &[u8; 33]) -> [u8; 32] {
    Sha256::new().chain_update(SHARE_LABEL).chain_update(share).finalize().into()
}

/// A members lock's fields that are not sealed shares: its threshold, its
/// release rules (0: not set) and each holder's account and commitment.
pub struct LockFields<'a> {
    /// k.
    pub threshold: u8,
    /// Not before (ms), or 0.
    pub release_at_ms: u64,
    /// A dead man's switch (ms), or 0.
    pub silence_ms: u64,
    /// (account, commitment) of each holder, in order.
    pub holders: &'a [([u8; 32], [u8; 32])],
}

impl LockFields<'_> {
    /// `SHA-256(SHARE_LABEL ‖ "/lock" ‖ threshold (1) ‖ u64be(release_at_ms)
    /// ‖ u64be(silence_ms) ‖ account_1 ‖ commitment_1 ‖ …)`.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(SHARE_LABEL);
        h.update(b"/lock");
        h.update([self.threshold]);
        h.update(self.release_at_ms.to_be_bytes());
        h.update(self.silence_ms.to_be_bytes());
        for (account, commitment) in self.holders {
            h.update(account);
            h.update(commitment);
        }
        h.finalize().into()
    }
}

/// What a sealed share is bound to (§6.10.3): its conversation, its
/// message, the message's sender and the rest of its lock. A share copied
/// into another message does not open there.
pub struct ShareBinding<'a> {
    /// The MLS group id.
    pub conversation: &'a [u8],
    /// The conditional message's id.
    pub message_id: &'a [u8; 16],
    /// The message's sender (its account key).
    pub sender: &'a [u8; 32],
    /// [`LockFields::digest`] of its members lock.
    pub lock_digest: [u8; 32],
}

impl ShareBinding<'_> {
    /// `u32be(len(conversation)) ‖ conversation ‖ message_id ‖ sender ‖
    /// lock_digest`.
    pub fn bytes(&self) -> Vec<u8> {
        let len = (self.conversation.len() as u32).to_be_bytes();
        [&len[..], self.conversation, self.message_id, self.sender, &self.lock_digest].concat()
    }
}

fn share_cipher(
    shared: &[u8; 32],
    ephemeral: &[u8; 32],
    envelope_key: &[u8; 32],
    commitment: &[u8; 32],
    binding: &[u8],
) -> (ChaCha20Poly1305, Zeroizing<[u8; 12]>) {
    let hk = Hkdf::<Sha256>::new(Some(SHARE_LABEL), shared);
    let mut okm = Zeroizing::new([0u8; 44]);
    let info = [ephemeral.as_slice(), envelope_key, commitment, binding].concat();
    // 44 bytes is far below HKDF's limit.
    let _ = hk.expand(&info, okm.as_mut());
    let mut nonce = Zeroizing::new([0u8; 12]);
    nonce.copy_from_slice(&okm[32..]);
    (ChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(&okm[..32])), nonce)
}

fn share_dh(secret: &StaticSecret, public: &[u8; 32]) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let shared = secret.diffie_hellman(&PublicKey::from(*public));
    if !shared.was_contributory() {
        return Err(KeyError::LowOrder);
    }
    Ok(Zeroizing::new(shared.to_bytes()))
}

/// Seals a share to a device's envelope key: the one-time public key and
/// the ciphertext (49 bytes), bound to the share's commitment and to its
/// message (`binding`).
pub fn seal_share(
    rng: &mut impl CryptoRngCore,
    envelope_key: &[u8; 32],
    share: &[u8; 33],
    binding: &ShareBinding<'_>,
) -> Result<([u8; 32], Vec<u8>), ShareError> {
    seal_share_with(&StaticSecret::random_from_rng(rng), envelope_key, share, binding)
}

/// [`seal_share`] with the one-time key given: for test vectors only.
pub fn seal_share_with(
    ephemeral: &StaticSecret,
    envelope_key: &[u8; 32],
    share: &[u8; 33],
    binding: &ShareBinding<'_>,
) -> Result<([u8; 32], Vec<u8>), ShareError> {
    let eph = PublicKey::from(ephemeral).to_bytes();
    let shared = share_dh(ephemeral, envelope_key)?;
    let c = commitment(share);
    let binding = binding.bytes();
    let (cipher, nonce) = share_cipher(&shared, &eph, envelope_key, &c, &binding);
    let aad = [SHARE_LABEL, c.as_slice(), &binding].concat();
    let ct = cipher
        .encrypt(Nonce::from_slice(nonce.as_ref()), Payload { msg: share, aad: &aad })
        .map_err(|_| ShareError::Open)?;
    Ok((eph, ct))
}

/// Opens a share sealed to this device for the message `binding` names,
/// and checks it against its commitment.
pub fn open_share(
    device: &StaticSecret,
    ephemeral: &[u8; 32],
    ciphertext: &[u8],
    commitment: &[u8; 32],
    binding: &ShareBinding<'_>,
) -> Result<Share, ShareError> {
    let envelope_key = PublicKey::from(device).to_bytes();
    let shared = share_dh(device, ephemeral)?;
    let binding = binding.bytes();
    let (cipher, nonce) = share_cipher(&shared, ephemeral, &envelope_key, commitment, &binding);
    let aad = [SHARE_LABEL, commitment.as_slice(), &binding].concat();
    let plain = Zeroizing::new(
        cipher
            .decrypt(Nonce::from_slice(nonce.as_ref()), Payload { msg: ciphertext, aad: &aad })
            .map_err(|_| ShareError::Open)?,
    );
    let share: [u8; 33] = plain.as_slice().try_into().map_err(|_| ShareError::Open)?;
    let share = Zeroizing::new(share);
    if !bool::from(self::commitment(&share).ct_eq(commitment)) {
        return Err(ShareError::Open);
    }
    Ok(share)
}

/// Whether a released share is the one the sender committed to.
pub fn share_matches(share: &[u8; 33], commitment: &[u8; 32]) -> bool {
    self::commitment(share).ct_eq(commitment).into()
}

/// Metres between two points (haversine, mean Earth radius).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    const R: f64 = 6_371_008.8;
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let (dla, dlo) = ((b.0 - a.0).to_radians(), (b.1 - a.1).to_radians());
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    const COSTS: [u32; 3] = [64 * 1024, 3, 4];

    #[test]
    fn only_the_password_and_the_same_conditions_open_it() {
        let salt = [5; 16];
        let area = Zeroizing::new([9; 32]);
        let conds = vec![b"password lock".to_vec(), b"area lock".to_vec()];
        let key = content_key(&[password_part("kilit açık", &salt, COSTS).unwrap(), area.clone()]);
        let (nonce, ct) = seal(&mut rand_core::OsRng, &key, &conds, b"gizli");
        // "kilit açık" typed with a combining accent is the same password.
        let nfd = "kilit ac\u{327}\u{131}k";
        let again = content_key(&[password_part(nfd, &salt, COSTS).unwrap(), area.clone()]);
        assert_eq!(open(&again, &nonce, &conds, &ct).unwrap().as_slice(), b"gizli");
        let wrong = content_key(&[password_part("kilit", &salt, COSTS).unwrap(), area.clone()]);
        assert_eq!(open(&wrong, &nonce, &conds, &ct), Err(SealError::WrongPassword));
        let swapped = vec![conds[0].clone(), b"another area".to_vec()];
        assert!(open(&key, &nonce, &swapped, &ct).is_err(), "conditions are bound");
        assert!(password_part("x", &salt, [1024, 1, 1]).is_err(), "weak costs are refused");
    }

    #[test]
    fn any_k_shares_give_the_part_and_fewer_say_nothing_about_it() {
        let mut rng = rand_core::OsRng;
        let part = [0x5a; 32];
        let shares = split(&mut rng, &part, 3, 5).unwrap();
        assert_eq!(shares.iter().map(|s| s[0]).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        for pick in [[0, 1, 2], [0, 2, 4], [4, 3, 1]] {
            let some: Vec<Share> = pick.iter().map(|&i| shares[i].clone()).collect();
            assert_eq!(*combine(&some).unwrap(), part);
        }
        assert_eq!(*combine(&shares).unwrap(), part, "more than k shares work too");
        // A share of a 2-of-2 split is uniform whatever the part: over 300
        // splits of the all-zero part, a share's first byte takes most of
        // its 256 values (a split without fresh random coefficients would
        // give the part's own byte every time).
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..300 {
            seen.insert(split(&mut rng, &[0; 32], 2, 2).unwrap()[0][1]);
        }
        assert!(seen.len() > 150, "only {} values", seen.len());
        assert_eq!(combine(&[shares[0].clone(), shares[0].clone()]), Err(ShareError::Combine));
        assert_eq!(split(&mut rng, &part, 0, 3).err(), Some(ShareError::Threshold));
        assert_eq!(split(&mut rng, &part, 4, 3).err(), Some(ShareError::Threshold));
        // Threshold 1 (a relay lock may ask one of several relays): each
        // share alone is the part.
        let ones = split(&mut rng, &part, 1, 3).unwrap();
        for s in &ones {
            assert_eq!(*combine(std::slice::from_ref(s)).unwrap(), part);
        }
        assert_eq!(split(&mut rng, &part, 2, 17).err(), Some(ShareError::Threshold));
    }

    #[test]
    fn the_split_is_vsss_rs_split_byte_for_byte() {
        use rand_chacha::ChaCha20Rng;
        use rand_core::SeedableRng as _;
        for (seed, k, n) in [(1u64, 2, 2), (2, 3, 5), (3, 16, 16), (4, 2, 16)] {
            let part: [u8; 32] = core::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ seed as u8);
            let ours = split(&mut ChaCha20Rng::seed_from_u64(seed), &part, k, n).unwrap();
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let theirs = vsss_rs::Gf256::split_bytes(k, n, part, Rng010(&mut rng)).unwrap();
            let ours: Vec<Vec<u8>> = ours.iter().map(|s| s.to_vec()).collect();
            assert_eq!(ours, theirs, "k = {k}, n = {n}");
        }
    }

    #[test]
    fn a_sealed_share_opens_only_for_its_device_and_commitment() {
        let mut rng = rand_core::OsRng;
        let device = StaticSecret::random_from_rng(rng);
        let other = StaticSecret::random_from_rng(rng);
        let share = split(&mut rng, &[7; 32], 2, 2).unwrap().remove(0);
        let c = commitment(&share);
        let fields = LockFields { threshold: 2, release_at_ms: 0, silence_ms: 0, holders: &[] };
        let binding = |message_id| ShareBinding {
            conversation: b"group",
            message_id,
            sender: &[3; 32],
            lock_digest: fields.digest(),
        };
        let key = PublicKey::from(&device).to_bytes();
        let (eph, ct) = seal_share(&mut rng, &key, &share, &binding(&[1; 16])).unwrap();
        assert_eq!(ct.len(), 49);
        assert_eq!(*open_share(&device, &eph, &ct, &c, &binding(&[1; 16])).unwrap(), *share);
        let err = Some(ShareError::Open);
        assert_eq!(open_share(&other, &eph, &ct, &c, &binding(&[1; 16])).err(), err);
        assert_eq!(open_share(&device, &eph, &ct, &[0; 32], &binding(&[1; 16])).err(), err);
        // Copied into another message, or under another lock: it does not open.
        assert_eq!(open_share(&device, &eph, &ct, &c, &binding(&[2; 16])).err(), err);
        let timed = LockFields { release_at_ms: 1, ..fields };
        let moved = ShareBinding { lock_digest: timed.digest(), ..binding(&[1; 16]) };
        assert_eq!(open_share(&device, &eph, &ct, &c, &moved).err(), err);
        assert!(share_matches(&share, &c));
        let mut forged = *share;
        forged[5] ^= 1;
        assert!(!share_matches(&forged, &c));
        let low = seal_share(&mut rng, &[0; 32], &share, &binding(&[1; 16]));
        assert!(low.is_err(), "a low-order key is refused");
    }

    #[test]
    fn distances_are_right_to_the_metre_at_city_scale() {
        // Sultanahmet to Galata Tower: about 2.2 km.
        let d = distance_m((41.0054, 28.9768), (41.0256, 28.9742));
        assert!((2_200.0..2_300.0).contains(&d), "{d}");
        assert_eq!(distance_m((10.0, 20.0), (10.0, 20.0)), 0.0);
    }
}
