//! Account and device identities (SPEC.md §2).
//!
//! An account is an Ed25519 key. A device holds four keys of its own, each
//! for one protocol, and a *device certificate*: the account key's signed,
//! expiring statement that these keys belong to the account. Peers trust an
//! account key (on first use, then by comparing safety numbers) and accept a
//! device only with a valid certificate from that key.

use std::fmt;

use ed25519_dalek::{SigningKey, VerifyingKey};
use kovan_spec::{decode, encode, limits, wire};
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};
use thiserror::Error;
use x25519_dalek::{PublicKey as XPublicKey, StaticSecret};

use crate::context::{self, SigContext};
use crate::{ErrorKind, KeyError, UnixSeconds};

/// The current device certificate version.
pub const CERTIFICATE_VERSION: u32 = 1;

/// How long a new device certificate is valid by default: two years. Long
/// enough that an offline laptop does not drop out; short enough that a lost
/// device's certificate eventually dies even if nobody revokes it.
pub const DEFAULT_CERTIFICATE_LIFETIME: UnixSeconds = 2 * 365 * 24 * 3600;

/// Clock skew tolerated when checking `not_before`: a day. Devices with
/// clocks hours off (a phone on the wrong time zone, a laptop after a dead
/// battery) must still accept each other's fresh certificates; accepting a
/// certificate up to a day before it starts costs nothing, since expiry
/// (`not_after`) is what bounds a stolen device key.
pub const CLOCK_SKEW: UnixSeconds = 24 * 3600;

/// The bytes an account key signs, under
/// [`SigContext::AccountRegistration`], to claim `username` on the relay
/// whose libp2p PeerId is `relay_peer_id` (SPEC.md §9.2). Binding the relay
/// stops a registration from being replayed to another relay; binding the
/// certificate stops the proof from vouching for another device.
pub fn registration_data(
    username: &str,
    account_key: &[u8; 32],
    certificate: &DeviceCertificate,
    relay_peer_id: &str,
) -> Vec<u8> {
    let mut d = Vec::with_capacity(1 + username.len() + 32 + 32 + relay_peer_id.len());
    // Usernames are at most 32 bytes (SPEC.md §9.2), relay ids about 52.
    d.push(username.len().min(255) as u8);
    d.extend_from_slice(username.as_bytes());
    d.extend_from_slice(account_key);
    d.extend_from_slice(&certificate.digest());
    d.extend_from_slice(relay_peer_id.as_bytes());
    d
}

/// The device's proof for a relay that it holds the p2p key its
/// certificate names (the key its PeerId, and so its mailbox address, is
/// made from): the p2p key's signature under [`SigContext::RelayDevice`]
/// over the same bytes as the registration proof, [`registration_data`]
/// (SPEC.md §9.2). A relay asks for it at registration and at every login,
/// so nobody can claim a device, and its mailbox, whose key they do not
/// hold.
pub fn relay_device_proof(keys: &DeviceKeys, data: &[u8]) -> [u8; 64] {
    context::sign(&keys.p2p, SigContext::RelayDevice, data)
}

/// Checks a [`relay_device_proof`] against the p2p key `certificate` names.
pub fn verify_relay_device_proof(
    certificate: &DeviceCertificate,
    data: &[u8],
    sig: &[u8],
) -> Result<(), KeyError> {
    let key =
        VerifyingKey::from_bytes(&certificate.keys.p2p).map_err(|_| KeyError::Invalid("p2p"))?;
    context::verify(&key, SigContext::RelayDevice, data, sig)
}

/// An account's public identity: its Ed25519 key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId([u8; 32]);

impl AccountId {
    /// From the 32 key bytes; fails unless they are a valid Ed25519 point.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Invalid("account"))?;
        VerifyingKey::from_bytes(&arr).map_err(|_| KeyError::Invalid("account"))?;
        Ok(Self(arr))
    }
    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
    /// Verifies `sig` over `data` under `ctx` with this account key.
    pub fn verify(&self, ctx: SigContext, data: &[u8], sig: &[u8]) -> Result<(), KeyError> {
        context::verify(&self.verifying_key(), ctx, data, sig)
    }
    /// The verifying key.
    pub fn verifying_key(&self) -> VerifyingKey {
        // Checked in every constructor.
        VerifyingKey::from_bytes(&self.0).unwrap_or_else(|_| unreachable_key())
    }
    /// A short form for logs: the first 8 hex digits.
    pub fn short(&self) -> String {
        hex8(&self.0)
    }
}

