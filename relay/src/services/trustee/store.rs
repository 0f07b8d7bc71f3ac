//! The trustee service's storage: the shares of relay locks this relay
//! keeps, with their times (SPEC.md §6.10.6).

use sqlx::Row;

use crate::db::{SqlStore, StoreError, StoreResult, is_unique_violation};

/// A deposit to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeposit {
    /// 16 bytes.
    pub id: [u8; 16],
    /// The owner's account key.
    pub owner: [u8; 32],
    /// 33 bytes.
    pub share: [u8; 33],
    /// Not before (ms); 0 = not set.
    pub release_at_ms: i64,
    /// The silence that releases it (ms); 0 = not set.
    pub silence_ms: i64,
    /// The request's time.
    pub created_ms: i64,
}

/// What became of a deposit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deposited {
    /// Kept, due then.
    Kept {
        /// When it is due (ms).
        due_ms: i64,
    },
    /// The same deposit was kept before; due then.
    Again {
        /// When it is due (ms).
        due_ms: i64,
    },
}

/// A deposit's state as anyone who knows its id sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepositState {
    /// Not due yet.
    Waiting {
        /// When it is due, as things stand (ms).
        due_ms: i64,
    },
    /// Due: the share is handed out.
    Released {
        /// When it fell due (ms).
        due_ms: i64,
        /// 33 bytes.
        share: Vec<u8>,
    },
    /// Its owner cancelled it before it was due.
    Cancelled,
}

/// What a check-in or a cancellation did to one deposit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Waiting, due then (for a check-in: from now on).
    Waiting(i64),
    /// Cancelled (now or before).
    Cancelled,
    /// Already due: too late.
    Released,
    /// A check-in no later than one taken before.
    Stale,
    /// This relay keeps no such deposit of this owner.
    Unknown,
}

impl Outcome {
    /// The word the API answers with.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Waiting(_) => "waiting",
            Outcome::Cancelled => "cancelled",
            Outcome::Released => "released",
            Outcome::Stale => "stale",
            Outcome::Unknown => "unknown",
        }
    }
}

/// When a deposit is due: the later of its time and its owner's silence.
pub fn due(release_at_ms: i64, silence_ms: i64, last_heard_ms: i64) -> i64 {
    let silence = if silence_ms > 0 { last_heard_ms.saturating_add(silence_ms) } else { 0 };
    release_at_ms.max(silence)
}

/// Storage of deposits. `Err` means the database failed, or
/// [`StoreError::Conflict`] (another deposit has the id) and
/// [`StoreError::Quota`] (the owner keeps too many not yet due) for a
/// deposit. Times are the relay's clock, passed in.
pub trait TrusteeStore: Send + Sync {
    /// Keeps a deposit, unless its owner has `max` not yet due.
    fn deposit(
        &self,
        d: &NewDeposit,
        max: i64,
        now: i64,
    ) -> impl Future<Output = StoreResult<Deposited>> + Send;

    /// The owner is still there at `created_ms`: each of its deposits not
    /// yet due counts its silence from `min(created_ms, now)`.
    fn check_in(
        &self,
        owner: &[u8; 32],
        ids: &[[u8; 16]],
        created_ms: i64,
        now: i64,
    ) -> impl Future<Output = StoreResult<Vec<Outcome>>> + Send;

    /// Forgets the owner's shares not yet due.
    fn cancel(
        &self,
        owner: &[u8; 32],
        ids: &[[u8; 16]],
        created_ms: i64,
        now: i64,
    ) -> impl Future<Output = StoreResult<Vec<Outcome>>> + Send;

    /// A deposit's state; `None` if there is none.
    fn fetch(
        &self,
        id: &[u8; 16],
        now: i64,
    ) -> impl Future<Output = StoreResult<Option<DepositState>>> + Send;

    /// Deletes shares due, and ids cancelled, longer than `keep_ms` ago;
    /// how many.
    fn sweep_deposits(
        &self,
        now: i64,
        keep_ms: i64,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
}

/// A deposit's row: owner, share, release, silence, last heard, last
/// request, due, state.
struct Held {
    owner: Vec<u8>,
    share: Option<Vec<u8>>,
    release_at_ms: i64,
    silence_ms: i64,
    last_request_ms: i64,
    due_ms: i64,
    cancelled: bool,
}

async fn row<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    e: E,
    id: &[u8; 16],
) -> StoreResult<Option<Held>> {
    let r = sqlx::query(
        "SELECT owner, share, release_at_ms, silence_ms, last_request_ms, due_ms, state \
         FROM trustee_deposits WHERE id = $1",
    )
    .bind(id.as_slice())
    .fetch_optional(e)
    .await?;
    let Some(r) = r else { return Ok(None) };
    Ok(Some(Held {
        owner: r.try_get("owner")?,
        share: r.try_get("share")?,
        release_at_ms: r.try_get("release_at_ms")?,
        silence_ms: r.try_get("silence_ms")?,
        last_request_ms: r.try_get("last_request_ms")?,
        due_ms: r.try_get("due_ms")?,
        cancelled: r.try_get::<String, _>("state")? == "cancelled",
    }))
}

