//! Sealed envelopes (SPEC.md §5): what a relay mailbox holds, and what nodes
//! hand each other directly.
//!
//! The sender picks an ephemeral X25519 key `e`, computes `X25519(e, R)` with
//! the recipient device's envelope key `R` (refusing an all-zero result),
//! derives a ChaCha20-Poly1305 key and nonce with HKDF-SHA256, and encrypts
//! the padded [`wire::SealedContent`]: the sender's certificate, the payload
//! and the sender's signature. Outside the ciphertext there is only `e`: the
//! relay learns the mailbox it was put in, the padded size and the time.
//!
//! The sender's signature covers the recipient's key and `e`, so a recipient
//! cannot re-seal a received envelope to someone else as if the original
//! sender had sent it to them.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use kovan_spec::{DecodeError, decode, encode, limits, wire};
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};
use thiserror::Error;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::context::{self, SigContext};
use crate::identity::{CertificateError, DeviceCertificate, DeviceKeys};
use crate::{ErrorKind, KeyError, UnixMillis, UnixSeconds};

/// Envelope wire version.
pub const ENVELOPE_VERSION: u32 = 1;
/// HKDF salt and AEAD label.
pub const LABEL: &[u8] = b"kovan/v1/sealed-envelope";
/// Smallest padded plaintext. The sender certificate and signature alone
/// take about 400 bytes and a short MLS text message about 200 more, so 1 KiB
/// makes every short message look alike.
pub const MIN_PADDED: usize = 1024;

/// What a sealed envelope carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadKind {
    /// An MLS message.
    MlsMessage,
    /// An MLS Welcome.
    MlsWelcome,
    /// A friend message (request, decline, removal).
    Friend,
    /// A group invitation, acceptance or decline.
    Group,
    /// An anonymous ballot (SPEC.md §6.4.2): the only kind sealed without a
    /// sender ([`seal_anonymous`]).
    AnonymousBallot,
}

impl PayloadKind {
    fn to_wire(self) -> wire::PayloadKind {
        match self {
            PayloadKind::MlsMessage => wire::PayloadKind::MlsMessage,
            PayloadKind::MlsWelcome => wire::PayloadKind::MlsWelcome,
            PayloadKind::Friend => wire::PayloadKind::Friend,
            PayloadKind::Group => wire::PayloadKind::Group,
            PayloadKind::AnonymousBallot => wire::PayloadKind::AnonymousBallot,
        }
    }
    fn from_wire(v: i32) -> Option<Self> {
        match wire::PayloadKind::try_from(v).ok()? {
            wire::PayloadKind::MlsMessage => Some(PayloadKind::MlsMessage),
            wire::PayloadKind::MlsWelcome => Some(PayloadKind::MlsWelcome),
            wire::PayloadKind::Friend => Some(PayloadKind::Friend),
            wire::PayloadKind::Group => Some(PayloadKind::Group),
            wire::PayloadKind::AnonymousBallot => Some(PayloadKind::AnonymousBallot),
            wire::PayloadKind::Unspecified => None,
        }
    }
}

/// Why an envelope could not be sealed or opened.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The outer or inner encoding is malformed or too large.
    #[error("malformed envelope: {0}")]
    Malformed(#[from] DecodeError),
    /// A key is invalid or low-order.
    #[error("envelope key: {0}")]
    Key(#[from] KeyError),
    /// Decryption failed: not for this device, or altered in transit.
    #[error("envelope does not decrypt with this device's key")]
    Undecryptable,
    /// The sender's certificate is not acceptable.
    #[error("sender certificate: {0}")]
    Certificate(#[from] CertificateError),
    /// The sender's signature does not verify.
    #[error("sender signature does not verify")]
    BadSignature,
    /// The payload is larger than [`limits::MAX_PAYLOAD`].
    #[error("payload of {0} bytes is too large")]
    PayloadTooLarge(usize),
    /// An unknown payload kind (from a newer sender).
    #[error("unknown payload kind {0}")]
    UnknownKind(i32),
}

impl EnvelopeError {
    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            EnvelopeError::Malformed(_)
            | EnvelopeError::PayloadTooLarge(_)
            | EnvelopeError::UnknownKind(_) => ErrorKind::InvalidInput,
            EnvelopeError::Key(e) => e.kind(),
            EnvelopeError::Certificate(e) => e.kind(),
            EnvelopeError::Undecryptable | EnvelopeError::BadSignature => ErrorKind::Untrusted,
        }
    }
}

