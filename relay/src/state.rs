//! The relay's shared state and the session logic every handler uses.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::api::{Info, InfoLimits, SessionToken};
use crate::auth::{self, Passwords};
use crate::config::RelayConfig;
use crate::error::{ApiError, ApiResult};
use crate::hub::Hub;
use crate::ratelimit::Limiter;
use crate::store::{SessionRow, Store};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A session is renewed (its expiry pushed back) at most this often, so
/// that authenticated requests do not each cost a database write.
pub const SESSION_RENEW_INTERVAL_MS: i64 = 60 * 60 * 1000;

/// The rate limiters.
#[derive(Debug)]
pub struct Limits {
    /// Login and registration attempts per IP.
    pub login_ip: Limiter<IpAddr>,
    /// Failed logins per username (also for names that do not exist).
    pub login_account: Limiter<String>,
    /// Mailbox puts per IP.
    pub put_ip: Limiter<IpAddr>,
    /// Directory searches, profile lookups and key-package claims per IP.
    pub lookup_ip: Limiter<IpAddr>,
}

/// Everything handlers share.
pub struct AppState {
    /// Storage.
    pub store: Store,
    /// Password hashing.
    pub passwords: Passwords,
    /// WebSocket fan-out.
    pub hub: Arc<Hub>,
    /// Configuration.
    pub config: RelayConfig,
    /// Rate limiters.
    pub limits: Limits,
    /// The relay's libp2p PeerId.
    pub peer_id: String,
    /// The relay's libp2p addresses, filled in as listeners come up.
    pub multiaddrs: RwLock<Vec<String>>,
    /// Flips to true at shutdown; WebSockets close.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Where blob bytes live (`<data_dir>/blobs`).
    pub blob_dir: PathBuf,
    /// Blobs with an upload in progress (one at a time per blob).
    pub uploading: Mutex<HashSet<String>>,
}

impl AppState {
    /// Builds the state.
    pub fn new(
        store: Store,
        config: RelayConfig,
        peer_id: String,
        shutdown: tokio::sync::watch::Receiver<bool>,
        blob_dir: PathBuf,
    ) -> ApiResult<Self> {
        let l = &config.limits;
        let minute = Duration::from_secs(60);
        let limits = Limits {
            login_ip: Limiter::new(l.logins_per_ip_per_minute, minute),
            login_account: Limiter::new(l.login_failures_per_account_per_minute, minute),
            put_ip: Limiter::new(l.puts_per_ip_per_second, Duration::from_secs(1)),
            lookup_ip: Limiter::new(l.lookups_per_ip_per_minute, minute),
        };
        Ok(Self {
            passwords: Passwords::new(l.max_concurrent_hashes)?,
            store,
            hub: Arc::new(Hub::default()),
            config,
            limits,
            peer_id,
            multiaddrs: RwLock::new(Vec::new()),
            shutdown,
            blob_dir,
            uploading: Mutex::new(HashSet::new()),
        })
    }

    /// The relay's description.
    pub fn info(&self) -> Info {
        let l = &self.config.limits;
        Info {
            software: "kovan-relay".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            protocol: 1,
            peer_id: self.peer_id.clone(),
            multiaddrs: self.multiaddrs.read().map(|m| m.clone()).unwrap_or_default(),
            limits: InfoLimits {
                max_envelope_bytes: kovan_spec::limits::MAX_SEALED_ENVELOPE,
                mailbox_max_items: l.mailbox_max_items,
                mailbox_max_bytes: l.mailbox_max_bytes,
                mailbox_ttl_secs: l.mailbox_ttl_secs,
                max_avatar_bytes: crate::api::MAX_AVATAR,
                max_key_packages: l.max_key_packages,
                blob_max_bytes: l.blob_max_bytes,
                blob_quota_bytes: l.blob_quota_bytes,
                blob_ttl_secs: l.blob_ttl_secs,
            },
        }
    }

    /// Opens a session for a device.
    pub async fn open_session(
        &self,
        account_id: i64,
        device: &str,
        user_agent: &str,
    ) -> ApiResult<SessionToken> {
        let (token, hash) = auth::new_token();
        let now = now_ms();
        let row = SessionRow {
            id: auth::random_id(),
            account_id,
            device_peer_id: device.to_owned(),
            token_hash: hash.to_vec(),
            created_at: now,
            last_used_at: now,
            expires_at: now + self.config.limits.session_ttl_secs * 1000,
            user_agent: user_agent.chars().take(128).collect(),
        };
        self.store.create_session(&row).await?;
        Ok(SessionToken {
            token,
            session_id: row.id,
            device_peer_id: row.device_peer_id,
            expires_at: row.expires_at,
        })
    }

    /// Resolves a bearer token to its live session, renewing it.
    pub async fn authenticate(&self, token: &str) -> ApiResult<SessionRow> {
        if token.is_empty() || token.len() > 128 {
            return Err(ApiError::unauthorized());
        }
        let now = now_ms();
        let mut s = self
            .store
            .session_by_token_hash(&auth::token_hash(token), now)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        if now - s.last_used_at > SESSION_RENEW_INTERVAL_MS {
            s.last_used_at = now;
            s.expires_at = now + self.config.limits.session_ttl_secs * 1000;
            self.store.touch_session(&s.id, now, s.expires_at).await?;
        }
        Ok(s)
    }

    /// Periodic cleanup: expired envelopes and sessions (closing the
    /// sockets of expired sessions).
    pub async fn sweep(&self) {
        let now = now_ms();
        match self.store.sweep_mailboxes(now).await {
            Ok(n) if n > 0 => tracing::info!(n, "expired envelopes deleted"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "mailbox sweep failed"),
        }
        match self.store.delete_expired_sessions(now).await {
            Ok(ids) if !ids.is_empty() => {
                tracing::info!(n = ids.len(), "expired sessions deleted");
                self.hub.revoke_sessions(&ids);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "session sweep failed"),
        }
        match self.store.sweep_blobs(now, 1000).await {
            Ok(ids) => {
                for id in &ids {
                    crate::blobs::remove_bytes(&self.blob_dir, id).await;
                }
                if !ids.is_empty() {
                    tracing::info!(n = ids.len(), "expired blobs deleted");
                }
            }
            Err(e) => tracing::warn!(error = %e, "blob sweep failed"),
        }
    }
}
