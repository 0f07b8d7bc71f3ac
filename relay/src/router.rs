//! The relay's router: every service's routes, the OpenAPI document, the
//! body limit for JSON, and JSON errors for unknown routes and methods.

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Router};

use crate::error::ApiError;
use crate::http::{BodyLimit, MAX_JSON};
use crate::services;
use crate::state::Shared;

/// The routes. Bodies are limited to [`MAX_JSON`]; the routes that take
/// larger bodies set their own limit ([`crate::http::limit`]).
pub fn routes() -> Router<Shared> {
    Router::new()
        .merge(services::info::routes())
        .merge(services::nat::routes())
        .merge(services::accounts::routes())
        .merge(services::directory::routes())
        .merge(services::keypackages::routes())
        .merge(services::mailbox::routes())
        .merge(services::blobs::routes())
        .merge(services::communities::routes())
        .merge(services::trustee::routes())
        .route("/v1/openapi.json", get(crate::openapi::serve))
        .fallback(|| async { ApiError::not_found("route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_JSON))
        .layer(Extension(BodyLimit(MAX_JSON)))
}