#[cold]
fn unreachable_key() -> VerifyingKey {
    // The identity point: verification with it fails for all real signatures.
    VerifyingKey::default()
}

fn hex8(b: &[u8]) -> String {
    b.iter().take(4).map(|x| format!("{x:02x}")).collect()
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.short())
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// The account's secret key. Zeroized on drop; never printed.
#[derive(Clone)]
pub struct AccountKey(SigningKey);

impl AccountKey {
    /// A fresh random account key.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        Self(SigningKey::generate(rng))
    }
    /// From a 32-byte seed (as stored in the keystore).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }
    /// The seed, for the keystore only.
    pub fn seed(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }
    /// The public identity.
    pub fn id(&self) -> AccountId {
        AccountId(self.0.verifying_key().to_bytes())
    }
    /// Signs `data` under `ctx`.
    pub fn sign(&self, ctx: SigContext, data: &[u8]) -> [u8; 64] {
        context::sign(&self.0, ctx, data)
    }

    /// Certifies a device's public keys for `lifetime` seconds from `now`.
    pub fn certify(
        &self,
        device: &DevicePublicKeys,
        device_name: &str,
        now: UnixSeconds,
        lifetime: UnixSeconds,
    ) -> Result<DeviceCertificate, CertificateError> {
        if device_name.len() > limits::MAX_DEVICE_NAME {
            return Err(CertificateError::Invalid("device name longer than 64 bytes"));
        }
        let tbs = wire::DeviceCertificateTbs {
            version: CERTIFICATE_VERSION,
            account_key: self.id().0.to_vec(),
            p2p_key: device.p2p.to_vec(),
            mls_key: device.mls.to_vec(),
            signing_key: device.signing.to_vec(),
            envelope_key: device.envelope.to_vec(),
            not_before: now,
            not_after: now.saturating_add(lifetime),
            device_name: device_name.to_owned(),
        };
        let tbs = encode(&tbs);
        let signature = self.sign(SigContext::DeviceCertificate, &tbs).to_vec();
        let encoded = encode(&wire::Signed { tbs, signature });
        // Parse what we produced so that the returned value is exactly what
        // a peer will see.
        DeviceCertificate::parse(&encoded)
    }
}

impl fmt::Debug for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountKey({}, ..)", self.id().short())
    }
}

/// A device's public keys, as certified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DevicePublicKeys {
    /// libp2p identity (Ed25519).
    pub p2p: [u8; 32],
    /// MLS signature key (Ed25519).
    pub mls: [u8; 32],
    /// kovan signing key (Ed25519).
    pub signing: [u8; 32],
    /// Sealed-envelope key (X25519).
    pub envelope: [u8; 32],
}

/// A device's secret keys. Every field zeroizes on drop; never printed.
#[derive(Clone)]
pub struct DeviceKeys {
    /// libp2p identity key: used only by libp2p (Noise, identify).
    pub p2p: SigningKey,
    /// MLS signature key: used only inside MLS.
    pub mls: SigningKey,
    /// kovan signing key: sealed-sender and friend-request signatures,
    /// always under a [`SigContext`].
    pub signing: SigningKey,
    /// X25519 key sealed envelopes are addressed to.
    pub envelope: StaticSecret,
}

impl DeviceKeys {
    /// Fresh random device keys.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        Self {
            p2p: SigningKey::generate(rng),
            mls: SigningKey::generate(rng),
            signing: SigningKey::generate(rng),
            envelope: StaticSecret::random_from_rng(rng),
        }
    }
    /// The public halves.
    pub fn public(&self) -> DevicePublicKeys {
        DevicePublicKeys {
            p2p: self.p2p.verifying_key().to_bytes(),
            mls: self.mls.verifying_key().to_bytes(),
            signing: self.signing.verifying_key().to_bytes(),
            envelope: XPublicKey::from(&self.envelope).to_bytes(),
        }
    }
    /// The libp2p identity keypair for this device.
    pub fn p2p_keypair(&self) -> Result<libp2p_identity::Keypair, KeyError> {
        let mut seed = zeroize::Zeroizing::new(self.p2p.to_bytes());
        libp2p_identity::Keypair::ed25519_from_bytes(seed.as_mut())
            .map_err(|_| KeyError::Invalid("p2p"))
    }
}

