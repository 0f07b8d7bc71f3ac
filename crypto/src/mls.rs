//! MLS for kovan (SPEC.md §2.5): the ciphersuite, the openmls provider, the
//! device's MLS signer, and the credential every group member carries.
//!
//! A member's MLS credential is a `BasicCredential` whose identity is the
//! member's encoded device certificate. The node calls
//! [`validate_member`] for every leaf it learns of (each Add in a commit, each
//! member of a Welcome, each KeyPackage): the certificate must verify, be
//! within its validity, and certify exactly the leaf's signature key.

use ed25519_dalek::{Signer as _, SigningKey};
pub use openmls::prelude::Ciphersuite;
use openmls::prelude::{
    BasicCredential, Credential, CredentialType, CredentialWithKey, KeyPackage, ProtocolVersion,
};
use openmls_rust_crypto::RustCrypto;
use openmls_traits::OpenMlsProvider;
use openmls_traits::signatures::{Signer, SignerError};
use openmls_traits::storage::{CURRENT_VERSION, StorageProvider};
use openmls_traits::types::SignatureScheme;
use thiserror::Error;

use crate::identity::{CertificateError, DeviceCertificate};
use crate::{ErrorKind, UnixSeconds};

/// kovan's one ciphersuite: MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519
/// (0x0003). X25519 and Ed25519 match the rest of kovan's keys, ChaCha20-
/// Poly1305 is fast without AES hardware (phones, older laptops) and is
/// constant-time in software, and 128-bit security matches every other
/// primitive in the system (SPEC.md §2.5).
pub const CIPHERSUITE: Ciphersuite =
    Ciphersuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519;

/// The `last_resort` KeyPackage extension (draft-ietf-mls-extensions,
/// registered as 0x000A): its `extension_data` is empty. A last-resort
/// KeyPackage may be used more than once (SPEC.md §2.6).
pub const LAST_RESORT_EXTENSION: u16 = 0x000A;

/// kovan's group meta, a GroupContext extension in the private-use range
/// (SPEC.md §7.6.1). Every leaf declares it, so every device can join a
/// group.
pub const META_EXTENSION: u16 = 0xF0C0;

/// The longest lifetime (`not_after - not_before`) a KeyPackage, and so a
/// leaf made from it, may declare: 90 days. openmls makes them for 84 days
/// plus an hour of clock skew; a KeyPackage that stays valid for a year
/// would let a stolen init key open Welcomes for a year (SPEC.md §2.6).
pub const MAX_KEY_PACKAGE_LIFETIME: u64 = 90 * 24 * 3600;

/// Whether a KeyPackage must, may or must not be a last-resort one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastResort {
    /// An invitation's acceptance, the relay's last-resort slot.
    Required,
    /// The relay's ordinary, single-use packages.
    Forbidden,
    /// A friend request, an Add.
    Either,
}

/// Why a KeyPackage breaks SPEC.md §2.6 (beyond RFC 9420's own checks and
/// the credential's, [`validate_member`]).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyPackageRuleError {
    /// Another ciphersuite or protocol version than kovan's.
    #[error("KeyPackage uses another ciphersuite or version")]
    Ciphersuite,
    /// The leaf's capabilities do not declare what every kovan leaf must.
    #[error("KeyPackage capabilities lack {0}")]
    Capabilities(&'static str),
    /// Valid for longer than [`MAX_KEY_PACKAGE_LIFETIME`].
    #[error("KeyPackage lifetime of {0} s exceeds the limit of 90 days")]
    Lifetime(u64),
    /// Not a last-resort KeyPackage where one is required.
    #[error("KeyPackage must carry the last_resort extension")]
    NotLastResort,
    /// A last-resort KeyPackage where single-use ones are required.
    #[error("KeyPackage must not carry the last_resort extension")]
    LastResort,
}

impl KeyPackageRuleError {
    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidInput
    }
}

