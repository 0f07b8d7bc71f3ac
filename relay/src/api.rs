//! The relay's HTTP API (`/v1/...`). Every handler is described for the
//! OpenAPI document ([`crate::openapi`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use kovan_crypto::context::SigContext;
use kovan_crypto::identity::{AccountId, DeviceCertificate, registration_data};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::{AppState, now_ms};
use crate::store::{DeviceRow, Quota, SessionRow, Settings, StoreError};
use crate::{auth, keypackage};

/// Shared state of handlers.
pub type Shared = Arc<AppState>;

/// Largest JSON body: 64 KiB (a batch of key packages is larger and has its
/// own limit).
pub const MAX_JSON: usize = 64 * 1024;
/// Largest avatar: 256 KiB.
pub const MAX_AVATAR: usize = kovan_spec::limits::MAX_AVATAR_BYTES;
/// Largest key-package upload: 100 packages of at most 16 KiB.
pub const MAX_KEY_PACKAGE_BATCH: usize = 100;
/// Largest single key package.
pub const MAX_KEY_PACKAGE: usize = 16 * 1024;
/// Key packages below which the owner is told to upload more.
pub const KEY_PACKAGES_LOW: i64 = 10;

// ---------------------------------------------------------------------------
// Extractors
// ---------------------------------------------------------------------------

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

fn too_large() -> ApiError {
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
        st.authenticate(token.trim()).await.map(Self)
    }
}

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn unb64(field: &'static str, s: &str, max: usize) -> ApiResult<Vec<u8>> {
    if s.len() > max.div_ceil(3) * 4 + 4 {
        return Err(ApiError::bad_request("invalid_field", format!("{field} is too long")));
    }
    B64.decode(s.as_bytes())
        .map_err(|_| ApiError::bad_request("invalid_field", format!("{field} is not base64")))
}

// ---------------------------------------------------------------------------
// Info
// ---------------------------------------------------------------------------

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
    Json(st.info())
}

// ---------------------------------------------------------------------------
// Accounts and sessions
// ---------------------------------------------------------------------------

/// Registration.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct RegisterRequest {
    /// 3–32 characters of `[a-z0-9_.]` (upper case is folded).
    pub username: String,
    /// 8–1024 bytes.
    pub password: String,
    /// The account's Ed25519 key, base64.
    pub account_key: String,
    /// The registering device's certificate, base64 (SPEC.md §2.3).
    pub device_certificate: String,
    /// The account key's signature under `kovan/v1/account-registration`
    /// (SPEC.md §9.2), base64.
    pub signature: String,
    /// A description of the client, shown in the session list.
    #[serde(default)]
    pub user_agent: String,
}

/// A new session.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct SessionToken {
    /// Bearer token (keep secret).
    pub token: String,
    /// Public session id.
    pub session_id: String,
    /// The device it belongs to.
    pub device_peer_id: String,
    /// Expiry (Unix ms), renewed on use.
    pub expires_at: i64,
}

/// Registers an account and opens a session for its first device.
#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = RegisterRequest,
    responses((status = 201, body = SessionToken), (status = 400, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn register(
    State(st): State<Shared>,
    ip: ClientIp,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<SessionToken>)> {
    if !st.limits.login_ip.check(&ip.0) {
        return Err(ApiError::rate_limited());
    }
    let username = auth::normalize_username(&req.username)?;
    auth::Passwords::check_policy(&req.password)?;
    let key = unb64("account_key", &req.account_key, 32)?;
    let account = AccountId::from_bytes(&key)
        .map_err(|_| ApiError::bad_request("invalid_key", "account_key is not an Ed25519 key"))?;
    let cert_bytes = unb64("device_certificate", &req.device_certificate, 1024)?;
    let cert = DeviceCertificate::verify_for(&cert_bytes, &account, now_ms() as u64 / 1000)
        .map_err(|e| ApiError::bad_request("invalid_certificate", e.to_string()))?;
    let sig = unb64("signature", &req.signature, 64)?;
    let data = registration_data(&username, account.as_bytes(), &cert, &st.peer_id);
    account.verify(SigContext::AccountRegistration, &data, &sig).map_err(|_| {
        ApiError::bad_request("bad_signature", "the registration signature does not verify")
    })?;
    let hash = st.passwords.hash(&req.password).await?;
    let now = now_ms();
    let device = DeviceRow {
        peer_id: cert.peer_id().to_string(),
        account_id: 0,
        certificate: cert_bytes,
        mls_key: cert.keys().mls.to_vec(),
    };
    let id = match st.store.create_account(&username, account.as_bytes(), &hash, &device, now).await
    {
        Ok(id) => id,
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "username_taken",
                "this username or account key is already registered",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(account = id, "account registered");
    let token = st.open_session(id, &device.peer_id, &req.user_agent).await?;
    Ok((StatusCode::CREATED, Json(token)))
}

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
    Ok(Json(st.open_session(account.id, &peer_id, &req.user_agent).await?))
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

/// Password change.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct PasswordChange {
    /// Current password.
    pub old_password: String,
    /// New password.
    pub new_password: String,
}

async fn check_password(
    st: &Shared,
    account_id: i64,
    password: &str,
) -> ApiResult<crate::store::AccountRow> {
    let key = format!("#{account_id}");
    if st.limits.login_account.is_limited(&key) {
        return Err(ApiError::rate_limited());
    }
    let account = st.store.account_by_id(account_id).await?.ok_or_else(ApiError::unauthorized)?;
    if !st.passwords.verify(password, Some(account.password_hash.clone())).await? {
        st.limits.login_account.check(&key);
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_password",
            "the password is wrong",
        ));
    }
    Ok(account)
}

