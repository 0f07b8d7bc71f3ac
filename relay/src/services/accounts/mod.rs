//! The accounts service: registration, sessions and settings (A1–A5).
//!
//! - `routes.rs`: `POST /v1/accounts` (register) and `/v1/account`
//!   (read, delete, password, settings, avatar);
//! - `sessions.rs`: `/v1/sessions` (log in, list, log out, revoke);
//! - `store.rs`: [`AccountStore`] (accounts and their devices) and its SQL.
//!
//! Sessions themselves are below the services ([`crate::sessions`]): every
//! service authenticates with them.

use axum::Router;
use axum::routing::{delete, get, post, put};
use utoipa::OpenApi;

use crate::http::limit;
use crate::state::Shared;

pub mod routes;
pub mod sessions;
pub mod store;

pub use routes::{DeviceDoc, MAX_AVATAR, devices_doc};
pub use store::{AccountRow, AccountStore, DeviceRow, Settings};

/// This service's entries in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(
        routes::register, sessions::login, sessions::logout, sessions::list_sessions,
        sessions::revoke_session, routes::change_password, routes::delete_account,
        routes::get_account, routes::put_settings, routes::put_avatar, routes::delete_avatar,
    ),
    tags((name = "accounts", description = "Registration, sessions and settings (A1–A5)"))
)]
pub struct ApiDoc;

/// The routes. An avatar may be larger than a JSON body.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/v1/accounts", post(routes::register))
        .route("/v1/sessions", post(sessions::login).get(sessions::list_sessions))
        .route("/v1/sessions/current", delete(sessions::logout))
        .route("/v1/sessions/{id}", delete(sessions::revoke_session))
        .route("/v1/account", get(routes::get_account).delete(routes::delete_account))
        .route("/v1/account/password", post(routes::change_password))
        .route("/v1/account/settings", put(routes::put_settings))
        .route(
            "/v1/account/avatar",
            limit(put(routes::put_avatar), MAX_AVATAR).delete(routes::delete_avatar),
        )
}
