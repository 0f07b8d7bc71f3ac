//! Contacts: the accounts this node knows, their friendship state, their
//! device, how to reach it, and the user's verdicts about them (blocked,
//! verified). SPEC.md §7.4.

use kovan_crypto::identity::DeviceCertificate;
use kovan_crypto::storage::FieldKey;
use rand_core::OsRng;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::store::Database;
use crate::{Error, Result};

/// Where a friendship stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FriendState {
    /// Known (found in a search, or blocked) but never befriended.
    None,
    /// We asked; waiting for an answer.
    Outgoing,
    /// They asked; waiting for our answer.
    Incoming,
    /// Friends: a conversation exists.
    Friend,
    /// They declined our request.
    Declined,
    /// One side ended the friendship.
    Removed,
    /// An acceptance that could not be completed: the requester refused
    /// the Welcome (SPEC.md §7.4). Either side may send a new request.
    Failed,
}

impl FriendState {
    fn as_str(self) -> &'static str {
        match self {
            FriendState::None => "none",
            FriendState::Outgoing => "outgoing",
            FriendState::Incoming => "incoming",
            FriendState::Friend => "friend",
            FriendState::Declined => "declined",
            FriendState::Removed => "removed",
            FriendState::Failed => "failed",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "outgoing" => FriendState::Outgoing,
            "incoming" => FriendState::Incoming,
            "friend" => FriendState::Friend,
            "declined" => FriendState::Declined,
            "removed" => FriendState::Removed,
            "failed" => FriendState::Failed,
            _ => FriendState::None,
        }
    }
}

/// A contact as stored.
#[derive(Debug, Clone)]
pub struct ContactRow {
    /// The account key.
    pub account: [u8; 32],
    /// Username on the relay, if known.
    pub username: Option<String>,
    /// The name the contact claims.
    pub display_name: String,
    /// Friendship state.
    pub state: FriendState,
    /// The contact's device certificate, if known.
    pub certificate: Option<DeviceCertificate>,
    /// Its PeerId, if known.
    pub peer_id: Option<String>,
    /// Known addresses.
    pub addrs: Vec<String>,
    /// The pending request's id.
    pub request_id: Option<[u8; 16]>,
    /// An incoming request's KeyPackage.
    pub request_key_package: Option<Vec<u8>>,
    /// An incoming request's note.
    pub request_note: String,
    /// The 1:1 conversation.
    pub conversation_id: Option<Vec<u8>>,
    /// Dropped on arrival.
    pub blocked: bool,
    /// The user compared safety numbers.
    pub verified: bool,
    /// The account key for this username changed.
    pub identity_changed: bool,
    /// Last change, ms.
    pub updated_at: i64,
}

impl ContactRow {
    /// A new, unknown contact.
    pub fn new(account: [u8; 32]) -> Self {
        Self {
            account,
            username: None,
            display_name: String::new(),
            state: FriendState::None,
            certificate: None,
            peer_id: None,
            addrs: Vec::new(),
            request_id: None,
            request_key_package: None,
            request_note: String::new(),
            conversation_id: None,
            blocked: false,
            verified: false,
            identity_changed: false,
            updated_at: 0,
        }
    }
}

const NOTE_CONTEXT: &[u8] = b"contacts/request_note/";

/// Contacts over the node database.
pub struct Contacts<'a> {
    db: &'a Database,
    key: &'a FieldKey,
}

const COLUMNS: &str = "account, username, display_name, state, device_certificate, peer_id, addrs, \
     request_id, request_key_package, request_note, conversation_id, blocked, verified, \
     identity_changed, updated_at";

impl<'a> Contacts<'a> {
    /// Contacts in `db`; notes sealed with `key`.
    pub fn new(db: &'a Database, key: &'a FieldKey) -> Self {
        Self { db, key }
    }

    fn note_context(account: &[u8; 32]) -> Vec<u8> {
        let mut c = NOTE_CONTEXT.to_vec();
        c.extend_from_slice(account);
        c
    }

