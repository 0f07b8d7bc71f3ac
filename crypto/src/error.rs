use thiserror::Error;

/// What kind of failure an error is, for a UI to explain in plain words.
/// Logs keep the full error; users see the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The passphrase does not open the keystore.
    WrongPassphrase,
    /// Stored data is damaged (truncated, bit flips) or was altered.
    StorageCorrupted,
    /// Data from someone else failed a cryptographic check.
    Untrusted,
    /// Data is malformed or uses an unsupported format.
    InvalidInput,
    /// A certificate is outside its validity period.
    Expired,
    /// A bug in kovan.
    Internal,
}

/// A key could not be used.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The bytes are not a valid key of the expected type.
    #[error("invalid {0} key")]
    Invalid(&'static str),
    /// An X25519 exchange produced the all-zero value: the peer's key is a
    /// low-order point, which would let it force a known shared secret.
    #[error("X25519 exchange with a low-order key")]
    LowOrder,
    /// A signature did not verify.
    #[error("bad signature")]
    BadSignature,
}

impl KeyError {
    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            KeyError::Invalid(_) => ErrorKind::InvalidInput,
            KeyError::LowOrder | KeyError::BadSignature => ErrorKind::Untrusted,
        }
    }
}
