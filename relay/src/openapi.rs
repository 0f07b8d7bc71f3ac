//! The OpenAPI 3 document of the HTTP API: each service's entries
//! (generated from its handlers' annotations) merged into one, then
//! completed with what every route shares, so that the document says what
//! the relay does:
//!
//! - 401 on every authenticated operation ([`crate::http::Authed`]);
//! - 400, 408 and 413 on every operation with a body (the body extractors
//!   of [`crate::http`] and [`crate::server`]'s body timeout), 400 on
//!   every one with parameters ([`crate::http::ApiQuery`],
//!   [`crate::http::ApiPath`], a required header);
//! - `Retry-After` on every 429;
//! - raw bodies (mailbox puts, avatars, blobs) typed as binary strings.
//!
//! `spec/relay-openapi.json` is the document, and the relay serves that
//! file at `/v1/openapi.json`: one artifact, one version. A test fails when
//! the file differs from what the code generates (regenerate it with
//! `cargo run -p kovan-relay -- openapi > spec/relay-openapi.json`).

use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::services::{
    accounts, blobs, communities, directory, info, keypackages, mailbox, nat, trustee,
};

/// The document's version: the API's, not the software's (`/v1`).
pub const VERSION: &str = "1";

/// The committed document, served as it is.
pub const COMMITTED: &str = include_str!("../../spec/relay-openapi.json");

/// The document's title and description; the paths are the services'.
#[derive(OpenApi)]
#[openapi(info(
    title = "kovan relay API",
    description = "Accounts, directory, key packages and ciphertext mailboxes for kovan nodes. The WebSocket at /v1/ws is described in SPEC.md §9.6."
))]
pub struct ApiDoc;

/// The document: every service's entries, their tags in this order, the
/// bearer scheme the authenticated routes name, and what every route
/// shares (see the module doc).
pub fn document() -> Value {
    let mut doc = ApiDoc::openapi();
    for part in [
        info::ApiDoc::openapi(),
        accounts::ApiDoc::openapi(),
        directory::ApiDoc::openapi(),
        keypackages::ApiDoc::openapi(),
        nat::ApiDoc::openapi(),
        mailbox::ApiDoc::openapi(),
        blobs::ApiDoc::openapi(),
        communities::ApiDoc::openapi(),
        trustee::ApiDoc::openapi(),
    ] {
        doc.merge(part);
    }
    doc.components.get_or_insert_default().add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    doc.info.version = VERSION.into();
    let mut doc = serde_json::to_value(doc).unwrap_or_default();
    complete(&mut doc);
    doc
}

/// The error response of a status, with its description.
fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    })
}

fn ensure(responses: &mut Map<String, Value>, status: &str, description: &str) {
    responses.entry(status).or_insert_with(|| error_response(description));
}

/// Adds what every route shares to each operation (see the module doc).
fn complete(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for op in paths.values_mut().filter_map(Value::as_object_mut).flat_map(|p| p.values_mut()) {
        let secured =
            op.get("security").is_some_and(|s| s.as_array().is_some_and(|a| !a.is_empty()));
        let body_types: Vec<String> = op
            .get("requestBody")
            .and_then(|b| b.get("content"))
            .and_then(Value::as_object)
            .map(|c| c.keys().cloned().collect())
            .unwrap_or_default();
        let has_params =
            op.get("parameters").and_then(Value::as_array).is_some_and(|ps| !ps.is_empty());
        if let Some(content) = op
            .get_mut("requestBody")
            .and_then(|b| b.get_mut("content"))
            .and_then(Value::as_object_mut)
        {
            binary_schemas(content);
        }
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        if secured {
            ensure(responses, "401", "A missing, malformed, expired or revoked token");
        }
        if !body_types.is_empty() {
            ensure(responses, "408", "The body arrived too slowly (SPEC.md §9.1)");
            ensure(responses, "413", "The body is larger than this operation takes");
        }
        if has_params || !body_types.is_empty() {
            ensure(responses, "400", "A malformed body, query, header or path");
        }
        for (status, resp) in responses.iter_mut() {
            if let Some(content) = resp.get_mut("content").and_then(Value::as_object_mut) {
                binary_schemas(content);
            }
            if status == "429" {
                resp["headers"] = json!({"Retry-After": {
                    "description": "Seconds until the caller may try again",
                    "required": true,
                    "schema": {"type": "integer", "minimum": 1}
                }});
            }
        }
    }
}

/// Types every body that is not JSON as a binary string.
fn binary_schemas(content: &mut Map<String, Value>) {
    for (ty, media) in content.iter_mut() {
        if ty != "application/json" {
            media["schema"] = json!({"type": "string", "format": "binary"});
        }
    }
}

/// The document as pretty JSON (what `spec/relay-openapi.json` holds).
pub fn json() -> String {
    let mut s = serde_json::to_string_pretty(&document()).unwrap_or_default();
    s.push('\n');
    s
}

/// `GET /v1/openapi.json`: the committed document.
pub async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], COMMITTED)
}