/// Changes the password and revokes every other session.
#[utoipa::path(post, path = "/v1/account/password", tag = "accounts", security(("bearer" = [])),
    request_body = PasswordChange,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn change_password(
    State(st): State<Shared>,
    Authed(s): Authed,
    ApiJson(req): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    auth::Passwords::check_policy(&req.new_password)?;
    check_password(&st, s.account_id, &req.old_password).await?;
    let hash = st.passwords.hash(&req.new_password).await?;
    st.store.set_password(s.account_id, &hash).await?;
    let revoked = st.store.delete_other_sessions(s.account_id, &s.id).await?;
    st.hub.revoke_sessions(&revoked);
    Ok(StatusCode::NO_CONTENT)
}

/// Account deletion.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct DeleteAccount {
    /// The password, to confirm.
    pub password: String,
}

/// Deletes the account: directory entry, devices, sessions, key packages
/// and mailboxes.
#[utoipa::path(delete, path = "/v1/account", tag = "accounts", security(("bearer" = [])),
    request_body = DeleteAccount, responses((status = 204), (status = 403, body = ErrorBody)))]
pub async fn delete_account(
    State(st): State<Shared>,
    Authed(s): Authed,
    ApiJson(req): ApiJson<DeleteAccount>,
) -> ApiResult<StatusCode> {
    check_password(&st, s.account_id, &req.password).await?;
    let blobs = st.store.blob_ids_of(s.account_id).await?;
    let devices = st.store.delete_account(s.account_id).await?;
    for id in &blobs {
        crate::blobs::remove_bytes(&st.blob_dir, id).await;
    }
    st.hub.revoke_devices(&devices);
    tracing::info!(account = s.account_id, "account deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Account settings (A5).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
pub struct SettingsDoc {
    /// Up to 64 characters.
    pub display_name: String,
    /// Up to 512 characters.
    pub about: String,
    /// Whether directory search finds the account.
    pub discoverable: bool,
    /// `everyone`, `nobody` or `link`.
    pub friend_policy: String,
    /// Default for read receipts.
    pub read_receipts: bool,
}

/// The caller's own account.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountDoc {
    /// Username.
    pub username: String,
    /// Account key, base64.
    pub account_key: String,
    /// Settings.
    pub settings: SettingsDoc,
    /// Whether an avatar is set.
    pub has_avatar: bool,
    /// Device certificates, base64.
    pub devices: Vec<DeviceDoc>,
}

/// A device in a profile.
#[derive(Debug, Serialize, Deserialize, ToSchema, Clone, PartialEq, Eq)]
pub struct DeviceDoc {
    /// PeerId.
    pub peer_id: String,
    /// Device certificate, base64.
    pub certificate: String,
}

fn settings_doc(s: &Settings) -> SettingsDoc {
    SettingsDoc {
        display_name: s.display_name.clone(),
        about: s.about.clone(),
        discoverable: s.discoverable,
        friend_policy: s.friend_policy.clone(),
        read_receipts: s.read_receipts,
    }
}

async fn devices_doc(st: &Shared, account_id: i64) -> ApiResult<Vec<DeviceDoc>> {
    Ok(st
        .store
        .devices_of(account_id)
        .await?
        .into_iter()
        .map(|d| DeviceDoc { peer_id: d.peer_id, certificate: b64(&d.certificate) })
        .collect())
}

/// The caller's account and settings.
#[utoipa::path(get, path = "/v1/account", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = AccountDoc), (status = 401, body = ErrorBody)))]
pub async fn get_account(
    State(st): State<Shared>,
    Authed(s): Authed,
) -> ApiResult<Json<AccountDoc>> {
    let a = st.store.account_by_id(s.account_id).await?.ok_or_else(ApiError::unauthorized)?;
    Ok(Json(AccountDoc {
        username: a.username,
        account_key: b64(&a.account_key),
        has_avatar: a.settings.avatar_type.is_some(),
        settings: settings_doc(&a.settings),
        devices: devices_doc(&st, a.id).await?,
    }))
}

/// Replaces the settings.
#[utoipa::path(put, path = "/v1/account/settings", tag = "accounts", security(("bearer" = [])),
    request_body = SettingsDoc, responses((status = 200, body = SettingsDoc), (status = 400, body = ErrorBody)))]
