//! MLS on mls-rs (SPEC.md §2.5, §2.6): kovan's ciphersuite, credentials
//! carrying device certificates, the capabilities every leaf declares, and
//! a switch between the two handshake wire formats.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mls_rs::client_builder::{BaseConfig, WithCryptoProvider, WithIdentityProvider, WithMlsRules};
use mls_rs::crypto::{SignaturePublicKey, SignatureSecretKey};
use mls_rs::error::IntoAnyError;
use mls_rs::group::Roster;
use mls_rs::identity::basic::BasicCredential;
use mls_rs::identity::{Credential, CredentialType, SigningIdentity};
use mls_rs::mls_rules::{
    CommitDirection, CommitOptions, CommitSource, EncryptionOptions, ProposalBundle,
};
use mls_rs::time::MlsTime;
use mls_rs::{CipherSuite, ExtensionList, IdentityProvider, MlsRules};
use mls_rs_core::identity::MemberValidationContext;
use mls_rs_crypto_rustcrypto::RustCryptoProvider;

use crate::identity::{self, Certificate, Device};
use crate::{Error, now_secs};

/// §2.5: MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519.
pub const CIPHER_SUITE: CipherSuite = CipherSuite::CURVE25519_CHACHA;
/// §2.6: the `last_resort` KeyPackage extension.
pub const LAST_RESORT: u16 = 0x000A;
/// §7.6.1: the group meta GroupContext extension.
pub const META: u16 = 0xF0C0;
/// §2.6: at most 90 days; this client asks for 30.
pub const KEY_PACKAGE_LIFETIME: Duration = Duration::from_secs(30 * 86_400);

impl IntoAnyError for Error {
    fn into_dyn_error(self) -> Result<Box<dyn std::error::Error + Send + Sync>, Self> {
        Ok(Box::new(self))
    }
}

/// §2.5: a member's credential is a basic credential holding its device
/// certificate, which must verify and certify the leaf's signature key.
#[derive(Debug, Clone, Copy, Default)]
pub struct KovanIdentity;

/// The certificate inside a member's signing identity, checked.
pub fn member_certificate(id: &SigningIdentity, now: u64) -> crate::Result<Certificate> {
    let Credential::Basic(basic) = &id.credential else {
        return Err(Error("not a basic credential".into()));
    };
    let cert = identity::verify_certificate(&basic.identifier, now)?;
    if cert.mls().as_slice() != id.signature_key.as_bytes() {
        return Err(Error("the leaf's key is not the certified MLS key".into()));
    }
    Ok(cert)
}

impl IdentityProvider for KovanIdentity {
    type Error = Error;

    fn validate_member(
        &self,
        signing_identity: &SigningIdentity,
        timestamp: Option<MlsTime>,
        _context: MemberValidationContext<'_>,
    ) -> Result<(), Error> {
        let now = timestamp.map(|t| t.seconds_since_epoch()).unwrap_or_else(now_secs);
        member_certificate(signing_identity, now).map(|_| ())
    }

    fn validate_external_sender(
        &self,
        _: &SigningIdentity,
        _: Option<MlsTime>,
        _: Option<&ExtensionList>,
    ) -> Result<(), Error> {
        Err(Error("kovan groups have no external senders".into()))
    }

    fn identity(&self, id: &SigningIdentity, _: &ExtensionList) -> Result<Vec<u8>, Error> {
        // A device is its MLS key (one leaf per device).
        Ok(id.signature_key.as_bytes().to_vec())
    }

    fn valid_successor(
        &self,
        predecessor: &SigningIdentity,
        successor: &SigningIdentity,
        _: &ExtensionList,
    ) -> Result<bool, Error> {
        // §7.6.1: an update (or update path) keeps the member's device: the
        // same certificate.
        Ok(predecessor.credential == successor.credential)
    }

    fn supported_types(&self) -> Vec<CredentialType> {
        vec![CredentialType::BASIC]
    }
}

/// Commit and wire-format choices: commits always carry an update path and
/// Welcomes the ratchet tree (§7.4.2); handshakes go as PrivateMessage or
/// PublicMessage as [`Rules::encrypt_handshakes`] says (§2.5 lets a sender
/// use either).
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// True: PrivateMessage commits and proposals; false: PublicMessage.
    pub encrypt_handshakes: Arc<AtomicBool>,
    /// False leaves the ratchet tree out of Welcomes, which §7.4.2 forbids
    /// (to test that kovan refuses such a Welcome visibly).
    pub omit_ratchet_tree: Arc<AtomicBool>,
}

impl MlsRules for Rules {
    type Error = Error;

    fn filter_proposals(
        &self,
        _: CommitDirection,
        _: CommitSource,
        _: &Roster,
        _: &mls_rs::group::GroupContext,
        proposals: ProposalBundle,
    ) -> Result<ProposalBundle, Error> {
        Ok(proposals)
    }

    fn commit_options(
        &self,
        _: &Roster,
        _: &mls_rs::group::GroupContext,
        _: &ProposalBundle,
    ) -> Result<CommitOptions, Error> {
        let tree = !self.omit_ratchet_tree.load(Ordering::SeqCst);
        Ok(CommitOptions::new().with_path_required(true).with_ratchet_tree_extension(tree))
    }

    fn encryption_options(
        &self,
        _: &Roster,
        _: &mls_rs::group::GroupContext,
    ) -> Result<EncryptionOptions, Error> {
        let encrypt = self.encrypt_handshakes.load(Ordering::SeqCst);
        Ok(EncryptionOptions::new(encrypt, mls_rs::client_builder::PaddingMode::None))
    }
}

/// The mls-rs configuration of this client.
pub type Config = WithMlsRules<
    Rules,
    WithIdentityProvider<KovanIdentity, WithCryptoProvider<RustCryptoProvider, BaseConfig>>,
>;
/// An mls-rs client.
pub type MlsClient = mls_rs::Client<Config>;
/// An mls-rs group.
pub type MlsGroup = mls_rs::Group<Config>;

/// §2.6: a client whose KeyPackages and leaves declare kovan's
/// capabilities, for `device`.
pub fn client(device: &Device, rules: Rules) -> MlsClient {
    let credential = Credential::Basic(BasicCredential::new(device.cert.bytes.clone()));
    let public = SignaturePublicKey::from(device.mls.verifying_key().to_bytes().to_vec());
    let secret = SignatureSecretKey::from(device.mls.to_keypair_bytes().to_vec());
    mls_rs::Client::builder()
        .extension_types([
            mls_rs::extension::ExtensionType::new(LAST_RESORT),
            mls_rs::extension::ExtensionType::new(META),
        ])
        .key_package_lifetime(KEY_PACKAGE_LIFETIME)
        .crypto_provider(RustCryptoProvider::default())
        .identity_provider(KovanIdentity)
        .mls_rules(rules)
        .signing_identity(SigningIdentity::new(credential, public), secret, CIPHER_SUITE)
        .build()
}

/// §2.6: a KeyPackage (MLSMessage bytes), last-resort or not.
pub fn key_package(client: &MlsClient, last_resort: bool) -> crate::Result<Vec<u8>> {
    let mut ext = ExtensionList::new();
    if last_resort {
        ext.set(mls_rs::Extension::new(
            mls_rs::extension::ExtensionType::new(LAST_RESORT),
            Vec::new(),
        ));
    }
    Ok(client.generate_key_package_message(ext, ExtensionList::new(), None)?.to_bytes()?)
}
