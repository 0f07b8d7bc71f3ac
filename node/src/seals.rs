//! Password-sealed chats at rest (SPEC.md §7.9, X6): each conversation's
//! seals, newest last. A seal row holds only what every member received
//! in the `SealChange` — the salt, the Argon2id parameters, the key's id
//! and the previous key wrapped under it — never a key or a password.

use kovan_crypto::keystore::KdfParams;
use rusqlite::{OptionalExtension, params};

use crate::Result;
use crate::store::Database;

/// One seal of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    /// The key's id.
    pub key_id: [u8; 16],
    /// The Argon2id salt.
    pub salt: [u8; 16],
    /// The Argon2id parameters.
    pub params: KdfParams,
    /// The key it replaced: id, nonce and the key wrapped under this one.
    pub previous: Option<([u8; 16], [u8; 24], [u8; 48])>,
}

/// The seals of this device's conversations.
pub struct Seals<'a> {
    db: &'a Database,
}

fn array<const N: usize>(v: Option<Vec<u8>>) -> Option<[u8; N]> {
    v.and_then(|v| v.try_into().ok())
}

impl<'a> Seals<'a> {
    /// The store over `db`.
    pub fn new(db: &'a Database) -> Self {
        Self { db }
    }

    /// Records a seal (a repeat of a known one is ignored); it becomes the
    /// conversation's current seal unless it was known.
    pub fn add(&self, conversation: &[u8], seal: &Seal, by: &[u8], at: i64) -> Result<bool> {
        let (pid, pnonce, pkey) = match &seal.previous {
            Some((id, nonce, key)) => (Some(id.to_vec()), Some(nonce.to_vec()), Some(key.to_vec())),
            None => (None, None, None),
        };
        let n = self.db.conn().execute(
            "INSERT OR IGNORE INTO chat_seals (conversation_id, key_id, salt, memory_kib, passes, \
             lanes, previous_key_id, previous_nonce, previous_key, set_by, set_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                conversation,
                seal.key_id.as_slice(),
                seal.salt.as_slice(),
                seal.params.m_kib,
                seal.params.t,
                seal.params.p,
                pid,
                pnonce,
                pkey,
                by,
                at
            ],
        )?;
        Ok(n > 0)
    }

    /// The conversation's current seal (the newest recorded), if it is
    /// sealed.
    pub fn current(&self, conversation: &[u8]) -> Result<Option<Seal>> {
        self.query(
            "SELECT key_id, salt, memory_kib, passes, lanes, previous_key_id, previous_nonce, \
             previous_key FROM chat_seals WHERE conversation_id = ?1 ORDER BY rowid DESC LIMIT 1",
            params![conversation],
        )
    }

    /// Up to `limit` seals of the conversation, newest first.
    pub fn newest(&self, conversation: &[u8], limit: usize) -> Result<Vec<Seal>> {
        let ids: Vec<Vec<u8>> = {
            let conn = self.db.conn();
            let mut stmt = conn.prepare(
                "SELECT key_id FROM chat_seals WHERE conversation_id = ?1 \
                 ORDER BY rowid DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![conversation, limit as i64], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(s) = self.by_key(conversation, &id)? {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// How many seals the conversation has had.
    pub fn count(&self, conversation: &[u8]) -> Result<usize> {
        let n: i64 = self.db.conn().query_row(
            "SELECT COUNT(*) FROM chat_seals WHERE conversation_id = ?1",
            params![conversation],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    /// The seal with key `key_id`, if known.
    pub fn by_key(&self, conversation: &[u8], key_id: &[u8]) -> Result<Option<Seal>> {
        self.query(
            "SELECT key_id, salt, memory_kib, passes, lanes, previous_key_id, previous_nonce, \
             previous_key FROM chat_seals WHERE conversation_id = ?1 AND key_id = ?2",
            params![conversation, key_id],
        )
    }

    fn query(&self, sql: &str, p: impl rusqlite::Params) -> Result<Option<Seal>> {
        let row = self
            .db
            .conn()
            .query_row(sql, p, |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    (r.get::<_, u32>(2)?, r.get::<_, u32>(3)?, r.get::<_, u32>(4)?),
                    r.get::<_, Option<Vec<u8>>>(5)?,
                    r.get::<_, Option<Vec<u8>>>(6)?,
                    r.get::<_, Option<Vec<u8>>>(7)?,
                ))
            })
            .optional()?;
        Ok(row.and_then(|(id, salt, (m_kib, t, p), pid, pnonce, pkey)| {
            Some(Seal {
                key_id: id.try_into().ok()?,
                salt: salt.try_into().ok()?,
                params: KdfParams { m_kib, t, p },
                previous: match (array(pid), array(pnonce), array(pkey)) {
                    (Some(id), Some(nonce), Some(key)) => Some((id, nonce, key)),
                    _ => None,
                },
            })
        }))
    }
}