    fn row(&self, r: &rusqlite::Row<'_>) -> rusqlite::Result<ContactRow> {
        let account: Vec<u8> = r.get(0)?;
        let mut a = [0u8; 32];
        if account.len() == 32 {
            a.copy_from_slice(&account);
        }
        let cert: Option<Vec<u8>> = r.get(4)?;
        let addrs: String = r.get(6)?;
        let request_id: Option<Vec<u8>> = r.get(7)?;
        let note: Option<Vec<u8>> = r.get(9)?;
        let note = note
            .and_then(|n| self.key.open(&Self::note_context(&a), &n).ok())
            .map(|p| String::from_utf8_lossy(&p).into_owned())
            .unwrap_or_default();
        Ok(ContactRow {
            account: a,
            username: r.get(1)?,
            display_name: r.get(2)?,
            state: FriendState::parse(&r.get::<_, String>(3)?),
            certificate: cert.and_then(|c| DeviceCertificate::parse(&c).ok()),
            peer_id: r.get(5)?,
            addrs: serde_json::from_str(&addrs).unwrap_or_default(),
            request_id: request_id.and_then(|v| v.try_into().ok()),
            request_key_package: r.get(8)?,
            request_note: note,
            conversation_id: r.get(10)?,
            blocked: r.get::<_, i64>(11)? != 0,
            verified: r.get::<_, i64>(12)? != 0,
            identity_changed: r.get::<_, i64>(13)? != 0,
            updated_at: r.get(14)?,
        })
    }

    fn query_one(&self, clause: &str, p: impl rusqlite::Params) -> Result<Option<ContactRow>> {
        let sql = format!("SELECT {COLUMNS} FROM contacts WHERE {clause}");
        Ok(self.db.conn().query_row(&sql, p, |r| self.row(r)).optional()?)
    }

    /// A contact by account key.
    pub fn get(&self, account: &[u8; 32]) -> Result<Option<ContactRow>> {
        self.query_one("account = ?1", params![account.as_slice()])
    }

    /// A contact by its device's PeerId.
    pub fn by_peer(&self, peer_id: &str) -> Result<Option<ContactRow>> {
        self.query_one("peer_id = ?1", params![peer_id])
    }

    /// The contact whose 1:1 conversation this is.
    pub fn by_conversation(&self, conversation: &[u8]) -> Result<Option<ContactRow>> {
        self.query_one("conversation_id = ?1", params![conversation])
    }

    /// Contacts known under a username (normally one; more after a key change).
    pub fn by_username(&self, username: &str) -> Result<Vec<ContactRow>> {
        let sql =
            format!("SELECT {COLUMNS} FROM contacts WHERE username = ?1 ORDER BY updated_at DESC");
        let mut stmt = self.db.conn().prepare(&sql)?;
        let rows = stmt.query_map(params![username], |r| self.row(r))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every contact that is not merely known, newest change first.
    pub fn list(&self) -> Result<Vec<ContactRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM contacts WHERE state != 'none' OR blocked = 1 \
             ORDER BY updated_at DESC"
        );
        let mut stmt = self.db.conn().prepare(&sql)?;
        let rows = stmt.query_map([], |r| self.row(r))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Writes a contact (insert or replace every field).
    pub fn put(&self, c: &ContactRow, now: i64) -> Result<()> {
        let note = if c.request_note.is_empty() {
            None
        } else {
            Some(self.key.seal(
                &mut OsRng,
                &Self::note_context(&c.account),
                c.request_note.as_bytes(),
            ))
        };
        let addrs = serde_json::to_string(&c.addrs).map_err(|e| Error::Internal(e.to_string()))?;
        self.db.conn().execute(
            "INSERT INTO contacts (account, username, display_name, state, device_certificate, peer_id, \
             addrs, request_id, request_key_package, request_note, conversation_id, blocked, verified, \
             identity_changed, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15) \
             ON CONFLICT (account) DO UPDATE SET username = excluded.username, \
             display_name = excluded.display_name, state = excluded.state, \
             device_certificate = excluded.device_certificate, peer_id = excluded.peer_id, \
             addrs = excluded.addrs, request_id = excluded.request_id, \
             request_key_package = excluded.request_key_package, request_note = excluded.request_note, \
             conversation_id = excluded.conversation_id, blocked = excluded.blocked, \
             verified = excluded.verified, identity_changed = excluded.identity_changed, \
             updated_at = excluded.updated_at",
            params![
                c.account.as_slice(),
                c.username,
                c.display_name,
                c.state.as_str(),
                c.certificate.as_ref().map(|x| x.encoded().to_vec()),
                c.peer_id,
                addrs,
                c.request_id.map(|r| r.to_vec()),
                c.request_key_package,
                note,
                c.conversation_id,
                c.blocked as i64,
                c.verified as i64,
                c.identity_changed as i64,
                now
            ],
        )?;
        Ok(())
    }
}
