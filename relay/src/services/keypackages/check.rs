//! Checks of uploaded MLS KeyPackages: the relay refuses garbage so that a
//! claimer never receives a package that cannot be used.

use kovan_crypto::mls::{CIPHERSUITE, validate_member};
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
}

/// Checks that `bytes` is a valid KeyPackage of `device` at `now` (seconds).
pub fn check(bytes: &[u8], device: &DeviceRow, now: u64) -> Result<(), KeyPackageError> {
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
    Ok(())
}
