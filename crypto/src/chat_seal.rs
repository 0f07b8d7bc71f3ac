//! Password-sealed chats (SPEC.md §7.9, X6).
//!
//! The members of a conversation share a password out of band. Each device
//! derives the chat key from it with Argon2id (a per-seal random salt) and
//! HKDF bound to the conversation, and seals text a second time inside MLS:
//! XChaCha20-Poly1305 with a random nonce, the associated data binding the
//! conversation, the message the text belongs to and the key's id. The key
//! id is public: it names the key and lets a device check a password
//! before it shows anything (one Argon2id run, like a guess against any
//! sealed message). The id is made from the key, so a key unwrapped from
//! the chain proves which one it is. A new password makes a new key; the previous key goes
//! along wrapped under the new one, so the newest password opens the whole
//! chain.
//!
//! Nothing here stores or sends: the node keeps keys in memory only while
//! a chat is unlocked.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use rand_core::CryptoRngCore;
use sha2::Sha256;
use unicode_normalization::UnicodeNormalization as _;
use zeroize::Zeroizing;

use crate::ErrorKind;
use crate::keystore::KdfParams;

/// Salt length.
pub const SALT_LEN: usize = 16;
/// Key id length.
pub const KEY_ID_LEN: usize = 16;
/// Nonce length.
pub const NONCE_LEN: usize = 24;
/// Tag length.
pub const TAG_LEN: usize = 16;
/// A wrapped previous key: the key and the tag.
pub const WRAPPED_LEN: usize = 32 + TAG_LEN;

/// HKDF info of the chat key.
const KEY_INFO: &[u8] = b"kovan/v1/chat-seal/key";
/// HKDF info of the key id.
const ID_INFO: &[u8] = b"kovan/v1/chat-seal/id";
/// Associated-data label of sealed text.
const TEXT_AD: &[u8] = b"kovan/v1/chat-seal/text";
/// Associated-data label of a wrapped previous key.
const CHAIN_AD: &[u8] = b"kovan/v1/chat-seal/chain";

/// Why a seal could not be made or opened.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealError {
    /// The password does not make this chat's key.
    #[error("wrong password")]
    WrongPassword,
    /// The Argon2id parameters are outside what kovan accepts.
    #[error("unsupported password parameters")]
    UnsupportedParameters,
    /// A sealed text or wrapped key failed to open under the right key:
    /// altered, or bound to another message.
    #[error("sealed content failed to open")]
    Corrupted,
    /// A field has the wrong length.
    #[error("malformed sealed content")]
    Malformed,
}

impl SealError {
    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SealError::WrongPassword => ErrorKind::WrongPassphrase,
            SealError::UnsupportedParameters | SealError::Malformed => ErrorKind::InvalidInput,
            SealError::Corrupted => ErrorKind::Untrusted,
        }
    }
}

/// The most a seal may ask of a device's Argon2id: 256 MiB, 4 passes,
/// 8 lanes (kovan itself uses [`KdfParams::RFC9106_MEMORY_CONSTRAINED`]).
pub const MAX_PARAMS: KdfParams = KdfParams { m_kib: 256 * 1024, t: 4, p: 8 };

/// Argon2id parameters a seal may name: at least RFC 9106's
/// memory-constrained option (what the keystore uses), at most
/// [`MAX_PARAMS`], so a member can make the others' devices derive
/// neither with weak costs nor with costs that stall a phone.
pub fn check_params(p: KdfParams) -> Result<(), SealError> {
    let (min, max) = (KdfParams::RFC9106_MEMORY_CONSTRAINED, MAX_PARAMS);
    let ok = (min.m_kib..=max.m_kib).contains(&p.m_kib)
        && (min.t..=max.t).contains(&p.t)
        && (1..=max.p).contains(&p.p);
    if ok { Ok(()) } else { Err(SealError::UnsupportedParameters) }
}

/// A chat key and its public id. Zeroized on drop; never printed.
#[derive(Clone)]
pub struct ChatKey {
    key: Zeroizing<[u8; 32]>,
    id: [u8; KEY_ID_LEN],
}

impl std::fmt::Debug for ChatKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChatKey({})", hex_id(&self.id))
    }
}

