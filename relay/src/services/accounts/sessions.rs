//! The session routes: `/v1/sessions` (log in, list, log out, revoke).
//! Sessions themselves (rows, tokens, authentication) are in
//! [`crate::sessions`], below every service.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kovan_crypto::identity::{AccountId, DeviceCertificate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::store::{AccountStore, DeviceRow};
use crate::auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{ApiJson, Authed, ClientIp, unb64};
use crate::sessions::{self, SessionStore, SessionToken};
use crate::state::{Shared, now_ms};

/// Login.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct LoginRequest {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
    /// A registered device's PeerId, or
    #[serde(default)]
    pub device_peer_id: Option<String>,
    /// a new device's certificate (base64), signed by the account key: the
    /// device is added to the account.
    #[serde(default)]
    pub device_certificate: Option<String>,
    /// A description of the client.
    #[serde(default)]
    pub user_agent: String,
}

fn invalid_credentials() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "wrong username or password")
}

/// Logs in: username and password give a session token for one device.
/// Failures never reveal whether the account exists.
#[utoipa::path(post, path = "/v1/sessions", tag = "accounts", request_body = LoginRequest,
    responses((status = 200, body = SessionToken), (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
pub async fn login(
    State(st): State<Shared>,
    ip: ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<SessionToken>> {
    if !st.limits.login_ip.check(&ip.0) {
        return Err(ApiError::rate_limited());
    }
    let name = req.username.to_ascii_lowercase();
    if st.limits.login_account.is_limited(&name) {
        return Err(ApiError::rate_limited());
    }
    let account = match auth::normalize_username(&name) {
        Ok(n) => st.store.account_by_username(&n).await?,
        Err(_) => None,
    };
    let ok = st
        .passwords
        .verify(&req.password, account.as_ref().map(|a| a.password_hash.clone()))
        .await?;
    let account = match account {
        Some(a) if ok => a,
        _ => {
            st.limits.login_account.check(&name);
            return Err(invalid_credentials());
        }
    };
    st.limits.login_account.reset(&name);
    let peer_id = match (&req.device_certificate, &req.device_peer_id) {
        (Some(c), _) => {
            let bytes = unb64("device_certificate", c, 1024)?;
            let expected =
                AccountId::from_bytes(&account.account_key).map_err(ApiError::internal)?;
            let cert = DeviceCertificate::verify_for(&bytes, &expected, now_ms() as u64 / 1000)
                .map_err(|e| ApiError::bad_request("invalid_certificate", e.to_string()))?;
            let peer_id = cert.peer_id().to_string();
            match st.store.device(&peer_id).await? {
                Some(d) if d.account_id == account.id => {}
                Some(_) => {
                    return Err(ApiError::bad_request(
                        "unknown_device",
                        "device belongs to another account",
                    ));
                }
                None => {
                    let row = DeviceRow {
                        peer_id: peer_id.clone(),
                        account_id: account.id,
                        certificate: bytes,
                        mls_key: cert.keys().mls.to_vec(),
                    };
                    st.store.add_device(&row, now_ms()).await?;
                }
            }
            peer_id
        }
        (None, Some(p)) => match st.store.device(p).await? {
            Some(d) if d.account_id == account.id => d.peer_id,
            _ => {
                return Err(ApiError::bad_request(
                    "unknown_device",
                    "no such device on this account",
                ));
            }
        },
        (None, None) => {
            return Err(ApiError::bad_request(
                "device_required",
                "give device_peer_id or device_certificate",
            ));
        }
    };
    Ok(Json(sessions::open(&st, account.id, &peer_id, &req.user_agent).await?))
}

/// Logs out: revokes the calling session.
#[utoipa::path(delete, path = "/v1/sessions/current", tag = "accounts", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(st): State<Shared>, Authed(s): Authed) -> ApiResult<StatusCode> {
    st.store.delete_session(s.account_id, &s.id).await?;
    st.hub.revoke_sessions(std::slice::from_ref(&s.id));
    Ok(StatusCode::NO_CONTENT)
}

/// A session in the list.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionInfo {
    /// Public id.
    pub id: String,
    /// Device.
    pub device_peer_id: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub last_used_at: i64,
    /// Unix ms.
    pub expires_at: i64,
    /// Client description.
    pub user_agent: String,
    /// Whether this is the calling session.
    pub current: bool,
}

/// Lists the account's sessions.
#[utoipa::path(get, path = "/v1/sessions", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = [SessionInfo]), (status = 401, body = ErrorBody)))]
pub async fn list_sessions(
    State(st): State<Shared>,
    Authed(s): Authed,
) -> ApiResult<Json<Vec<SessionInfo>>> {
    let rows = st.store.sessions_of(s.account_id, now_ms()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| SessionInfo {
                current: r.id == s.id,
                id: r.id,
                device_peer_id: r.device_peer_id,
                created_at: r.created_at,
                last_used_at: r.last_used_at,
                expires_at: r.expires_at,
                user_agent: r.user_agent,
            })
            .collect(),
    ))
}

/// Revokes one of the account's sessions; its WebSocket closes at once.
#[utoipa::path(delete, path = "/v1/sessions/{id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_session(
    State(st): State<Shared>,
    Authed(s): Authed,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if !st.store.delete_session(s.account_id, &id).await? {
        return Err(ApiError::not_found("session"));
    }
    st.hub.revoke_sessions(&[id]);
    Ok(StatusCode::NO_CONTENT)
}
