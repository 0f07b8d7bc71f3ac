//! Password-sealed chats (SPEC.md §7.9): a sealed text's and a seal
//! change's fields, and the text inside an opened seal.

use super::*;

/// A sealed text (SPEC.md §7.9): the fields' lengths checked; whether it
/// opens is for a device that has the chat key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedText {
    /// The chat key's id.
    pub key_id: [u8; 16],
    /// The nonce.
    pub nonce: [u8; 24],
    /// The encoded `Text` and the tag.
    pub ciphertext: Vec<u8>,
}

/// A new password for a chat (SPEC.md §7.9), validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealChange {
    /// The new key's id.
    pub key_id: [u8; 16],
    /// The Argon2id salt.
    pub salt: [u8; 16],
    /// Argon2id memory (KiB), passes and lanes.
    pub params: (u32, u32, u32),
    /// The key it replaces: its id, the nonce and the wrapped key.
    pub previous: Option<([u8; 16], [u8; 24], [u8; 48])>,
}

/// A sealed text's fields (§7.9): a key id, a nonce, and at most a full
/// text plus its encoding and tag.
pub(super) fn sealed_text(s: wire::Sealed) -> Result<SealedText, String> {
    let key_id = s.key_id.as_slice().try_into().map_err(|_| "key_id must be 16 bytes")?;
    let nonce = s.nonce.as_slice().try_into().map_err(|_| "nonce must be 24 bytes")?;
    if s.ciphertext.len() < 16 || s.ciphertext.len() > limits::MAX_SEALED_TEXT {
        return Err("sealed text is empty or too long".into());
    }
    Ok(SealedText { key_id, nonce, ciphertext: s.ciphertext })
}

/// The text inside an opened sealed text (§7.9): an encoded `Text` whose
/// body follows the text rules.
pub fn validate_sealed_text(bytes: &[u8]) -> Result<String, DecodeError> {
    let t: wire::Text = decode(bytes)?;
    text("body", t.body, limits::MAX_TEXT)
}

/// A seal change's fields (§7.9). The Argon2id parameters are checked by
/// the device that derives with them.
pub(super) fn seal_change(c: wire::SealChange) -> Result<SealChange, String> {
    let key_id = c.key_id.as_slice().try_into().map_err(|_| "key_id must be 16 bytes")?;
    let salt = c.salt.as_slice().try_into().map_err(|_| "salt must be 16 bytes")?;
    let previous = match (
        c.previous_key_id.is_empty() && c.previous_nonce.is_empty() && c.previous_key.is_empty(),
        <[u8; 16]>::try_from(c.previous_key_id.as_slice()),
        <[u8; 24]>::try_from(c.previous_nonce.as_slice()),
        <[u8; 48]>::try_from(c.previous_key.as_slice()),
    ) {
        (true, ..) => None,
        (false, Ok(id), Ok(nonce), Ok(key)) => Some((id, nonce, key)),
        _ => return Err("previous key must be 16, 24 and 48 bytes, or absent".into()),
    };
    Ok(SealChange { key_id, salt, params: (c.memory_kib, c.passes, c.lanes), previous })
}
