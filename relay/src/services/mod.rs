//! The relay's services, one folder each: its routes, its storage (a
//! trait, implemented on [`crate::db::SqlStore`]) and its entries in the
//! OpenAPI document. Services use what is below them (`state`, `error`,
//! `http`, `sessions`, `db`) and never each other in a cycle.

use crate::state::{AppState, now_ms};

pub mod info;
pub mod mailbox;

/// Periodic cleanup: expired envelopes and sessions (closing the
/// sockets of expired sessions).
pub async fn sweep(st: &AppState) {
    let now = now_ms();
    mailbox::sweep(st, now).await;
    crate::sessions::sweep(st, now).await;
    match st.store.sweep_blobs(now, 1000).await {
        Ok(ids) => {
            for id in &ids {
                crate::blobs::remove_bytes(&st.blob_dir, id).await;
            }
            if !ids.is_empty() {
                tracing::info!(n = ids.len(), "expired blobs deleted");
            }
        }
        Err(e) => tracing::warn!(error = %e, "blob sweep failed"),
    }
}
