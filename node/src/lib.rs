//! # kovan-node
//!
//! The kovan node as a library. This crate owns everything a device keeps on
//! disk and (in later stages) its libp2p networking; the `kovan` command and
//! the desktop client use only its public API.
//!
//! - [`home`]: where a node keeps its files (XDG data dirs by default).
//! - [`identity`]: creating and unlocking the device identity; the keystore
//!   file with atomic, durable replacement.
//! - [`store`]: the node's SQLite database with numbered migrations, and the
//!   persistent openmls storage provider inside it.
//! - [`config`]: the node's TOML configuration file.
//! - [`node`]: a running node — [`Node::start`] returns a [`NodeHandle`]
//!   with an async method per operation and a stream of [`Event`]s; the CLI
//!   and the desktop client use only this.
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod backup;
pub mod call;
pub mod clock;
pub mod config;
pub mod contacts;
pub mod control;
pub mod conversation;
#[cfg(feature = "demo")]
pub mod demo;
pub mod emoji;
pub mod error;
pub mod files;
pub mod groups;
pub mod history;
pub mod home;
pub mod identity;
pub mod inbox;
pub mod invites;
pub mod media;
pub mod net;
pub mod node;
pub mod notrace;
pub mod outbox;
pub mod relay_client;
pub mod seals;
pub mod sim;
pub mod store;
pub mod voice;

pub use error::{Error, ErrorKind, Result};
pub use node::{
    AttachmentView, CallAudio, CallDevices, CallOptions, CallState, CallVideo, CallView,
    CommunityItemView, CommunitySettingsDraft, CommunityView, Event, Feed, FileOptions, FileView,
    GroupChange, GroupView, InvitationView, LinkView, MAX_COMMUNITY_FILE, MemberView, ModEntryView,
    NoTraceState, NoTraceView, Node, NodeError, NodeErrorKind, NodeHandle, NodeOptions, NodeResult,
    PostDraft, SpreadSettings, SpreadView,
};

/// Held by the tests that run media in real time and by those that keep a
/// core busy (key derivation, image and audio encoding, video), one at a
/// time, so that the first keep their 20 ms ticks on a 2-core machine: the
/// echo canceller's figures depend on them (CI saw a friend's voice 15 dB
/// down with passphrase and image tests running beside the call).
#[cfg(test)]
pub(crate) static REAL_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
