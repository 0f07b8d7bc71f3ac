//! # kovan-crypto
//!
//! Every cryptographic decision of kovan lives here, and nothing here does
//! I/O: functions take bytes and return bytes (or what should be sent), and
//! the node decides where they go.
//!
//! - [`context`]: signature context labels; every signature names its purpose.
//! - [`identity`]: the account key, device keys and device certificates.
//! - [`safety`]: safety numbers two people compare to verify each other.
//! - [`keystore`]: the passphrase-sealed file format for a device's secrets.
//! - [`envelope`]: sealed-sender envelopes, what relay mailboxes hold.
//! - [`mls`]: the MLS ciphersuite, provider, signer and credential checks.
//! - [`storage`]: sealing database fields at rest with the keystore's storage key.
//! - [`file`]: chunked file encryption with a fresh key per file.
//! - [`chat_seal`]: the second seal of password-sealed chats.
//! - [`community`]: signed community actions (posts, comments, moderation).
//! - [`conditional`]: texts sealed until their conditions (a password, an area) hold.
//! - [`poll`]: signed ballots of verifiable polls and their audit.
//! - [`ring_ballot`]: anonymous ballots, linkable ring signatures over a poll's ballot keys.
//!
//! Key separation: an account key signs only device certificates (and, later,
//! account-level statements); each device has four keys, each for exactly one
//! protocol (libp2p, MLS, kovan signatures, sealed envelopes).
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod chat_seal;
pub mod community;
pub mod conditional;
pub mod context;
pub mod envelope;
pub mod file;
pub mod identity;
pub mod keystore;
pub mod mls;
pub mod poll;
pub mod ring_audit;
pub mod ring_ballot;
pub mod safety;
pub mod spread;
pub mod storage;
pub mod trustee;

mod error;
pub use error::{ErrorKind, KeyError};

/// Milliseconds since the Unix epoch.
pub type UnixMillis = u64;
/// Seconds since the Unix epoch.
pub type UnixSeconds = u64;
