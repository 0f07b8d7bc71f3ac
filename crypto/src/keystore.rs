//! The keystore file format (SPEC.md §4): a device's secrets sealed with a
//! passphrase. Pure functions: [`seal`] returns the bytes to write and
//! [`open`] takes the bytes read; the node does the (atomic) file I/O.
//!
//! Layout, all integers big-endian:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0  | 8  | magic `KOVANKS\0` |
//! | 8  | 2  | format version, 1 |
//! | 10 | 1  | KDF id, 1 = Argon2id v1.3 |
//! | 11 | 4  | Argon2 memory, KiB |
//! | 15 | 4  | Argon2 passes |
//! | 19 | 4  | Argon2 lanes |
//! | 23 | 16 | salt |
//! | 39 | 12 | nonce |
//! | 51 | 16 | passphrase verifier |
//! | 67 | 4  | ciphertext length `n` |
//! | 71 | n  | ChaCha20-Poly1305 ciphertext of `KeystoreSecrets`, AAD = bytes 0..71 |
//! | 71+n | 32 | SHA-256 of bytes 0..71+n |
//!
//! The unkeyed checksum tells accidental damage ([`KeystoreError::Corrupted`])
//! from a wrong passphrase; the verifier tells a wrong passphrase
//! ([`KeystoreError::WrongPassphrase`]) from deliberate tampering
//! ([`KeystoreError::Tampered`]). The verifier lets an attacker test a guess
//! no faster than the AEAD tag already does: both need the Argon2id output.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use ed25519_dalek::SigningKey;
use hkdf::Hkdf;
use kovan_spec::{decode, encode, wire};
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;
use x25519_dalek::StaticSecret;
use zeroize::{Zeroize, Zeroizing};

use crate::ErrorKind;
use crate::identity::{AccountKey, DeviceCertificate, DeviceKeys};
use crate::storage::StorageKey;

/// File magic.
pub const MAGIC: &[u8; 8] = b"KOVANKS\0";
/// Current format version.
pub const FORMAT_VERSION: u16 = 1;
/// KDF identifier for Argon2id version 0x13.
pub const KDF_ARGON2ID: u8 = 1;
/// Header length (everything before the ciphertext).
pub const HEADER_LEN: usize = 71;
/// Checksum length.
pub const CHECKSUM_LEN: usize = 32;
/// Largest ciphertext accepted: the secrets message limit plus the tag.
pub const MAX_CIPHERTEXT: usize = kovan_spec::limits::MAX_KEYSTORE_SECRETS + 16;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl KdfParams {
    /// RFC 9106 §4, second recommended option ("memory-constrained"):
    /// 64 MiB, 3 passes, 4 lanes. This is also the floor: files asking for
    /// less are refused, so a tampered file cannot downgrade the KDF.
    pub const RFC9106_MEMORY_CONSTRAINED: KdfParams = KdfParams { m_kib: 64 * 1024, t: 3, p: 4 };
    /// The ceiling a file may ask for: 2 GiB, 16 passes, 16 lanes. A file
    /// asking for more is refused rather than allowed to exhaust the machine.
    pub const MAX: KdfParams = KdfParams { m_kib: 2 * 1024 * 1024, t: 16, p: 16 };

    fn check(self) -> Result<(), KeystoreError> {
        let min = Self::RFC9106_MEMORY_CONSTRAINED;
        let ok = (min.m_kib..=Self::MAX.m_kib).contains(&self.m_kib)
            && (min.t..=Self::MAX.t).contains(&self.t)
            && (1..=Self::MAX.p).contains(&self.p)
            && self.m_kib >= 8 * self.p;
        if ok { Ok(()) } else { Err(KeystoreError::UnsupportedParameters(self)) }
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::RFC9106_MEMORY_CONSTRAINED
    }
}

/// Why a keystore could not be opened or sealed. Each case is distinct so
/// the user is told what actually happened.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeystoreError {
    /// The file does not start with the keystore magic.
    #[error("not a kovan keystore")]
    NotAKeystore,
    /// A format version this build does not read.
    #[error("keystore format version {0} is not supported by this version of kovan")]
    UnsupportedVersion(u16),
    /// KDF id or parameters outside what this build accepts.
    #[error("keystore KDF parameters {0:?} are outside the accepted range")]
    UnsupportedParameters(KdfParams),
    /// Fewer bytes than the header says there are.
    #[error("keystore file is truncated ({have} of {need} bytes)")]
    Truncated {
        /// Bytes present.
        have: usize,
        /// Bytes expected.
        need: usize,
    },
    /// The checksum does not match: the file was damaged.
    #[error("keystore file is corrupted (checksum mismatch)")]
    Corrupted,
    /// The passphrase is wrong.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// The passphrase is right but the ciphertext fails authentication:
    /// someone altered the file and fixed up its checksum.
    #[error("keystore was tampered with (authentication failed)")]
    Tampered,
    /// Decrypted, but the content is not a valid set of secrets.
    #[error("keystore content is invalid: {0}")]
    Invalid(String),
    /// A bug.
    #[error("internal keystore error: {0}")]
    Internal(&'static str),
}

