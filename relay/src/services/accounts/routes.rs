//! The account routes: `POST /v1/accounts` (register) and
//! `/v1/account` (read, delete, password, settings, avatar).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kovan_crypto::context::SigContext;
use kovan_crypto::identity::{
    AccountId, CertificateError, DeviceCertificate, registration_data, verify_relay_device_proof,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::store::{AccountRow, AccountStore, DeviceRow, Settings};
use crate::auth;
use crate::db::StoreError;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{ApiJson, Authed, ClientIp, RawBody, b64, too_large, unb64};
use crate::hub::Event;
use crate::services::blobs::{self, BlobStore};
use crate::sessions::{self, SessionStore, SessionToken};
use crate::state::{Shared, now_ms};

/// Largest avatar: 256 KiB.
pub const MAX_AVATAR: usize = kovan_spec::limits::MAX_AVATAR_BYTES;

/// Registration.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct RegisterRequest {
    /// 3–32 characters of `[a-z0-9_.]` (upper case is folded).
    #[schema(pattern = r"^[A-Za-z0-9_.]{3,32}$")]
    pub username: String,
    /// 8–1024 characters.
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
    /// The account's Ed25519 key, base64.
    pub account_key: String,
    /// The registering device's certificate, base64 (SPEC.md §2.3).
    pub device_certificate: String,
    /// The account key's signature under `kovan/v1/account-registration`
    /// (SPEC.md §9.2), base64.
    pub signature: String,
    /// The device's p2p key's signature under `kovan/v1/relay-device` over
    /// the same bytes (SPEC.md §9.2), base64: proof that the registering
    /// device holds the key its PeerId, and so its mailbox, is made from.
    pub device_signature: String,
    /// A description of the client, shown in the session list.
    #[serde(default)]
    pub user_agent: String,
}

/// A certificate that does not verify: 400 `certificate_expired` when it
/// has expired, else `invalid_certificate`.
pub fn certificate_refused(e: CertificateError) -> ApiError {
    match e {
        CertificateError::Expired { .. } => {
            ApiError::bad_request("certificate_expired", "the device certificate has expired")
        }
        e => ApiError::bad_request("invalid_certificate", e.to_string()),
    }
}

/// Checks the device's proof of its p2p key (SPEC.md §9.2) over `data`.
pub fn check_device_proof(cert: &DeviceCertificate, data: &[u8], proof: &str) -> ApiResult<()> {
    let sig = unb64("device_signature", proof, 64)?;
    verify_relay_device_proof(cert, data, &sig).map_err(|_| {
        ApiError::bad_request(
            "bad_device_signature",
            "the device signature does not verify with the certificate's p2p key",
        )
    })
}

/// A 409 for a name, key or device that is registered already.
pub fn taken(what: &str) -> ApiError {
    match what {
        "username" => ApiError::new(
            StatusCode::CONFLICT,
            "username_taken",
            "this username is already registered",
        ),
        "account key" => ApiError::new(
            StatusCode::CONFLICT,
            "account_key_taken",
            "this account key is already registered",
        ),
        _ => ApiError::new(
            StatusCode::CONFLICT,
            "device_taken",
            "this device is registered to an account already",
        ),
    }
}

/// Registers an account and opens a session for its first device.
#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = RegisterRequest,
    responses((status = 201, body = SessionToken), (status = 400, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "username_taken, account_key_taken or device_taken"),
              (status = 429, body = ErrorBody)))]
pub async fn register(
    State(st): State<Shared>,
    ip: ClientIp,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<SessionToken>)> {
    st.limits.login_ip.allow(&ip.0)?;
    let username = auth::normalize_username(&req.username)?;
    auth::Passwords::check_policy(&req.password)?;
    let key = unb64("account_key", &req.account_key, 32)?;
    let account = AccountId::from_bytes(&key)
        .map_err(|_| ApiError::bad_request("invalid_key", "account_key is not an Ed25519 key"))?;
    let cert_bytes = unb64("device_certificate", &req.device_certificate, 1024)?;
    let cert = DeviceCertificate::verify_for(&cert_bytes, &account, now_ms() as u64 / 1000)
        .map_err(certificate_refused)?;
    let sig = unb64("signature", &req.signature, 64)?;
    let data = registration_data(&username, account.as_bytes(), &cert, &st.peer_id);
    account.verify(SigContext::AccountRegistration, &data, &sig).map_err(|_| {
        ApiError::bad_request("bad_signature", "the registration signature does not verify")
    })?;
    check_device_proof(&cert, &data, &req.device_signature)?;
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
        Err(StoreError::Conflict(what)) => return Err(taken(what)),
        Err(e) => return Err(e.into()),
    };
    tracing::info!(account = id, "account registered");
    let token = sessions::open(&st, id, &device.peer_id, &req.user_agent).await?;
    Ok((StatusCode::CREATED, Json(token)))
}

/// Password change.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct PasswordChange {
    /// Current password.
    pub old_password: String,
    /// New password, 8–1024 characters.
    #[schema(min_length = 8, max_length = 1024)]
    pub new_password: String,
}

async fn check_password(st: &Shared, account_id: i64, password: &str) -> ApiResult<AccountRow> {
    let key = format!("#{account_id}");
    st.limits.login_account.refuse_if_limited(&key)?;
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
    responses((status = 204), (status = 403, body = ErrorBody), (status = 400, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
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
    request_body = DeleteAccount,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn delete_account(
    State(st): State<Shared>,
    Authed(s): Authed,
    ApiJson(req): ApiJson<DeleteAccount>,
) -> ApiResult<StatusCode> {
    check_password(&st, s.account_id, &req.password).await?;
    let blobs = st.store.blob_ids_of(s.account_id).await?;
    st.store.delete_account(s.account_id).await?;
    for id in &blobs {
        blobs::remove_bytes(&st.blob_dir, id).await;
    }
    // Every socket of the account is told, then closed (SPEC.md §9.6).
    st.hub.account_deleted(s.account_id);
    tracing::info!(account = s.account_id, "account deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Account settings (A5).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
pub struct SettingsDoc {
    /// Up to 64 characters, no control characters.
    #[schema(max_length = 64, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub display_name: String,
    /// Up to 512 characters.
    #[schema(max_length = 512)]
    pub about: String,
    /// Whether directory search finds the account (an exact username
    /// finds it either way).
    pub discoverable: bool,
    /// `everyone`, `nobody` or `link`.
    #[schema(pattern = "^(everyone|nobody|link)$")]
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

/// The devices of an account, as profiles and the account show them.
pub async fn devices_doc(st: &Shared, account_id: i64) -> ApiResult<Vec<DeviceDoc>> {
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
    // The account's other sessions update what they cache (SPEC.md §9.6).
    let doc = serde_json::to_value(&req).map_err(ApiError::internal)?;
    st.hub.account_event(
        s.account_id,
        Some(&s.id),
        Event::account("settings_changed", serde_json::json!({ "settings": doc })),
    );
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
    request_body(content(
        (Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/gif"),
        (Vec<u8> = "image/webp")),
        description = "The image; its first bytes must be a PNG, JPEG, GIF or WebP signature"),
    responses((status = 204), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn put_avatar(
    State(st): State<Shared>,
    Authed(s): Authed,
    RawBody(body): RawBody,
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
