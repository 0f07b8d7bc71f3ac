//! The node's client for a kovan relay (W2): the HTTP API and one WebSocket
//! kept open with reconnect, backoff and resume from the last cursor.
//!
//! [`RelayClient`] is cheap to clone. [`RelayClient::push`] starts a task
//! that keeps the WebSocket up and forwards mailbox items and the
//! account's events ([`PushEvent`]) into a bounded channel; when the
//! application falls behind, the task stops reading (the relay then cuts
//! the socket off and the items are fetched again on reconnect, since they
//! stay until acknowledged).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::identity::Identity;

/// Items queued from the WebSocket to the application.
pub const PUSH_QUEUE: usize = 256;
/// First reconnect delay; doubles up to [`MAX_BACKOFF`].
pub const MIN_BACKOFF: Duration = Duration::from_millis(250);
/// Longest reconnect delay.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long an idle HTTP connection is kept for the next request: shorter
/// than the relay keeps one (10 s, SPEC.md §9.1), so a request is not sent
/// on a connection the relay is closing.
pub const POOL_IDLE: Duration = Duration::from_secs(5);

/// How the push WebSocket finds out that its connection died without a
/// word (a partition, a NAT that forgot the mapping, a suspended laptop):
/// it pings the relay every `ping_every`, and a connection on which
/// nothing arrived for `dead_after` is dropped and opened again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    /// Interval between the client's pings.
    pub ping_every: Duration,
    /// Silence after which the connection counts as dead.
    pub dead_after: Duration,
}

impl Default for Keepalive {
    fn default() -> Self {
        Self { ping_every: Duration::from_secs(15), dead_after: Duration::from_secs(45) }
    }
}

/// Why a relay call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// The relay could not be reached.
    #[error("relay unreachable: {0}")]
    Unreachable(String),
    /// The relay refused the request.
    #[error("relay refused ({status}): {code}: {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The relay's error code (e.g. `username_taken`).
        code: String,
        /// The relay's message.
        message: String,
    },
    /// This device cannot do that (e.g. register without the account key).
    #[error("{0}")]
    Invalid(String),
}

impl RelayError {
    /// The relay's error code, if it answered.
    pub fn code(&self) -> Option<&str> {
        match self {
            RelayError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// A session on the relay.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// Bearer token (secret).
    pub token: String,
    /// Public id.
    pub session_id: String,
    /// Device.
    pub device_peer_id: String,
    /// Expiry, Unix ms.
    pub expires_at: i64,
}

/// A mailbox item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxItem {
    /// Cursor.
    pub seq: i64,
    /// The sealed envelope.
    pub envelope: Vec<u8>,
}

/// What the push task reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushEvent {
    /// The socket is up.
    Connected,
    /// The socket dropped; reconnecting after the given delay.
    Disconnected {
        /// Delay before the next attempt.
        retry_in: Duration,
    },
    /// A mailbox item.
    Item(MailboxItem),
    /// Upload more key packages.
    KeyPackagesLow(i64),
    /// Another session signed in to the account (the relay's `account`
    /// event `new_login`, SPEC.md §9.6).
    NewLogin {
        /// The new session's id.
        session_id: String,
        /// The device it belongs to.
        device_peer_id: String,
        /// The client it described itself as.
        user_agent: String,
        /// Whether the login added that device to the account.
        new_device: bool,
    },
    /// The account's settings were changed from another session (`account`
    /// event `settings_changed`): the settings as they are now.
    SettingsChanged(Value),
    /// The account was deleted (`account` event `deleted`): the relay closes
    /// the socket and the task stops.
    AccountDeleted,
    /// The session was revoked or expired: log in again. The task stops.
    SessionEnded,
    /// Something in a community concerns this account (topic `community`,
    /// SPEC.md §9.10.4): `reply`, `mention`, `admitted` or `invited`.
    Community {
        /// The kind.
        kind: String,
        /// The community (hex id).
        community: String,
        /// The post or comment (hex id; empty for admissions).
        item: String,
        /// Who wrote it (username; empty for admissions).
        by: String,
    },
}

