//! The relay's services, one folder each: its routes, its storage (a
//! trait, implemented on [`crate::db::SqlStore`]) and its entries in the
//! OpenAPI document. Services use what is below them (`state`, `error`,
//! `http`, `sessions`, `db`) and never each other in a cycle.

use crate::state::{AppState, now_ms};

pub mod accounts;
pub mod blobs;
pub mod communities;
pub mod directory;
pub mod info;
pub mod keypackages;
pub mod mailbox;
pub mod nat;
pub mod trustee;

/// Periodic cleanup: expired envelopes, sessions (closing their sockets),
/// blobs and kept shares.
pub async fn sweep(st: &AppState) {
    let now = now_ms();
    mailbox::sweep(st, now).await;
    crate::sessions::sweep(st, now).await;
    blobs::sweep(st, now).await;
    communities::sweep(st, now).await;
    trustee::sweep(st, now).await;
}
