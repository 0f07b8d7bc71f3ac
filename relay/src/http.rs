//! The HTTP layer every service shares: extractors whose rejections are
//! API errors ([`ApiJson`], [`ClientIp`], [`Authed`]), the body limit and
//! base64 fields.

use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::sessions::{self, SessionRow};
use crate::state::Shared;

/// Largest JSON body: 64 KiB (a batch of key packages is larger and has its
/// own limit).
pub const MAX_JSON: usize = 64 * 1024;

/// `Json` whose rejections are API errors with a JSON body.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(JsonRejection::BytesRejection(e))
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(too_large())
            }
            Err(e) => Err(ApiError::bad_request("malformed_json", e.body_text())),
        }
    }
}

/// 413: the body is larger than the route takes.
pub fn too_large() -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "request body is too large")
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// The caller's IP: the socket's peer, or — only when the peer is a
/// configured trusted proxy — the last `X-Forwarded-For` hop that is not a
/// trusted proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<Shared> for ClientIp {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &Shared) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .ok_or_else(|| ApiError::internal("no ConnectInfo"))?;
        Ok(Self(client_ip(peer, &parts.headers, &st.config.trusted_proxies)))
    }
}

/// See [`ClientIp`].
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    hops.into_iter().rev().find(|ip| !trusted.contains(ip)).unwrap_or(peer)
}

/// An authenticated session (from `Authorization: Bearer TOKEN`).
#[derive(Debug, Clone)]
pub struct Authed(pub SessionRow);

impl FromRequestParts<Shared> for Authed {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &Shared) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(ApiError::unauthorized)?;
        sessions::authenticate(st, token.trim()).await.map(Self)
    }
}

/// Standard base64, as every binary field of the API.
pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// Decodes the base64 field `field`, refusing it unread when it is longer
/// than `max` bytes could encode to.
pub fn unb64(field: &'static str, s: &str, max: usize) -> ApiResult<Vec<u8>> {
    if s.len() > max.div_ceil(3) * 4 + 4 {
        return Err(ApiError::bad_request("invalid_field", format!("{field} is too long")));
    }
    B64.decode(s.as_bytes())
        .map_err(|_| ApiError::bad_request("invalid_field", format!("{field} is not base64")))
}