/// The Padmé padded length of `len` (Nikitin et al., "Reducing Metadata
/// Leakage from Encrypted Files and Communication with PURBs", 2019): leaks
/// O(log log L) bits of the length with at most 12 % overhead.
pub fn padme(len: usize) -> usize {
    if len < 2 {
        return len;
    }
    let e = usize::BITS - 1 - len.leading_zeros(); // floor(log2 len)
    let s = u32::BITS - 1 - e.leading_zeros() + 1; // floor(log2 e) + 1
    let last_bits = e - s;
    let mask = (1usize << last_bits) - 1;
    (len + mask) & !mask
}

/// The padded plaintext length for content of `len` bytes (with its 4-byte
/// length prefix).
pub fn padded_len(len: usize) -> usize {
    padme(len + 4).max(MIN_PADDED)
}

/// The sender's side: its device signing key and certificate.
pub struct Sender<'a> {
    /// The device's keys (only `signing` is used).
    pub keys: &'a DeviceKeys,
    /// The device's certificate.
    pub certificate: &'a DeviceCertificate,
}

fn kdf(shared: &[u8; 32], eph: &[u8; 32], recipient: &[u8; 32]) -> Zeroizing<[u8; 44]> {
    let hk = Hkdf::<Sha256>::new(Some(LABEL), shared);
    let mut info = [0u8; 64];
    info[..32].copy_from_slice(eph);
    info[32..].copy_from_slice(recipient);
    let mut okm = Zeroizing::new([0u8; 44]);
    // 44 bytes is far below HKDF-SHA256's 8160-byte limit.
    let _ = hk.expand(&info, okm.as_mut());
    okm
}

fn aad(eph: &[u8; 32], recipient: &[u8; 32]) -> Vec<u8> {
    [LABEL, eph.as_slice(), recipient.as_slice()].concat()
}

fn signed_data(
    recipient: &[u8; 32],
    eph: &[u8; 32],
    cert_digest: &[u8; 32],
    kind: i32,
    timestamp_ms: u64,
    envelope_id: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let mut d = Vec::with_capacity(32 * 3 + 4 + 8 + 16 + 32);
    d.extend_from_slice(recipient);
    d.extend_from_slice(eph);
    d.extend_from_slice(cert_digest);
    d.extend_from_slice(&kind.to_be_bytes());
    d.extend_from_slice(&timestamp_ms.to_be_bytes());
    d.extend_from_slice(envelope_id);
    d.extend_from_slice(&Sha256::digest(payload));
    d
}

fn contributory(
    secret: &StaticSecret,
    public: &PublicKey,
) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let shared = secret.diffie_hellman(public);
    if !shared.was_contributory() {
        return Err(KeyError::LowOrder);
    }
    Ok(Zeroizing::new(shared.to_bytes()))
}

/// A sealed envelope, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The encoded `SealedEnvelope`.
    pub bytes: Vec<u8>,
    /// The random id inside it, for deduplication.
    pub envelope_id: [u8; 16],
}

/// Seals `payload` from `sender` to the device whose envelope key is
/// `recipient`, with a fresh ephemeral key and envelope id from `rng`.
pub fn seal(
    rng: &mut impl CryptoRngCore,
    sender: &Sender<'_>,
    recipient: &[u8; 32],
    kind: PayloadKind,
    payload: &[u8],
    timestamp_ms: UnixMillis,
) -> Result<Sealed, EnvelopeError> {
    let ephemeral = StaticSecret::random_from_rng(&mut *rng);
    let mut envelope_id = [0u8; 16];
    rng.fill_bytes(&mut envelope_id);
    seal_with(&ephemeral, envelope_id, sender, recipient, kind, payload, timestamp_ms)
}

