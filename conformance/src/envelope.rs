//! Sealed envelopes (SPEC.md §5), from the spec's text.

use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use prost::Message as _;
use sha2::{Digest as _, Sha256};
use x25519_dalek::{PublicKey, StaticSecret};

use crate::identity::{self, Certificate, Device};
use crate::{Error, Result, ensure, wire};

const LABEL: &[u8] = b"kovan/v1/sealed-envelope";
const MAX_CONTENT: usize = 8 * 1024 * 1024 + 4 * 1024;
const MAX_ENVELOPE: usize = MAX_CONTENT + MAX_CONTENT / 8 + 1024;

/// §5.2: Padmé, with the 1024-byte floor.
pub fn padded_len(len: usize) -> usize {
    let padme = if len < 2 {
        len
    } else {
        let e = len.ilog2();
        let s = e.ilog2() + 1;
        let z = e - s;
        let mask = (1usize << z) - 1;
        (len + mask) & !mask
    };
    padme.max(1024)
}

fn keys(shared: &[u8; 32], e: &[u8; 32], r: &[u8; 32]) -> Result<([u8; 32], [u8; 12])> {
    ensure(shared != &[0; 32], "low-order key")?;
    let hk = Hkdf::<Sha256>::new(Some(LABEL), shared);
    let mut okm = [0u8; 44];
    hk.expand(&[&e[..], &r[..]].concat(), &mut okm).map_err(|e| Error(e.to_string()))?;
    let mut key = [0u8; 32];
    let mut nonce = [0u8; 12];
    key.copy_from_slice(&okm[..32]);
    nonce.copy_from_slice(&okm[32..]);
    Ok((key, nonce))
}

/// §5.3: what the sender's signing key signs.
pub fn sender_data(
    r: &[u8; 32],
    e: &[u8; 32],
    cert: &[u8],
    kind: i32,
    timestamp_ms: u64,
    id: &[u8; 16],
    payload: &[u8],
) -> Vec<u8> {
    let mut d = Vec::with_capacity(32 * 4 + 4 + 8 + 16);
    d.extend_from_slice(r);
    d.extend_from_slice(e);
    d.extend_from_slice(&Sha256::digest(cert));
    d.extend_from_slice(&kind.to_be_bytes());
    d.extend_from_slice(&timestamp_ms.to_be_bytes());
    d.extend_from_slice(id);
    d.extend_from_slice(&Sha256::digest(payload));
    d
}

/// §5.1: seals `payload` from `sender` to the device whose envelope key is
/// `recipient`; `ephemeral` and `id` are random unless given (vectors).
pub fn seal(
    sender: &Device,
    recipient: &[u8; 32],
    kind: wire::PayloadKind,
    payload: &[u8],
    timestamp_ms: u64,
    fixed: Option<([u8; 32], [u8; 16])>,
) -> Result<Vec<u8>> {
    let (eph, id) = match fixed {
        Some((e, i)) => (StaticSecret::from(e), i),
        None => {
            let mut id = [0u8; 16];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut id);
            (StaticSecret::random_from_rng(rand_core::OsRng), id)
        }
    };
    let e = PublicKey::from(&eph).to_bytes();
    let shared = eph.diffie_hellman(&PublicKey::from(*recipient)).to_bytes();
    let (key, nonce) = keys(&shared, &e, recipient)?;
    let data =
        sender_data(recipient, &e, &sender.cert.bytes, kind as i32, timestamp_ms, &id, payload);
    let content = wire::SealedContent {
        sender_certificate: sender.cert.bytes.clone(),
        kind: kind as i32,
        payload: payload.to_vec(),
        timestamp_ms,
        envelope_id: id.to_vec(),
        signature: identity::sign(&sender.signing, identity::SEALED_SENDER, &data).to_vec(),
    }
    .encode_to_vec();
    let mut padded = (content.len() as u32).to_be_bytes().to_vec();
    padded.extend_from_slice(&content);
    padded.resize(padded_len(4 + content.len()), 0);
    let aad = [LABEL, &e, recipient].concat();
    let ciphertext = ChaCha20Poly1305::new(Key::from_slice(&key))
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: &padded, aad: &aad })
        .map_err(|_| Error("seal".into()))?;
    Ok(wire::SealedEnvelope { version: 1, ephemeral_key: e.to_vec(), ciphertext }.encode_to_vec())
}

/// An opened envelope (§5.4).
#[derive(Debug, Clone)]
pub struct Opened {
    /// The sender's verified certificate.
    pub sender: Certificate,
    /// What the payload is.
    pub kind: wire::PayloadKind,
    /// The payload.
    pub payload: Vec<u8>,
    /// The sender's clock.
    pub timestamp_ms: u64,
    /// The envelope id.
    pub envelope_id: [u8; 16],
}

/// §5.4: opens an envelope with this device's envelope secret at `now`.
pub fn open(secret: &StaticSecret, bytes: &[u8], now: u64) -> Result<Opened> {
    ensure(bytes.len() <= MAX_ENVELOPE, "envelope over its limit")?;
    let env = wire::SealedEnvelope::decode(bytes)?;
    ensure(env.version == 1, "envelope version")?;
    let e: [u8; 32] = env.ephemeral_key.as_slice().try_into().map_err(|_| "ephemeral key")?;
    let r = PublicKey::from(secret).to_bytes();
    let shared = secret.diffie_hellman(&PublicKey::from(e)).to_bytes();
    let (key, nonce) = keys(&shared, &e, &r)?;
    let aad = [LABEL, &e, &r].concat();
    let padded = ChaCha20Poly1305::new(Key::from_slice(&key))
        .decrypt(Nonce::from_slice(&nonce), Payload { msg: &env.ciphertext, aad: &aad })
        .map_err(|_| Error("undecryptable".into()))?;
    ensure(padded.len() >= 4, "padding")?;
    let n = u32::from_be_bytes([padded[0], padded[1], padded[2], padded[3]]) as usize;
    ensure(n <= MAX_CONTENT && 4 + n <= padded.len(), "padding")?;
    ensure(padded.len() == padded_len(4 + n), "padding: wrong length")?;
    ensure(padded[4 + n..].iter().all(|b| *b == 0), "padding: not zero")?;
    let c = wire::SealedContent::decode(&padded[4..4 + n])?;
    let kind = wire::PayloadKind::try_from(c.kind).map_err(|_| "unknown kind")?;
    ensure(kind != wire::PayloadKind::Unspecified, "unknown kind")?;
    let sender = identity::verify_certificate(&c.sender_certificate, now)?;
    let id: [u8; 16] = c.envelope_id.as_slice().try_into().map_err(|_| "envelope id")?;
    let data = sender_data(&r, &e, &c.sender_certificate, c.kind, c.timestamp_ms, &id, &c.payload);
    ensure(
        identity::verify(&sender.tbs.signing_key, identity::SEALED_SENDER, &data, &c.signature),
        "sender signature",
    )?;
    Ok(Opened { sender, kind, payload: c.payload, timestamp_ms: c.timestamp_ms, envelope_id: id })
}
