//! The blob store (SPEC.md §9.8): the ciphertext of files, for peers that
//! cannot fetch them from the sender directly.
//!
//! A blob is created with its size (charged to the uploader's quota),
//! uploaded in one or more `PATCH` requests that each continue at the
//! stored offset (so an interrupted upload resumes), and downloaded by
//! anyone who knows its random id, with byte ranges. The relay sees only
//! ciphertext: the key travels inside MLS. Bytes live in files under
//! `<data_dir>/blobs/`, one per blob; the database holds the size, the
//! bytes stored durably and the expiry. Bodies stream through a fixed
//! buffer in both directions, so memory does not grow with blob size.
//!
//! - `routes.rs`: `POST /v1/blobs`, `GET /v1/blobs/{id}/info`,
//!   `PATCH`, `GET` and `DELETE /v1/blobs/{id}`;
//! - `store.rs`: [`BlobStore`] and its SQL;
//! - `files.rs`: the bytes on disk.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, patch, post};
use utoipa::OpenApi;

use crate::state::{AppState, Shared};

pub mod files;
pub mod routes;
pub mod store;

pub use files::remove_bytes;
pub use store::{BlobRow, BlobStore};

/// This service's entries in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(routes::create, routes::info, routes::upload, routes::download, routes::delete),
    tags((name = "blobs", description = "Ciphertext of files for peers that cannot fetch them directly (M5)"))
)]
pub struct ApiDoc;

/// The routes. Uploads stream and bound themselves by the blob's size, so
/// they take no body limit.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/v1/blobs", post(routes::create))
        .route("/v1/blobs/{id}/info", get(routes::info))
        .route(
            "/v1/blobs/{id}",
            get(routes::download)
                .delete(routes::delete)
                .merge(patch(routes::upload).layer(DefaultBodyLimit::disable())),
        )
}

/// Deletes expired blobs, rows and bytes (at most 1,000 per sweep).
pub async fn sweep(st: &AppState, now: i64) {
    match st.store.sweep_blobs(now, 1000).await {
        Ok(ids) => {
            for id in &ids {
                remove_bytes(&st.blob_dir, id).await;
            }
            if !ids.is_empty() {
                tracing::info!(n = ids.len(), "expired blobs deleted");
            }
        }
        Err(e) => tracing::warn!(error = %e, "blob sweep failed"),
    }
}