/// Checks what SPEC.md §2.6 asks of every KeyPackage: kovan's ciphersuite,
/// a leaf whose capabilities declare MLS 1.0, that ciphersuite, basic
/// credentials and the extensions `last_resort` and the group meta; a
/// lifetime of at most [`MAX_KEY_PACKAGE_LIFETIME`]; and the last-resort
/// marking `last_resort` asks for. (The signature, the lifetime at the
/// current time and the credential are checked elsewhere.)
pub fn check_key_package(
    kp: &KeyPackage,
    last_resort: LastResort,
) -> Result<(), KeyPackageRuleError> {
    // The protocol version is checked by `KeyPackageIn::validate`.
    if kp.ciphersuite() != CIPHERSUITE {
        return Err(KeyPackageRuleError::Ciphersuite);
    }
    let caps = kp.leaf_node().capabilities();
    if !caps.versions().contains(&ProtocolVersion::Mls10) {
        return Err(KeyPackageRuleError::Capabilities("the version mls10"));
    }
    if !caps.ciphersuites().contains(&CIPHERSUITE.into()) {
        return Err(KeyPackageRuleError::Capabilities("the ciphersuite 0x0003"));
    }
    if !caps.credentials().contains(&CredentialType::Basic) {
        return Err(KeyPackageRuleError::Capabilities("the basic credential"));
    }
    for (code, name) in [
        (LAST_RESORT_EXTENSION, "the extension last_resort (0x000a)"),
        (META_EXTENSION, "the extension 0xf0c0 (group meta)"),
    ] {
        if !caps.extensions().iter().any(|e| u16::from(*e) == code) {
            return Err(KeyPackageRuleError::Capabilities(name));
        }
    }
    let life = kp.life_time();
    let span = life.not_after().saturating_sub(life.not_before());
    if span > MAX_KEY_PACKAGE_LIFETIME {
        return Err(KeyPackageRuleError::Lifetime(span));
    }
    match (last_resort, kp.last_resort()) {
        (LastResort::Required, false) => Err(KeyPackageRuleError::NotLastResort),
        (LastResort::Forbidden, true) => Err(KeyPackageRuleError::LastResort),
        _ => Ok(()),
    }
}

/// The openmls provider: RustCrypto for cryptography and randomness, with a
/// storage provider chosen by the caller (the node's SQLite database; memory
/// in tests and fuzzing).
#[derive(Debug, Default)]
pub struct KovanProvider<S> {
    crypto: RustCrypto,
    storage: S,
}

impl<S> KovanProvider<S> {
    /// A provider over `storage`.
    pub fn new(storage: S) -> Self {
        Self { crypto: RustCrypto::default(), storage }
    }
}

impl<S: StorageProvider<CURRENT_VERSION>> OpenMlsProvider for KovanProvider<S> {
    type CryptoProvider = RustCrypto;
    type RandProvider = RustCrypto;
    type StorageProvider = S;

    fn storage(&self) -> &S {
        &self.storage
    }
    fn crypto(&self) -> &RustCrypto {
        &self.crypto
    }
    fn rand(&self) -> &RustCrypto {
        &self.crypto
    }
}

/// The device's MLS signature key as an openmls [`Signer`]. Zeroized on drop.
pub struct MlsSigner(SigningKey);

impl MlsSigner {
    /// Wraps the device's MLS key.
    pub fn new(key: SigningKey) -> Self {
        Self(key)
    }
    /// The public key, as carried in leaf nodes.
    pub fn public(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }
}

impl std::fmt::Debug for MlsSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MlsSigner(..)")
    }
}

impl Signer for MlsSigner {
    fn sign(&self, payload: &[u8]) -> Result<Vec<u8>, SignerError> {
        Ok(self.0.sign(payload).to_bytes().to_vec())
    }
    fn signature_scheme(&self) -> SignatureScheme {
        SignatureScheme::ED25519
    }
}

/// The credential and signature key this device puts in its leaf.
pub fn credential_with_key(cert: &DeviceCertificate) -> CredentialWithKey {
    CredentialWithKey {
        credential: BasicCredential::new(cert.encoded().to_vec()).into(),
        signature_key: cert.keys().mls.as_slice().into(),
    }
}

