//! Conditional messages (SPEC.md §6.10): a text sealed under a content key
//! that only its conditions give, all of them together. A password lock
//! gives its part through Argon2id (enforced by cryptography: without the
//! password the text cannot be read); an area lock's part travels in the
//! clear (enforced by the recipient's client only).

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use rand_core::CryptoRngCore;
use sha2::{Digest as _, Sha256};
use unicode_normalization::UnicodeNormalization as _;
use zeroize::Zeroizing;

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
    fn distances_are_right_to_the_metre_at_city_scale() {
        // Sultanahmet to Galata Tower: about 2.2 km.
        let d = distance_m((41.0054, 28.9768), (41.0256, 28.9742));
        assert!((2_200.0..2_300.0).contains(&d), "{d}");
        assert_eq!(distance_m((10.0, 20.0), (10.0, 20.0)), 0.0);
    }
}
