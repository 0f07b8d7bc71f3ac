//! The relay's HTTP API (`/v1/...`). Every handler is described for the
//! OpenAPI document ([`crate::openapi`]).

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{ApiJson, Authed, ClientIp, b64, unb64};
use crate::services::accounts::{AccountRow, AccountStore, DeviceDoc, devices_doc};
use crate::state::{Shared, now_ms};
use crate::{auth, keypackage};

/// Largest key-package upload: 100 packages of at most 16 KiB.
pub const MAX_KEY_PACKAGE_BATCH: usize = 100;
/// Largest single key package.
pub const MAX_KEY_PACKAGE: usize = 16 * 1024;
/// Key packages below which the owner is told to upload more.
pub const KEY_PACKAGES_LOW: i64 = 10;

// ---------------------------------------------------------------------------
// Directory
// ---------------------------------------------------------------------------

/// A public profile.
#[derive(Debug, Serialize, Deserialize, ToSchema, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// About text.
    pub about: String,
    /// Account key, base64.
    pub account_key: String,
    /// Who may send friend requests.
    pub friend_policy: String,
    /// Whether an avatar is set.
    pub has_avatar: bool,
    /// The account's devices.
    pub devices: Vec<DeviceDoc>,
}

async fn profile(st: &Shared, a: AccountRow) -> ApiResult<Profile> {
    Ok(Profile {
        devices: devices_doc(st, a.id).await?,
        username: a.username,
        display_name: a.settings.display_name,
        about: a.settings.about,
        account_key: b64(&a.account_key),
        friend_policy: a.settings.friend_policy,
        has_avatar: a.settings.avatar_type.is_some(),
    })
}

/// A user's public profile by exact username.
#[utoipa::path(get, path = "/v1/users/{username}", tag = "directory",
    params(("username" = String, Path)),
    responses((status = 200, body = Profile), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(st): State<Shared>,
    ip: ClientIp,
    Path(name): Path<String>,
) -> ApiResult<Json<Profile>> {
    if !st.limits.lookup_ip.check(&ip.0) {
        return Err(ApiError::rate_limited());
    }
    let name = auth::normalize_username(&name).map_err(|_| ApiError::not_found("user"))?;
    let a =
        st.store.account_by_username(&name).await?.ok_or_else(|| ApiError::not_found("user"))?;
    Ok(Json(profile(&st, a).await?))
}

/// A user's avatar image.
#[utoipa::path(get, path = "/v1/users/{username}/avatar", tag = "directory",
    params(("username" = String, Path)),
    responses((status = 200, content_type = "image/*", body = Vec<u8>), (status = 404, body = ErrorBody)))]
pub async fn get_avatar(State(st): State<Shared>, Path(name): Path<String>) -> ApiResult<Response> {
    let name = auth::normalize_username(&name).map_err(|_| ApiError::not_found("avatar"))?;
    let (bytes, ty) = st.store.avatar(&name).await?.ok_or_else(|| ApiError::not_found("avatar"))?;
    Ok(([(header::CONTENT_TYPE, ty)], bytes).into_response())
}

/// Directory search parameters.
#[derive(Debug, Deserialize, Serialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// Username prefix or display-name substring, 1–64 characters.
    pub q: String,
    /// Page size, at most 50. Default 20.
    #[serde(default)]
    pub limit: Option<i64>,
    /// Results to skip. Default 0.
    #[serde(default)]
    pub offset: Option<i64>,
}

/// A page of search results.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SearchResults {
    /// Matching discoverable accounts, by username.
    pub results: Vec<Profile>,
    /// Offset of the next page, if there may be one.
    pub next_offset: Option<i64>,
}

/// Searches discoverable accounts.
#[utoipa::path(get, path = "/v1/directory", tag = "directory", params(SearchQuery),
    responses((status = 200, body = SearchResults), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn search(
    State(st): State<Shared>,
    ip: ClientIp,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<SearchResults>> {
    if !st.limits.lookup_ip.check(&ip.0) {
        return Err(ApiError::rate_limited());
    }
    let n = q.q.chars().count();
    if n == 0 || n > 64 {
        return Err(ApiError::bad_request("invalid_query", "q is 1 to 64 characters"));
    }
    let limit = q.limit.unwrap_or(20).clamp(1, 50);
    let offset = q.offset.unwrap_or(0).max(0);
    let rows = st.store.search(&q.q, limit, offset).await?;
    let full = rows.len() as i64 == limit;
    let mut results = Vec::with_capacity(rows.len());
    for a in rows {
        results.push(profile(&st, a).await?);
    }
    Ok(Json(SearchResults { results, next_offset: full.then_some(offset + limit) }))
}

// ---------------------------------------------------------------------------
// Key packages
// ---------------------------------------------------------------------------

/// A key-package upload.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct KeyPackageUpload {
    /// Encoded MLSMessage KeyPackages, base64, at most 100.
    pub key_packages: Vec<String>,
    /// A last-resort KeyPackage (replaces the previous one), base64.
    #[serde(default)]
    pub last_resort: Option<String>,
}

/// Key-package stock of the caller's device.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct KeyPackageCount {
    /// Ordinary packages left.
    pub remaining: i64,
    /// Whether a last-resort package is stored.
    pub last_resort: bool,
}

