//! File chunks (SPEC.md §7.7.2), from the spec's text: a second decoder of
//! `vectors/file.json`.

use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use crate::{Error, Result};

/// Opens chunk `index` (`last`: the final chunk) sealed under `key`.
pub fn open_chunk(key: &[u8; 32], index: u64, last: bool, sealed: &[u8]) -> Result<Vec<u8>> {
    let mut nonce = [0u8; 12];
    nonce[..8].copy_from_slice(&index.to_be_bytes());
    nonce[8] = u8::from(last);
    ChaCha20Poly1305::new(Key::from_slice(key))
        .decrypt(Nonce::from_slice(&nonce), Payload { msg: sealed, aad: b"kovan/v1/file-chunk" })
        .map_err(|_| Error("chunk does not open".into()))
}