impl KeystoreError {
    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            KeystoreError::WrongPassphrase => ErrorKind::WrongPassphrase,
            KeystoreError::Truncated { .. }
            | KeystoreError::Corrupted
            | KeystoreError::Tampered
            | KeystoreError::Invalid(_) => ErrorKind::StorageCorrupted,
            KeystoreError::NotAKeystore
            | KeystoreError::UnsupportedVersion(_)
            | KeystoreError::UnsupportedParameters(_) => ErrorKind::InvalidInput,
            KeystoreError::Internal(_) => ErrorKind::Internal,
        }
    }
}

/// What a keystore holds.
#[derive(Debug, Clone)]
pub struct KeystoreContents {
    /// The account key, on the device that holds it.
    pub account: Option<AccountKey>,
    /// The device's keys.
    pub device: DeviceKeys,
    /// The device's certificate (not checked for expiry on open: an expired
    /// certificate must still be renewable).
    pub certificate: DeviceCertificate,
    /// The key of the node database's encrypted fields.
    pub storage: StorageKey,
}

struct Derived {
    key: Zeroizing<[u8; 32]>,
    verifier: [u8; 16],
}

fn derive(passphrase: &[u8], salt: &[u8], params: KdfParams) -> Result<Derived, KeystoreError> {
    let p = Params::new(params.m_kib, params.t, params.p, Some(32))
        .map_err(|_| KeystoreError::UnsupportedParameters(params))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, p);
    let mut master = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase, salt, master.as_mut())
        .map_err(|_| KeystoreError::Internal("argon2"))?;
    let hk = Hkdf::<Sha256>::new(None, master.as_ref());
    let mut key = Zeroizing::new([0u8; 32]);
    let mut verifier = [0u8; 16];
    hk.expand(b"kovan/v1/keystore/key", key.as_mut())
        .map_err(|_| KeystoreError::Internal("hkdf"))?;
    hk.expand(b"kovan/v1/keystore/verifier", &mut verifier)
        .map_err(|_| KeystoreError::Internal("hkdf"))?;
    Ok(Derived { key, verifier })
}

fn zeroize_secrets(s: &mut wire::KeystoreSecrets) {
    s.account_secret.zeroize();
    s.p2p_secret.zeroize();
    s.mls_secret.zeroize();
    s.signing_secret.zeroize();
    s.envelope_secret.zeroize();
    s.storage_secret.zeroize();
}

/// Seals `contents` under `passphrase` with fresh salt and nonce.
pub fn seal(
    contents: &KeystoreContents,
    passphrase: &[u8],
    params: KdfParams,
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, KeystoreError> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut salt);
    rng.fill_bytes(&mut nonce);
    seal_with(contents, passphrase, params, salt, nonce)
}

/// [`seal`] with salt and nonce given: for test vectors only.
pub fn seal_with(
    contents: &KeystoreContents,
    passphrase: &[u8],
    params: KdfParams,
    salt: [u8; 16],
    nonce: [u8; 12],
) -> Result<Vec<u8>, KeystoreError> {
    params.check()?;
    let mut secrets = wire::KeystoreSecrets {
        version: 1,
        account_secret: contents.account.as_ref().map(|a| a.seed().to_vec()).unwrap_or_default(),
        p2p_secret: contents.device.p2p.to_bytes().to_vec(),
        mls_secret: contents.device.mls.to_bytes().to_vec(),
        signing_secret: contents.device.signing.to_bytes().to_vec(),
        envelope_secret: contents.device.envelope.to_bytes().to_vec(),
        device_certificate: contents.certificate.encoded().to_vec(),
        storage_secret: contents.storage.secret().to_vec(),
    };
    let plaintext = Zeroizing::new(encode(&secrets));
    zeroize_secrets(&mut secrets);

    let d = derive(passphrase, &salt, params)?;

    let ct_len = plaintext.len() + 16;
    let mut out = Vec::with_capacity(HEADER_LEN + ct_len + CHECKSUM_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    out.push(KDF_ARGON2ID);
    out.extend_from_slice(&params.m_kib.to_be_bytes());
    out.extend_from_slice(&params.t.to_be_bytes());
    out.extend_from_slice(&params.p.to_be_bytes());
    out.extend_from_slice(&salt);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&d.verifier);
    out.extend_from_slice(&(ct_len as u32).to_be_bytes());
    debug_assert_eq!(out.len(), HEADER_LEN);
    let cipher = ChaCha20Poly1305::new(Key::from_slice(d.key.as_ref()));
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: &plaintext, aad: &out })
        .map_err(|_| KeystoreError::Internal("encrypt"))?;
    out.extend_from_slice(&ct);
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    Ok(out)
}

