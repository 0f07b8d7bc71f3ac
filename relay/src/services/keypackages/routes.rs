//! The key-package routes: upload and count (the owner's device), claim
//! (anyone).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::check;
use super::store::KeyPackageStore;
use crate::db::StoreError;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{ApiJson, ApiPath, Authed, ClientIp, b64, unb64};
use crate::services::accounts::AccountStore;
use crate::state::{Shared, now_ms};

/// Largest key-package upload: 100 packages of at most 16 KiB.
pub const MAX_KEY_PACKAGE_BATCH: usize = 100;
/// Largest single key package.
pub const MAX_KEY_PACKAGE: usize = 16 * 1024;
/// Key packages below which the owner is told to upload more.
pub const KEY_PACKAGES_LOW: i64 = 10;

/// A key-package upload.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct KeyPackageUpload {
    /// Encoded MLSMessage KeyPackages, base64, at most 100.
    #[schema(max_items = 100)]
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
    responses((status = 200, body = KeyPackageCount), (status = 400, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "duplicate_key_package"),
              (status = 507, body = ErrorBody)))]
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
        check::check(&bytes, &device, now, last_resort)
            .map_err(|e| ApiError::bad_request("invalid_key_package", e.to_string()))?;
        packages.push((bytes, last_resort));
    }
    match st
        .store
        .add_key_packages(&device.peer_id, &packages, st.config.limits.max_key_packages, now_ms())
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "duplicate_key_package",
                "a KeyPackage is used once: this device holds it already, or the upload has it twice",
            ));
        }
        Err(e) => return Err(e.into()),
    }
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
    ApiPath(peer_id): ApiPath<String>,
) -> ApiResult<Json<ClaimedKeyPackage>> {
    st.limits.lookup_ip.allow(&ip.0)?;
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
