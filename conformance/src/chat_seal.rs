//! Password-sealed chats (SPEC.md §7.9), from the spec's text: the chat
//! key from a password, opening a sealed text, unwrapping the previous key.

use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;

use crate::{Error, Result, ensure};

/// A chat key and its id.
pub struct ChatKey {
    /// The key.
    pub key: [u8; 32],
    /// Its public id.
    pub id: [u8; 16],
}

/// §7.9: Argon2id of the password (NFC) and salt, then HKDF-SHA256 with
/// the conversation id as salt; the id is made from the key.
pub fn derive(
    password: &str,
    salt: &[u8],
    (m, t, p): (u32, u32, u32),
    conversation: &[u8],
) -> Result<ChatKey> {
    ensure(
        (65_536..=262_144).contains(&m) && (3..=4).contains(&t) && (1..=8).contains(&p),
        "unsupported parameters",
    )?;
    let params = argon2::Params::new(m, t, p, Some(32)).map_err(|e| Error(e.to_string()))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let password: String = unicode_normalization::UnicodeNormalization::nfc(password).collect();
    let mut master = [0u8; 32];
    argon
        .hash_password_into(password.as_bytes(), salt, &mut master)
        .map_err(|e| Error(e.to_string()))?;
    let hk = Hkdf::<Sha256>::new(Some(conversation), &master);
    let mut key = [0u8; 32];
    hk.expand(b"kovan/v1/chat-seal/key", &mut key).map_err(|e| Error(e.to_string()))?;
    Ok(ChatKey { id: key_id(&key, conversation)?, key })
}

/// §7.9: a key's id, made from the key.
pub fn key_id(key: &[u8; 32], conversation: &[u8]) -> Result<[u8; 16]> {
    let mut id = [0u8; 16];
    Hkdf::<Sha256>::new(Some(conversation), key)
        .expand(b"kovan/v1/chat-seal/id", &mut id)
        .map_err(|e| Error(e.to_string()))?;
    Ok(id)
}

fn ad(label: &[u8], conversation: &[u8], rest: &[&[u8]]) -> Vec<u8> {
    let mut out = label.to_vec();
    out.push(conversation.len() as u8);
    out.extend_from_slice(conversation);
    for r in rest {
        out.extend_from_slice(r);
    }
    out
}

fn open(key: &[u8; 32], nonce: &[u8], msg: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
    ensure(nonce.len() == 24, "nonce must be 24 bytes")?;
    XChaCha20Poly1305::new(Key::from_slice(key))
        .decrypt(XNonce::from_slice(nonce), Payload { msg, aad })
        .map_err(|_| Error("does not open".into()))
}

impl ChatKey {
    /// Opens a sealed text of message `message_id`: an encoded `Text`.
    pub fn open_text(
        &self,
        conversation: &[u8],
        message_id: &[u8],
        nonce: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>> {
        let aad = ad(b"kovan/v1/chat-seal/text", conversation, &[message_id, &self.id]);
        open(&self.key, nonce, ciphertext, &aad)
    }

    /// Unwraps the previous key a `SealChange` carries.
    pub fn unwrap_previous(
        &self,
        conversation: &[u8],
        previous_id: &[u8],
        nonce: &[u8],
        wrapped: &[u8],
    ) -> Result<[u8; 32]> {
        let aad = ad(b"kovan/v1/chat-seal/chain", conversation, &[&self.id, previous_id]);
        open(&self.key, nonce, wrapped, &aad)?.try_into().map_err(|_| Error("not a key".into()))
    }
}