fn be32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_be_bytes(a)
}

/// Reads the KDF parameters of a keystore without the passphrase.
pub fn params_of(bytes: &[u8]) -> Result<KdfParams, KeystoreError> {
    if bytes.len() < HEADER_LEN {
        if bytes.len() >= MAGIC.len() && &bytes[..8] != MAGIC {
            return Err(KeystoreError::NotAKeystore);
        }
        return Err(KeystoreError::Truncated { have: bytes.len(), need: HEADER_LEN });
    }
    if &bytes[..8] != MAGIC {
        return Err(KeystoreError::NotAKeystore);
    }
    let version = u16::from_be_bytes([bytes[8], bytes[9]]);
    if version != FORMAT_VERSION {
        return Err(KeystoreError::UnsupportedVersion(version));
    }
    let params = KdfParams { m_kib: be32(bytes, 11), t: be32(bytes, 15), p: be32(bytes, 19) };
    if bytes[10] != KDF_ARGON2ID {
        return Err(KeystoreError::UnsupportedParameters(params));
    }
    params.check()?;
    Ok(params)
}

/// Opens a keystore. Checks, in order: format, length, checksum, passphrase,
/// authentication, content. Never panics.
pub fn open(bytes: &[u8], passphrase: &[u8]) -> Result<KeystoreContents, KeystoreError> {
    let params = params_of(bytes)?;
    let ct_len = be32(bytes, 67) as usize;
    if !(16..=MAX_CIPHERTEXT).contains(&ct_len) {
        return Err(KeystoreError::Corrupted);
    }
    let need = HEADER_LEN + ct_len + CHECKSUM_LEN;
    if bytes.len() < need {
        return Err(KeystoreError::Truncated { have: bytes.len(), need });
    }
    if bytes.len() > need {
        return Err(KeystoreError::Corrupted);
    }
    let (body, sum) = bytes.split_at(HEADER_LEN + ct_len);
    if Sha256::digest(body).as_slice() != sum {
        return Err(KeystoreError::Corrupted);
    }
    let header = &body[..HEADER_LEN];
    let d = derive(passphrase, &header[23..39], params)?;
    if !bool::from(d.verifier.ct_eq(&header[51..67])) {
        return Err(KeystoreError::WrongPassphrase);
    }
    let cipher = ChaCha20Poly1305::new(Key::from_slice(d.key.as_ref()));
    let plaintext = Zeroizing::new(
        cipher
            .decrypt(
                Nonce::from_slice(&header[39..51]),
                Payload { msg: &body[HEADER_LEN..], aad: header },
            )
            .map_err(|_| KeystoreError::Tampered)?,
    );
    let mut secrets: wire::KeystoreSecrets =
        decode(&plaintext).map_err(|e| KeystoreError::Invalid(e.to_string()))?;
    let result = contents_from(&secrets);
    zeroize_secrets(&mut secrets);
    result
}

fn secret32(field: &str, b: &[u8]) -> Result<Zeroizing<[u8; 32]>, KeystoreError> {
    let mut out = Zeroizing::new([0u8; 32]);
    if b.len() != 32 {
        return Err(KeystoreError::Invalid(format!("{field} must be 32 bytes")));
    }
    out.copy_from_slice(b);
    Ok(out)
}