pub async fn put_settings(
    State(st): State<Shared>,
    Authed(s): Authed,
    ApiJson(req): ApiJson<SettingsDoc>,
) -> ApiResult<Json<SettingsDoc>> {
    if req.display_name.chars().count() > 64 || req.about.chars().count() > 512 {
        return Err(ApiError::bad_request(
            "invalid_settings",
            "display_name ≤ 64 and about ≤ 512 characters",
        ));
    }
    if req.display_name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_settings",
            "display_name has control characters",
        ));
    }
    if !matches!(req.friend_policy.as_str(), "everyone" | "nobody" | "link") {
        return Err(ApiError::bad_request(
            "invalid_settings",
            "friend_policy is everyone, nobody or link",
        ));
    }
    let settings = Settings {
        display_name: req.display_name.clone(),
        about: req.about.clone(),
        discoverable: req.discoverable,
        friend_policy: req.friend_policy.clone(),
        read_receipts: req.read_receipts,
        avatar_type: None,
    };
    st.store.update_settings(s.account_id, &settings).await?;
    Ok(Json(req))
}

/// Recognises PNG, JPEG, GIF and WebP by their magic bytes.
pub fn sniff_image(b: &[u8]) -> Option<&'static str> {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if b.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Sets the avatar: the raw image (PNG, JPEG, GIF or WebP, ≤ 256 KiB).
#[utoipa::path(put, path = "/v1/account/avatar", tag = "accounts", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "image/png"),
    responses((status = 204), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn put_avatar(
    State(st): State<Shared>,
    Authed(s): Authed,
    body: Bytes,
) -> ApiResult<StatusCode> {
    if body.len() > MAX_AVATAR {
        return Err(too_large());
    }
    let ty = sniff_image(&body).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_image",
            "avatars are PNG, JPEG, GIF or WebP",
        )
    })?;
    st.store.set_avatar(s.account_id, Some((&body, ty))).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the avatar.
#[utoipa::path(delete, path = "/v1/account/avatar", tag = "accounts", security(("bearer" = [])),
    responses((status = 204)))]
pub async fn delete_avatar(State(st): State<Shared>, Authed(s): Authed) -> ApiResult<StatusCode> {
    st.store.set_avatar(s.account_id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

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

async fn profile(st: &Shared, a: crate::store::AccountRow) -> ApiResult<Profile> {
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
        keypackage::check(&bytes, &device, now, last_resort)
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

// ---------------------------------------------------------------------------
// Mailboxes
// ---------------------------------------------------------------------------

/// Result of a put.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct PutResult {
    /// True if this envelope was already in the mailbox.
    pub duplicate: bool,
}

/// Puts a sealed envelope (the raw `SealedEnvelope` bytes) into a device's
/// mailbox. Needs no account (sealed sender); idempotent; rate-limited.
#[utoipa::path(post, path = "/v1/mailbox/{peer_id}", tag = "mailbox",
    params(("peer_id" = String, Path)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 202, body = PutResult), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 429, body = ErrorBody), (status = 507, body = ErrorBody)))]
pub async fn put_envelope(
    State(st): State<Shared>,
    ip: ClientIp,
    Path(peer_id): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<PutResult>)> {
    if !st.limits.put_ip.check(&ip.0) {
        return Err(ApiError::rate_limited());
    }
    if body.len() > kovan_spec::limits::MAX_SEALED_ENVELOPE {
        return Err(too_large());
    }
    let env: kovan_spec::wire::SealedEnvelope = kovan_spec::decode(&body)
        .map_err(|e| ApiError::bad_request("invalid_envelope", e.to_string()))?;
    if env.version != 1 || env.ephemeral_key.len() != 32 || env.ciphertext.len() < 16 {
        return Err(ApiError::bad_request("invalid_envelope", "not a version-1 sealed envelope"));
    }
    let digest: [u8; 32] = Sha256::digest(&body).into();
    let now = now_ms();
    let quota = Quota {
        max_items: st.config.limits.mailbox_max_items,
        max_bytes: st.config.limits.mailbox_max_bytes,
    };
    let expires = now + st.config.limits.mailbox_ttl_secs * 1000;
    let out = st.store.put(&peer_id, &digest, &body, now, expires, quota).await?;
    if !out.duplicate {
        st.hub.mailbox_changed(&peer_id);
    }
    Ok((StatusCode::ACCEPTED, Json(PutResult { duplicate: out.duplicate })))
}

