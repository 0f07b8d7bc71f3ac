//! The trustee service: relays as trustees of relay locks (SPEC.md
//! §6.10.6, X4).
//!
//! - `routes.rs`: `POST /v1/trustee` (an owner's signed deposit, check-in
//!   or cancellation), `GET /v1/trustee/{deposit}` (a share once due);
//! - `store.rs`: [`TrusteeStore`] and its SQL.
//!
//! A share is kept until its time has come and/or its owner has been
//! silent too long by this relay's clock, then handed to anyone who knows
//! its deposit's id, for 30 days. No account is needed: every write is
//! signed by the owner's account key.

use axum::Router;
use axum::routing::{get, post};
use utoipa::OpenApi;

use crate::state::Shared;

pub mod routes;
pub mod store;

pub use store::TrusteeStore;

/// This service's entries in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(routes::request, routes::fetch),
    tags((name = "trustee", description = "Relays that keep shares of relay locks (X4)"))
)]
pub struct ApiDoc;

/// The routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/v1/trustee", post(routes::request))
        .route("/v1/trustee/{deposit}", get(routes::fetch))
}

/// Deletes shares due, and ids cancelled, more than 30 days ago.
pub async fn sweep(st: &crate::state::AppState, now: i64) {
    let keep = kovan_spec::limits::TRUSTEE_KEEP_MS as i64;
    if let Err(e) = st.store.sweep_deposits(now, keep).await {
        tracing::warn!(error = %e, "sweeping trustee deposits failed");
    }
}