fn contents_from(s: &wire::KeystoreSecrets) -> Result<KeystoreContents, KeystoreError> {
    if s.version != 1 {
        return Err(KeystoreError::Invalid(format!("secrets version {}", s.version)));
    }
    let account = if s.account_secret.is_empty() {
        None
    } else {
        Some(AccountKey::from_seed(&*secret32("account secret", &s.account_secret)?))
    };
    let device = DeviceKeys {
        p2p: SigningKey::from_bytes(&*secret32("p2p secret", &s.p2p_secret)?),
        mls: SigningKey::from_bytes(&*secret32("MLS secret", &s.mls_secret)?),
        signing: SigningKey::from_bytes(&*secret32("signing secret", &s.signing_secret)?),
        envelope: StaticSecret::from(*secret32("envelope secret", &s.envelope_secret)?),
    };
    let certificate = DeviceCertificate::parse(&s.device_certificate)
        .map_err(|e| KeystoreError::Invalid(e.to_string()))?;
    if certificate.keys() != &device.public() {
        return Err(KeystoreError::Invalid("certificate does not match the device keys".into()));
    }
    if let Some(a) = &account
        && &a.id() != certificate.account()
    {
        return Err(KeystoreError::Invalid("certificate is for another account".into()));
    }
    let storage = StorageKey::from_bytes(*secret32("storage secret", &s.storage_secret)?);
    Ok(KeystoreContents { account, device, certificate, storage })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn contents() -> KeystoreContents {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let account = AccountKey::generate(&mut rng);
        let device = DeviceKeys::generate(&mut rng);
        let certificate = account.certify(&device.public(), "test", 1_800_000_000, 100).unwrap();
        KeystoreContents {
            account: Some(account),
            device,
            certificate,
            storage: StorageKey::generate(&mut rng),
        }
    }

    fn sealed() -> (KeystoreContents, Vec<u8>) {
        let c = contents();
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let bytes = seal(&c, b"correct horse", KdfParams::default(), &mut rng).unwrap();
        (c, bytes)
    }

    // One sealed file serves several checks: each open costs a real Argon2id
    // derivation at RFC 9106 parameters.
    #[test]
    fn round_trip_and_every_failure_is_distinct() {
        let (c, bytes) = sealed();

        let back = open(&bytes, b"correct horse").unwrap();
        assert_eq!(back.device.public(), c.device.public());
        assert_eq!(back.certificate, c.certificate);
        assert_eq!(back.account.unwrap().id(), c.account.unwrap().id());

        assert_eq!(open(&bytes, b"wrong horse").unwrap_err(), KeystoreError::WrongPassphrase);

        let truncated = &bytes[..bytes.len() - 10];
        assert!(matches!(open(truncated, b"correct horse"), Err(KeystoreError::Truncated { .. })));
        assert!(matches!(open(&bytes[..20], b"x"), Err(KeystoreError::Truncated { .. })));
        assert!(matches!(open(&[], b"x"), Err(KeystoreError::Truncated { .. })));

        // A flipped bit anywhere after the magic is caught before any KDF
        // work. (A flip in the length field reads as a truncated file.)
        for i in [12usize, 30, 45, 60, 70, 80, bytes.len() - 1] {
            let mut t = bytes.clone();
            t[i] ^= 0x10;
            let err = open(&t, b"correct horse").unwrap_err();
            assert!(
                matches!(
                    (i, &err),
                    (12, KeystoreError::UnsupportedParameters(_))
                        | (70, KeystoreError::Truncated { .. })
                        | (_, KeystoreError::Corrupted)
                ),
                "flip at {i}: {err}"
            );
        }

        // Deliberate tampering: alter the ciphertext and fix the checksum.
        let mut t = bytes.clone();
        t[HEADER_LEN + 3] ^= 1;
        let n = t.len() - CHECKSUM_LEN;
        let sum = Sha256::digest(&t[..n]);
        t[n..].copy_from_slice(&sum);
        assert_eq!(open(&t, b"correct horse").unwrap_err(), KeystoreError::Tampered);

        let mut t = bytes.clone();
        t[0] = b'X';
        assert_eq!(open(&t, b"correct horse").unwrap_err(), KeystoreError::NotAKeystore);
        let mut t = bytes;
        t[9] = 2;
        assert_eq!(open(&t, b"correct horse").unwrap_err(), KeystoreError::UnsupportedVersion(2));
    }

    #[test]
    fn weak_or_huge_parameters_are_refused() {
        let c = contents();
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let weak = KdfParams { m_kib: 1024, t: 1, p: 1 };
        assert!(matches!(
            seal(&c, b"p", weak, &mut rng),
            Err(KeystoreError::UnsupportedParameters(_))
        ));
        // A file claiming 4 TiB of memory is refused without trying.
        let mut fake = vec![0u8; HEADER_LEN + 100];
        fake[..8].copy_from_slice(MAGIC);
        fake[8..10].copy_from_slice(&1u16.to_be_bytes());
        fake[10] = 1;
        fake[11..15].copy_from_slice(&u32::MAX.to_be_bytes());
        fake[15..19].copy_from_slice(&3u32.to_be_bytes());
        fake[19..23].copy_from_slice(&4u32.to_be_bytes());
        assert!(matches!(open(&fake, b"p"), Err(KeystoreError::UnsupportedParameters(_))));
    }

    #[test]
    fn random_and_truncated_input_never_panics() {
        use proptest::prelude::*;
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(3000));
        runner
            .run(&proptest::collection::vec(any::<u8>(), 0..400), |mut b| {
                // Give most inputs a valid prefix so the deeper checks run.
                if b.len() > 23 && b[0] % 2 == 0 {
                    b[..8].copy_from_slice(MAGIC);
                    b[8..10].copy_from_slice(&1u16.to_be_bytes());
                }
                let _ = open(&b, b"pw");
                Ok(())
            })
            .unwrap();
    }
}