/// Why a group member's credential was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialError {
    /// Not a basic credential.
    #[error("unsupported credential type")]
    UnsupportedType,
    /// The device certificate inside is not acceptable.
    #[error("member certificate: {0}")]
    Certificate(#[from] CertificateError),
    /// The leaf's signature key is not the certified MLS key.
    #[error("leaf signature key is not the certified MLS key")]
    KeyMismatch,
}

impl CredentialError {
    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            CredentialError::UnsupportedType => ErrorKind::InvalidInput,
            CredentialError::Certificate(e) => e.kind(),
            CredentialError::KeyMismatch => ErrorKind::Untrusted,
        }
    }
}

/// Validates a leaf's credential and signature key at `now`; returns the
/// member's certificate (and so its account and device).
pub fn validate_member(
    credential: &Credential,
    signature_key: &[u8],
    now: UnixSeconds,
) -> Result<DeviceCertificate, CredentialError> {
    if credential.credential_type() != CredentialType::Basic {
        return Err(CredentialError::UnsupportedType);
    }
    let basic = BasicCredential::try_from(credential.clone())
        .map_err(|_| CredentialError::UnsupportedType)?;
    let cert = DeviceCertificate::verify(basic.identity(), now)?;
    if cert.keys().mls.as_slice() != signature_key {
        return Err(CredentialError::KeyMismatch);
    }
    Ok(cert)
}

#[cfg(test)]
mod tests {
    use super::CredentialError;
    use super::*;
    use crate::identity::{AccountKey, DeviceKeys};
    use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
    use openmls::prelude::*;
    use openmls_memory_storage::MemoryStorage;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    const NOW: UnixSeconds = 1_800_000_000;

    struct Dev {
        provider: KovanProvider<MemoryStorage>,
        signer: MlsSigner,
        cert: DeviceCertificate,
    }

    fn dev(seed: u64) -> Dev {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let account = AccountKey::generate(&mut rng);
        let keys = DeviceKeys::generate(&mut rng);
        let cert = account.certify(&keys.public(), "", NOW, 3600).unwrap();
        Dev { provider: KovanProvider::default(), signer: MlsSigner::new(keys.mls), cert }
    }

    fn key_package(d: &Dev, cred: CredentialWithKey) -> KeyPackage {
        KeyPackage::builder()
            .build(CIPHERSUITE, &d.provider, &d.signer, cred)
            .unwrap()
            .key_package()
            .clone()
    }

