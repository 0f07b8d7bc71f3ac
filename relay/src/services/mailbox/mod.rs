//! The mailbox service: sealed envelopes held for offline devices, and
//! the WebSocket that pushes them (W1, W3).
//!
//! - `routes.rs`: `POST /v1/mailbox/{peer_id}`, `GET /v1/mailbox`,
//!   `POST /v1/mailbox/ack`;
//! - `push.rs`: `GET /v1/ws`, the push channel;
//! - `store.rs`: [`MailboxStore`] and its SQL.

use axum::Router;
use axum::routing::{get, post};
use utoipa::OpenApi;

use crate::http::limit;
use crate::state::{AppState, Shared};

pub mod push;
pub mod routes;
pub mod store;

pub use store::{MailboxItem, MailboxStore, PutOutcome, Quota};

/// This service's entries in the OpenAPI document (the WebSocket is
/// described in SPEC.md §9.6).
#[derive(OpenApi)]
#[openapi(
    paths(routes::put_envelope, routes::fetch_mailbox, routes::ack_mailbox),
    tags((name = "mailbox", description = "Sealed envelopes for offline devices"))
)]
pub struct ApiDoc;

/// The routes. A put takes at most one sealed envelope.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/v1/mailbox", get(routes::fetch_mailbox))
        .route("/v1/mailbox/ack", post(routes::ack_mailbox))
        .route(
            "/v1/mailbox/{peer_id}",
            limit(post(routes::put_envelope), kovan_spec::limits::MAX_SEALED_ENVELOPE),
        )
        .route("/v1/ws", get(push::upgrade))
}

/// Deletes expired envelopes.
pub async fn sweep(st: &AppState, now: i64) {
    match st.store.sweep_mailboxes(now).await {
        Ok(n) if n > 0 => tracing::info!(n, "expired envelopes deleted"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "mailbox sweep failed"),
    }
}