/// Uploads key packages for the caller's device. Each must be a valid MLS
/// KeyPackage in kovan's ciphersuite, signed by the device's certified MLS
/// key.
#[utoipa::path(post, path = "/v1/keypackages", tag = "keypackages", security(("bearer" = [])),
    request_body = KeyPackageUpload,
    responses((status = 200, body = KeyPackageCount), (status = 400, body = ErrorBody), (status = 507, body = ErrorBody)))]
pub async fn upload_key_packages(
    State(st): State<Shared>,
    Authed(s): Authed,
    ApiJson(req): ApiJson<KeyPackageUpload>,
) -> ApiResult<Json<KeyPackageCount>> {
    if req.key_packages.len() > MAX_KEY_PACKAGE_BATCH {
        return Err(ApiError::bad_request("too_many", "at most 100 key packages per upload"));
    }
    let device = st.store.device(&s.device_peer_id).await?.ok_or_else(ApiError::unauthorized)?;
    let now = now_ms() as u64 / 1000;
    let mut packages = Vec::with_capacity(req.key_packages.len() + 1);
    let all = req
        .key_packages
        .iter()
        .map(|k| (k, false))
        .chain(req.last_resort.iter().map(|k| (k, true)));
    for (k, last_resort) in all {
        let bytes = unb64("key_package", k, MAX_KEY_PACKAGE)?;
        keypackage::check(&bytes, &device, now)
            .map_err(|e| ApiError::bad_request("invalid_key_package", e.to_string()))?;
        packages.push((bytes, last_resort));
    }
    st.store
        .add_key_packages(&device.peer_id, &packages, st.config.limits.max_key_packages, now_ms())
        .await?;
    let (remaining, last_resort) = st.store.key_package_count(&device.peer_id).await?;
    Ok(Json(KeyPackageCount { remaining, last_resort }))
}

/// The caller's device's key-package stock.
#[utoipa::path(get, path = "/v1/keypackages", tag = "keypackages", security(("bearer" = [])),
    responses((status = 200, body = KeyPackageCount)))]
pub async fn count_key_packages(
    State(st): State<Shared>,
    Authed(s): Authed,
) -> ApiResult<Json<KeyPackageCount>> {
    let (remaining, last_resort) = st.store.key_package_count(&s.device_peer_id).await?;
    Ok(Json(KeyPackageCount { remaining, last_resort }))
}

/// A claimed key package.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct ClaimedKeyPackage {
    /// The KeyPackage, base64.
    pub key_package: String,
    /// Whether it is the device's last-resort package.
    pub last_resort: bool,
}

/// Claims one key package of a device (consumed, unless it is the
/// last-resort one). Anyone may claim; rate-limited per IP.
#[utoipa::path(post, path = "/v1/keypackages/{peer_id}/claim", tag = "keypackages",
    params(("peer_id" = String, Path)),
    responses((status = 200, body = ClaimedKeyPackage), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn claim_key_package(
    State(st): State<Shared>,
    ip: ClientIp,
    Path(peer_id): Path<String>,
) -> ApiResult<Json<ClaimedKeyPackage>> {
    if !st.limits.lookup_ip.check(&ip.0) {
        return Err(ApiError::rate_limited());
    }
    let c = st
        .store
        .claim_key_package(&peer_id)
        .await?
        .ok_or_else(|| ApiError::not_found("key package"))?;
    if c.last_resort || c.remaining < KEY_PACKAGES_LOW {
        st.hub.key_packages_low(&peer_id, c.remaining);
    }
    Ok(Json(ClaimedKeyPackage { key_package: b64(&c.key_package), last_resort: c.last_resort }))
}

/// The routes not yet in a service.
pub fn routes() -> Router<Shared> {
    use axum::extract::DefaultBodyLimit;
    use axum::routing::{get, post};
    let kp_batch = MAX_KEY_PACKAGE_BATCH * MAX_KEY_PACKAGE * 4 / 3 + 4096;
    Router::new()
        .route("/v1/users/{username}", get(get_user))
        .route("/v1/users/{username}/avatar", get(get_avatar))
        .route("/v1/directory", get(search))
        .route(
            "/v1/keypackages",
            get(count_key_packages)
                .merge(post(upload_key_packages).layer(DefaultBodyLimit::max(kp_batch))),
        )
        .route("/v1/keypackages/{peer_id}/claim", post(claim_key_package))
}