fn hex_id(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

impl ChatKey {
    /// The key of `conversation` made from `password` and a seal's salt
    /// and parameters (Argon2id, then HKDF-SHA256 with the conversation id
    /// as salt).
    pub fn derive(
        password: &str,
        salt: &[u8],
        params: KdfParams,
        conversation: &[u8],
    ) -> Result<Self, SealError> {
        check_params(params)?;
        if salt.len() != SALT_LEN {
            return Err(SealError::Malformed);
        }
        let p = Params::new(params.m_kib, params.t, params.p, Some(32))
            .map_err(|_| SealError::UnsupportedParameters)?;
        // The same typed password on every system (NFC, SPEC.md §7.9).
        let password: Zeroizing<String> = Zeroizing::new(password.nfc().collect());
        let mut master = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, p)
            .hash_password_into(password.as_bytes(), salt, master.as_mut())
            .map_err(|_| SealError::UnsupportedParameters)?;
        Ok(Self::from_master(&master, conversation))
    }

    fn from_master(master: &[u8; 32], conversation: &[u8]) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(conversation), master);
        let mut key = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF's limit.
        let _ = hk.expand(KEY_INFO, key.as_mut());
        Self::from_raw(key, conversation)
    }

    /// A key from its bytes; its id is made from the key itself, so an
    /// unwrapped key proves the id it claims.
    fn from_raw(key: Zeroizing<[u8; 32]>, conversation: &[u8]) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(conversation), key.as_ref());
        let mut id = [0u8; KEY_ID_LEN];
        let _ = hk.expand(ID_INFO, &mut id);
        Self { key, id }
    }

    /// The key's public id.
    pub fn id(&self) -> [u8; KEY_ID_LEN] {
        self.id
    }

    /// Whether `password` makes this key (a constant-time comparison of
    /// the ids).
    pub fn matches(&self, other_id: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        other_id.len() == KEY_ID_LEN && bool::from(self.id.ct_eq(other_id))
    }

    fn aead(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(self.key.as_ref()))
    }

    /// Seals a message's text (an encoded `Text`) for message `message_id`
    /// of `conversation`, with a fresh random nonce.
    pub fn seal_text(
        &self,
        rng: &mut impl CryptoRngCore,
        conversation: &[u8],
        message_id: &[u8; 16],
        plaintext: &[u8],
    ) -> ([u8; NONCE_LEN], Vec<u8>) {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        (nonce, self.seal_text_with(&nonce, conversation, message_id, plaintext))
    }

    /// [`ChatKey::seal_text`] with a given nonce (test vectors).
    pub fn seal_text_with(
        &self,
        nonce: &[u8; NONCE_LEN],
        conversation: &[u8],
        message_id: &[u8; 16],
        plaintext: &[u8],
    ) -> Vec<u8> {
        let aad = text_ad(conversation, message_id, &self.id);
        // Encryption fails only for plaintexts far beyond any text limit.
        self.aead()
            .encrypt(XNonce::from_slice(nonce), Payload { msg: plaintext, aad: &aad })
            .unwrap_or_default()
    }

    /// Opens a sealed text of message `message_id` of `conversation`.
    pub fn open_text(
        &self,
        conversation: &[u8],
        message_id: &[u8; 16],
        nonce: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, SealError> {
        if nonce.len() != NONCE_LEN || ciphertext.len() < TAG_LEN {
            return Err(SealError::Malformed);
        }
        let aad = text_ad(conversation, message_id, &self.id);
        self.aead()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| SealError::Corrupted)
    }

    /// Wraps `previous` under this key, so this key's password also opens
    /// what `previous` sealed. Returns the nonce and the wrapped key.
    pub fn wrap_previous(
        &self,
        rng: &mut impl CryptoRngCore,
        conversation: &[u8],
        previous: &ChatKey,
    ) -> ([u8; NONCE_LEN], Vec<u8>) {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        (nonce, self.wrap_previous_with(&nonce, conversation, previous))
    }

    /// [`ChatKey::wrap_previous`] with a given nonce (test vectors).
    pub fn wrap_previous_with(
        &self,
        nonce: &[u8; NONCE_LEN],
        conversation: &[u8],
        previous: &ChatKey,
    ) -> Vec<u8> {
        let aad = chain_ad(conversation, &self.id, &previous.id);
        self.aead()
            .encrypt(XNonce::from_slice(nonce), Payload { msg: previous.key.as_ref(), aad: &aad })
            .unwrap_or_default()
    }

    /// Unwraps the previous key named `previous_id` from a seal made with
    /// this key.
    pub fn unwrap_previous(
        &self,
        conversation: &[u8],
        previous_id: &[u8],
        nonce: &[u8],
        wrapped: &[u8],
    ) -> Result<ChatKey, SealError> {
        let id: [u8; KEY_ID_LEN] = previous_id.try_into().map_err(|_| SealError::Malformed)?;
        if nonce.len() != NONCE_LEN || wrapped.len() != WRAPPED_LEN {
            return Err(SealError::Malformed);
        }
        let aad = chain_ad(conversation, &self.id, &id);
        let plain = Zeroizing::new(
            self.aead()
                .decrypt(XNonce::from_slice(nonce), Payload { msg: wrapped, aad: &aad })
                .map_err(|_| SealError::Corrupted)?,
        );
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&plain);
        let previous = ChatKey::from_raw(key, conversation);
        // A wrapped key must be the key its id names.
        if !previous.matches(&id) {
            return Err(SealError::Corrupted);
        }
        Ok(previous)
    }
}

