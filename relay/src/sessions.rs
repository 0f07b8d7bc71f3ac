//! Sessions: the bearer tokens every authenticated route checks.
//!
//! A session belongs to one device of an account; the relay keeps only the
//! SHA-256 of its token ([`crate::auth`]). Sessions sit below the services:
//! the accounts service opens and lists them (register, login, logout,
//! revoke), and every service authenticates its callers with them through
//! [`crate::http::Authed`].

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

use crate::auth;
use crate::db::{SqlStore, StoreResult};
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, now_ms};

/// A session is renewed (its expiry pushed back) at most this often, so
/// that authenticated requests do not each cost a database write.
pub const SESSION_RENEW_INTERVAL_MS: i64 = 60 * 60 * 1000;

/// A session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// Public id.
    pub id: String,
    /// Owner.
    pub account_id: i64,
    /// The device it was opened for.
    pub device_peer_id: String,
    /// SHA-256 of the token.
    pub token_hash: Vec<u8>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub last_used_at: i64,
    /// Unix ms.
    pub expires_at: i64,
    /// Client description.
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

/// Storage of sessions. Lookups return `Ok(None)` when there is no such
/// (live) session; `Err` means the database failed.
pub trait SessionStore: Send + Sync {
    /// Stores a new session.
    fn create_session(&self, s: &SessionRow) -> impl Future<Output = StoreResult<()>> + Send;

    /// The live (unexpired) session with this token hash.
    fn session_by_token_hash(
        &self,
        hash: &[u8],
        now: i64,
    ) -> impl Future<Output = StoreResult<Option<SessionRow>>> + Send;

    /// Slides a session's expiry.
    fn touch_session(
        &self,
        id: &str,
        now: i64,
        expires_at: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// An account's live sessions, newest first.
    fn sessions_of(
        &self,
        account_id: i64,
        now: i64,
    ) -> impl Future<Output = StoreResult<Vec<SessionRow>>> + Send;

    /// Deletes one of an account's sessions; false if it had no such session.
    fn delete_session(
        &self,
        account_id: i64,
        id: &str,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Deletes every session of an account but `keep`; returns their ids.
    fn delete_other_sessions(
        &self,
        account_id: i64,
        keep: &str,
    ) -> impl Future<Output = StoreResult<Vec<String>>> + Send;

    /// Deletes expired sessions; returns their ids.
    fn delete_expired_sessions(
        &self,
        now: i64,
    ) -> impl Future<Output = StoreResult<Vec<String>>> + Send;
}

fn session_from(r: &AnyRow) -> Result<SessionRow, sqlx::Error> {
    Ok(SessionRow {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        device_peer_id: r.try_get("device_peer_id")?,
        token_hash: r.try_get("token_hash")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
        expires_at: r.try_get("expires_at")?,
        user_agent: r.try_get("user_agent")?,
    })
}

impl SessionStore for SqlStore {
    async fn create_session(&self, s: &SessionRow) -> StoreResult<()> {
        let _writer = self.write_guard().await;
        sqlx::query(
            "INSERT INTO sessions (id, account_id, device_peer_id, token_hash, created_at, \
             last_used_at, expires_at, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&s.id)
        .bind(s.account_id)
        .bind(&s.device_peer_id)
        .bind(&s.token_hash)
        .bind(s.created_at)
        .bind(s.last_used_at)
        .bind(s.expires_at)
        .bind(&s.user_agent)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session_by_token_hash(
        &self,
        hash: &[u8],
        now: i64,
    ) -> StoreResult<Option<SessionRow>> {
        let row = sqlx::query(
            "SELECT id, account_id, device_peer_id, token_hash, created_at, last_used_at, \
             expires_at, user_agent FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(session_from).transpose()?)
    }

    async fn touch_session(&self, id: &str, now: i64, expires_at: i64) -> StoreResult<()> {
        let _writer = self.write_guard().await;
        sqlx::query("UPDATE sessions SET last_used_at = $1, expires_at = $2 WHERE id = $3")
            .bind(now)
            .bind(expires_at)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn sessions_of(&self, account_id: i64, now: i64) -> StoreResult<Vec<SessionRow>> {
        let rows = sqlx::query(
            "SELECT id, account_id, device_peer_id, token_hash, created_at, last_used_at, \
             expires_at, user_agent FROM sessions WHERE account_id = $1 AND expires_at > $2 \
             ORDER BY created_at DESC, id",
        )
        .bind(account_id)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(session_from).collect::<Result<_, _>>()?)
    }

    async fn delete_session(&self, account_id: i64, id: &str) -> StoreResult<bool> {
        let _writer = self.write_guard().await;
        let n = sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND id = $2")
            .bind(account_id)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    async fn delete_other_sessions(&self, account_id: i64, keep: &str) -> StoreResult<Vec<String>> {
        let _writer = self.write_guard().await;
        let rows =
            sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND id <> $2 RETURNING id")
                .bind(account_id)
                .bind(keep)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?)
    }

    async fn delete_expired_sessions(&self, now: i64) -> StoreResult<Vec<String>> {
        let _writer = self.write_guard().await;
        let rows = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 RETURNING id")
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?)
    }
}

/// Opens a session for a device.
pub async fn open(
    st: &AppState,
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
        expires_at: now + st.config.limits.session_ttl_secs * 1000,
        user_agent: user_agent.chars().take(128).collect(),
    };
    st.store.create_session(&row).await?;
    Ok(SessionToken {
        token,
        session_id: row.id,
        device_peer_id: row.device_peer_id,
        expires_at: row.expires_at,
    })
}

/// Resolves a bearer token to its live session, renewing it.
pub async fn authenticate(st: &AppState, token: &str) -> ApiResult<SessionRow> {
    if token.is_empty() || token.len() > 128 {
        return Err(ApiError::unauthorized());
    }
    let now = now_ms();
    let mut s = st
        .store
        .session_by_token_hash(&auth::token_hash(token), now)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    if now - s.last_used_at > SESSION_RENEW_INTERVAL_MS {
        s.last_used_at = now;
        s.expires_at = now + st.config.limits.session_ttl_secs * 1000;
        st.store.touch_session(&s.id, now, s.expires_at).await?;
    }
    Ok(s)
}

/// Deletes expired sessions, closing their sockets.
pub async fn sweep(st: &AppState, now: i64) {
    match st.store.delete_expired_sessions(now).await {
        Ok(ids) if !ids.is_empty() => {
            tracing::info!(n = ids.len(), "expired sessions deleted");
            st.hub.revoke_sessions(&ids);
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "session sweep failed"),
    }
}
