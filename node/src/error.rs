//! The node's error type, with a [`ErrorKind`] a UI can explain.

pub use kovan_crypto::ErrorKind as CryptoKind;
use kovan_crypto::keystore::KeystoreError;

/// What went wrong, in terms a person can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The passphrase does not unlock the keystore.
    WrongPassphrase,
    /// There is no identity on this device yet.
    NoIdentity,
    /// An identity already exists where a new one was to be created.
    AlreadyExists,
    /// Stored data is damaged or was altered.
    StorageCorrupted,
    /// Reading or writing local files failed (disk full, permissions).
    Io,
    /// Input from the user or a peer is invalid.
    InvalidInput,
    /// A bug in kovan.
    Internal,
}

/// The node's error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The keystore could not be opened or written.
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
    /// No identity exists in this home.
    #[error("no identity in {0}; create one with `kovan init`")]
    NoIdentity(std::path::PathBuf),
    /// An identity exists already.
    #[error("an identity already exists in {0}")]
    AlreadyExists(std::path::PathBuf),
    /// File I/O failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    /// The database file is damaged (truncated, overwritten): the node
    /// refuses to run on it rather than lose more.
    #[error(
        "the database {path} is damaged ({reason}); the node will not run on it. \
         Keep the file for recovery; messages still waiting in peers' outboxes and the relay \
         arrive again on a fresh home"
    )]
    Damaged {
        /// The file.
        path: std::path::PathBuf,
        /// What SQLite found.
        reason: String,
    },
    /// The database was written by a newer kovan.
    #[error("database schema version {found} is newer than this kovan understands ({supported})")]
    SchemaTooNew {
        /// Found in the file.
        found: i64,
        /// Known to this build.
        supported: i64,
    },
    /// The configuration file is invalid.
    #[error("config {path}: {reason}")]
    Config {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Invalid input.
    #[error("{0}")]
    Invalid(String),
    /// A bug.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Keystore(e) => match e.kind() {
                CryptoKind::WrongPassphrase => ErrorKind::WrongPassphrase,
                CryptoKind::StorageCorrupted => ErrorKind::StorageCorrupted,
                CryptoKind::Internal => ErrorKind::Internal,
                _ => ErrorKind::InvalidInput,
            },
            Error::NoIdentity(_) => ErrorKind::NoIdentity,
            Error::AlreadyExists(_) => ErrorKind::AlreadyExists,
            Error::Io { .. } => ErrorKind::Io,
            Error::Database(_) | Error::SchemaTooNew { .. } | Error::Damaged { .. } => {
                ErrorKind::StorageCorrupted
            }
            Error::Config { .. } | Error::Invalid(_) => ErrorKind::InvalidInput,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }
}

/// The node's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
