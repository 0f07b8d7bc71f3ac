//! A second kovan client, written from `spec/` alone: `SPEC.md`, the
//! schema `proto/kovan.proto` and the vectors in `vectors/`. It shares no
//! code with kovan and runs MLS on another implementation (mls-rs), so it
//! checks that the spec says enough for an independent client to talk to
//! kovan nodes — and shows, section by section, what such a client does.
//!
//! | module | SPEC.md |
//! |---|---|
//! | [`identity`] | §2.1 signature contexts, §2.3 device certificates, §2.4 PeerIds |
//! | [`keystore`] | §4 the keystore file (a second decoder of its vector) |
//! | [`envelope`] | §5 sealed envelopes |
//! | [`file`] | §7.7.2 file chunks (a second decoder of their vector) |
//! | [`chat_seal`] | §7.9 password-sealed chats (a second opener of their vector) |
//! | [`mls`] | §2.5, §2.6 MLS on mls-rs: credentials, capabilities, wire formats |
//! | [`relay`] | §9 the relay's HTTP API |
//! | [`client`] | §6, §7.4, §7.6 a device: friends, chats, groups |
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod chat_seal;
pub mod client;
pub mod envelope;
pub mod file;
pub mod identity;
pub mod keystore;
pub mod mls;
pub mod relay;

/// The wire types, generated from the spec's schema.
#[allow(missing_docs, clippy::all)]
pub mod wire {
    include!(concat!(env!("OUT_DIR"), "/kovan.v1.rs"));
}

/// What went wrong, in words (this is a test client: every failure ends
/// a test with its reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

macro_rules! from_error {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error(e.to_string())
            }
        }
    )*};
}
from_error!(
    mls_rs::error::MlsError,
    reqwest::Error,
    prost::DecodeError,
    String,
    &str,
    hex::FromHexError,
    base64::DecodeError,
    serde_json::Error
);

/// This crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Fails with `msg` unless `ok`.
pub(crate) fn ensure(ok: bool, msg: impl Into<String>) -> Result<()> {
    if ok { Ok(()) } else { Err(Error(msg.into())) }
}

/// Unix seconds now.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
