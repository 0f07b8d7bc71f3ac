//! The key packages' storage: each device's stock, and its last-resort
//! package.

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::db::{Backend, SqlStore, StoreError, StoreResult, is_unique_violation};

/// A claimed key package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The KeyPackage (an encoded MLSMessage).
    pub key_package: Vec<u8>,
    /// Whether it is the device's last-resort package (not consumed).
    pub last_resort: bool,
    /// Ordinary packages left for the device.
    pub remaining: i64,
}

/// Storage of key packages. A claim returns `Ok(None)` when the device has
/// none; `Err` means the database failed, or [`StoreError::NotFound`] (an
/// unknown device), [`StoreError::Quota`] (too many) and
/// [`StoreError::Conflict`] (a package the device holds already, or one
/// twice in the upload; nothing is stored) for an upload.
pub trait KeyPackageStore: Send + Sync {
    /// Stores key packages for a device (each `(bytes, last_resort)`). A new
    /// last-resort package replaces the old one. Refuses to go over `max`,
    /// and refuses a package the device holds already (a package is handed
    /// out once).
    fn add_key_packages(
        &self,
        peer_id: &str,
        packages: &[(Vec<u8>, bool)],
        max: i64,
        now: i64,
    ) -> impl Future<Output = StoreResult<i64>> + Send;

    /// Ordinary key packages a device has left, and whether it has a last-resort one.
    fn key_package_count(
        &self,
        peer_id: &str,
    ) -> impl Future<Output = StoreResult<(i64, bool)>> + Send;

    /// Claims a key package of a device: an ordinary one (consumed) if any
    /// is left, else the last-resort one (kept).
    fn claim_key_package(
        &self,
        peer_id: &str,
    ) -> impl Future<Output = StoreResult<Option<Claimed>>> + Send;
}

impl KeyPackageStore for SqlStore {
    async fn add_key_packages(
        &self,
        peer_id: &str,
        packages: &[(Vec<u8>, bool)],
        max: i64,
        now: i64,
    ) -> StoreResult<i64> {
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        // Lock the device row first so concurrent uploads serialise.
        let locked = sqlx::query("UPDATE devices SET mailbox_seq = mailbox_seq WHERE peer_id = $1")
            .bind(peer_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if locked == 0 {
            return Err(StoreError::NotFound("device"));
        }
        if packages.iter().any(|(_, lr)| *lr) {
            sqlx::query("DELETE FROM key_packages WHERE device_peer_id = $1 AND last_resort = 1")
                .bind(peer_id)
                .execute(&mut *tx)
                .await?;
        }
        let have: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM key_packages WHERE device_peer_id = $1 AND last_resort = 0",
        )
        .bind(peer_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        let adding = packages.iter().filter(|(_, lr)| !*lr).count() as i64;
        if have + adding > max {
            return Err(StoreError::Quota(format!(
                "a device may hold {max} key packages; it has {have}"
            )));
        }
        for (kp, lr) in packages {
            let digest: [u8; 32] = Sha256::digest(kp).into();
            let inserted = sqlx::query(
                "INSERT INTO key_packages (device_peer_id, key_package, last_resort, created_at, \
                 digest) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(peer_id)
            .bind(kp)
            .bind(i64::from(*lr))
            .bind(now)
            .bind(digest.as_slice())
            .execute(&mut *tx)
            .await;
            match inserted {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::Conflict("key package"));
                }
                Err(e) => return Err(e.into()),
            }
        }
        tx.commit().await?;
        Ok(have + adding)
    }

    async fn key_package_count(&self, peer_id: &str) -> StoreResult<(i64, bool)> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(1 - last_resort), 0) AS BIGINT) AS n, \
             CAST(COALESCE(SUM(last_resort), 0) AS BIGINT) AS lr \
             FROM key_packages WHERE device_peer_id = $1",
        )
        .bind(peer_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get("n")?, row.try_get::<i64, _>("lr")? > 0))
    }

    async fn claim_key_package(&self, peer_id: &str) -> StoreResult<Option<Claimed>> {
        let _writer = self.write_guard().await;
        // On PostgreSQL concurrent claims skip rows another claim has
        // locked, so they never race for the same package (without it, a
        // claim that lost the race had to retry, and under many concurrent
        // claims could run out of retries). SQLite serialises writers.
        let take = match self.backend {
            Backend::Postgres => concat!(
                "DELETE FROM key_packages WHERE id = (SELECT id FROM key_packages ",
                "WHERE device_peer_id = $1 AND last_resort = 0 ORDER BY id LIMIT 1 ",
                "FOR UPDATE SKIP LOCKED) RETURNING key_package"
            ),
            Backend::Sqlite => concat!(
                "DELETE FROM key_packages WHERE id = (SELECT id FROM key_packages ",
                "WHERE device_peer_id = $1 AND last_resort = 0 ORDER BY id LIMIT 1) ",
                "RETURNING key_package"
            ),
        };
        for attempt in 1..=16u64 {
            let mut tx = self.pool.begin().await?;
            let taken = sqlx::query(take).bind(peer_id).fetch_optional(&mut *tx).await?;
            if let Some(row) = taken {
                let remaining: i64 = sqlx::query(
                    "SELECT COUNT(*) AS n FROM key_packages WHERE device_peer_id = $1 AND last_resort = 0",
                )
                .bind(peer_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
                tx.commit().await?;
                return Ok(Some(Claimed {
                    key_package: row.try_get("key_package")?,
                    last_resort: false,
                    remaining,
                }));
            }
            // Either none are left, or a concurrent claim took the one we
            // saw (PostgreSQL): check before falling back to last resort.
            let left: i64 = sqlx::query(
                "SELECT COUNT(*) AS n FROM key_packages WHERE device_peer_id = $1 AND last_resort = 0",
            )
            .bind(peer_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
            if left > 0 {
                tx.rollback().await?;
                // The claims holding them have not committed yet: give them
                // time (at most 136 ms in all) rather than spinning through
                // the tries before they do.
                tokio::time::sleep(std::time::Duration::from_millis(attempt)).await;
                continue;
            }
            let lr = sqlx::query(
                "SELECT key_package FROM key_packages WHERE device_peer_id = $1 AND last_resort = 1 \
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(peer_id)
            .fetch_optional(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(lr
                .map(|r| r.try_get("key_package"))
                .transpose()?
                .map(|key_package| Claimed { key_package, last_resort: true, remaining: 0 }));
        }
        Ok(None)
    }
}