impl fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceKeys(p2p {}, ..)", hex8(&self.public().p2p))
    }
}

/// Why a device certificate was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateError {
    /// The bytes do not decode.
    #[error("malformed device certificate: {0}")]
    Malformed(#[from] kovan_spec::DecodeError),
    /// A field breaks a rule of SPEC.md §2.3.
    #[error("invalid device certificate: {0}")]
    Invalid(&'static str),
    /// The account signature does not verify.
    #[error("device certificate signature does not verify")]
    BadSignature,
    /// Signed by a different account than expected.
    #[error("device certificate belongs to account {found:?}, expected {expected:?}")]
    WrongAccount {
        /// The account that was expected.
        expected: AccountId,
        /// The account that signed.
        found: AccountId,
    },
    /// `now` is after `not_after`.
    #[error("device certificate expired at {not_after}")]
    Expired {
        /// End of validity.
        not_after: UnixSeconds,
    },
    /// `now` is before `not_before` (beyond the tolerated clock skew).
    #[error("device certificate not valid before {not_before}")]
    NotYetValid {
        /// Start of validity.
        not_before: UnixSeconds,
    },
}

impl CertificateError {
    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            CertificateError::Malformed(_) | CertificateError::Invalid(_) => {
                ErrorKind::InvalidInput
            }
            CertificateError::BadSignature | CertificateError::WrongAccount { .. } => {
                ErrorKind::Untrusted
            }
            CertificateError::Expired { .. } | CertificateError::NotYetValid { .. } => {
                ErrorKind::Expired
            }
        }
    }
}

/// A device certificate whose account signature has been checked.
///
/// [`DeviceCertificate::parse`] checks structure and signature only; callers
/// check time with [`DeviceCertificate::check_validity`] (or use
/// [`DeviceCertificate::verify`], which does both).
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceCertificate {
    account: AccountId,
    keys: DevicePublicKeys,
    not_before: UnixSeconds,
    not_after: UnixSeconds,
    device_name: String,
    peer_id: libp2p_identity::PeerId,
    encoded: Vec<u8>,
}

fn key32(field: &'static str, b: &[u8]) -> Result<[u8; 32], CertificateError> {
    b.try_into().map_err(|_| CertificateError::Invalid(field))
}

fn ed_key(field: &'static str, b: &[u8]) -> Result<[u8; 32], CertificateError> {
    let k = key32(field, b)?;
    VerifyingKey::from_bytes(&k).map_err(|_| CertificateError::Invalid(field))?;
    Ok(k)
}

impl DeviceCertificate {
    /// Decodes a certificate and checks its structure and account signature.
    pub fn parse(bytes: &[u8]) -> Result<Self, CertificateError> {
        let signed: wire::Signed = decode(bytes)?;
        let tbs: wire::DeviceCertificateTbs = decode(&signed.tbs)?;
        if tbs.version != CERTIFICATE_VERSION {
            return Err(CertificateError::Invalid("unsupported certificate version"));
        }
        let account = AccountId::from_bytes(&tbs.account_key)
            .map_err(|_| CertificateError::Invalid("account key"))?;
        let keys = DevicePublicKeys {
            p2p: ed_key("p2p key", &tbs.p2p_key)?,
            mls: ed_key("MLS key", &tbs.mls_key)?,
            signing: ed_key("signing key", &tbs.signing_key)?,
            envelope: key32("envelope key", &tbs.envelope_key)?,
        };
        let distinct = [keys.p2p, keys.mls, keys.signing, *account.as_bytes()];
        for (i, a) in distinct.iter().enumerate() {
            if distinct[i + 1..].contains(a) {
                return Err(CertificateError::Invalid("a key is used for two purposes"));
            }
        }
        let peer_id = libp2p_identity::ed25519::PublicKey::try_from_bytes(&keys.p2p)
            .map(|pk| libp2p_identity::PublicKey::from(pk).to_peer_id())
            .map_err(|_| CertificateError::Invalid("p2p key"))?;
        if tbs.not_after < tbs.not_before {
            return Err(CertificateError::Invalid("not_after before not_before"));
        }
        if tbs.device_name.len() > limits::MAX_DEVICE_NAME {
            return Err(CertificateError::Invalid("device name longer than 64 bytes"));
        }
        context::verify(
            &account.verifying_key(),
            SigContext::DeviceCertificate,
            &signed.tbs,
            &signed.signature,
        )
        .map_err(|_| CertificateError::BadSignature)?;
        Ok(Self {
            account,
            keys,
            not_before: tbs.not_before,
            not_after: tbs.not_after,
            device_name: tbs.device_name,
            peer_id,
            encoded: bytes.to_vec(),
        })
    }