/// [`seal`] with the ephemeral key and envelope id given: for test vectors
/// only. Reusing an ephemeral key breaks the scheme; call [`seal`].
pub fn seal_with(
    ephemeral: &StaticSecret,
    envelope_id: [u8; 16],
    sender: &Sender<'_>,
    recipient: &[u8; 32],
    kind: PayloadKind,
    payload: &[u8],
    timestamp_ms: UnixMillis,
) -> Result<Sealed, EnvelopeError> {
    if payload.len() > limits::MAX_PAYLOAD {
        return Err(EnvelopeError::PayloadTooLarge(payload.len()));
    }
    if kind == PayloadKind::AnonymousBallot {
        // Signed, it would name the voter it exists to hide.
        return Err(EnvelopeError::UnknownKind(kind.to_wire() as i32));
    }
    let eph = PublicKey::from(ephemeral).to_bytes();
    let shared = contributory(ephemeral, &PublicKey::from(*recipient))?;

    let kind_wire = kind.to_wire() as i32;
    let data = signed_data(
        recipient,
        &eph,
        &sender.certificate.digest(),
        kind_wire,
        timestamp_ms,
        &envelope_id,
        payload,
    );
    let signature = context::sign(&sender.keys.signing, SigContext::SealedSender, &data);
    let content = wire::SealedContent {
        sender_certificate: sender.certificate.encoded().to_vec(),
        kind: kind_wire,
        payload: payload.to_vec(),
        timestamp_ms,
        envelope_id: envelope_id.to_vec(),
        signature: signature.to_vec(),
    };
    encrypt(&shared, &eph, recipient, &content, envelope_id)
}

/// Seals an anonymous ballot's payload (SPEC.md §6.4.2) to a device with no
/// sender certificate and no signature: the recipient learns nothing of
/// who sealed it (the ballot inside proves what it must by itself).
pub fn seal_anonymous(
    rng: &mut impl CryptoRngCore,
    recipient: &[u8; 32],
    payload: &[u8],
    timestamp_ms: UnixMillis,
) -> Result<Sealed, EnvelopeError> {
    if payload.len() > limits::MAX_PAYLOAD {
        return Err(EnvelopeError::PayloadTooLarge(payload.len()));
    }
    let ephemeral = StaticSecret::random_from_rng(&mut *rng);
    let mut envelope_id = [0u8; 16];
    rng.fill_bytes(&mut envelope_id);
    let eph = PublicKey::from(&ephemeral).to_bytes();
    let shared = contributory(&ephemeral, &PublicKey::from(*recipient))?;
    let content = wire::SealedContent {
        sender_certificate: Vec::new(),
        kind: PayloadKind::AnonymousBallot.to_wire() as i32,
        payload: payload.to_vec(),
        timestamp_ms,
        envelope_id: envelope_id.to_vec(),
        signature: Vec::new(),
    };
    encrypt(&shared, &eph, recipient, &content, envelope_id)
}

/// Pads and encrypts a sealed content under the key `shared` gives.
fn encrypt(
    shared: &[u8; 32],
    eph: &[u8; 32],
    recipient: &[u8; 32],
    content: &wire::SealedContent,
    envelope_id: [u8; 16],
) -> Result<Sealed, EnvelopeError> {
    let content = Zeroizing::new(encode(content));
    let mut padded = Zeroizing::new(Vec::with_capacity(padded_len(content.len())));
    padded.extend_from_slice(&(content.len() as u32).to_be_bytes());
    padded.extend_from_slice(&content);
    padded.resize(padded_len(content.len()), 0);

    let okm = kdf(shared, eph, recipient);
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&okm[..32]));
    let aad = aad(eph, recipient);
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(&okm[32..]), Payload { msg: &padded, aad: &aad })
        .map_err(|_| EnvelopeError::Undecryptable)?;
    let bytes = encode(&wire::SealedEnvelope {
        version: ENVELOPE_VERSION,
        ephemeral_key: eph.to_vec(),
        ciphertext,
    });
    Ok(Sealed { bytes, envelope_id })
}