/// Mailbox fetch parameters.
#[derive(Debug, Deserialize, Serialize, utoipa::IntoParams)]
pub struct FetchQuery {
    /// Return items after this sequence number. Default 0 (everything).
    #[serde(default)]
    pub after: Option<i64>,
    /// At most this many, ≤ 256. Default 64.
    #[serde(default)]
    pub limit: Option<i64>,
}

/// A mailbox item.
#[derive(Debug, Deserialize, Serialize, ToSchema, Clone, PartialEq, Eq)]
pub struct Item {
    /// Sequence number (the cursor).
    pub seq: i64,
    /// The sealed envelope, base64.
    pub envelope: String,
    /// When the relay received it, Unix ms.
    pub received_at: i64,
}

/// A page of mailbox items.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct Items {
    /// Oldest first.
    pub items: Vec<Item>,
}

/// Fetches the caller's device's mailbox after a cursor.
#[utoipa::path(get, path = "/v1/mailbox", tag = "mailbox", security(("bearer" = [])), params(FetchQuery),
    responses((status = 200, body = Items), (status = 401, body = ErrorBody)))]
pub async fn fetch_mailbox(
    State(st): State<Shared>,
    Authed(s): Authed,
    Query(q): Query<FetchQuery>,
) -> ApiResult<Json<Items>> {
    let items = st
        .store
        .fetch(
            &s.device_peer_id,
            q.after.unwrap_or(0),
            q.limit.unwrap_or(64).clamp(1, 256),
            now_ms(),
        )
        .await?;
    Ok(Json(Items {
        items: items
            .into_iter()
            .map(|i| Item { seq: i.seq, envelope: b64(&i.envelope), received_at: i.received_at })
            .collect(),
    }))
}

/// Acknowledgement of mailbox items.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct Ack {
    /// Sequence numbers to delete, at most 1,000.
    pub seqs: Vec<i64>,
}

/// What an ack deleted.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct AckResult {
    /// Items deleted.
    pub deleted: u64,
}

/// Deletes acknowledged items from the caller's device's mailbox.
#[utoipa::path(post, path = "/v1/mailbox/ack", tag = "mailbox", security(("bearer" = [])), request_body = Ack,
    responses((status = 200, body = AckResult), (status = 401, body = ErrorBody)))]
pub async fn ack_mailbox(
    State(st): State<Shared>,
    Authed(s): Authed,
    ApiJson(req): ApiJson<Ack>,
) -> ApiResult<Json<AckResult>> {
    if req.seqs.len() > 1000 {
        return Err(ApiError::bad_request("too_many", "at most 1000 seqs per ack"));
    }
    let deleted = st.store.ack(&s.device_peer_id, &req.seqs).await?;
    Ok(Json(AckResult { deleted }))
}

/// The routes. JSON bodies are limited to [`MAX_JSON`]; the three routes
/// that take larger bodies set their own limit.
pub fn routes() -> Router<Shared> {
    use axum::extract::DefaultBodyLimit;
    use axum::routing::{delete, get, post};
    let kp_batch = MAX_KEY_PACKAGE_BATCH * MAX_KEY_PACKAGE * 4 / 3 + 4096;
    Router::new()
        .route("/v1/info", get(info))
        .route("/v1/accounts", post(register))
        .route("/v1/sessions", post(login).get(list_sessions))
        .route("/v1/sessions/current", delete(logout))
        .route("/v1/sessions/{id}", delete(revoke_session))
        .route("/v1/account", get(get_account).delete(delete_account))
        .route("/v1/account/password", post(change_password))
        .route("/v1/account/settings", axum::routing::put(put_settings))
        .route(
            "/v1/account/avatar",
            axum::routing::put(put_avatar)
                .layer(DefaultBodyLimit::max(MAX_AVATAR))
                .delete(delete_avatar),
        )
        .route("/v1/users/{username}", get(get_user))
        .route("/v1/users/{username}/avatar", get(get_avatar))
        .route("/v1/directory", get(search))
        .route(
            "/v1/keypackages",
            get(count_key_packages)
                .merge(post(upload_key_packages).layer(DefaultBodyLimit::max(kp_batch))),
        )
        .route("/v1/keypackages/{peer_id}/claim", post(claim_key_package))
        .route("/v1/mailbox", get(fetch_mailbox))
        .route("/v1/mailbox/ack", post(ack_mailbox))
        .route(
            "/v1/mailbox/{peer_id}",
            post(put_envelope)
                .layer(DefaultBodyLimit::max(kovan_spec::limits::MAX_SEALED_ENVELOPE)),
        )
        .merge(crate::blobs::routes())
        .route("/v1/ws", get(crate::ws::upgrade))
        .route("/v1/openapi.json", get(crate::openapi::serve))
        .layer(DefaultBodyLimit::max(MAX_JSON))
}
