//! The OpenAPI 3 document of the HTTP API: each service's entries
//! (generated from its handlers' annotations) merged into one. Served at
//! `/v1/openapi.json`; a copy is kept in `spec/relay-openapi.json` and a
//! test fails when it is stale.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;
use crate::services::{accounts, blobs, directory, info, mailbox};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// The title and the entries not yet in a service.
#[derive(OpenApi)]
#[openapi(
    info(title = "kovan relay API", description = "Accounts, directory, key packages and ciphertext mailboxes for kovan nodes. The WebSocket at /v1/ws is described in SPEC.md §9.6."),
    paths(
        api::upload_key_packages, api::count_key_packages, api::claim_key_package,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "relay", description = "The relay itself"),
        (name = "accounts", description = "Registration, sessions and settings (A1–A5)"),
        (name = "directory", description = "Finding people (S1)"),
        (name = "keypackages", description = "MLS KeyPackages for starting conversations"),
        (name = "mailbox", description = "Sealed envelopes for offline devices"),
        (name = "blobs", description = "Ciphertext of files for peers that cannot fetch them directly (M5)"),
    )
)]
pub struct ApiDoc;

/// The document: every service's entries.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(info::ApiDoc::openapi());
    doc.merge(accounts::ApiDoc::openapi());
    doc.merge(directory::ApiDoc::openapi());
    doc.merge(mailbox::ApiDoc::openapi());
    doc.merge(blobs::ApiDoc::openapi());
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