/// An opened envelope: who sent what.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The sender's verified certificate (its account is the sender).
    pub sender: DeviceCertificate,
    /// What the payload is.
    pub kind: PayloadKind,
    /// The payload.
    pub payload: Vec<u8>,
    /// The sender's clock at sealing.
    pub timestamp_ms: UnixMillis,
    /// The id to deduplicate by.
    pub envelope_id: [u8; 16],
}

/// An anonymous ballot's envelope, opened: no sender (SPEC.md §6.4.2).
#[derive(Debug, Clone)]
pub struct OpenedAnonymous {
    /// The payload, an encoded `AnonymousBallot`.
    pub payload: Vec<u8>,
    /// The sealer's clock at sealing (its word only).
    pub timestamp_ms: UnixMillis,
    /// The id to deduplicate by.
    pub envelope_id: [u8; 16],
}

/// What [`open_any`] found inside an envelope.
#[derive(Debug, Clone)]
pub enum Opening {
    /// A sender's signed envelope.
    Signed(Box<Opened>),
    /// An anonymous ballot, which names no sender.
    Anonymous(OpenedAnonymous),
}

/// Opens an envelope with this device's envelope key. Checks the sender's
/// certificate at `now` and the sender's signature; refuses an anonymous
/// ballot's envelope (see [`open_any`]). Never panics.
pub fn open(
    recipient: &StaticSecret,
    bytes: &[u8],
    now: UnixSeconds,
) -> Result<Opened, EnvelopeError> {
    match open_any(recipient, bytes, now)? {
        Opening::Signed(o) => Ok(*o),
        Opening::Anonymous(_) => {
            Err(EnvelopeError::UnknownKind(PayloadKind::AnonymousBallot.to_wire() as i32))
        }
    }
}

