//! The mailbox's storage: sealed envelopes per device, with sequence
//! numbers in commit order.

use sqlx::Row;

use crate::db::{SqlStore, StoreError, StoreResult};

/// An envelope waiting in a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxItem {
    /// Position in the device's mailbox; strictly increasing in commit order.
    pub seq: i64,
    /// The sealed envelope.
    pub envelope: Vec<u8>,
    /// Unix ms.
    pub received_at: i64,
}

/// The result of a put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PutOutcome {
    /// The item's sequence number.
    pub seq: i64,
    /// True if the same envelope was already there (nothing was added).
    pub duplicate: bool,
}

/// Mailbox quotas.
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    /// Items.
    pub max_items: i64,
    /// Bytes.
    pub max_bytes: i64,
}

/// Storage of mailboxes. `Err` means the database failed, or (for a put)
/// [`StoreError::NotFound`] for an unknown device and [`StoreError::Quota`]
/// for a full mailbox.
pub trait MailboxStore: Send + Sync {
    /// Puts an envelope in a device's mailbox. Idempotent by `digest`: the
    /// same envelope twice is stored once.
    fn put(
        &self,
        peer_id: &str,
        digest: &[u8],
        envelope: &[u8],
        now: i64,
        expires_at: i64,
        quota: Quota,
    ) -> impl Future<Output = StoreResult<PutOutcome>> + Send;

    /// Items after `after`, oldest first, at most `limit`, not expired.
    fn fetch(
        &self,
        peer_id: &str,
        after: i64,
        limit: i64,
        now: i64,
    ) -> impl Future<Output = StoreResult<Vec<MailboxItem>>> + Send;

    /// Deletes acknowledged items of a device; returns how many went.
    fn ack(&self, peer_id: &str, seqs: &[i64]) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Deletes expired items; returns how many went.
    fn sweep_mailboxes(&self, now: i64) -> impl Future<Output = StoreResult<u64>> + Send;
}

impl MailboxStore for SqlStore {
    async fn put(
        &self,
        peer_id: &str,
        digest: &[u8],
        envelope: &[u8],
        now: i64,
        expires_at: i64,
        quota: Quota,
    ) -> StoreResult<PutOutcome> {
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        // Taking the next sequence number locks the device's row: puts to one
        // mailbox commit in sequence order, so a reader never skips an item.
        let seq_row = sqlx::query(
            "UPDATE devices SET mailbox_seq = mailbox_seq + 1 WHERE peer_id = $1 RETURNING mailbox_seq",
        )
        .bind(peer_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(seq_row) = seq_row else { return Err(StoreError::NotFound("mailbox")) };
        let seq: i64 = seq_row.try_get("mailbox_seq")?;
        if let Some(existing) =
            sqlx::query("SELECT seq FROM mailbox WHERE device_peer_id = $1 AND digest = $2")
                .bind(peer_id)
                .bind(digest)
                .fetch_optional(&mut *tx)
                .await?
        {
            tx.rollback().await?;
            return Ok(PutOutcome { seq: existing.try_get("seq")?, duplicate: true });
        }
        let usage = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes \
             FROM mailbox WHERE device_peer_id = $1",
        )
        .bind(peer_id)
        .fetch_one(&mut *tx)
        .await?;
        let (n, bytes): (i64, i64) = (usage.try_get("n")?, usage.try_get("bytes")?);
        if n + 1 > quota.max_items {
            return Err(StoreError::Quota(format!("mailbox is full ({n} envelopes)")));
        }
        if bytes + envelope.len() as i64 > quota.max_bytes {
            return Err(StoreError::Quota(format!("mailbox is full ({bytes} bytes)")));
        }
        sqlx::query(
            "INSERT INTO mailbox (device_peer_id, seq, digest, envelope, size, received_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(peer_id)
        .bind(seq)
        .bind(digest)
        .bind(envelope)
        .bind(envelope.len() as i64)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(PutOutcome { seq, duplicate: false })
    }

    async fn fetch(
        &self,
        peer_id: &str,
        after: i64,
        limit: i64,
        now: i64,
    ) -> StoreResult<Vec<MailboxItem>> {
        let rows = sqlx::query(
            "SELECT seq, envelope, received_at FROM mailbox WHERE device_peer_id = $1 \
             AND seq > $2 AND expires_at > $3 ORDER BY seq LIMIT $4",
        )
        .bind(peer_id)
        .bind(after)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MailboxItem {
                    seq: r.try_get("seq")?,
                    envelope: r.try_get("envelope")?,
                    received_at: r.try_get("received_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    async fn ack(&self, peer_id: &str, seqs: &[i64]) -> StoreResult<u64> {
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let mut n = 0;
        for seq in seqs {
            n += sqlx::query("DELETE FROM mailbox WHERE device_peer_id = $1 AND seq = $2")
                .bind(peer_id)
                .bind(*seq)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn sweep_mailboxes(&self, now: i64) -> StoreResult<u64> {
        let _writer = self.write_guard().await;
        Ok(sqlx::query("DELETE FROM mailbox WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}
