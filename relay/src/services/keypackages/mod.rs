//! The key-package service: MLS KeyPackages for starting conversations.
//!
//! - `routes.rs`: `POST` and `GET /v1/keypackages` (the caller's device's
//!   stock), `POST /v1/keypackages/{peer_id}/claim`;
//! - `check.rs`: what an uploaded KeyPackage must be;
//! - `store.rs`: [`KeyPackageStore`] and its SQL.

use axum::Router;
use axum::routing::{get, post};
use utoipa::OpenApi;

use crate::http::limit;
use crate::state::Shared;

pub mod check;
pub mod routes;
pub mod store;

pub use routes::{KEY_PACKAGES_LOW, MAX_KEY_PACKAGE, MAX_KEY_PACKAGE_BATCH};
pub use store::{Claimed, KeyPackageStore};

/// This service's entries in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(routes::upload_key_packages, routes::count_key_packages, routes::claim_key_package),
    tags((name = "keypackages", description = "MLS KeyPackages for starting conversations"))
)]
pub struct ApiDoc;

/// The routes. An upload of a full batch is larger than a JSON body.
pub fn routes() -> Router<Shared> {
    let batch = MAX_KEY_PACKAGE_BATCH * MAX_KEY_PACKAGE * 4 / 3 + 4096;
    Router::new()
        .route(
            "/v1/keypackages",
            get(routes::count_key_packages).merge(limit(post(routes::upload_key_packages), batch)),
        )
        .route("/v1/keypackages/{peer_id}/claim", post(routes::claim_key_package))
}
