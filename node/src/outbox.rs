//! The outbox: sealed envelopes waiting to be delivered.
//!
//! An envelope is stored before the first attempt and deleted only after an
//! acknowledgement (the recipient's `ACCEPTED`, or the relay's mailbox
//! accepting it). Failed attempts back off exponentially from
//! [`FIRST_RETRY_MS`] to [`MAX_RETRY_MS`]. A crash at any point loses
//! nothing; it can only cause a duplicate, which receivers drop.

use rusqlite::params;

use crate::Result;
use crate::store::Database;

/// Delay after the first failure.
pub const FIRST_RETRY_MS: i64 = 1_000;
/// Longest delay between attempts: five minutes, so a peer that comes back
/// online gets its messages soon even after a long outage.
pub const MAX_RETRY_MS: i64 = 5 * 60 * 1000;

/// An envelope waiting to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// Local id.
    pub id: i64,
    /// The recipient device's PeerId.
    pub recipient_device: String,
    /// The sealed envelope.
    pub envelope: Vec<u8>,
    /// The conversation, if it carries a message.
    pub conversation_id: Option<Vec<u8>>,
    /// The message it carries, for state updates.
    pub message_id: Option<Vec<u8>>,
    /// Attempts so far.
    pub attempts: i64,
}

/// The delay before attempt `attempts + 1`.
pub fn backoff(attempts: i64) -> i64 {
    let shift = attempts.clamp(0, 20) as u32;
    FIRST_RETRY_MS.saturating_mul(1i64 << shift).min(MAX_RETRY_MS)
}

/// The outbox over the node database.
#[derive(Debug)]
pub struct Outbox<'a> {
    db: &'a Database,
}

impl<'a> Outbox<'a> {
    /// The outbox in `db`.
    pub fn new(db: &'a Database) -> Self {
        Self { db }
    }