    /// Parses and checks validity at `now`.
    pub fn verify(bytes: &[u8], now: UnixSeconds) -> Result<Self, CertificateError> {
        let cert = Self::parse(bytes)?;
        cert.check_validity(now)?;
        Ok(cert)
    }

    /// Parses, checks validity at `now`, and requires the given account.
    pub fn verify_for(
        bytes: &[u8],
        expected: &AccountId,
        now: UnixSeconds,
    ) -> Result<Self, CertificateError> {
        let cert = Self::verify(bytes, now)?;
        if &cert.account != expected {
            return Err(CertificateError::WrongAccount {
                expected: *expected,
                found: cert.account,
            });
        }
        Ok(cert)
    }

    /// Fails unless `now` lies in the validity period (with [`CLOCK_SKEW`]).
    pub fn check_validity(&self, now: UnixSeconds) -> Result<(), CertificateError> {
        if now.saturating_add(CLOCK_SKEW) < self.not_before {
            return Err(CertificateError::NotYetValid { not_before: self.not_before });
        }
        if now > self.not_after {
            return Err(CertificateError::Expired { not_after: self.not_after });
        }
        Ok(())
    }

    /// The certifying account.
    pub fn account(&self) -> &AccountId {
        &self.account
    }
    /// The certified keys.
    pub fn keys(&self) -> &DevicePublicKeys {
        &self.keys
    }
    /// Start of validity.
    pub fn not_before(&self) -> UnixSeconds {
        self.not_before
    }
    /// End of validity.
    pub fn not_after(&self) -> UnixSeconds {
        self.not_after
    }
    /// The device's name.
    pub fn device_name(&self) -> &str {
        &self.device_name
    }
    /// The encoded certificate (a `Signed`), exactly as received or issued.
    pub fn encoded(&self) -> &[u8] {
        &self.encoded
    }
    /// SHA-256 of the encoding, to bind signatures to this certificate.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(&self.encoded).into()
    }
    /// The device's libp2p PeerId.
    pub fn peer_id(&self) -> libp2p_identity::PeerId {
        self.peer_id
    }
}

