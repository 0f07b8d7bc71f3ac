//! The keystore file (SPEC.md §4), opened from the spec's text: a second
//! decoder of `vectors/keystore.json`.

use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use prost::Message as _;
use sha2::{Digest as _, Sha256};

use crate::{Error, Result, ensure, wire};

/// §4.4: opens a keystore with `passphrase`, checking in the spec's order.
pub fn open(bytes: &[u8], passphrase: &[u8]) -> Result<wire::KeystoreSecrets> {
    ensure(bytes.len() >= 71, "truncated")?;
    ensure(&bytes[..8] == b"KOVANKS\0", "not a keystore")?;
    let be32 =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    ensure(u16::from_be_bytes([bytes[8], bytes[9]]) == 1 && bytes[10] == 1, "unsupported version")?;
    let (m, t, p) = (be32(11), be32(15), be32(19));
    ensure(
        (65_536..=2 * 1024 * 1024).contains(&m) && (3..=16).contains(&t) && (4..=16).contains(&p),
        "unsupported parameters",
    )?;
    let (salt, nonce, verifier) = (&bytes[23..39], &bytes[39..51], &bytes[51..67]);
    let n = be32(67) as usize;
    ensure(bytes.len() >= 71 + n + 32, "truncated")?;
    ensure(bytes.len() == 71 + n + 32, "corrupted")?;
    ensure(Sha256::digest(&bytes[..71 + n]).as_slice() == &bytes[71 + n..], "corrupted")?;
    let params = argon2::Params::new(m, t, p, Some(32)).map_err(|e| Error(e.to_string()))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut master = [0u8; 32];
    argon.hash_password_into(passphrase, salt, &mut master).map_err(|e| Error(e.to_string()))?;
    let hk = Hkdf::<Sha256>::new(None, &master);
    let mut key = [0u8; 32];
    let mut check = [0u8; 16];
    hk.expand(b"kovan/v1/keystore/key", &mut key).map_err(|e| Error(e.to_string()))?;
    hk.expand(b"kovan/v1/keystore/verifier", &mut check).map_err(|e| Error(e.to_string()))?;
    ensure(check == verifier, "wrong passphrase")?;
    let plain = ChaCha20Poly1305::new(Key::from_slice(&key))
        .decrypt(Nonce::from_slice(nonce), Payload { msg: &bytes[71..71 + n], aad: &bytes[..71] })
        .map_err(|_| Error("tampered".into()))?;
    ensure(plain.len() <= 4096, "invalid content")?;
    Ok(wire::KeystoreSecrets::decode(plain.as_slice())?)
}