/// The push event of an `event` frame (SPEC.md §9.6:
/// `{"type":"event","topic","kind","at","data"}`), if this client knows
/// its topic and kind; others are skipped.
fn event_frame(v: &Value) -> Option<PushEvent> {
    let data = &v["data"];
    let text = |k: &str| data[k].as_str().unwrap_or_default().to_owned();
    match (v["topic"].as_str()?, v["kind"].as_str()?) {
        ("account", "new_login") => Some(PushEvent::NewLogin {
            session_id: text("session_id"),
            device_peer_id: text("device_peer_id"),
            user_agent: text("user_agent"),
            new_device: data["new_device"].as_bool().unwrap_or(false),
        }),
        ("account", "settings_changed") if data["settings"].is_object() => {
            Some(PushEvent::SettingsChanged(data["settings"].clone()))
        }
        ("account", "deleted") => Some(PushEvent::AccountDeleted),
        ("community", kind @ ("reply" | "mention" | "admitted" | "invited")) => {
            Some(PushEvent::Community {
                kind: kind.to_owned(),
                community: text("community"),
                item: text("item"),
                by: text("by"),
            })
        }
        _ => None,
    }
}

/// Close codes of SPEC.md §9.6 after which the session is gone.
const CLOSE_SESSION_REVOKED: u16 = 4001;
const CLOSE_ACCOUNT_DELETED: u16 = 4003;

/// A relay's HTTP client.
#[derive(Debug, Clone)]
pub struct RelayClient {
    base: String,
    http: reqwest::Client,
    /// For blob transfers: no overall deadline (a large file takes as long
    /// as it takes), but a stalled connection fails.
    bulk: reqwest::Client,
    keepalive: Keepalive,
}

/// A blob's state on the relay (SPEC.md §9.8).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BlobInfo {
    /// Hex id.
    pub id: String,
    /// Announced size.
    pub size: i64,
    /// Bytes stored.
    pub received: i64,
    /// Whether it is complete.
    pub complete: bool,
}