/// `label || len(conversation) as u8 || conversation || parts…`.
fn ad(label: &[u8], conversation: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut out = label.to_vec();
    // Group ids are at most 255 bytes (§8).
    out.push(conversation.len().min(255) as u8);
    out.extend_from_slice(conversation);
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

/// The associated data of a sealed text.
pub fn text_ad(conversation: &[u8], message_id: &[u8; 16], key_id: &[u8]) -> Vec<u8> {
    ad(TEXT_AD, conversation, &[message_id, key_id])
}

/// The associated data of a wrapped previous key.
pub fn chain_ad(conversation: &[u8], key_id: &[u8], previous_id: &[u8]) -> Vec<u8> {
    ad(CHAIN_AD, conversation, &[key_id, previous_id])
}

#[cfg(test)]
mod tests {
    use rand_core::OsRng;

    use super::*;

    const CONV: &[u8] = b"a conversation id";
    const ID: [u8; 16] = [7; 16];

    fn key(password: &str, salt: u8) -> ChatKey {
        ChatKey::derive(password, &[salt; SALT_LEN], KdfParams::RFC9106_MEMORY_CONSTRAINED, CONV)
            .unwrap()
    }

    #[test]
    fn the_right_password_opens_and_nothing_else_does() {
        let k = key("correct horse", 1);
        let (nonce, ct) = k.seal_text(&mut OsRng, CONV, &ID, b"meet at noon");
        assert_eq!(&*k.open_text(CONV, &ID, &nonce, &ct).unwrap(), b"meet at noon");
        let wrong = key("correct hose", 1);
        assert!(!wrong.matches(&k.id()));
        assert_eq!(wrong.open_text(CONV, &ID, &nonce, &ct), Err(SealError::Corrupted));
        // Bound to the message and the conversation.
        assert!(k.open_text(CONV, &[8; 16], &nonce, &ct).is_err());
        assert!(k.open_text(b"another", &ID, &nonce, &ct).is_err());
        // The same password in another chat makes another key.
        let other = ChatKey::derive(
            "correct horse",
            &[1; SALT_LEN],
            KdfParams::RFC9106_MEMORY_CONSTRAINED,
            b"another",
        )
        .unwrap();
        assert!(!other.matches(&k.id()));
    }

    #[test]
    fn the_newest_password_opens_the_chain() {
        let old = key("first", 1);
        let new = key("second", 2);
        let (nonce, wrapped) = new.wrap_previous(&mut OsRng, CONV, &old);
        let back = new.unwrap_previous(CONV, &old.id(), &nonce, &wrapped).unwrap();
        let (n, ct) = old.seal_text(&mut OsRng, CONV, &ID, b"before the change");
        assert_eq!(&*back.open_text(CONV, &ID, &n, &ct).unwrap(), b"before the change");
        // A wrapped key claiming another id fails, and so does a key
        // wrapped under a true id that is not that key's.
        assert!(new.unwrap_previous(CONV, &[0; 16], &nonce, &wrapped).is_err());
        let other = key("third", 3);
        let aad_id = old.id();
        let fake = {
            // `other`'s bytes wrapped as if they were `old`.
            let mut forged = ChatKey::from_raw(other.key.clone(), CONV);
            forged.id = aad_id;
            new.wrap_previous_with(&[9; NONCE_LEN], CONV, &forged)
        };
        assert_eq!(
            new.unwrap_previous(CONV, &aad_id, &[9; NONCE_LEN], &fake).unwrap_err(),
            SealError::Corrupted
        );
    }

    #[test]
    fn the_same_password_in_either_normal_form_makes_the_same_key() {
        let composed = key("şifre ç\u{00e7}", 4);
        let decomposed = key("şifre ç\u{0063}\u{0327}", 4);
        assert!(composed.matches(&decomposed.id()));
    }

    #[test]
    fn weak_or_huge_parameters_are_refused() {
        let weak = KdfParams { m_kib: 1024, t: 1, p: 1 };
        assert_eq!(
            ChatKey::derive("x", &[0; SALT_LEN], weak, CONV).unwrap_err(),
            SealError::UnsupportedParameters
        );
        let huge = KdfParams { m_kib: u32::MAX, t: 3, p: 4 };
        assert!(check_params(huge).is_err());
        let slow = KdfParams { m_kib: 512 * 1024, t: 3, p: 4 };
        assert!(check_params(slow).is_err(), "more than 256 MiB is refused");
        assert!(
            ChatKey::derive("x", &[0; 3], KdfParams::RFC9106_MEMORY_CONSTRAINED, CONV).is_err()
        );
    }
}
