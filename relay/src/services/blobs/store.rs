//! The blob store's rows: each blob's size, bytes stored and expiry, and
//! every account's charge (its bytes live in files, see `files.rs`).

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{SqlStore, StoreError, StoreResult, is_unique_violation};

/// A blob: the ciphertext of one file (SPEC.md §9.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRow {
    /// 16 random bytes, lower-case hex.
    pub id: String,
    /// Uploader.
    pub account_id: i64,
    /// Announced size, bytes.
    pub size: i64,
    /// Bytes stored durably.
    pub received: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub expires_at: i64,
    /// Its uploader withdrew it: no bytes, size refunded, reads get 410.
    pub withdrawn: bool,
}

impl BlobRow {
    /// Whether every byte has arrived.
    pub fn complete(&self) -> bool {
        self.received == self.size
    }
}

/// Storage of blob rows. Lookups return `Ok(None)` when there is no such
/// (live) blob; `Err` means the database failed, or [`StoreError::Quota`]
/// and [`StoreError::Conflict`] when a blob cannot be created.
pub trait BlobStore: Send + Sync {
    /// Records a new blob, charging its size to the account: refused with
    /// [`StoreError::Quota`] if the account's blobs would exceed `quota`
    /// bytes. The charge is one conditional `UPDATE` of the account row, so
    /// concurrent creations cannot overshoot it on either backend.
    fn create_blob(
        &self,
        blob: &BlobRow,
        quota: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// A blob that has not expired.
    fn blob(&self, id: &str, now: i64)
    -> impl Future<Output = StoreResult<Option<BlobRow>>> + Send;

    /// Records how many bytes of a blob are stored durably.
    fn set_blob_received(
        &self,
        id: &str,
        received: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Withdraws a blob of `account_id`: it keeps its row (reads answer
    /// 410) until it expires, and its size is refunded; false if there was
    /// none, or it was withdrawn already.
    fn withdraw_blob(
        &self,
        account_id: i64,
        id: &str,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Deletes a blob of `account_id` and refunds its size (unless it was
    /// withdrawn, which refunded it); false if there was none.
    fn delete_blob(
        &self,
        account_id: i64,
        id: &str,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// The ids of an account's blobs (to remove their bytes with the account).
    fn blob_ids_of(&self, account_id: i64)
    -> impl Future<Output = StoreResult<Vec<String>>> + Send;

    /// Deletes up to `limit` expired blobs, refunding their accounts;
    /// returns their ids so their bytes can be removed.
    fn sweep_blobs(
        &self,
        now: i64,
        limit: i64,
    ) -> impl Future<Output = StoreResult<Vec<String>>> + Send;

    /// Bytes an account's blobs are charged.
    fn blob_usage(&self, account_id: i64) -> impl Future<Output = StoreResult<i64>> + Send;
}

fn blob_from(r: &AnyRow) -> Result<BlobRow, sqlx::Error> {
    Ok(BlobRow {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        size: r.try_get("size")?,
        received: r.try_get("received")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        withdrawn: r.try_get::<i64, _>("withdrawn")? != 0,
    })
}

/// Takes `size` bytes off an account's blob charge.
async fn refund(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    account_id: i64,
    size: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET blob_bytes = blob_bytes - $1 WHERE id = $2")
        .bind(size)
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl BlobStore for SqlStore {
    async fn create_blob(&self, blob: &BlobRow, quota: i64) -> StoreResult<()> {
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let charged = sqlx::query(
            "UPDATE accounts SET blob_bytes = blob_bytes + $1 \
             WHERE id = $2 AND blob_bytes + $1 <= $3 RETURNING blob_bytes",
        )
        .bind(blob.size)
        .bind(blob.account_id)
        .bind(quota)
        .fetch_optional(&mut *tx)
        .await?;
        if charged.is_none() {
            return Err(StoreError::Quota(format!(
                "the account's blobs would exceed {quota} bytes"
            )));
        }
        match sqlx::query(
            "INSERT INTO blobs (id, account_id, size, received, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&blob.id)
        .bind(blob.account_id)
        .bind(blob.size)
        .bind(blob.received)
        .bind(blob.created_at)
        .bind(blob.expires_at)
        .execute(&mut *tx)
        .await
        {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict("blob")),
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        Ok(())
    }

    async fn blob(&self, id: &str, now: i64) -> StoreResult<Option<BlobRow>> {
        let row = sqlx::query("SELECT * FROM blobs WHERE id = $1 AND expires_at > $2")
            .bind(id)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(blob_from).transpose()?)
    }

    async fn set_blob_received(&self, id: &str, received: i64) -> StoreResult<()> {
        let _writer = self.write_guard().await;
        sqlx::query("UPDATE blobs SET received = $1 WHERE id = $2 AND received <= $1")
            .bind(received)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_blob(&self, account_id: i64, id: &str) -> StoreResult<bool> {
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "DELETE FROM blobs WHERE id = $1 AND account_id = $2 RETURNING size, withdrawn",
        )
        .bind(id)
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(false) };
        // A withdrawn blob's size was refunded when it was withdrawn.
        let withdrawn: i64 = row.try_get("withdrawn")?;
        let size: i64 = if withdrawn != 0 { 0 } else { row.try_get("size")? };
        refund(&mut tx, account_id, size).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn withdraw_blob(&self, account_id: i64, id: &str) -> StoreResult<bool> {
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "UPDATE blobs SET withdrawn = 1, received = 0 \
             WHERE id = $1 AND account_id = $2 AND withdrawn = 0 RETURNING size",
        )
        .bind(id)
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(false) };
        let size: i64 = row.try_get("size")?;
        refund(&mut tx, account_id, size).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn blob_ids_of(&self, account_id: i64) -> StoreResult<Vec<String>> {
        let rows = sqlx::query("SELECT id FROM blobs WHERE account_id = $1")
            .bind(account_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>().map_err(Into::into)
    }

    async fn sweep_blobs(&self, now: i64, limit: i64) -> StoreResult<Vec<String>> {
        let expired = sqlx::query(
            "SELECT id, account_id FROM blobs WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut ids = Vec::with_capacity(expired.len());
        for r in &expired {
            let id: String = r.try_get("id")?;
            if self.delete_blob(r.try_get("account_id")?, &id).await? {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    async fn blob_usage(&self, account_id: i64) -> StoreResult<i64> {
        let row = sqlx::query("SELECT blob_bytes FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("blob_bytes")).transpose()?.unwrap_or(0))
    }
}
