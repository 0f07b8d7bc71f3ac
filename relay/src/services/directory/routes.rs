//! The directory routes: a profile by username, its avatar, and search.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::store::DirectoryStore;
use crate::auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{ApiPath, ApiQuery, ClientIp, b64};
use crate::services::accounts::{AccountRow, AccountStore, DeviceDoc, devices_doc};
use crate::state::Shared;

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
    responses((status = 200, body = Profile), (status = 404, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
pub async fn get_user(
    State(st): State<Shared>,
    ip: ClientIp,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<Profile>> {
    st.limits.lookup_ip.allow(&ip.0)?;
    let name = auth::normalize_username(&name).map_err(|_| ApiError::not_found("user"))?;
    let a =
        st.store.account_by_username(&name).await?.ok_or_else(|| ApiError::not_found("user"))?;
    Ok(Json(profile(&st, a).await?))
}

/// A user's avatar image.
#[utoipa::path(get, path = "/v1/users/{username}/avatar", tag = "directory",
    params(("username" = String, Path)),
    responses((status = 200, content_type = "image/*", body = Vec<u8>), (status = 404, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
pub async fn get_avatar(
    State(st): State<Shared>,
    ip: ClientIp,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Response> {
    st.limits.lookup_ip.allow(&ip.0)?;
    let name = auth::normalize_username(&name).map_err(|_| ApiError::not_found("avatar"))?;
    let (bytes, ty) = st.store.avatar(&name).await?.ok_or_else(|| ApiError::not_found("avatar"))?;
    Ok(([(header::CONTENT_TYPE, ty)], bytes).into_response())
}

/// Directory search parameters.
#[derive(Debug, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Username prefix or display-name substring, 1–64 characters.
    #[param(min_length = 1, max_length = 64)]
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
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<Json<SearchResults>> {
    st.limits.lookup_ip.allow(&ip.0)?;
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
    Ok(Json(SearchResults { results, next_offset: full.then(|| offset.saturating_add(limit)) }))
}
