//! `GET /v1/info`: what the relay is, its libp2p addresses and the limits
//! clients must respect.

use axum::extract::State;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::state::{AppState, Shared};

/// This service's entries in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(info), tags((name = "relay", description = "The relay itself")))]
pub struct ApiDoc;

/// The routes.
pub fn routes() -> Router<Shared> {
    Router::new().route("/v1/info", axum::routing::get(info))
}

/// The relay's description.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct Info {
    /// `kovan-relay`.
    pub software: String,
    /// Software version.
    pub version: String,
    /// Wire protocol version.
    pub protocol: u32,
    /// The relay's libp2p PeerId (sign registrations for it, SPEC.md §9.2).
    pub peer_id: String,
    /// The relay's libp2p addresses (circuit relay, Kademlia, AutoNAT).
    pub multiaddrs: Vec<String>,
    /// Limits clients must respect.
    pub limits: InfoLimits,
}

/// Limits advertised in [`Info`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct InfoLimits {
    /// Largest sealed envelope, bytes.
    pub max_envelope_bytes: usize,
    /// Envelopes per mailbox.
    pub mailbox_max_items: i64,
    /// Bytes per mailbox.
    pub mailbox_max_bytes: i64,
    /// Seconds an envelope is kept.
    pub mailbox_ttl_secs: i64,
    /// Largest avatar, bytes.
    pub max_avatar_bytes: usize,
    /// Key packages per device.
    pub max_key_packages: i64,
    /// Largest blob, bytes.
    pub blob_max_bytes: i64,
    /// Blob bytes per account.
    pub blob_quota_bytes: i64,
    /// Seconds a blob is kept.
    pub blob_ttl_secs: i64,
}

/// Describes the relay.
#[utoipa::path(get, path = "/v1/info", tag = "relay", responses((status = 200, body = Info)))]
pub async fn info(State(st): State<Shared>) -> Json<Info> {
    Json(describe(&st))
}

/// The relay's description.
pub fn describe(st: &AppState) -> Info {
    let l = &st.config.limits;
    Info {
        software: "kovan-relay".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        protocol: 1,
        peer_id: st.peer_id.clone(),
        multiaddrs: st.multiaddrs.read().map(|m| m.clone()).unwrap_or_default(),
        limits: InfoLimits {
            max_envelope_bytes: kovan_spec::limits::MAX_SEALED_ENVELOPE,
            mailbox_max_items: l.mailbox_max_items,
            mailbox_max_bytes: l.mailbox_max_bytes,
            mailbox_ttl_secs: l.mailbox_ttl_secs,
            max_avatar_bytes: kovan_spec::limits::MAX_AVATAR_BYTES,
            max_key_packages: l.max_key_packages,
            blob_max_bytes: l.blob_max_bytes,
            blob_quota_bytes: l.blob_quota_bytes,
            blob_ttl_secs: l.blob_ttl_secs,
        },
    }
}
