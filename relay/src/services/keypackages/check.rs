//! Checks of uploaded MLS KeyPackages: the relay refuses garbage so that a
//! claimer never receives a package that cannot be used.

use kovan_crypto::mls::{CIPHERSUITE, LastResort, check_key_package, validate_member};
use openmls::prelude::tls_codec::Deserialize as _;
use openmls::prelude::{MlsMessageBodyIn, MlsMessageIn, ProtocolVersion};
use openmls_rust_crypto::RustCrypto;

use crate::services::accounts::DeviceRow;

/// Why a key package was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyPackageError {
    /// Not an MLSMessage carrying a KeyPackage.
    #[error("not an encoded KeyPackage")]
    Malformed,
    /// Signature, lifetime or structure invalid.
    #[error("invalid KeyPackage: {0}")]
    Invalid(String),
    /// Another ciphersuite than kovan's.
    #[error("KeyPackage uses another ciphersuite")]
    Ciphersuite,
    /// The credential is not this device's certificate.
    #[error("KeyPackage credential is not this device's: {0}")]
    Credential(String),
    /// Capabilities, lifetime or last-resort marking break SPEC.md §2.6.
    #[error("{0}")]
    Rules(#[from] kovan_crypto::mls::KeyPackageRuleError),
}

/// Checks that `bytes` is a valid KeyPackage of `device` at `now` (seconds)
/// that follows SPEC.md §2.6: kovan's capabilities, a lifetime of at most
/// 90 days, and the `last_resort` extension exactly when it is uploaded as
/// the last-resort one (`last_resort`).
pub fn check(
    bytes: &[u8],
    device: &DeviceRow,
    now: u64,
    last_resort: bool,
) -> Result<(), KeyPackageError> {
    let msg = MlsMessageIn::tls_deserialize_exact(bytes).map_err(|_| KeyPackageError::Malformed)?;
    let MlsMessageBodyIn::KeyPackage(kp) = msg.extract() else {
        return Err(KeyPackageError::Malformed);
    };
    let kp = kp
        .validate(&RustCrypto::default(), ProtocolVersion::Mls10)
        .map_err(|e| KeyPackageError::Invalid(e.to_string()))?;
    if kp.ciphersuite() != CIPHERSUITE {
        return Err(KeyPackageError::Ciphersuite);
    }
    let leaf = kp.leaf_node();
    let cert = validate_member(leaf.credential(), leaf.signature_key().as_slice(), now)
        .map_err(|e| KeyPackageError::Credential(e.to_string()))?;
    if cert.peer_id().to_string() != device.peer_id || cert.keys().mls.as_slice() != device.mls_key
    {
        return Err(KeyPackageError::Credential("certificate of another device".into()));
    }
    let marking = if last_resort { LastResort::Required } else { LastResort::Forbidden };
    check_key_package(&kp, marking)?;
    Ok(())
}
