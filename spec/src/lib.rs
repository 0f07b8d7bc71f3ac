//! # kovan-spec
//!
//! The wire formats of kovan, as defined normatively by `spec/SPEC.md` and the
//! Protocol Buffers schema in `spec/proto/kovan.proto`.
//!
//! This crate does no I/O. It offers:
//! - [`wire`]: the generated message types;
//! - [`decode`]: size-bounded decoding, the only way other crates turn bytes
//!   into wire types, so that every input is bounded before it is parsed;
//! - [`limits`]: the size limits of every message, with the reason for each;
//! - [`validate`]: structural checks (field lengths, counts) that the schema
//!   alone cannot express.
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod limits;
pub mod validate;

/// The generated wire types of `kovan.v1`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod wire {
    include!(concat!(env!("OUT_DIR"), "/kovan.v1.rs"));
}

pub use validate::{
    ConversationMode, FriendBody, GroupControlBody, Place, Point, PollSpec, ValidatedApp,
    ValidatedFriend, ValidatedGroupControl, ValidatedGroupMeta, validate_app_envelope,
    validate_friend_message, validate_group_control, validate_group_meta,
};

/// Why bytes could not be decoded into a wire type.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input is longer than this message type may ever be.
    #[error("{what} is {len} bytes, more than the {max} allowed")]
    TooLarge {
        /// The message type.
        what: &'static str,
        /// The input length.
        len: usize,
        /// The limit for this message type.
        max: usize,
    },
    /// The bytes are not a valid encoding of the message.
    #[error("{what} is malformed: {reason}")]
    Malformed {
        /// The message type.
        what: &'static str,
        /// What the protobuf decoder reported.
        reason: String,
    },
    /// The message decoded but a field breaks a rule of SPEC.md.
    #[error("{what} is invalid: {reason}")]
    Invalid {
        /// The message type.
        what: &'static str,
        /// Which rule was broken.
        reason: String,
    },
    /// The message's version is not one this implementation speaks.
    #[error("{what} has unsupported version {version}")]
    UnsupportedVersion {
        /// The message type.
        what: &'static str,
        /// The version found.
        version: u32,
    },
}

impl DecodeError {
    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid { what, reason: reason.into() }
    }
}

/// A wire message with a fixed upper bound on its encoded size.
pub trait Bounded: prost::Message + Default {
    /// The message's name in errors and in SPEC.md.
    const NAME: &'static str;
    /// The largest encoding a decoder accepts.
    const MAX_LEN: usize;
}

/// Decodes `bytes` as `T`, refusing anything longer than `T::MAX_LEN` before
/// parsing. Never panics.
pub fn decode<T: Bounded>(bytes: &[u8]) -> Result<T, DecodeError> {
    if bytes.len() > T::MAX_LEN {
        return Err(DecodeError::TooLarge { what: T::NAME, len: bytes.len(), max: T::MAX_LEN });
    }
    T::decode(bytes).map_err(|e| DecodeError::Malformed { what: T::NAME, reason: e.to_string() })
}

/// Encodes a wire message (infallible: encoding into a `Vec` cannot fail).
pub fn encode<T: prost::Message>(msg: &T) -> Vec<u8> {
    msg.encode_to_vec()
}

macro_rules! bounded {
    ($($ty:ident => $max:expr),* $(,)?) => {
        $(impl Bounded for wire::$ty {
            const NAME: &'static str = stringify!($ty);
            const MAX_LEN: usize = $max;
        })*
    };
}

bounded! {
    Signed => limits::MAX_SIGNED,
    DeviceCertificateTbs => limits::MAX_DEVICE_CERTIFICATE,
    KeystoreSecrets => limits::MAX_KEYSTORE_SECRETS,
    SealedEnvelope => limits::MAX_SEALED_ENVELOPE,
    SealedContent => limits::MAX_SEALED_CONTENT,
    AppEnvelope => limits::MAX_APP_ENVELOPE,
    DirectDelivery => limits::MAX_DIRECT_DELIVERY,
    DirectAck => limits::MAX_DIRECT_ACK,
    FriendMessage => limits::MAX_FRIEND_MESSAGE,
    CardRequest => limits::MAX_CARD_REQUEST,
    ContactCard => limits::MAX_CONTACT_CARD,
    GroupMeta => limits::MAX_GROUP_META,
    GroupControl => limits::MAX_GROUP_CONTROL,
    FileFetch => limits::MAX_FILE_FETCH,
    FileFetchReply => limits::MAX_FILE_FETCH_REPLY,
    Text => limits::MAX_SEALED_TEXT - 16,
    NoTraceFrame => limits::MAX_NOTRACE_FRAME,
    CommunityAction => limits::MAX_COMMUNITY_ACTION,
    TrusteeRequest => limits::MAX_TRUSTEE_REQUEST,
    ConditionalBody => limits::MAX_CONDITIONAL_BODY,
    SpreadCore => limits::MAX_SPREAD_CORE,
    Spread => limits::MAX_SPREAD,
    SpreadRetract => limits::MAX_SPREAD_RETRACT,
    AnonymousBallot => limits::MAX_ANONYMOUS_BALLOT,
}
