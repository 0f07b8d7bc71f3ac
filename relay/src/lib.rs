//! # kovan-relay
//!
//! The optional kovan relay. It never sees plaintext: it will give accounts
//! and lookup, hold sealed envelopes for offline devices and help with NAT.
//! This first version serves the relay's description at `GET /v1/info`; the
//! account, mailbox and WebSocket APIs build on it.
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use std::net::SocketAddr;

use axum::{Json, Router, routing::get};
use serde::Serialize;
use tokio::net::TcpListener;

/// What `GET /v1/info` returns.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Info {
    /// The relay software.
    pub software: String,
    /// Its version.
    pub version: String,
    /// The wire protocol version it speaks.
    pub protocol: u32,
    /// Limits clients must respect.
    pub limits: Limits,
}

/// Limits advertised to clients.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Limits {
    /// The largest sealed envelope accepted, in bytes.
    pub max_envelope_bytes: usize,
}

impl Info {
    /// This build's info.
    pub fn current() -> Self {
        Self {
            software: "kovan-relay".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            protocol: 1,
            limits: Limits { max_envelope_bytes: kovan_spec::limits::MAX_SEALED_ENVELOPE },
        }
    }
}

/// The relay's HTTP routes.
pub fn router() -> Router {
    Router::new().route("/v1/info", get(|| async { Json(Info::current()) }))
}

/// Serves the relay on `listener` until `shutdown` resolves, then finishes
/// in-flight requests.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router()).with_graceful_shutdown(shutdown).await
}

/// Binds `addr`.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}