/// The HTTP client for blob transfers (no overall deadline; a connection
/// that stalls for a minute fails).
pub fn bulk_client() -> Result<reqwest::Client, RelayError> {
    reqwest::Client::builder()
        .pool_idle_timeout(POOL_IDLE)
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60))
        .user_agent(concat!("kovan/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| RelayError::Invalid(e.to_string()))
}

async fn refused(resp: reqwest::Response) -> RelayError {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    RelayError::Refused {
        status: status.as_u16(),
        code: body["code"].as_str().unwrap_or("unknown").to_owned(),
        message: body["message"].as_str().unwrap_or("").to_owned(),
    }
}

/// The device's proof of its p2p key for `username` on the relay whose
/// PeerId is `relay_peer_id` (SPEC.md §9.2): the relay takes no
/// registration or login for a device without it.
fn device_proof(id: &Identity, username: &str, relay_peer_id: &str) -> [u8; 64] {
    let data = kovan_crypto::identity::registration_data(
        username,
        id.account().as_bytes(),
        id.certificate(),
        relay_peer_id,
    );
    kovan_crypto::identity::relay_device_proof(id.device_keys(), &data)
}

/// Sends `req` and reads its JSON answer, or the relay's refusal.
async fn json_of<T: serde::de::DeserializeOwned>(
    req: reqwest::RequestBuilder,
) -> Result<T, RelayError> {
    let resp = req.send().await.map_err(|e| RelayError::Unreachable(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(refused(resp).await);
    }
    resp.json().await.map_err(|e| RelayError::Unreachable(e.to_string()))
}

/// `GET {base}/v1/blobs/{id}/info` on any relay.
pub async fn blob_info(
    http: &reqwest::Client,
    base: &str,
    id: &str,
) -> Result<BlobInfo, RelayError> {
    json_of(http.get(format!("{}/v1/blobs/{id}/info", base.trim_end_matches('/')))).await
}

/// `GET {base}/v1/blobs/{id}` from byte `offset` on any relay: the
/// response, whose body the caller streams.
pub async fn blob_download(
    http: &reqwest::Client,
    base: &str,
    id: &str,
    offset: u64,
) -> Result<reqwest::Response, RelayError> {
    let url = format!("{}/v1/blobs/{id}", base.trim_end_matches('/'));
    let mut req = http.get(url);
    if offset > 0 {
        req = req.header("range", format!("bytes={offset}-"));
    }
    let resp = req.send().await.map_err(|e| RelayError::Unreachable(e.to_string()))?;
    let want =
        if offset > 0 { reqwest::StatusCode::PARTIAL_CONTENT } else { reqwest::StatusCode::OK };
    if resp.status() != want {
        if resp.status().is_success() {
            return Err(RelayError::Invalid(format!("unexpected status {}", resp.status())));
        }
        return Err(refused(resp).await);
    }
    Ok(resp)
}

/// `POST {base}/v1/trustee` on any relay: an owner's signed request to a
/// relay that keeps shares (SPEC.md §6.10.6); its per-deposit results.
pub async fn trustee_request(
    http: &reqwest::Client,
    base: &str,
    request: &[u8],
    signature: &[u8; 64],
) -> Result<Value, RelayError> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let url = format!("{}/v1/trustee", base.trim_end_matches('/'));
    let body = json!({ "request": b64.encode(request), "signature": b64.encode(signature) });
    json_of(http.post(url).json(&body)).await
}

/// `GET {base}/v1/trustee/{deposit}` on any relay: a kept share's state,
/// with the share once it is due.
pub async fn trustee_share(
    http: &reqwest::Client,
    base: &str,
    deposit: &[u8; 16],
) -> Result<Value, RelayError> {
    let url = format!("{}/v1/trustee/{}", base.trim_end_matches('/'), hex::encode(deposit));
    json_of(http.get(url)).await
}

/// The client of the relay's API calls (30 s each); with `pool`, idle
/// connections are kept for the next call, without, each call opens its
/// own.
fn api_client(pool: bool) -> Result<reqwest::Client, RelayError> {
    let builder = reqwest::Client::builder();
    let builder = match pool {
        true => builder.pool_idle_timeout(POOL_IDLE),
        false => builder.pool_max_idle_per_host(0),
    };
    builder
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("kovan/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| RelayError::Invalid(e.to_string()))
}

impl RelayClient {
    /// A client for the relay at `base` (e.g. `http://127.0.0.1:8480`).
    pub fn new(base: &str) -> Result<Self, RelayError> {
        crate::config::check_relay_url(base).map_err(RelayError::Invalid)?;
        let http = api_client(true)?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            http,
            bulk: bulk_client()?,
            keepalive: Keepalive::default(),
        })
    }

    /// A client for the same relay that opens a connection of its own for
    /// every request and keeps none: what an anonymous ballot is put with
    /// (SPEC.md §6.4.2), so that the relay cannot tie it to this device's
    /// authenticated connections.
    pub fn unlinked(&self) -> Result<Self, RelayError> {
        let http = api_client(false)?;
        Ok(Self {
            base: self.base.clone(),
            http,
            bulk: self.bulk.clone(),
            keepalive: self.keepalive,
        })
    }

    /// The same client with other push keepalive timings.
    pub fn with_keepalive(mut self, keepalive: Keepalive) -> Self {
        self.keepalive = keepalive;
        self
    }

    /// The relay's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The client for blob transfers.
    pub fn bulk(&self) -> &reqwest::Client {
        &self.bulk
    }

    /// `POST /v1/blobs`: reserves a blob of `size` bytes on this account.
    pub async fn create_blob(&self, token: &str, size: u64) -> Result<BlobInfo, RelayError> {
        let v = self
            .call(
                self.http
                    .post(self.url("/v1/blobs"))
                    .bearer_auth(token)
                    .json(&json!({ "size": size })),
            )
            .await?;
        serde_json::from_value(v).map_err(|e| RelayError::Invalid(e.to_string()))
    }

    /// `PATCH /v1/blobs/{id}`: uploads `body` starting at `offset`.
    pub async fn upload_blob(
        &self,
        token: &str,
        id: &str,
        offset: u64,
        body: reqwest::Body,
    ) -> Result<BlobInfo, RelayError> {
        let resp = self
            .bulk
            .patch(self.url(&format!("/v1/blobs/{id}")))
            .bearer_auth(token)
            .header("upload-offset", offset.to_string())
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
            .await
            .map_err(|e| RelayError::Unreachable(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(refused(resp).await);
        }
        resp.json().await.map_err(|e| RelayError::Unreachable(e.to_string()))
    }

    /// `DELETE /v1/blobs/{id}`.
    pub async fn delete_blob(&self, token: &str, id: &str) -> Result<(), RelayError> {
        self.drop_blob(token, id, false).await
    }

    /// Gives back a blob nothing was uploaded to (SPEC.md §9.8): it is
    /// forgotten, so readers get 404 ("nothing there"), not 410
    /// ("withdrawn"), and wait for another source.
    pub async fn release_blob(&self, token: &str, id: &str) -> Result<(), RelayError> {
        self.drop_blob(token, id, true).await
    }

    async fn drop_blob(&self, token: &str, id: &str, unused: bool) -> Result<(), RelayError> {
        let query = if unused { "?unused=true" } else { "" };
        let resp = self
            .http
            .delete(self.url(&format!("/v1/blobs/{id}{query}")))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| RelayError::Unreachable(e.to_string()))?;
        if resp.status().is_success() || resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(());
        }
        Err(refused(resp).await)
    }

    async fn call(&self, req: reqwest::RequestBuilder) -> Result<Value, RelayError> {
        let resp = req.send().await.map_err(|e| RelayError::Unreachable(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(refused(resp).await);
        }
        Ok(resp.json().await.unwrap_or(Value::Null))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Short-lived TURN credentials for calls (`POST /v1/turn/credentials`,
    /// SPEC.md §9.7.1); none when the relay runs no TURN server.
    pub async fn turn_credentials(
        &self,
        token: &str,
    ) -> Result<Option<crate::call::IceServer>, RelayError> {
        let req = self.http.post(self.url("/v1/turn/credentials")).bearer_auth(token);
        let v = match self.call(req).await {
            Ok(v) => v,
            Err(RelayError::Refused { code, .. }) if code == "turn_off" => return Ok(None),
            Err(e) => return Err(e),
        };
        let text = |k: &str| v[k].as_str().map(str::to_owned);
        let urls: Vec<String> = v["urls"]
            .as_array()
            .map(|a| a.iter().filter_map(|u| u.as_str().map(str::to_owned)).take(8).collect())
            .unwrap_or_default();
        match (text("username"), text("credential")) {
            (Some(username), Some(credential)) if !urls.is_empty() => {
                Ok(Some(crate::call::IceServer { urls, username, credential }))
            }
            _ => Err(RelayError::Invalid("the relay's TURN credentials are incomplete".into())),
        }
    }

    /// `GET /v1/info`.
    pub async fn info(&self) -> Result<Value, RelayError> {
        self.call(self.http.get(self.url("/v1/info"))).await
    }

    /// The relay's PeerId (`GET /v1/info`), which registration and login
    /// proofs name.
    async fn relay_peer_id(&self) -> Result<String, RelayError> {
        let info = self.info().await?;
        info["peer_id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| RelayError::Invalid("the relay did not say its PeerId".into()))
    }

    /// Registers `username` for this identity and opens a session.
    pub async fn register(
        &self,
        id: &Identity,
        username: &str,
        password: &str,
    ) -> Result<Session, RelayError> {
        let relay_peer = self.relay_peer_id().await?;
        let name = username.to_ascii_lowercase();
        let sig = id.registration_signature(&name, &relay_peer).ok_or_else(|| {
            RelayError::Invalid("this device does not hold the account key".into())
        })?;
        let body = json!({
            "username": name,
            "password": password,
            "account_key": B64.encode(id.account().as_bytes()),
            "device_certificate": B64.encode(id.certificate().encoded()),
            "signature": B64.encode(sig),
            "device_signature": B64.encode(device_proof(id, &name, &relay_peer)),
            "user_agent": concat!("kovan/", env!("CARGO_PKG_VERSION")),
        });
        let v = self.call(self.http.post(self.url("/v1/accounts")).json(&body)).await?;
        serde_json::from_value(v).map_err(|e| RelayError::Invalid(e.to_string()))
    }

    /// Logs this device in (presenting its certificate, with the proof of
    /// its p2p key).
    pub async fn login(
        &self,
        id: &Identity,
        username: &str,
        password: &str,
    ) -> Result<Session, RelayError> {
        let relay_peer = self.relay_peer_id().await?;
        let name = username.to_ascii_lowercase();
        let body = json!({
            "username": name,
            "password": password,
            "device_certificate": B64.encode(id.certificate().encoded()),
            "device_signature": B64.encode(device_proof(id, &name, &relay_peer)),
            "user_agent": concat!("kovan/", env!("CARGO_PKG_VERSION")),
        });
        let v = self.call(self.http.post(self.url("/v1/sessions")).json(&body)).await?;
        serde_json::from_value(v).map_err(|e| RelayError::Invalid(e.to_string()))
    }

    /// Logs out (revokes the session).
    pub async fn logout(&self, token: &str) -> Result<(), RelayError> {
        self.call(self.http.delete(self.url("/v1/sessions/current")).bearer_auth(token))
            .await
            .map(|_| ())
    }

    /// The caller's account (`GET /v1/account`): username, settings, devices.
    pub async fn account(&self, token: &str) -> Result<Value, RelayError> {
        self.call(self.http.get(self.url("/v1/account")).bearer_auth(token)).await
    }

    /// Replaces the account's settings (display name, about, discoverable,
    /// friend policy, read receipts).
    pub async fn put_settings(&self, token: &str, settings: &Value) -> Result<Value, RelayError> {
        self.call(self.http.put(self.url("/v1/account/settings")).bearer_auth(token).json(settings))
            .await
    }

    /// Deletes the account (the password confirms it).
    pub async fn delete_account(&self, token: &str, password: &str) -> Result<(), RelayError> {
        let req = self
            .http
            .delete(self.url("/v1/account"))
            .bearer_auth(token)
            .json(&json!({ "password": password }));
        self.call(req).await.map(|_| ())
    }

    /// The account's sessions (`GET /v1/sessions`).
    pub async fn sessions(&self, token: &str) -> Result<Value, RelayError> {
        self.call(self.http.get(self.url("/v1/sessions")).bearer_auth(token)).await
    }

    /// Revokes one of the account's sessions.
    pub async fn revoke_session(&self, token: &str, id: &str) -> Result<(), RelayError> {
        let mut url = reqwest::Url::parse(&self.url("/v1/sessions/"))
            .map_err(|e| RelayError::Invalid(e.to_string()))?;
        url.path_segments_mut()
            .map_err(|_| RelayError::Invalid("relay URL cannot take a path".into()))?
            .pop_if_empty()
            .push(id);
        self.call(self.http.delete(url).bearer_auth(token)).await.map(|_| ())
    }

    /// Changes the password (other sessions are revoked by the relay).
    pub async fn change_password(
        &self,
        token: &str,
        old: &str,
        new: &str,
    ) -> Result<(), RelayError> {
        let body = json!({ "old_password": old, "new_password": new });
        self.call(self.http.post(self.url("/v1/account/password")).bearer_auth(token).json(&body))
            .await
            .map(|_| ())
    }

    /// Sets the avatar (PNG, JPEG, GIF or WebP, ≤ 256 KiB), or removes it.
    pub async fn set_avatar(&self, token: &str, image: Option<Vec<u8>>) -> Result<(), RelayError> {
        let url = self.url("/v1/account/avatar");
        let req = match image {
            Some(bytes) => {
                self.http.put(url).header("content-type", "application/octet-stream").body(bytes)
            }
            None => self.http.delete(url),
        };
        self.call(req.bearer_auth(token)).await.map(|_| ())
    }

    /// Applies a signed community action (`POST /v1/communities/actions`).
    pub async fn community_action(
        &self,
        token: &str,
        tbs: &[u8],
        signature: &[u8],
    ) -> Result<Value, RelayError> {
        let body = json!({ "tbs": B64.encode(tbs), "signature": B64.encode(signature) });
        self.call(
            self.http.post(self.url("/v1/communities/actions")).bearer_auth(token).json(&body),
        )
        .await
    }

    /// A community read (`path` made of checked segments), with the
    /// session when there is one.
    pub async fn community_get(
        &self,
        token: Option<&str>,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Value, RelayError> {
        let mut req = self.http.get(self.url(path)).query(query);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.call(req).await
    }

    /// A blob's bytes, at most `max` (a file of a community's post; the
    /// session is sent, for a private community's files).
    pub async fn community_blob(
        &self,
        token: Option<&str>,
        id: &str,
        max: u64,
    ) -> Result<Vec<u8>, RelayError> {
        let mut req = self.bulk.get(self.url(&format!("/v1/blobs/{id}")));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let mut resp = req.send().await.map_err(|e| RelayError::Unreachable(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(refused(resp).await);
        }
        let mut out = Vec::new();
        while let Some(chunk) =
            resp.chunk().await.map_err(|e| RelayError::Unreachable(e.to_string()))?
        {
            if (out.len() + chunk.len()) as u64 > max {
                return Err(RelayError::Invalid("the relay sent more than the file's size".into()));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// Searches the directory.
    pub async fn search(&self, query: &str) -> Result<Value, RelayError> {
        self.call(self.http.get(self.url("/v1/directory")).query(&[("q", query)])).await
    }

    /// A user's public profile (`GET /v1/users/{username}`).
    pub async fn user(&self, username: &str) -> Result<Value, RelayError> {
        let mut url = reqwest::Url::parse(&self.url("/v1/users/"))
            .map_err(|e| RelayError::Invalid(e.to_string()))?;
        url.path_segments_mut()
            .map_err(|_| RelayError::Invalid("relay URL cannot take a path".into()))?
            .pop_if_empty()
            .push(username);
        self.call(self.http.get(url)).await
    }

    /// A user's avatar (`GET /v1/users/{username}/avatar`): `None` if they
    /// have none. Read under the relay's size limit, so a hostile relay
    /// cannot make the client buffer more.
    pub async fn avatar(&self, username: &str) -> Result<Option<Vec<u8>>, RelayError> {
        let mut url = reqwest::Url::parse(&self.url("/v1/users/"))
            .map_err(|e| RelayError::Invalid(e.to_string()))?;
        url.path_segments_mut()
            .map_err(|_| RelayError::Invalid("relay URL cannot take a path".into()))?
            .pop_if_empty()
            .push(username)
            .push("avatar");
        let mut resp =
            self.http.get(url).send().await.map_err(|e| RelayError::Unreachable(e.to_string()))?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(refused(resp).await);
        }
        let mut out = Vec::new();
        while let Some(chunk) =
            resp.chunk().await.map_err(|e| RelayError::Unreachable(e.to_string()))?
        {
            if out.len() + chunk.len() > kovan_spec::limits::MAX_AVATAR_BYTES {
                return Err(RelayError::Invalid("the avatar is larger than 256 KiB".into()));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(Some(out))
    }

    /// Uploads KeyPackages for this device; returns how many are stored.
    pub async fn upload_key_packages(
        &self,
        token: &str,
        key_packages: &[Vec<u8>],
        last_resort: Option<&[u8]>,
    ) -> Result<i64, RelayError> {
        let body = json!({
            "key_packages": key_packages.iter().map(|k| B64.encode(k)).collect::<Vec<_>>(),
            "last_resort": last_resort.map(|k| B64.encode(k)),
        });
        let v = self
            .call(self.http.post(self.url("/v1/keypackages")).bearer_auth(token).json(&body))
            .await?;
        Ok(v["remaining"].as_i64().unwrap_or(0))
    }

    /// How many KeyPackages the relay holds for this device, and whether a
    /// last-resort one is among them.
    pub async fn key_package_count(&self, token: &str) -> Result<(i64, bool), RelayError> {
        let v = self.call(self.http.get(self.url("/v1/keypackages")).bearer_auth(token)).await?;
        Ok((v["remaining"].as_i64().unwrap_or(0), v["last_resort"].as_bool().unwrap_or(false)))
    }

    /// Puts a sealed envelope into a device's mailbox.
    pub async fn put_envelope(&self, peer_id: &str, envelope: Vec<u8>) -> Result<(), RelayError> {
        let req = self
            .http
            .post(self.url(&format!("/v1/mailbox/{peer_id}")))
            .header("content-type", "application/octet-stream")
            .body(envelope);
        self.call(req).await.map(|_| ())
    }

    /// Acknowledges mailbox items (they are deleted).
    pub async fn ack(&self, token: &str, seqs: &[i64]) -> Result<(), RelayError> {
        let req = self
            .http
            .post(self.url("/v1/mailbox/ack"))
            .bearer_auth(token)
            .json(&json!({ "seqs": seqs }));
        self.call(req).await.map(|_| ())
    }

    /// Starts the push task: a WebSocket kept open from cursor `after`,
    /// reconnecting with exponential backoff. Stops when `stop` flips to
    /// true or the session ends.
    pub fn push(
        &self,
        token: String,
        after: i64,
        stop: watch::Receiver<bool>,
    ) -> mpsc::Receiver<PushEvent> {
        let (tx, rx) = mpsc::channel(PUSH_QUEUE);
        let url = format!("{}/v1/ws", self.base.replacen("http", "ws", 1));
        tokio::spawn(push_task(url, token, after, tx, stop, self.keepalive));
        rx
    }
}

enum Outcome {
    Dropped,
    SessionEnded,
    Stopped,
}

async fn push_task(
    url: String,
    token: String,
    mut cursor: i64,
    tx: mpsc::Sender<PushEvent>,
    mut stop: watch::Receiver<bool>,
    keepalive: Keepalive,
) {
    let mut backoff = MIN_BACKOFF;
    loop {
        let outcome =
            connection(&url, &token, &mut cursor, &tx, &mut stop, &mut backoff, keepalive).await;
        match outcome {
            Outcome::Stopped => return,
            Outcome::SessionEnded => {
                let _ = tx.send(PushEvent::SessionEnded).await;
                return;
            }
            Outcome::Dropped => {
                if tx.send(PushEvent::Disconnected { retry_in: backoff }).await.is_err() {
                    return;
                }
                tokio::select! {
                    biased;
                    _ = stop.changed() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

async fn connection(
    url: &str,
    token: &str,
    cursor: &mut i64,
    tx: &mpsc::Sender<PushEvent>,
    stop: &mut watch::Receiver<bool>,
    backoff: &mut Duration,
    keepalive: Keepalive,
) -> Outcome {
    let Ok(mut req) = format!("{url}?after={cursor}").into_client_request() else {
        return Outcome::Stopped;
    };
    let Ok(auth) = format!("Bearer {token}").parse() else { return Outcome::SessionEnded };
    req.headers_mut().insert("authorization", auth);
    let mut ws = match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => ws,
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) if resp.status().as_u16() == 401 => {
            return Outcome::SessionEnded;
        }
        Err(e) => {
            tracing::debug!(error = %e, "relay WebSocket connect failed");
            return Outcome::Dropped;
        }
    };
    *backoff = MIN_BACKOFF;
    if tx.send(PushEvent::Connected).await.is_err() {
        return Outcome::Stopped;
    }
    let mut ping = tokio::time::interval(keepalive.ping_every);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await;
    let mut heard = tokio::time::Instant::now();
    loop {
        let msg = tokio::select! {
            biased;
            _ = stop.changed() => {
                let _ = ws.close(None).await;
                return Outcome::Stopped;
            }
            msg = ws.next() => msg,
            _ = tokio::time::sleep_until(heard + keepalive.dead_after) => {
                tracing::info!("relay WebSocket silent for {:?}: reconnecting", keepalive.dead_after);
                return Outcome::Dropped;
            }
            _ = ping.tick() => {
                // Bounded: a send that cannot even be queued is a dead link.
                let sent = tokio::time::timeout(
                    keepalive.dead_after,
                    ws.send(Message::Ping(Default::default())),
                )
                .await;
                if !matches!(sent, Ok(Ok(()))) {
                    return Outcome::Dropped;
                }
                continue;
            }
        };
        heard = tokio::time::Instant::now();
        let text = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(frame))) => {
                let code = frame.map(|f| u16::from(f.code));
                return if matches!(code, Some(CLOSE_SESSION_REVOKED | CLOSE_ACCOUNT_DELETED)) {
                    Outcome::SessionEnded
                } else {
                    Outcome::Dropped
                };
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Outcome::Dropped,
        };
        let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else { continue };
        let ev = match v["type"].as_str() {
            Some("envelope") => {
                let (Some(seq), Some(env)) = (v["seq"].as_i64(), v["envelope"].as_str()) else {
                    continue;
                };
                let Ok(envelope) = B64.decode(env) else { continue };
                *cursor = (*cursor).max(seq);
                PushEvent::Item(MailboxItem { seq, envelope })
            }
            Some("key_packages_low") => {
                PushEvent::KeyPackagesLow(v["remaining"].as_i64().unwrap_or(0))
            }
            Some("session_revoked") => return Outcome::SessionEnded,
            Some("event") => match event_frame(&v) {
                Some(PushEvent::AccountDeleted) => {
                    // The relay closes the socket next; the session is gone.
                    let _ = tx.send(PushEvent::AccountDeleted).await;
                    let _ = ws.close(None).await;
                    return Outcome::Stopped;
                }
                Some(ev) => ev,
                None => continue,
            },
            _ => continue,
        };
        if tx.send(ev).await.is_err() {
            let _ = ws.send(Message::Close(None)).await;
            return Outcome::Stopped;
        }
    }
}