    /// Stores an envelope to send now; returns its id.
    pub fn enqueue(
        &self,
        recipient_device: &str,
        envelope: &[u8],
        conversation_id: Option<&[u8]>,
        message_id: Option<&[u8]>,
        now: i64,
    ) -> Result<i64> {
        let conn = self.db.conn();
        // Behind anything already waiting for this recipient: order is kept.
        conn.execute(
            "INSERT INTO outbox (recipient_device, envelope, conversation_id, message_id, created_at, next_attempt_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, MAX(?5, COALESCE((SELECT MAX(next_attempt_at) FROM outbox \
             WHERE recipient_device = ?1), ?5)))",
            params![recipient_device, envelope, conversation_id, message_id, now],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Items due at `now`, oldest first.
    pub fn due(&self, now: i64, limit: usize) -> Result<Vec<OutboxItem>> {
        let mut stmt = self.db.conn().prepare_cached(
            "SELECT id, recipient_device, envelope, conversation_id, message_id, attempts FROM outbox \
             WHERE next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![now, limit as i64], |r| {
            Ok(OutboxItem {
                id: r.get(0)?,
                recipient_device: r.get(1)?,
                envelope: r.get(2)?,
                conversation_id: r.get(3)?,
                message_id: r.get(4)?,
                attempts: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The oldest item of each recipient, where it is due at `now`: what
    /// may be sent without overtaking anything (SPEC.md §7.5).
    pub fn heads_due(&self, now: i64, limit: usize) -> Result<Vec<OutboxItem>> {
        let mut stmt = self.db.conn().prepare_cached(
            "SELECT id, recipient_device, envelope, conversation_id, message_id, attempts FROM outbox \
             WHERE id IN (SELECT MIN(id) FROM outbox GROUP BY recipient_device) \
             AND next_attempt_at <= ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![now, limit as i64], |r| {
            Ok(OutboxItem {
                id: r.get(0)?,
                recipient_device: r.get(1)?,
                envelope: r.get(2)?,
                conversation_id: r.get(3)?,
                message_id: r.get(4)?,
                attempts: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The oldest items for `recipient` due at `now`, up to `max_items`
    /// and about `max_bytes` (at least one): one batch (SPEC.md §7.2).
    pub fn batch_for(
        &self,
        recipient: &str,
        now: i64,
        max_items: usize,
        max_bytes: usize,
    ) -> Result<Vec<OutboxItem>> {
        let mut stmt = self.db.conn().prepare_cached(
            "SELECT id, recipient_device, envelope, conversation_id, message_id, attempts FROM outbox \
             WHERE recipient_device = ?1 AND next_attempt_at <= ?2 ORDER BY id LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![recipient, now, max_items as i64], |r| {
            Ok(OutboxItem {
                id: r.get(0)?,
                recipient_device: r.get(1)?,
                envelope: r.get(2)?,
                conversation_id: r.get(3)?,
                message_id: r.get(4)?,
                attempts: r.get(5)?,
            })
        })?;
        let mut out = Vec::new();
        let mut bytes = 0;
        for row in rows {
            let item = row?;
            bytes += item.envelope.len();
            if !out.is_empty() && bytes > max_bytes {
                break;
            }
            out.push(item);
        }
        Ok(out)
    }

    /// An attempt to reach `recipient` failed: everything for it waits,
    /// backing off from the failed item's attempt count.
    pub fn defer_recipient(&self, recipient: &str, failed_id: i64, now: i64) -> Result<()> {
        let conn = self.db.conn();
        conn.execute(
            "UPDATE outbox SET attempts = attempts + 1 WHERE id = ?1",
            params![failed_id],
        )?;
        let attempts: i64 =
            conn.query_row("SELECT attempts FROM outbox WHERE id = ?1", params![failed_id], |r| {
                r.get(0)
            })?;
        conn.execute(
            "UPDATE outbox SET next_attempt_at = ?2 WHERE recipient_device = ?1",
            params![recipient, now + backoff(attempts - 1)],
        )?;
        Ok(())
    }

    /// `recipient` is reachable again: try its items now.
    pub fn retry_now(&self, recipient: &str, now: i64) -> Result<bool> {
        let n = self.db.conn().execute(
            "UPDATE outbox SET next_attempt_at = ?2 WHERE recipient_device = ?1 AND next_attempt_at > ?2",
            params![recipient, now],
        )?;
        Ok(n > 0)
    }

    /// Whether a conversation's direct-only payload waits for a device
    /// (its queues end in `#direct`, SPEC.md §7.8).
    pub fn waits_directly(&self, conversation: &[u8]) -> Result<bool> {
        Ok(self.db.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE conversation_id = ?1 \
             AND recipient_device LIKE '%#direct')",
            params![conversation],
            |r| r.get(0),
        )?)
    }

    /// Whether copies of a message still wait to be delivered.
    pub fn holds_message(&self, conversation: &[u8], message_id: &[u8; 16]) -> Result<bool> {
        Ok(self.db.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE conversation_id = ?1 AND message_id = ?2)",
            params![conversation, message_id.as_slice()],
            |r| r.get(0),
        )?)
    }

    /// Items waiting for `recipient`.
    pub fn pending_for(&self, recipient: &str) -> Result<i64> {
        Ok(self.db.conn().query_row(
            "SELECT COUNT(*) FROM outbox WHERE recipient_device = ?1",
            params![recipient],
            |r| r.get(0),
        )?)
    }

    /// One item by id.
    pub fn get(&self, id: i64) -> Result<Option<OutboxItem>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .db
            .conn()
            .query_row(
                "SELECT id, recipient_device, envelope, conversation_id, message_id, attempts \
                 FROM outbox WHERE id = ?1",
                params![id],
                |r| {
                    Ok(OutboxItem {
                        id: r.get(0)?,
                        recipient_device: r.get(1)?,
                        envelope: r.get(2)?,
                        conversation_id: r.get(3)?,
                        message_id: r.get(4)?,
                        attempts: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    /// When the next item is due, if any.
    pub fn next_due(&self) -> Result<Option<i64>> {
        Ok(self.db.conn().query_row("SELECT MIN(next_attempt_at) FROM outbox", [], |r| r.get(0))?)
    }

    /// The item was acknowledged: forget it.
    pub fn delivered(&self, id: i64) -> Result<()> {
        self.db.conn().execute("DELETE FROM outbox WHERE id = ?1", params![id])?;
        Ok(())
    }

    /// An attempt failed: try again later.
    pub fn failed(&self, id: i64, now: i64) -> Result<()> {
        self.db.conn().execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2 + \
             MIN(?3 * (1 << MIN(attempts, 20)), ?4) WHERE id = ?1",
            params![id, now, FIRST_RETRY_MS, MAX_RETRY_MS],
        )?;
        Ok(())
    }

    /// Items waiting.
    pub fn len(&self) -> Result<i64> {
        Ok(self.db.conn().query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?)
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(0), 1_000);
        assert_eq!(backoff(1), 2_000);
        assert_eq!(backoff(5), 32_000);
        assert_eq!(backoff(30), MAX_RETRY_MS);
        assert_eq!(backoff(-3), 1_000);
    }

    #[test]
    fn items_wait_back_off_and_survive_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let db = Database::open(&path).unwrap();
            let out = Outbox::new(&db);
            let a = out.enqueue("peer-a", b"env-a", Some(b"conv"), Some(&[1; 16]), 100).unwrap();
            let b = out.enqueue("peer-b", b"env-b", None, None, 100).unwrap();
            let due = out.due(100, 10).unwrap();
            assert_eq!(due.iter().map(|i| i.id).collect::<Vec<_>>(), vec![a, b]);
            out.failed(a, 100).unwrap();
            // a waits one second; b is still due.
            assert_eq!(out.due(100, 10).unwrap().iter().map(|i| i.id).collect::<Vec<_>>(), vec![b]);
            assert_eq!(out.next_due().unwrap(), Some(100));
            out.delivered(b).unwrap();
            assert_eq!(out.next_due().unwrap(), Some(100 + backoff(0)));
            out.failed(a, 1_100).unwrap();
            assert!(out.due(1_100 + backoff(1) - 1, 10).unwrap().is_empty());
        }
        // After a restart the undelivered item is still there, with its history.
        let db = Database::open(&path).unwrap();
        let out = Outbox::new(&db);
        assert_eq!(out.len().unwrap(), 1);
        let due = out.due(i64::MAX, 10).unwrap();
        assert_eq!(due[0].envelope, b"env-a");
        assert_eq!(due[0].attempts, 2);
        assert_eq!(due[0].message_id.as_deref(), Some(&[1u8; 16][..]));
    }
}
