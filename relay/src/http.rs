//! The HTTP layer every service shares: extractors whose rejections are
//! API errors with the JSON body ([`ApiJson`], [`RawBody`], [`ApiQuery`],
//! [`ApiPath`], [`ClientIp`], [`Authed`], [`MaybeAuthed`]), body limits ([`BodyLimit`],
//! [`limit`]) and base64 fields.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, Request,
};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::{Extension, Json};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::sessions::{self, SessionRow};
use crate::state::Shared;

/// Largest JSON body: 64 KiB (a batch of key packages is larger and has its
/// own limit).
pub const MAX_JSON: usize = 64 * 1024;

/// The largest body a route takes. The router sets [`MAX_JSON`] for every
/// route and [`limit`] raises it for one; the body extractors refuse a
/// `Content-Length` above it with 413 before reading a byte, and stop
/// reading a body without one once it passes the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit(pub usize);

/// `route` with its own body limit of `max` bytes (see [`BodyLimit`]).
pub fn limit<S: Clone + Send + Sync + 'static>(
    route: MethodRouter<S>,
    max: usize,
) -> MethodRouter<S> {
    route
        .layer::<_, std::convert::Infallible>(DefaultBodyLimit::max(max))
        .layer::<_, std::convert::Infallible>(Extension(BodyLimit(max)))
}

/// 413 at once when the announced length is over the route's limit.
fn check_length(headers: &HeaderMap, extensions: &Extensions) -> ApiResult<()> {
    let max = extensions.get::<BodyLimit>().map_or(MAX_JSON, |l| l.0) as u64;
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match announced {
        Some(n) if n > max => Err(too_large()),
        _ => Ok(()),
    }
}

/// The error for a body that could not be read: too large (413), too slow
/// (408, [`crate::server`]'s body timeout) or broken off (400).
fn body_failed(status: StatusCode, err: &(dyn std::error::Error + 'static)) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cause {
        if e.is::<crate::server::BodyTimeout>() {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                "the request body arrived too slowly",
            );
        }
        cause = e.source();
    }
    ApiError::bad_request("body_error", "the request body could not be read")
}

/// `Json` whose rejections are API errors with a JSON body.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        check_length(req.headers(), req.extensions())?;
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(JsonRejection::BytesRejection(e)) => Err(body_failed(e.status(), &e)),
            Err(e) => Err(ApiError::bad_request("malformed_json", e.body_text())),
        }
    }
}

/// The raw body (a mailbox put, an avatar), with [`BodyLimit`] and the
/// API's errors.
#[derive(Debug, Clone, Default)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        check_length(req.headers(), req.extensions())?;
        Bytes::from_request(req, state).await.map(Self).map_err(|e| body_failed(e.status(), &e))
    }
}

/// `Query` whose rejections are 400 `invalid_query` with a JSON body.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Self(v))
            .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
    }
}

/// `Path` whose rejections are 400 `invalid_path` with a JSON body.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(Self(v)),
            Err(e) if e.status().is_server_error() => Err(ApiError::internal(e.body_text())),
            Err(e) => Err(ApiError::bad_request("invalid_path", e.body_text())),
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

/// An authenticated session (from `Authorization: Bearer TOKEN`, the
/// scheme in any case).
#[derive(Debug, Clone)]
pub struct Authed(pub SessionRow);

impl FromRequestParts<Shared> for Authed {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &Shared) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .ok_or_else(ApiError::unauthorized)?;
        sessions::authenticate(st, token).await.map(Self)
    }
}

/// A session if the request names one: `None` without an `Authorization`
/// header, 401 with one that is not a live session (as [`Authed`]).
#[derive(Debug, Clone)]
pub struct MaybeAuthed(pub Option<SessionRow>);

impl FromRequestParts<Shared> for MaybeAuthed {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &Shared) -> Result<Self, ApiError> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            Authed::from_request_parts(parts, st).await.map(|a| Self(Some(a.0)))
        } else {
            Ok(Self(None))
        }
    }
}

/// The token of an `Authorization` value: the scheme `Bearer` in any case
/// (RFC 9110 §11.1), one or more spaces, the token.
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
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
