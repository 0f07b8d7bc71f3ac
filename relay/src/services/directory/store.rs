//! The directory's storage: what anyone may look up about an account.

use sqlx::Row;

use crate::db::{SqlStore, StoreResult};
use crate::services::accounts::store::{AccountRow, account_columns, account_from};

/// Lookups of accounts by others. `Ok(None)` when there is no such account
/// (or avatar); `Err` means the database failed.
pub trait DirectoryStore: Send + Sync {
    /// The avatar of a username.
    fn avatar(
        &self,
        username: &str,
    ) -> impl Future<Output = StoreResult<Option<(Vec<u8>, String)>>> + Send;

    /// Discoverable accounts whose username starts with `query` or whose
    /// display name contains it (case-insensitive), by username.
    fn search(
        &self,
        query: &str,
        limit: i64,
        offset: i64,
    ) -> impl Future<Output = StoreResult<Vec<AccountRow>>> + Send;
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl DirectoryStore for SqlStore {
    async fn avatar(&self, username: &str) -> StoreResult<Option<(Vec<u8>, String)>> {
        let row = sqlx::query("SELECT avatar, avatar_type FROM accounts WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let bytes: Option<Vec<u8>> = row.try_get("avatar")?;
        let ty: Option<String> = row.try_get("avatar_type")?;
        Ok(bytes.zip(ty))
    }

    async fn search(&self, query: &str, limit: i64, offset: i64) -> StoreResult<Vec<AccountRow>> {
        let q = like_escape(&query.to_lowercase());
        let rows = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE discoverable = 1 AND \
             (username LIKE $1 ESCAPE '\\' OR LOWER(display_name) LIKE $2 ESCAPE '\\') \
             ORDER BY username LIMIT $3 OFFSET $4"
        ))
        .bind(format!("{q}%"))
        .bind(format!("%{q}%"))
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(account_from).collect::<Result<_, _>>()?)
    }
}
