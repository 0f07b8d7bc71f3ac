//! Encryption of sensitive database fields at rest (SPEC.md §4.6).
//!
//! The node's history (message bodies, reactions, drafts) is sealed field by
//! field with XChaCha20-Poly1305 under a key derived from the keystore's
//! storage secret. Each field binds a *context* (table, column and row id)
//! as associated data, so a ciphertext moved to another row or column fails
//! to open. Nonces are 24 random bytes, safe to draw at random for the
//! number of fields one device will ever write.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use rand_core::CryptoRngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::ErrorKind;

/// Nonce length.
pub const NONCE_LEN: usize = 24;
/// Tag length.
pub const TAG_LEN: usize = 16;
/// HKDF info of the field key.
pub const FIELD_KEY_INFO: &[u8] = b"kovan/v1/storage-field";

/// The keystore's storage secret. Zeroized on drop; never printed.
#[derive(Clone)]
pub struct StorageKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for StorageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StorageKey(..)")
    }
}

/// HKDF info for the lookup-tag key.
const TAG_KEY_INFO: &[u8] = b"kovan/v1/storage-tag";

impl StorageKey {
    /// A fresh random key.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(k.as_mut());
        Self(k)
    }
    /// From stored bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }
    /// The secret, for the keystore only.
    pub fn secret(&self) -> &[u8; 32] {
        &self.0
    }
    /// A deterministic tag for `value` in `context`, for columns that must
    /// be unique or looked up without revealing their content (SPEC.md
    /// §4.6): HMAC-SHA256 keyed with a key derived for tags only.
    pub fn lookup_tag(&self, context: &[u8], value: &[u8]) -> [u8; 32] {
        let hk = Hkdf::<Sha256>::new(None, self.0.as_ref());
        let mut tag_key = Zeroizing::new([0u8; 32]);
        let _ = hk.expand(TAG_KEY_INFO, tag_key.as_mut());
        let mut data = Vec::with_capacity(4 + context.len() + value.len());
        data.extend_from_slice(&(context.len() as u32).to_be_bytes());
        data.extend_from_slice(context);
        data.extend_from_slice(value);
        // HKDF-Extract(salt, ikm) is HMAC-SHA256(salt, ikm).
        let (prk, _) = Hkdf::<Sha256>::extract(Some(tag_key.as_ref()), &data);
        prk.into()
    }

    /// The key that seals fields.
    pub fn field_key(&self) -> FieldKey {
        let hk = Hkdf::<Sha256>::new(None, self.0.as_ref());
        let mut k = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's limit.
        let _ = hk.expand(FIELD_KEY_INFO, k.as_mut());
        FieldKey(XChaCha20Poly1305::new(Key::from_slice(k.as_ref())))
    }
}

/// A ready field cipher.
#[derive(Clone)]
pub struct FieldKey(XChaCha20Poly1305);

impl std::fmt::Debug for FieldKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FieldKey(..)")
    }
}

/// A field failed to open: the database was altered or the key is wrong.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("stored field does not decrypt (altered, moved, or another key)")]
pub struct FieldError;

impl FieldError {
    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::StorageCorrupted
    }
}

impl FieldKey {
    /// Seals `plaintext` bound to `context`: `nonce || ciphertext || tag`.
    pub fn seal(&self, rng: &mut impl CryptoRngCore, context: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        // Encryption into a Vec cannot fail for inputs below 256 GiB.
        let ct = self
            .0
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: context })
            .unwrap_or_default();
        out.extend_from_slice(&ct);
        out
    }

    /// Opens a sealed field bound to `context`.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, FieldError> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(FieldError);
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        self.0
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: context })
            .map(Zeroizing::new)
            .map_err(|_| FieldError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn lookup_tags_are_deterministic_keyed_and_context_bound() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let a = StorageKey::generate(&mut rng);
        let b = StorageKey::generate(&mut rng);
        let t = a.lookup_tag(b"reactions/emoji", "👍".as_bytes());
        assert_eq!(t, a.lookup_tag(b"reactions/emoji", "👍".as_bytes()));
        assert_ne!(t, a.lookup_tag(b"reactions/emoji", "👎".as_bytes()));
        assert_ne!(t, a.lookup_tag(b"reactions/other", "👍".as_bytes()));
        assert_ne!(t, b.lookup_tag(b"reactions/emoji", "👍".as_bytes()));
        // The length prefix keeps (context, value) splits apart.
        assert_ne!(a.lookup_tag(b"ab", b"c"), a.lookup_tag(b"a", b"bc"));
    }

    #[test]
    fn fields_open_only_in_their_context_and_with_their_key() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let k = StorageKey::generate(&mut rng).field_key();
        let sealed = k.seal(&mut rng, b"messages/body/1", b"secret text");
        assert_eq!(k.open(b"messages/body/1", &sealed).unwrap().as_slice(), b"secret text");
        assert_eq!(k.open(b"messages/body/2", &sealed), Err(FieldError));
        let other = StorageKey::generate(&mut rng).field_key();
        assert_eq!(other.open(b"messages/body/1", &sealed), Err(FieldError));
        let mut t = sealed.clone();
        t[30] ^= 1;
        assert_eq!(k.open(b"messages/body/1", &t), Err(FieldError));
        assert_eq!(k.open(b"x", &[0; 10]), Err(FieldError));
        // Fresh nonces: the same text seals differently.
        assert_ne!(k.seal(&mut rng, b"c", b"same"), k.seal(&mut rng, b"c", b"same"));
        assert!(!format!("{k:?}").contains("0x"));
    }
}
