//! The relay's router: every service's routes, the OpenAPI document, and
//! the body limit for JSON.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;

use crate::http::MAX_JSON;
use crate::services;
use crate::state::Shared;

/// The routes. JSON bodies are limited to [`MAX_JSON`]; the routes that
/// take larger bodies set their own limit.
pub fn routes() -> Router<Shared> {
    Router::new()
        .merge(services::info::routes())
        .merge(services::accounts::routes())
        .merge(services::directory::routes())
        .merge(services::keypackages::routes())
        .merge(services::mailbox::routes())
        .merge(services::blobs::routes())
        .route("/v1/openapi.json", get(crate::openapi::serve))
        .layer(DefaultBodyLimit::max(MAX_JSON))
}
