//! The OpenAPI 3 document of the HTTP API: each service's entries
//! (generated from its handlers' annotations) merged into one. Served at
//! `/v1/openapi.json`; a copy is kept in `spec/relay-openapi.json` and a
//! test fails when it is stale.

use axum::Json;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::services::{accounts, blobs, directory, info, keypackages, mailbox};

/// The document's title and description; the paths are the services'.
#[derive(OpenApi)]
#[openapi(info(
    title = "kovan relay API",
    description = "Accounts, directory, key packages and ciphertext mailboxes for kovan nodes. The WebSocket at /v1/ws is described in SPEC.md §9.6."
))]
pub struct ApiDoc;

/// The document: every service's entries, their tags in this order, and
/// the bearer scheme the authenticated routes name.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for part in [
        info::ApiDoc::openapi(),
        accounts::ApiDoc::openapi(),
        directory::ApiDoc::openapi(),
        keypackages::ApiDoc::openapi(),
        mailbox::ApiDoc::openapi(),
        blobs::ApiDoc::openapi(),
    ] {
        doc.merge(part);
    }
    doc.components.get_or_insert_default().add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    doc
}

/// The document as pretty JSON (what `spec/relay-openapi.json` holds).
pub fn json() -> String {
    let mut doc = document();
    doc.info.version = "1".into();
    let mut s = doc.to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}

/// `GET /v1/openapi.json`.
pub async fn serve() -> Json<serde_json::Value> {
    Json(serde_json::to_value(document()).unwrap_or_default())
}