/// What a check-in or cancellation gets for a deposit it cannot change:
/// not the owner's (or none), cancelled, or due already; else the row.
fn changeable(r: Option<Held>, owner: &[u8; 32], now: i64) -> Result<Held, Outcome> {
    match r {
        Some(r) if r.owner != owner => Err(Outcome::Unknown),
        None => Err(Outcome::Unknown),
        Some(r) if r.cancelled => Err(Outcome::Cancelled),
        Some(r) if r.due_ms <= now => Err(Outcome::Released),
        Some(r) => Ok(r),
    }
}

impl TrusteeStore for SqlStore {
    async fn deposit(&self, d: &NewDeposit, max: i64, now: i64) -> StoreResult<Deposited> {
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        if let Some(old) = row(&mut *tx, &d.id).await? {
            let same = old.owner == d.owner
                && old.share.as_deref() == Some(d.share.as_slice())
                && old.release_at_ms == d.release_at_ms
                && old.silence_ms == d.silence_ms;
            return if same {
                Ok(Deposited::Again { due_ms: old.due_ms })
            } else {
                Err(StoreError::Conflict("deposit"))
            };
        }
        let live: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM trustee_deposits WHERE owner = $1 AND due_ms > $2 \
             AND state = 'held'",
        )
        .bind(d.owner.as_slice())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if live >= max {
            return Err(StoreError::Quota(format!(
                "an account may leave {max} shares not yet due with this relay"
            )));
        }
        let heard = d.created_ms.min(now);
        let due_ms = due(d.release_at_ms, d.silence_ms, heard);
        let inserted = sqlx::query(
            "INSERT INTO trustee_deposits (id, owner, share, release_at_ms, silence_ms, \
             last_heard_ms, last_request_ms, due_ms, state, changed_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'held', $9)",
        )
        .bind(d.id.as_slice())
        .bind(d.owner.as_slice())
        .bind(d.share.as_slice())
        .bind(d.release_at_ms)
        .bind(d.silence_ms)
        .bind(heard)
        .bind(d.created_ms)
        .bind(due_ms)
        .bind(now)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict("deposit")),
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        Ok(Deposited::Kept { due_ms })
    }

    async fn check_in(
        &self,
        owner: &[u8; 32],
        ids: &[[u8; 16]],
        created_ms: i64,
        now: i64,
    ) -> StoreResult<Vec<Outcome>> {
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let outcome = match changeable(row(&mut *tx, id).await?, owner, now) {
                Err(o) => o,
                Ok(r) if created_ms <= r.last_request_ms => Outcome::Stale,
                Ok(r) => {
                    let heard = created_ms.min(now);
                    let due_ms = due(r.release_at_ms, r.silence_ms, heard);
                    // Only a silence moves; a check-in never brings it back.
                    let due_ms = due_ms.max(r.due_ms);
                    // Only if no later request was taken meanwhile (two
                    // check-ins at once on PostgreSQL): the later one wins.
                    let moved = sqlx::query(
                        "UPDATE trustee_deposits SET last_heard_ms = $2, last_request_ms = $3, \
                         due_ms = $4, changed_ms = $5 WHERE id = $1 AND last_request_ms < $3 \
                         AND state = 'held'",
                    )
                    .bind(id.as_slice())
                    .bind(heard)
                    .bind(created_ms)
                    .bind(due_ms)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if moved == 1 { Outcome::Waiting(due_ms) } else { Outcome::Stale }
                }
            };
            out.push(outcome);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn cancel(
        &self,
        owner: &[u8; 32],
        ids: &[[u8; 16]],
        created_ms: i64,
        now: i64,
    ) -> StoreResult<Vec<Outcome>> {
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let outcome = match changeable(row(&mut *tx, id).await?, owner, now) {
                Err(o) => o,
                Ok(_) => {
                    sqlx::query(
                        "UPDATE trustee_deposits SET share = NULL, state = 'cancelled', \
                         last_request_ms = $2, changed_ms = $3 WHERE id = $1",
                    )
                    .bind(id.as_slice())
                    .bind(created_ms)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    Outcome::Cancelled
                }
            };
            out.push(outcome);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn fetch(&self, id: &[u8; 16], now: i64) -> StoreResult<Option<DepositState>> {
        Ok(row(&self.pool, id).await?.map(|r| match (r.cancelled, r.share) {
            (false, Some(share)) if r.due_ms <= now => {
                DepositState::Released { due_ms: r.due_ms, share }
            }
            (false, Some(_)) => DepositState::Waiting { due_ms: r.due_ms },
            _ => DepositState::Cancelled,
        }))
    }

    async fn sweep_deposits(&self, now: i64, keep_ms: i64) -> StoreResult<u64> {
        let _writer = self.write_guard().await;
        let cut = now.saturating_sub(keep_ms);
        Ok(sqlx::query(
            "DELETE FROM trustee_deposits WHERE (state = 'held' AND due_ms < $1) \
             OR (state = 'cancelled' AND changed_ms < $1)",
        )
        .bind(cut)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }
}
