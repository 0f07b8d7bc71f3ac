//! One module per screen. Each has its own state struct (what only it
//! uses) and `show(&mut self, ui, ctx)`, drawn by the router in
//! [`crate::app`]; what screens share is [`crate::app::Ctx`].
//!
//! | what the user sees | module |
//! |---|---|
//! | the spinner while starting or opening the keys | [`starting`] |
//! | making an identity | [`first_run`] |
//! | the passphrase screen | [`unlock`] |
//! | the list of chats (left, Chats tab) | [`chats`] |
//! | creating a group, invitations, the panel above a group chat | [`groups`] |
//! | an open conversation: messages, composer, attachments | [`chat`] |
//! | an image full size | [`image_viewer`] |
//! | a call: ringing, being made, running (meters, mute, volume, hang up), how it ended | [`call`] |
//! | relay sign-in, search, requests, friends, blocked (People tab) | [`people`] |
//! | communities: joined, search, feed, a community, a post's comment tree, compose with preview, moderation (Communities tab) | [`communities`] |
//! | spreading messages: taking part, starting one, those that reached this node (Spreads tab) | [`spreads`] |
//! | relay, profile, privacy, sessions, password, account (Settings tab) | [`settings`] |
//! | the quick switcher (Ctrl+K) | [`switcher`] |

pub mod call;
pub mod chat;
pub mod chats;
pub mod communities;
pub mod first_run;
pub mod groups;
pub mod image_viewer;
pub mod people;
pub mod private;
pub mod settings;
pub mod spreads;
pub mod starting;
pub mod switcher;
pub mod unlock;
