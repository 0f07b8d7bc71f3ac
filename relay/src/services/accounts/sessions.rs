//! The session routes: `/v1/sessions` (log in, list, log out, revoke).
//! Sessions themselves (rows, tokens, authentication) are in
//! [`crate::sessions`], below every service.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kovan_crypto::identity::{AccountId, DeviceCertificate, registration_data};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::routes::{certificate_refused, check_device_proof, taken};
use super::store::{AccountStore, DeviceRow};
use crate::auth;
use crate::db::StoreError;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{ApiJson, ApiPath, Authed, ClientIp, unb64};
use crate::hub::Event;
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
    /// device is added to the account (or, for a registered device, its
    /// stored certificate is replaced by this newer one).
    #[serde(default)]
    pub device_certificate: Option<String>,
    /// The device's p2p key's signature under `kovan/v1/relay-device` over
    /// the registration bytes of SPEC.md §9.2 (this username, the account
    /// key, the device's certificate, this relay), base64.
    pub device_signature: String,
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
    responses((status = 200, body = SessionToken),
              (status = 400, body = ErrorBody, description = "device_required, unknown_device, invalid_certificate, certificate_expired, bad_device_signature"),
              (status = 401, body = ErrorBody), (status = 409, body = ErrorBody, description = "device_taken"),
              (status = 429, body = ErrorBody)))]
pub async fn login(
    State(st): State<Shared>,
    ip: ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<SessionToken>> {
    st.limits.login_ip.allow(&ip.0)?;
    let name = req.username.to_ascii_lowercase();
    st.limits.login_account.refuse_if_limited(&name)?;
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
    let now = now_ms() as u64 / 1000;
    let account_key = AccountId::from_bytes(&account.account_key).map_err(ApiError::internal)?;
    // Every login proves the device's p2p key: a password alone never
    // opens a session for a device, or its mailbox (SPEC.md §9.3).
    let proven = |cert: &DeviceCertificate| {
        let data = registration_data(&account.username, account_key.as_bytes(), cert, &st.peer_id);
        check_device_proof(cert, &data, &req.device_signature)
    };
    let mut added = false;
    let peer_id = match (&req.device_certificate, &req.device_peer_id) {
        (Some(c), _) => {
            let bytes = unb64("device_certificate", c, 1024)?;
            let cert = DeviceCertificate::verify_for(&bytes, &account_key, now)
                .map_err(certificate_refused)?;
            proven(&cert)?;
            let peer_id = cert.peer_id().to_string();
            let row = DeviceRow {
                peer_id: peer_id.clone(),
                account_id: account.id,
                certificate: bytes,
                mls_key: cert.keys().mls.to_vec(),
            };
            match st.store.device(&peer_id).await? {
                Some(d) if d.account_id == account.id => {
                    if d.certificate != row.certificate {
                        st.store.replace_certificate(&row).await?;
                    }
                }
                Some(_) => return Err(taken("device")),
                None => match st.store.add_device(&row, now_ms()).await {
                    Ok(()) => added = true,
                    Err(StoreError::Conflict(what)) => return Err(taken(what)),
                    Err(e) => return Err(e.into()),
                },
            }
            peer_id
        }
        (None, Some(p)) => match st.store.device(p).await? {
            Some(d) if d.account_id == account.id => {
                // The stored certificate must still be valid: an expired
                // device logs in again with a new certificate.
                let cert = DeviceCertificate::verify_for(&d.certificate, &account_key, now)
                    .map_err(certificate_refused)?;
                proven(&cert)?;
                d.peer_id
            }
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
    let token = sessions::open(&st, account.id, &peer_id, &req.user_agent).await?;
    // The account's other sockets hear of it (SPEC.md §9.6).
    let event = Event::account(
        "new_login",
        serde_json::json!({
            "session_id": token.session_id,
            "device_peer_id": token.device_peer_id,
            "user_agent": req.user_agent.chars().take(128).collect::<String>(),
            "new_device": added,
        }),
    );
    st.hub.account_event(account.id, Some(&token.session_id), event);
    Ok(Json(token))
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
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    if !st.store.delete_session(s.account_id, &id).await? {
        return Err(ApiError::not_found("session"));
    }
    st.hub.revoke_sessions(&[id]);
    Ok(StatusCode::NO_CONTENT)
}