    #[test]
    fn members_are_validated_on_add_and_on_welcome() {
        let alice = dev(1);
        let bob = dev(2);
        let config = MlsGroupCreateConfig::builder()
            .ciphersuite(CIPHERSUITE)
            .use_ratchet_tree_extension(true)
            .build();
        let mut group = MlsGroup::new(
            &alice.provider,
            &alice.signer,
            &config,
            credential_with_key(&alice.cert),
        )
        .unwrap();

        // Bob's KeyPackage crosses the wire; Alice validates its leaf.
        let kp_bytes = MlsMessageOut::from(key_package(&bob, credential_with_key(&bob.cert)))
            .tls_serialize_detached()
            .unwrap();
        let kp_in = match MlsMessageIn::tls_deserialize_exact(&kp_bytes).unwrap().extract() {
            MlsMessageBodyIn::KeyPackage(kp) => kp,
            other => panic!("not a key package: {other:?}"),
        };
        let kp = kp_in.validate(alice.provider.crypto(), ProtocolVersion::Mls10).unwrap();
        let got = validate_member(
            kp.leaf_node().credential(),
            kp.leaf_node().signature_key().as_slice(),
            NOW,
        )
        .unwrap();
        assert_eq!(got.account(), bob.cert.account());

        let (_commit, welcome, _) =
            group.add_members(&alice.provider, &alice.signer, &[kp]).unwrap();
        group.merge_pending_commit(&alice.provider).unwrap();

        let welcome_bytes = welcome.tls_serialize_detached().unwrap();
        let welcome = match MlsMessageIn::tls_deserialize_exact(&welcome_bytes).unwrap().extract() {
            MlsMessageBodyIn::Welcome(w) => w,
            other => panic!("not a welcome: {other:?}"),
        };
        let join = MlsGroupJoinConfig::builder().use_ratchet_tree_extension(true).build();
        let staged = StagedWelcome::new_from_welcome(&bob.provider, &join, welcome, None).unwrap();
        let accounts: Vec<_> = staged
            .members()
            .map(|m| *validate_member(&m.credential, &m.signature_key, NOW).unwrap().account())
            .collect();
        assert_eq!(accounts, vec![*alice.cert.account(), *bob.cert.account()]);
        let mut bob_group = staged.into_group(&bob.provider).unwrap();

        // And the group works: Bob reads what Alice sends.
        let msg = group.create_message(&alice.provider, &alice.signer, b"selam").unwrap();
        let msg = MlsMessageIn::tls_deserialize_exact(msg.tls_serialize_detached().unwrap())
            .unwrap()
            .try_into_protocol_message()
            .unwrap();
        let processed = bob_group.process_message(&bob.provider, msg).unwrap();
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(m) => assert_eq!(m.into_bytes(), b"selam"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn key_packages_must_declare_kovans_capabilities_and_a_bounded_lifetime() {
        let d = dev(4);
        let caps = || {
            Capabilities::builder()
                .extensions(vec![ExtensionType::LastResort, ExtensionType::Unknown(META_EXTENSION)])
                .build()
        };
        let build = |b: openmls::key_packages::KeyPackageBuilder| {
            b.build(CIPHERSUITE, &d.provider, &d.signer, credential_with_key(&d.cert))
                .unwrap()
                .key_package()
                .clone()
        };
        let good = build(KeyPackage::builder().leaf_node_capabilities(caps()));
        assert_eq!(check_key_package(&good, LastResort::Either), Ok(()));
        assert_eq!(check_key_package(&good, LastResort::Forbidden), Ok(()));
        assert_eq!(
            check_key_package(&good, LastResort::Required),
            Err(KeyPackageRuleError::NotLastResort)
        );
        let lr = build(KeyPackage::builder().leaf_node_capabilities(caps()).mark_as_last_resort());
        assert_eq!(check_key_package(&lr, LastResort::Required), Ok(()));
        assert_eq!(
            check_key_package(&lr, LastResort::Forbidden),
            Err(KeyPackageRuleError::LastResort)
        );
        // openmls's defaults declare neither last_resort nor the meta.
        let bare = build(KeyPackage::builder());
        assert!(matches!(
            check_key_package(&bare, LastResort::Either),
            Err(KeyPackageRuleError::Capabilities(_))
        ));
        // A year-long KeyPackage (as some libraries make by default).
        let year = build(
            KeyPackage::builder()
                .leaf_node_capabilities(caps())
                .key_package_lifetime(Lifetime::new(365 * 24 * 3600)),
        );
        assert!(matches!(
            check_key_package(&year, LastResort::Either),
            Err(KeyPackageRuleError::Lifetime(_))
        ));
    }

    #[test]
    fn a_credential_for_someone_elses_key_is_refused() {
        // Mallory presents Alice's certificate with Mallory's own MLS key.
        let alice = dev(1);
        let mallory = dev(3);
        let stolen = CredentialWithKey {
            credential: BasicCredential::new(alice.cert.encoded().to_vec()).into(),
            signature_key: mallory.signer.public().as_slice().into(),
        };
        let kp = key_package(&mallory, stolen);
        let err = validate_member(
            kp.leaf_node().credential(),
            kp.leaf_node().signature_key().as_slice(),
            NOW,
        )
        .unwrap_err();
        assert_eq!(err, CredentialError::KeyMismatch);

        let garbage: Credential = BasicCredential::new(b"not a certificate".to_vec()).into();
        assert!(matches!(
            validate_member(&garbage, &mallory.signer.public(), NOW),
            Err(CredentialError::Certificate(_))
        ));
        assert!(matches!(
            validate_member(
                &credential_with_key(&alice.cert).credential,
                &alice.cert.keys().mls,
                NOW + 7200
            ),
            Err(CredentialError::Certificate(CertificateError::Expired { .. }))
        ));
    }
}