/// [`open`], also taking an anonymous ballot's envelope: one of that kind
/// with no certificate and no signature (SPEC.md §6.4.2). An envelope of
/// that kind with either, or of any other kind without them, is refused.
pub fn open_any(
    recipient: &StaticSecret,
    bytes: &[u8],
    now: UnixSeconds,
) -> Result<Opening, EnvelopeError> {
    let env: wire::SealedEnvelope = decode(bytes)?;
    if env.version != ENVELOPE_VERSION {
        return Err(DecodeError::UnsupportedVersion {
            what: "SealedEnvelope",
            version: env.version,
        }
        .into());
    }
    let eph: [u8; 32] =
        env.ephemeral_key.as_slice().try_into().map_err(|_| KeyError::Invalid("ephemeral"))?;
    let recipient_pub = PublicKey::from(recipient).to_bytes();
    let shared = contributory(recipient, &PublicKey::from(eph))?;
    let okm = kdf(&shared, &eph, &recipient_pub);
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&okm[..32]));
    let aad = aad(&eph, &recipient_pub);
    let padded = Zeroizing::new(
        cipher
            .decrypt(Nonce::from_slice(&okm[32..]), Payload { msg: &env.ciphertext, aad: &aad })
            .map_err(|_| EnvelopeError::Undecryptable)?,
    );
    let malformed =
        |reason: &str| DecodeError::Invalid { what: "SealedEnvelope", reason: reason.to_owned() };
    if padded.len() < 4 {
        return Err(malformed("padding shorter than its length prefix").into());
    }
    let len = u32::from_be_bytes([padded[0], padded[1], padded[2], padded[3]]) as usize;
    let content_bytes = padded.get(4..4 + len).ok_or_else(|| malformed("length beyond padding"))?;
    if padded.len() != padded_len(len) || padded[4 + len..].iter().any(|b| *b != 0) {
        return Err(malformed("padding is not canonical").into());
    }
    let content: wire::SealedContent = decode(content_bytes)?;
    let kind =
        PayloadKind::from_wire(content.kind).ok_or(EnvelopeError::UnknownKind(content.kind))?;
    let envelope_id: [u8; 16] = content
        .envelope_id
        .as_slice()
        .try_into()
        .map_err(|_| malformed("envelope id must be 16 bytes"))?;
    if kind == PayloadKind::AnonymousBallot {
        if !content.sender_certificate.is_empty() || !content.signature.is_empty() {
            return Err(malformed("an anonymous ballot names no sender").into());
        }
        return Ok(Opening::Anonymous(OpenedAnonymous {
            payload: content.payload,
            timestamp_ms: content.timestamp_ms,
            envelope_id,
        }));
    }
    let sender = DeviceCertificate::verify(&content.sender_certificate, now)?;
    let data = signed_data(
        &recipient_pub,
        &eph,
        &sender.digest(),
        content.kind,
        content.timestamp_ms,
        &envelope_id,
        &content.payload,
    );
    let signing = ed25519_dalek::VerifyingKey::from_bytes(&sender.keys().signing)
        .map_err(|_| KeyError::Invalid("signing"))?;
    context::verify(&signing, SigContext::SealedSender, &data, &content.signature)
        .map_err(|_| EnvelopeError::BadSignature)?;
    Ok(Opening::Signed(Box::new(Opened {
        sender,
        kind,
        payload: content.payload,
        timestamp_ms: content.timestamp_ms,
        envelope_id,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::AccountKey;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    const NOW: UnixSeconds = 1_800_000_000;

    struct Party {
        keys: DeviceKeys,
        cert: DeviceCertificate,
    }

    fn party(seed: u64) -> Party {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let account = AccountKey::generate(&mut rng);
        let keys = DeviceKeys::generate(&mut rng);
        let cert = account.certify(&keys.public(), "", NOW - 10, 3600).unwrap();
        Party { keys, cert }
    }

    fn seal_to(from: &Party, to: &Party, payload: &[u8]) -> Sealed {
        let mut rng = ChaCha20Rng::seed_from_u64(99);
        let sender = Sender { keys: &from.keys, certificate: &from.cert };
        seal(&mut rng, &sender, &to.keys.public().envelope, PayloadKind::MlsMessage, payload, 5)
            .unwrap()
    }

    #[test]
    fn an_anonymous_ballot_opens_with_no_sender_and_only_as_one() {
        let bob = party(2);
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let to = bob.keys.public().envelope;
        let sealed = seal_anonymous(&mut rng, &to, b"ballot", 5).unwrap();
        assert!(sealed.bytes.len() >= MIN_PADDED, "padded like any envelope");
        match open_any(&bob.keys.envelope, &sealed.bytes, NOW).unwrap() {
            Opening::Anonymous(a) => {
                assert_eq!(a.payload, b"ballot");
                assert_eq!(a.envelope_id, sealed.envelope_id);
            }
            Opening::Signed(_) => panic!("an anonymous ballot named a sender"),
        }
        assert!(matches!(
            open(&bob.keys.envelope, &sealed.bytes, NOW),
            Err(EnvelopeError::UnknownKind(_))
        ));
        // Signed, an anonymous ballot would name its voter: refused.
        let alice = party(1);
        let sender = Sender { keys: &alice.keys, certificate: &alice.cert };
        assert!(seal(&mut rng, &sender, &to, PayloadKind::AnonymousBallot, b"x", 5).is_err());
        // Another kind without a sender does not open.
        let shared = contributory(&StaticSecret::from([5; 32]), &PublicKey::from(to)).unwrap();
        let eph = PublicKey::from(&StaticSecret::from([5; 32])).to_bytes();
        let content = wire::SealedContent {
            kind: PayloadKind::MlsMessage.to_wire() as i32,
            payload: b"x".to_vec(),
            envelope_id: vec![1; 16],
            ..Default::default()
        };
        let forged = encrypt(&shared, &eph, &to, &content, [1; 16]).unwrap();
        assert!(open_any(&bob.keys.envelope, &forged.bytes, NOW).is_err());
    }

    #[test]
    fn the_recipient_opens_and_learns_the_sender() {
        let (alice, bob) = (party(1), party(2));
        let sealed = seal_to(&alice, &bob, b"hello bob");
        let opened = open(&bob.keys.envelope, &sealed.bytes, NOW).unwrap();
        assert_eq!(opened.payload, b"hello bob");
        assert_eq!(opened.sender.account(), alice.cert.account());
        assert_eq!(opened.kind, PayloadKind::MlsMessage);
        assert_eq!(opened.envelope_id, sealed.envelope_id);
    }

    #[test]
    fn only_the_right_key_opens() {
        let (alice, bob, carol) = (party(1), party(2), party(3));
        let sealed = seal_to(&alice, &bob, b"for bob");
        assert_eq!(
            open(&carol.keys.envelope, &sealed.bytes, NOW).unwrap_err(),
            EnvelopeError::Undecryptable
        );
        assert_eq!(
            open(&alice.keys.envelope, &sealed.bytes, NOW).unwrap_err(),
            EnvelopeError::Undecryptable
        );
    }

    #[test]
    fn the_sender_identity_is_not_visible_outside() {
        let (alice, bob) = (party(1), party(2));
        let sealed = seal_to(&alice, &bob, b"x");
        let hay = &sealed.bytes;
        for needle in [alice.cert.account().as_bytes().as_slice(), &alice.keys.public().signing] {
            assert!(!hay.windows(needle.len()).any(|w| w == needle));
        }
    }

    #[test]
    fn any_flipped_byte_is_refused() {
        let (alice, bob) = (party(1), party(2));
        let sealed = seal_to(&alice, &bob, b"integrity");
        for i in 0..sealed.bytes.len() {
            let mut t = sealed.bytes.clone();
            t[i] ^= 0x80;
            assert!(open(&bob.keys.envelope, &t, NOW).is_err(), "flip at {i} accepted");
        }
    }

    #[test]
    fn an_all_zero_exchange_is_refused() {
        let alice = party(1);
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let sender = Sender { keys: &alice.keys, certificate: &alice.cert };
        // The identity point and a small-order point.
        for low in [[0u8; 32], {
            let mut p = [0u8; 32];
            p[0] = 1;
            p
        }] {
            let err = seal(&mut rng, &sender, &low, PayloadKind::MlsMessage, b"x", 1).unwrap_err();
            assert_eq!(err, EnvelopeError::Key(KeyError::LowOrder));
        }
        // An envelope whose ephemeral key is low-order is refused on open.
        let bytes = encode(&wire::SealedEnvelope {
            version: 1,
            ephemeral_key: vec![0; 32],
            ciphertext: vec![0; 300],
        });
        assert_eq!(
            open(&alice.keys.envelope, &bytes, NOW).unwrap_err(),
            EnvelopeError::Key(KeyError::LowOrder)
        );
    }

    #[test]
    fn an_expired_sender_certificate_is_refused() {
        let (alice, bob) = (party(1), party(2));
        let sealed = seal_to(&alice, &bob, b"late");
        let err = open(&bob.keys.envelope, &sealed.bytes, NOW + 7200).unwrap_err();
        assert!(matches!(err, EnvelopeError::Certificate(CertificateError::Expired { .. })));
    }

    #[test]
    fn lengths_are_padded_into_buckets() {
        let (alice, bob) = (party(1), party(2));
        let a = seal_to(&alice, &bob, &[1; 10]).bytes.len();
        let b = seal_to(&alice, &bob, &[1; 100]).bytes.len();
        assert_eq!(a, b, "short messages must look alike");
        for len in [0usize, 1, 2, 100, 1000, 12345, 1 << 20, limits::MAX_PAYLOAD] {
            let p = padme(len);
            assert!(p >= len && p - len <= len / 8 + 1, "padme({len}) = {p}");
        }
        assert_eq!(padme(9), 10);
        assert_eq!(padme(1000), 1024);
        assert_eq!(padme(1025), 1088);
    }

    #[test]
    fn oversized_payloads_are_refused() {
        let (alice, bob) = (party(1), party(2));
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let sender = Sender { keys: &alice.keys, certificate: &alice.cert };
        let big = vec![0u8; limits::MAX_PAYLOAD + 1];
        let err =
            seal(&mut rng, &sender, &bob.keys.public().envelope, PayloadKind::MlsMessage, &big, 1);
        assert_eq!(err.unwrap_err(), EnvelopeError::PayloadTooLarge(limits::MAX_PAYLOAD + 1));
    }
}
