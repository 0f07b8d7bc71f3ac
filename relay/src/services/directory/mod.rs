//! The directory service: finding people (S1).
//!
//! - `routes.rs`: `GET /v1/users/{username}`, `GET
//!   /v1/users/{username}/avatar`, `GET /v1/directory` (search);
//! - `store.rs`: [`DirectoryStore`] and its SQL.
//!
//! Profiles are read from the accounts service's storage.

use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;

use crate::state::Shared;

pub mod routes;
pub mod store;

pub use store::DirectoryStore;

/// This service's entries in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(routes::get_user, routes::get_avatar, routes::search),
    tags((name = "directory", description = "Finding people (S1)"))
)]
pub struct ApiDoc;

/// The routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/v1/users/{username}", get(routes::get_user))
        .route("/v1/users/{username}/avatar", get(routes::get_avatar))
        .route("/v1/directory", get(routes::search))
}