impl fmt::Debug for DeviceCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceCertificate")
            .field("account", &self.account)
            .field("device", &hex8(&self.keys.p2p))
            .field("name", &self.device_name)
            .field("not_after", &self.not_after)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    const NOW: UnixSeconds = 1_800_000_000;

    fn setup() -> (AccountKey, DeviceKeys, DeviceCertificate) {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let account = AccountKey::generate(&mut rng);
        let device = DeviceKeys::generate(&mut rng);
        let cert = account.certify(&device.public(), "laptop", NOW, 3600).unwrap();
        (account, device, cert)
    }

    #[test]
    fn a_relay_device_proof_needs_the_p2p_key() {
        let (account, device, cert) = setup();
        let data = registration_data("alice", account.id().as_bytes(), &cert, "relay");
        let proof = relay_device_proof(&device, &data);
        verify_relay_device_proof(&cert, &data, &proof).unwrap();
        // Another key of the device, the account key, or another context
        // does not do.
        for wrong in [
            context::sign(&device.signing, SigContext::RelayDevice, &data),
            account.sign(SigContext::RelayDevice, &data),
            context::sign(&device.p2p, SigContext::AccountRegistration, &data),
        ] {
            assert!(verify_relay_device_proof(&cert, &data, &wrong).is_err());
        }
        let other = registration_data("alice", account.id().as_bytes(), &cert, "other relay");
        assert!(verify_relay_device_proof(&cert, &other, &proof).is_err());
    }

    #[test]
    fn a_certificate_verifies_for_its_account() {
        let (account, device, cert) = setup();
        let got = DeviceCertificate::verify_for(cert.encoded(), &account.id(), NOW + 10).unwrap();
        assert_eq!(got.keys(), &device.public());
        assert_eq!(got.device_name(), "laptop");
        assert_eq!(got.peer_id(), device.p2p_keypair().unwrap().public().to_peer_id());
    }

    #[test]
    fn a_certificate_from_another_account_is_refused() {
        let (_, device, _) = setup();
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let mallory = AccountKey::generate(&mut rng);
        let alice = AccountKey::generate(&mut rng);
        let forged = mallory.certify(&device.public(), "x", NOW, 3600).unwrap();
        let err = DeviceCertificate::verify_for(forged.encoded(), &alice.id(), NOW).unwrap_err();
        assert!(matches!(err, CertificateError::WrongAccount { .. }));
        assert_eq!(err.kind(), ErrorKind::Untrusted);
    }

    #[test]
    fn a_certificate_signed_by_the_wrong_key_is_refused() {
        // Claims Alice's account but is signed by Mallory.
        let (alice, device, _) = setup();
        let mallory = AccountKey::from_seed(&[42; 32]);
        let tbs = wire::DeviceCertificateTbs {
            version: 1,
            account_key: alice.id().as_bytes().to_vec(),
            p2p_key: device.public().p2p.to_vec(),
            mls_key: device.public().mls.to_vec(),
            signing_key: device.public().signing.to_vec(),
            envelope_key: device.public().envelope.to_vec(),
            not_before: NOW,
            not_after: NOW + 10,
            device_name: String::new(),
        };
        let tbs = encode(&tbs);
        let signature = mallory.sign(SigContext::DeviceCertificate, &tbs).to_vec();
        let bytes = encode(&wire::Signed { tbs, signature });
        assert_eq!(DeviceCertificate::parse(&bytes), Err(CertificateError::BadSignature));
    }

    #[test]
    fn a_signature_from_another_context_is_refused() {
        let (alice, _, cert) = setup();
        let signed: wire::Signed = decode(cert.encoded()).unwrap();
        let signature = alice.sign(SigContext::FriendRequest, &signed.tbs).to_vec();
        let bytes = encode(&wire::Signed { tbs: signed.tbs, signature });
        assert_eq!(DeviceCertificate::parse(&bytes), Err(CertificateError::BadSignature));
    }

    #[test]
    fn expired_and_future_certificates_are_refused() {
        let (_, _, cert) = setup();
        let err = DeviceCertificate::verify(cert.encoded(), NOW + 3601).unwrap_err();
        assert_eq!(err, CertificateError::Expired { not_after: NOW + 3600 });
        assert_eq!(err.kind(), ErrorKind::Expired);
        let err = DeviceCertificate::verify(cert.encoded(), NOW - CLOCK_SKEW - 1).unwrap_err();
        assert!(matches!(err, CertificateError::NotYetValid { .. }));
        // Within the tolerated skew it is fine.
        DeviceCertificate::verify(cert.encoded(), NOW - CLOCK_SKEW).unwrap();
    }

    #[test]
    fn every_tampered_byte_is_refused() {
        let (_, _, cert) = setup();
        let bytes = cert.encoded().to_vec();
        for i in 0..bytes.len() {
            let mut t = bytes.clone();
            t[i] ^= 0x01;
            assert!(DeviceCertificate::parse(&t).is_err(), "flip at {i} accepted");
        }
    }

    #[test]
    fn reusing_a_key_for_two_purposes_is_refused() {
        let (alice, device, _) = setup();
        let mut keys = device.public();
        keys.mls = keys.p2p;
        assert_eq!(
            alice.certify(&keys, "x", NOW, 10),
            Err(CertificateError::Invalid("a key is used for two purposes"))
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let (alice, device, _) = setup();
        let seed_hex: String = alice.seed().iter().map(|b| format!("{b:02x}")).collect();
        let shown = format!("{alice:?} {device:?}");
        assert!(!shown.contains(&seed_hex[..16]), "{shown}");
    }
}
