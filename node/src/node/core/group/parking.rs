//! Parking (SPEC.md §7.6.5): messages for an epoch this device has not
//! reached yet wait in `group_parked` and are replayed after each commit.

use kovan_crypto::envelope::{Opened, PayloadKind};
use kovan_crypto::identity::DeviceCertificate;
use rusqlite::params;
use sha2::{Digest, Sha256};

use super::super::{Core, Fail, now_ms};
use crate::groups::MAX_PARKED;

/// Parked messages older than this are dropped (a week: mailboxes keep
/// envelopes as long).
const PARK_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

impl Core {
    pub(in crate::node::core) fn park(
        &mut self,
        o: &Opened,
        gid: &[u8],
        epoch: u64,
    ) -> Result<(), Fail> {
        let now = now_ms();
        let conn = self.db.conn();
        conn.execute("DELETE FROM group_parked WHERE parked_at < ?1", params![now - PARK_TTL_MS])?;
        let n: i64 = conn.query_row(
            "SELECT COUNT(*) FROM group_parked WHERE group_id = ?1",
            params![gid],
            |r| r.get(0),
        )?;
        if n >= MAX_PARKED {
            return Err(Fail::Later("too many messages waiting for this group".into()));
        }
        let digest: [u8; 32] = Sha256::digest(&o.payload).into();
        conn.execute(
            "INSERT OR IGNORE INTO group_parked (digest, group_id, epoch, sender, envelope_id, \
             timestamp_ms, payload, parked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                digest.as_slice(),
                gid,
                epoch as i64,
                o.sender.encoded(),
                o.envelope_id.as_slice(),
                o.timestamp_ms as i64,
                o.payload,
                now
            ],
        )?;
        tracing::debug!(epoch, "parked a group message for a later epoch");
        Ok(())
    }

    /// Applies parked messages whose epoch the group has reached.
    pub(in crate::node::core) fn replay_parked(&mut self, gid: &[u8]) -> Result<(), Fail> {
        if self.replaying {
            return Ok(());
        }
        self.replaying = true;
        let result = self.replay_rounds(gid);
        self.replaying = false;
        result
    }

    pub(in crate::node::core) fn replay_rounds(&mut self, gid: &[u8]) -> Result<(), Fail> {
        type Row = (Vec<u8>, Vec<u8>, Vec<u8>, i64, Vec<u8>);
        for _round in 0..64 {
            let Ok(current) = self.mls.epoch(gid) else { return Ok(()) };
            let mut stmt = self.db.conn().prepare(
                "SELECT digest, sender, envelope_id, timestamp_ms, payload FROM group_parked \
                 WHERE group_id = ?1 AND epoch <= ?2 ORDER BY epoch, parked_at",
            )?;
            let rows: Vec<Row> = stmt
                .query_map(params![gid, current as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            drop(stmt);
            if rows.is_empty() {
                return Ok(());
            }
            for (digest, sender, envelope_id, ts, payload) in rows {
                self.db
                    .conn()
                    .execute("DELETE FROM group_parked WHERE digest = ?1", params![digest])?;
                let (Ok(sender), Ok(envelope_id)) =
                    (DeviceCertificate::parse(&sender), <[u8; 16]>::try_from(envelope_id))
                else {
                    continue;
                };
                let contact = self.contacts_store().get(sender.account().as_bytes())?;
                if contact.as_ref().is_some_and(|c| c.blocked) {
                    continue;
                }
                let opened = Opened {
                    sender,
                    kind: PayloadKind::MlsMessage,
                    payload,
                    timestamp_ms: ts as u64,
                    envelope_id,
                };
                let tx = self.db.tx();
                let mark = self.pending_events.len();
                match tx.savepoint(|| self.apply_mls(&opened, contact, super::super::Path::Parked))
                {
                    Ok(()) => {}
                    Err(Fail::Local(e)) => return Err(Fail::Local(e)),
                    Err(_) => {
                        self.groups_changed();
                        self.pending_events.truncate(mark);
                        tracing::debug!("a parked group message was dropped");
                    }
                }
            }
            if self.mls.epoch(gid).ok() == Some(current) {
                return Ok(());
            }
        }
        Ok(())
    }
}
