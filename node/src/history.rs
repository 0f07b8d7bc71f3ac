//! Conversations and message history (M2), in the node database.
//!
//! Bodies are sealed with the keystore's storage key, bound to their
//! conversation and message id (SPEC.md §4.6). Reads are paged by a cursor
//! (the local sequence number), newest first, so opening a long
//! conversation reads one page, not the history. A message id is stored
//! once per conversation: a duplicate insert is reported, not doubled.

use kovan_crypto::storage::{FieldKey, StorageKey};
use rand_core::OsRng;
use rusqlite::{OptionalExtension, params};

use crate::store::Database;
use crate::{Error, Result};

/// A message's delivery state. Only moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// Written locally, not yet handed to the network.
    Pending = 0,
    /// Handed to the peer or its mailbox.
    Sent = 1,
    /// The peer's device stored it.
    Delivered = 2,
    /// The peer displayed it.
    Seen = 3,
    /// An incoming message.
    Received = 10,
}

/// Delivered receipts owed in one conversation: its id and the messages'.
pub type OwedReceipts = (Vec<u8>, Vec<[u8; 16]>);

/// A recipient's receipts for one of our messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberReceipt {
    /// The recipient's account key.
    pub account: Vec<u8>,
    /// The furthest state reached.
    pub state: State,
    /// When its device had it (ms), if it did.
    pub delivered_at: Option<i64>,
    /// When it was read (ms), if it was.
    pub seen_at: Option<i64>,
}

impl State {
    fn from_i64(v: i64) -> Self {
        match v {
            0 => State::Pending,
            1 => State::Sent,
            2 => State::Delivered,
            3 => State::Seen,
            _ => State::Received,
        }
    }
}

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// Conversation (MLS group id).
    pub conversation_id: &'a [u8],
    /// The sender-chosen id.
    pub message_id: [u8; 16],
    /// Sender's account key.
    pub sender_account: &'a [u8],
    /// Sender's device PeerId.
    pub sender_device: &'a str,
    /// Sender's clock, ms.
    pub sent_at: i64,
    /// Local clock, ms.
    pub received_at: i64,
    /// Whether this device sent it.
    pub outgoing: bool,
    /// Initial state.
    pub state: State,
    /// The content (an encoded `AppEnvelope`, or text).
    pub body: &'a [u8],
}

/// A stored message, decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// Local sequence number: the paging cursor.
    pub seq: i64,
    /// The sender-chosen id.
    pub message_id: [u8; 16],
    /// Sender's account key.
    pub sender_account: Vec<u8>,
    /// Sender's device PeerId.
    pub sender_device: String,
    /// Sender's clock, ms.
    pub sent_at: i64,
    /// Local clock when stored, ms.
    pub received_at: i64,
    /// Whether this device sent it.
    pub outgoing: bool,
    /// Delivery state.
    pub state: State,
    /// The content; None once deleted for everyone.
    pub body: Option<Vec<u8>>,
    /// When it was last edited, ms.
    pub edited_at: Option<i64>,
}

/// A conversation in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationRow {
    /// The MLS group id.
    pub id: Vec<u8>,
    /// For 1:1 conversations, the other account.
    pub peer_account: Option<Vec<u8>>,
    /// Last message time, ms.
    pub last_activity: i64,
    /// Closed (unfriended, or dissolved): read-only.
    pub closed: bool,
    /// Incoming messages not read yet.
    pub unread: i64,
    /// A group's title (opened).
    pub title: Option<String>,
    /// A group's state (`member`, `left`, `removed`, `dissolved`).
    pub group_state: Option<String>,
}

/// Reactions to one message, per emoji.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionCount {
    /// The emoji.
    pub emoji: String,
    /// How many accounts reacted with it.
    pub count: i64,
    /// Who (account keys).
    pub by: Vec<Vec<u8>>,
}

/// A poll's votes as this device counts them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PollVotes {
    /// One ballot per account: (account, option indexes).
    pub ballots: Vec<(Vec<u8>, Vec<u32>)>,
    /// Closed by its creator (votes no longer change).
    pub closed: bool,
}

/// Message history over the node database.
pub struct History<'a> {
    db: &'a Database,
    key: FieldKey,
    tags: Option<&'a StorageKey>,
}

fn context(conversation: &[u8], message_id: &[u8; 16]) -> Vec<u8> {
    let mut c = b"messages/body/".to_vec();
    c.extend_from_slice(&(conversation.len() as u32).to_be_bytes());
    c.extend_from_slice(conversation);
    c.extend_from_slice(message_id);
    c
}

impl<'a> History<'a> {
    /// History in `db`, sealed with `key`.
    pub fn new(db: &'a Database, key: &'a StorageKey) -> Self {
        Self { db, key: key.field_key(), tags: Some(key) }
    }

    /// Whether the conversation exists.
    pub fn exists(&self, id: &[u8]) -> Result<bool> {
        Ok(self
            .db
            .conn()
            .query_row("SELECT 1 FROM conversations WHERE id = ?1", params![id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Whether the conversation is closed (read-only).
    pub fn is_closed(&self, id: &[u8]) -> Result<bool> {
        let v: Option<i64> = self
            .db
            .conn()
            .query_row("SELECT closed FROM conversations WHERE id = ?1", params![id], |r| r.get(0))
            .optional()?;
        Ok(v.unwrap_or(1) != 0)
    }

    /// Closes a conversation: it stays readable, nothing more is sent or
    /// accepted in it.
    pub fn close(&self, id: &[u8]) -> Result<()> {
        self.db.conn().execute("UPDATE conversations SET closed = 1 WHERE id = ?1", params![id])?;
        Ok(())
    }

    /// Takes the next sequence number of this device in a conversation
    /// and counts the message towards the next key refresh (SPEC.md
    /// §7.6.7), in one statement; returns the sequence number and the
    /// refresh bookkeeping (last refresh in ms, messages since).
    pub fn next_sequence(&self, id: &[u8], now: i64) -> Result<(u64, i64, i64)> {
        let (seq, last, sent): (i64, i64, i64) = self.db.conn().query_row(
            "UPDATE conversations SET next_sequence = next_sequence + 1, \
             sent_since_update = sent_since_update + 1, \
             last_update = CASE WHEN last_update = 0 THEN ?2 ELSE last_update END \
             WHERE id = ?1 RETURNING next_sequence - 1, last_update, sent_since_update",
            params![id, now],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        Ok((seq as u64, last, sent))
    }

    /// The last sequence number applied from `device` in a conversation.
    pub fn peer_sequence(&self, id: &[u8], device: &str) -> Result<Option<u64>> {
        let v: Option<i64> = self
            .db
            .conn()
            .query_row(
                "SELECT last_sequence FROM peer_sequences WHERE conversation_id = ?1 \
                 AND sender_device = ?2",
                params![id, device],
                |r| r.get(0),
            )
            .optional()?;
        Ok(v.map(|v| v as u64))
    }

    /// Records that `sequence` from `device` was applied (keeps the highest).
    pub fn set_peer_sequence(&self, id: &[u8], device: &str, sequence: u64) -> Result<()> {
        self.db.conn().execute(
            "INSERT INTO peer_sequences (conversation_id, sender_device, last_sequence) \
             VALUES (?1, ?2, ?3) ON CONFLICT (conversation_id, sender_device) \
             DO UPDATE SET last_sequence = MAX(last_sequence, excluded.last_sequence)",
            params![id, device, sequence as i64],
        )?;
        Ok(())
    }

    /// Every conversation, most recent first.
    pub fn conversations(&self) -> Result<Vec<ConversationRow>> {
        let mut stmt = self.db.conn().prepare(
            "SELECT c.id, c.peer_account, c.last_activity, c.closed, \
             (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.outgoing = 0 \
              AND m.seq > c.last_read_seq AND m.deleted = 0), c.title, c.group_state \
             FROM conversations c ORDER BY c.last_activity DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                ConversationRow {
                    id: r.get(0)?,
                    peer_account: r.get(1)?,
                    last_activity: r.get(2)?,
                    closed: r.get::<_, i64>(3)? != 0,
                    unread: r.get(4)?,
                    title: None,
                    group_state: r.get(6)?,
                },
                r.get::<_, Option<Vec<u8>>>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (mut c, sealed) = row?;
            c.title = sealed.and_then(|t| self.open_title(&c.id, &t));
            out.push(c);
        }
        Ok(out)
    }

    /// Counts the message at `seq` as read if nothing before it is unread
    /// (a call record this side took part in); answers whether it did.
    pub fn read_through(&self, id: &[u8], seq: i64) -> Result<bool> {
        let n = self.db.conn().execute(
            "UPDATE conversations SET last_read_seq = MAX(last_read_seq, ?2) WHERE id = ?1              AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = ?1              AND m.outgoing = 0 AND m.deleted = 0 AND m.seq > conversations.last_read_seq              AND m.seq < ?2)",
            params![id, seq],
        )?;
        Ok(n > 0)
    }

    /// Marks everything in a conversation read; returns the ids of incoming
    /// messages that were unread (for read receipts).
    pub fn mark_read(&self, id: &[u8]) -> Result<Vec<[u8; 16]>> {
        self.db.atomic(|| {
            let conn = self.db.conn();
            let last: i64 = conn.query_row(
                "SELECT last_read_seq FROM conversations WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )?;
            let mut stmt = conn.prepare_cached(
                "SELECT seq, message_id FROM messages WHERE conversation_id = ?1 AND seq > ?2 \
                 AND outgoing = 0 AND deleted = 0 ORDER BY seq",
            )?;
            let mut max = last;
            let mut ids = Vec::new();
            for row in stmt.query_map(params![id, last], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })? {
                let (seq, mid) = row?;
                max = max.max(seq);
                if let Ok(m) = mid.try_into() {
                    ids.push(m);
                }
            }
            let newest: Option<i64> = conn.query_row(
                "SELECT MAX(seq) FROM messages WHERE conversation_id = ?1",
                params![id],
                |r| r.get(0),
            )?;
            conn.execute(
                "UPDATE conversations SET last_read_seq = ?2 WHERE id = ?1",
                params![id, newest.unwrap_or(0).max(max)],
            )?;
            Ok(ids)
        })
    }

    fn emoji_context(conversation: &[u8], target: &[u8; 16], sender: &[u8]) -> Vec<u8> {
        let mut c = b"reactions/emoji/".to_vec();
        for part in [conversation, target.as_slice(), sender] {
            c.extend_from_slice(&(part.len() as u32).to_be_bytes());
            c.extend_from_slice(part);
        }
        c
    }

    /// Adds (or with `remove`, withdraws) `sender`'s reaction; true if
    /// anything changed.
    pub fn react(
        &self,
        conversation: &[u8],
        target: &[u8; 16],
        sender: &[u8],
        emoji: &str,
        remove: bool,
        now: i64,
    ) -> Result<bool> {
        let Some(tags) = self.tags else { return Err(Error::Internal("no storage key".into())) };
        let ctx = Self::emoji_context(conversation, target, sender);
        let tag = tags.lookup_tag(&ctx, emoji.as_bytes());
        let n = if remove {
            self.db.conn().execute(
                "DELETE FROM reactions WHERE conversation_id = ?1 AND target = ?2 \
                 AND sender_account = ?3 AND emoji_tag = ?4",
                params![conversation, target.as_slice(), sender, tag.as_slice()],
            )?
        } else {
            let sealed = self.key.seal(&mut OsRng, &ctx, emoji.as_bytes());
            self.db.conn().execute(
                "INSERT OR IGNORE INTO reactions (conversation_id, target, sender_account, emoji_tag, \
                 emoji, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![conversation, target.as_slice(), sender, tag.as_slice(), sealed, now],
            )?
        };
        Ok(n > 0)
    }

    fn vote_context(conversation: &[u8], poll: &[u8; 16], voter: &[u8]) -> Vec<u8> {
        let mut c = b"polls/choices/".to_vec();
        for part in [conversation, poll.as_slice(), voter] {
            c.extend_from_slice(&(part.len() as u32).to_be_bytes());
            c.extend_from_slice(part);
        }
        c
    }

    /// Records `voter`'s choices in a poll unless a vote of theirs that is
    /// later (by the voter's clock, then vote id) is already counted, or
    /// the poll is closed. Empty `choices` withdraws the vote. True if the
    /// tally changed.
    pub fn vote(
        &self,
        conversation: &[u8],
        poll: &[u8; 16],
        voter: &[u8],
        choices: &[u32],
        voted_at: i64,
        vote_id: &[u8; 16],
    ) -> Result<bool> {
        if self.poll_closed(conversation, poll)? {
            return Ok(false);
        }
        let conn = self.db.conn();
        let newer: Option<(i64, Vec<u8>)> = conn
            .query_row(
                "SELECT voted_at, vote_id FROM poll_votes WHERE conversation_id = ?1 \
                 AND poll_id = ?2 AND voter_account = ?3",
                params![conversation, poll.as_slice(), voter],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((at, id)) = newer
            && (at, id.as_slice()) >= (voted_at, vote_id.as_slice())
        {
            return Ok(false);
        }
        let bytes: Vec<u8> = choices.iter().map(|&c| c as u8).collect();
        let sealed =
            self.key.seal(&mut OsRng, &Self::vote_context(conversation, poll, voter), &bytes);
        conn.execute(
            "INSERT INTO poll_votes (conversation_id, poll_id, voter_account, choices, voted_at, \
             vote_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (conversation_id, poll_id, \
             voter_account) DO UPDATE SET choices = excluded.choices, voted_at = excluded.voted_at, \
             vote_id = excluded.vote_id",
            params![conversation, poll.as_slice(), voter, sealed, voted_at, vote_id.as_slice()],
        )?;
        Ok(true)
    }

    /// Closes a poll with the creator's final ballots, which replace the
    /// ones counted here (so every member ends with the same tally). False
    /// if it was closed already.
    pub fn close_poll(
        &self,
        conversation: &[u8],
        poll: &[u8; 16],
        ballots: &[([u8; 32], Vec<u32>)],
        now: i64,
    ) -> Result<bool> {
        self.db.atomic(|| {
            let conn = self.db.conn();
            let n = conn.execute(
                "INSERT OR IGNORE INTO poll_closed (conversation_id, poll_id, closed_at) \
                 VALUES (?1, ?2, ?3)",
                params![conversation, poll.as_slice(), now],
            )?;
            if n == 0 {
                return Ok(false);
            }
            conn.execute(
                "DELETE FROM poll_votes WHERE conversation_id = ?1 AND poll_id = ?2",
                params![conversation, poll.as_slice()],
            )?;
            for (voter, choices) in ballots {
                let bytes: Vec<u8> = choices.iter().map(|&c| c as u8).collect();
                let ctx = Self::vote_context(conversation, poll, voter);
                let sealed = self.key.seal(&mut OsRng, &ctx, &bytes);
                conn.execute(
                    "INSERT INTO poll_votes (conversation_id, poll_id, voter_account, choices, \
                     voted_at, vote_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        conversation,
                        poll.as_slice(),
                        voter.as_slice(),
                        sealed,
                        now,
                        [0u8; 16]
                    ],
                )?;
            }
            Ok(true)
        })
    }

    /// Whether a poll is closed.
    pub fn poll_closed(&self, conversation: &[u8], poll: &[u8; 16]) -> Result<bool> {
        Ok(self
            .db
            .conn()
            .query_row(
                "SELECT 1 FROM poll_closed WHERE conversation_id = ?1 AND poll_id = ?2",
                params![conversation, poll.as_slice()],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// A poll's ballots, by account, and whether it is closed.
    pub fn poll_votes(&self, conversation: &[u8], poll: &[u8; 16]) -> Result<PollVotes> {
        let mut stmt = self.db.conn().prepare_cached(
            "SELECT voter_account, choices FROM poll_votes WHERE conversation_id = ?1 \
             AND poll_id = ?2 ORDER BY voter_account",
        )?;
        let rows = stmt
            .query_map(params![conversation, poll.as_slice()], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut ballots = Vec::with_capacity(rows.len());
        for (voter, sealed) in rows {
            let ctx = Self::vote_context(conversation, poll, &voter);
            let plain = self.key.open(&ctx, &sealed).map_err(|e| Error::Invalid(e.to_string()))?;
            let choices: Vec<u32> = plain.iter().map(|&b| u32::from(b)).collect();
            if !choices.is_empty() {
                ballots.push((voter, choices));
            }
        }
        Ok(PollVotes { ballots, closed: self.poll_closed(conversation, poll)? })
    }

    /// The reactions to a message, per emoji, in order of first use.
    pub fn reactions(&self, conversation: &[u8], target: &[u8; 16]) -> Result<Vec<ReactionCount>> {
        let mut stmt = self.db.conn().prepare_cached(
            "SELECT sender_account, emoji FROM reactions WHERE conversation_id = ?1 AND target = ?2 \
             ORDER BY at, sender_account",
        )?;
        let rows = stmt
            .query_map(params![conversation, target.as_slice()], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out: Vec<ReactionCount> = Vec::new();
        for (sender, sealed) in rows {
            let ctx = Self::emoji_context(conversation, target, &sender);
            let emoji = self.key.open(&ctx, &sealed).map_err(|e| Error::Invalid(e.to_string()))?;
            let emoji = String::from_utf8_lossy(&emoji).into_owned();
            match out.iter_mut().find(|r| r.emoji == emoji) {
                Some(r) => {
                    r.count += 1;
                    r.by.push(sender);
                }
                None => out.push(ReactionCount { emoji, count: 1, by: vec![sender] }),
            }
        }
        Ok(out)
    }

    /// Creates the conversation if it does not exist.
    pub fn ensure_conversation(
        &self,
        id: &[u8],
        direct_peer: Option<&[u8]>,
        now: i64,
    ) -> Result<()> {
        let kind = if direct_peer.is_some() { "direct" } else { "group" };
        self.db.conn().execute(
            "INSERT OR IGNORE INTO conversations (id, kind, peer_account, created_at, last_activity) \
             VALUES (?1, ?2, ?3, ?4, ?4)",
            params![id, kind, direct_peer, now],
        )?;
        Ok(())
    }

    /// Stores a message; returns its sequence number, or None if this
    /// conversation already has a message with that id.
    pub fn insert(&self, m: &NewMessage<'_>) -> Result<Option<i64>> {
        let body = self.key.seal(&mut OsRng, &context(m.conversation_id, &m.message_id), m.body);
        // One transaction (one fsync) for the message and the activity time.
        self.db.atomic(|| {
            let conn = self.db.conn();
            let n = conn.execute(
                "INSERT OR IGNORE INTO messages (conversation_id, message_id, sender_account, sender_device, \
                 sent_at, received_at, outgoing, state, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    m.conversation_id,
                    m.message_id.as_slice(),
                    m.sender_account,
                    m.sender_device,
                    m.sent_at,
                    m.received_at,
                    m.outgoing as i64,
                    m.state as i64,
                    body
                ],
            )?;
            if n == 0 {
                return Ok(None);
            }
            let seq = conn.last_insert_rowid();
            conn.execute(
                "UPDATE conversations SET last_activity = MAX(last_activity, ?2) WHERE id = ?1",
                params![m.conversation_id, m.received_at],
            )?;
            Ok(Some(seq))
        })
    }

    fn decode(row: &rusqlite::Row<'_>) -> rusqlite::Result<(StoredMessage, Option<Vec<u8>>)> {
        let id: Vec<u8> = row.get("message_id")?;
        let mut message_id = [0u8; 16];
        if id.len() == 16 {
            message_id.copy_from_slice(&id);
        }
        let sealed: Option<Vec<u8>> = row.get("body")?;
        Ok((
            StoredMessage {
                seq: row.get("seq")?,
                message_id,
                sender_account: row.get("sender_account")?,
                sender_device: row.get("sender_device")?,
                sent_at: row.get("sent_at")?,
                received_at: row.get("received_at")?,
                outgoing: row.get::<_, i64>("outgoing")? != 0,
                state: State::from_i64(row.get("state")?),
                body: None,
                edited_at: row.get("edited_at")?,
            },
            sealed,
        ))
    }

    fn open(
        &self,
        conversation: &[u8],
        m: &mut StoredMessage,
        sealed: Option<Vec<u8>>,
    ) -> Result<()> {
        if let Some(s) = sealed {
            let plain = self.key.open(&context(conversation, &m.message_id), &s).map_err(|e| {
                Error::Invalid(format!("message {}: {e}", hex::encode(m.message_id)))
            })?;
            m.body = Some(plain.to_vec());
        }
        Ok(())
    }

    /// Up to `limit` messages after cursor `after`, oldest first (scrolling
    /// towards the present).
    pub fn page_after(
        &self,
        conversation: &[u8],
        after: i64,
        limit: usize,
    ) -> Result<Vec<StoredMessage>> {
        self.read_page(
            "SELECT seq, message_id, sender_account, sender_device, sent_at, received_at, outgoing, state, body, edited_at \
             FROM messages WHERE conversation_id = ?1 AND seq > ?2 \
             AND sender_account NOT IN (SELECT account FROM group_mutes WHERE group_id = ?1) \
             ORDER BY seq ASC LIMIT ?3",
            conversation,
            after,
            limit,
        )
    }

    /// Runs a page query (`?1` conversation, `?2` cursor, `?3` limit) and
    /// opens the rows' sealed bodies.
    fn read_page(
        &self,
        sql: &str,
        conversation: &[u8],
        cursor: i64,
        limit: usize,
    ) -> Result<Vec<StoredMessage>> {
        let mut stmt = self.db.conn().prepare_cached(sql)?;
        let rows = stmt
            .query_map(params![conversation, cursor, limit as i64], Self::decode)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(mut m, sealed)| {
                self.open(conversation, &mut m, sealed)?;
                Ok(m)
            })
            .collect()
    }

    /// A message's cursor (its local sequence number), to jump to it.
    pub fn cursor_of(&self, conversation: &[u8], message_id: &[u8; 16]) -> Result<Option<i64>> {
        Ok(self
            .db
            .conn()
            .query_row(
                "SELECT seq FROM messages WHERE conversation_id = ?1 AND message_id = ?2",
                params![conversation, message_id.as_slice()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Up to `limit` messages before cursor `before` (or the newest when
    /// None), newest first.
    pub fn page(
        &self,
        conversation: &[u8],
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<StoredMessage>> {
        self.read_page(
            "SELECT seq, message_id, sender_account, sender_device, sent_at, received_at, outgoing, state, body, edited_at \
             FROM messages WHERE conversation_id = ?1 AND seq < ?2 \
             AND sender_account NOT IN (SELECT account FROM group_mutes WHERE group_id = ?1) \
             ORDER BY seq DESC LIMIT ?3",
            conversation,
            before.unwrap_or(i64::MAX),
            limit,
        )
    }

    /// One message by id.
    pub fn get(&self, conversation: &[u8], message_id: &[u8; 16]) -> Result<Option<StoredMessage>> {
        let row = self
            .db
            .conn()
            .query_row(
                "SELECT seq, message_id, sender_account, sender_device, sent_at, received_at, outgoing, state, body, edited_at \
                 FROM messages WHERE conversation_id = ?1 AND message_id = ?2",
                params![conversation, message_id.as_slice()],
                Self::decode,
            )
            .optional()?;
        match row {
            None => Ok(None),
            Some((mut m, sealed)) => {
                self.open(conversation, &mut m, sealed)?;
                Ok(Some(m))
            }
        }
    }

    /// Advances an outgoing message's state (never backwards); true if it changed.
    pub fn advance(
        &self,
        conversation: &[u8],
        message_id: &[u8; 16],
        state: State,
    ) -> Result<bool> {
        let n = self.db.conn().execute(
            "UPDATE messages SET state = ?3 WHERE conversation_id = ?1 AND message_id = ?2 \
             AND outgoing = 1 AND state < ?3",
            params![conversation, message_id.as_slice(), state as i64],
        )?;
        Ok(n > 0)
    }

    /// Replaces a message's body if `editor` sent it; true if it did.
    pub fn edit(
        &self,
        conversation: &[u8],
        message_id: &[u8; 16],
        editor: &[u8],
        body: &[u8],
        now: i64,
    ) -> Result<bool> {
        let sealed = self.key.seal(&mut OsRng, &context(conversation, message_id), body);
        let n = self.db.conn().execute(
            "UPDATE messages SET body = ?4, edited_at = ?5 WHERE conversation_id = ?1 \
             AND message_id = ?2 AND sender_account = ?3 AND deleted = 0",
            params![conversation, message_id.as_slice(), editor, sealed, now],
        )?;
        Ok(n > 0)
    }

    /// Deletes a message for everyone if `deleter` sent it: the body is
    /// erased (overwritten on disk: `secure_delete` is on), a tombstone stays.
    pub fn delete(
        &self,
        conversation: &[u8],
        message_id: &[u8; 16],
        deleter: &[u8],
    ) -> Result<bool> {
        let n = self.db.conn().execute(
            "UPDATE messages SET body = NULL, deleted = 1 WHERE conversation_id = ?1 \
             AND message_id = ?2 AND sender_account = ?3",
            params![conversation, message_id.as_slice(), deleter],
        )?;
        Ok(n > 0)
    }

    fn title_context(id: &[u8]) -> Vec<u8> {
        let mut c = b"conversations/title/".to_vec();
        c.extend_from_slice(id);
        c
    }

    fn open_title(&self, id: &[u8], sealed: &[u8]) -> Option<String> {
        let plain = self.key.open(&Self::title_context(id), sealed).ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }

    /// Records a group's title and state.
    pub fn set_group(&self, id: &[u8], title: &str, state: &str) -> Result<()> {
        let sealed = self.key.seal(&mut OsRng, &Self::title_context(id), title.as_bytes());
        self.db.conn().execute(
            "UPDATE conversations SET title = ?2, group_state = ?3 WHERE id = ?1",
            params![id, sealed, state],
        )?;
        Ok(())
    }

    /// Whether a conversation is a group (without opening its title).
    pub fn is_group(&self, id: &[u8]) -> Result<bool> {
        let v: Option<Option<String>> = self
            .db
            .conn()
            .query_row("SELECT group_state FROM conversations WHERE id = ?1", params![id], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(matches!(v, Some(Some(_))))
    }

    /// Every group's id and title (no counts: cheap enough per lookup).
    pub fn group_titles(&self) -> Result<Vec<(Vec<u8>, String)>> {
        let mut stmt = self.db.conn().prepare_cached(
            "SELECT id, title FROM conversations WHERE group_state IS NOT NULL AND title IS NOT NULL",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, t)| self.open_title(&id, &t).map(|t| (id, t)))
            .collect())
    }

    /// A group's last known title and state.
    pub fn group(&self, id: &[u8]) -> Result<Option<(String, String)>> {
        let row: Option<(Option<Vec<u8>>, Option<String>)> = self
            .db
            .conn()
            .query_row(
                "SELECT title, group_state FROM conversations WHERE id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match row {
            Some((Some(t), Some(state))) => {
                Some((self.open_title(id, &t).unwrap_or_default(), state))
            }
            _ => None,
        })
    }

    /// Records that a recipient's device reached `state` for one of our
    /// messages at `at` (a later state implies the earlier ones); returns
    /// how many recipients have reached `state`.
    pub fn member_receipt(
        &self,
        conversation: &[u8],
        message_id: &[u8; 16],
        account: &[u8],
        state: State,
        at: i64,
    ) -> Result<i64> {
        let conn = self.db.conn();
        let seen = (state >= State::Seen).then_some(at);
        conn.execute(
            "INSERT INTO message_receipts \
             (conversation_id, message_id, account, state, delivered_at, seen_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (conversation_id, message_id, account) \
             DO UPDATE SET state = MAX(state, excluded.state), \
             delivered_at = COALESCE(delivered_at, excluded.delivered_at), \
             seen_at = COALESCE(seen_at, excluded.seen_at)",
            params![conversation, message_id.as_slice(), account, state as i64, at, seen],
        )?;
        Ok(conn.query_row(
            "SELECT COUNT(*) FROM message_receipts WHERE conversation_id = ?1 \
             AND message_id = ?2 AND state >= ?3",
            params![conversation, message_id.as_slice(), state as i64],
            |r| r.get(0),
        )?)
    }

    /// Per-recipient receipts of one of our messages, by account.
    pub fn member_receipts(
        &self,
        conversation: &[u8],
        message_id: &[u8; 16],
    ) -> Result<Vec<MemberReceipt>> {
        let mut stmt = self.db.conn().prepare_cached(
            "SELECT account, state, delivered_at, seen_at FROM message_receipts \
             WHERE conversation_id = ?1 AND message_id = ?2 ORDER BY account",
        )?;
        let rows = stmt
            .query_map(params![conversation, message_id.as_slice()], |r| {
                Ok(MemberReceipt {
                    account: r.get(0)?,
                    state: State::from_i64(r.get(1)?),
                    delivered_at: r.get(2)?,
                    seen_at: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Notes a delivered receipt owed for a message (kept until it is queued).
    pub fn owe_receipt(&self, conversation: &[u8], message_id: &[u8; 16]) -> Result<()> {
        self.db.conn().execute(
            "INSERT OR IGNORE INTO owed_receipts (conversation_id, message_id) VALUES (?1, ?2)",
            params![conversation, message_id.as_slice()],
        )?;
        Ok(())
    }

    /// Up to `limit` owed receipts, by conversation.
    pub fn owed_receipts(&self, limit: usize) -> Result<Vec<OwedReceipts>> {
        let mut stmt = self.db.conn().prepare_cached(
            "SELECT conversation_id, message_id FROM owed_receipts \
             ORDER BY conversation_id LIMIT ?1",
        )?;
        let rows = stmt
            .query_map(params![limit as i64], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out: Vec<OwedReceipts> = Vec::new();
        for (conv, mid) in rows {
            let Ok(mid) = <[u8; 16]>::try_from(mid.as_slice()) else { continue };
            match out.last_mut() {
                Some((c, ids)) if *c == conv => ids.push(mid),
                _ => out.push((conv, vec![mid])),
            }
        }
        Ok(out)
    }

    /// Forgets owed receipts (queued, or no longer sendable).
    pub fn receipts_paid(&self, conversation: &[u8], ids: &[[u8; 16]]) -> Result<()> {
        let mut stmt = self.db.conn().prepare_cached(
            "DELETE FROM owed_receipts WHERE conversation_id = ?1 AND message_id = ?2",
        )?;
        for id in ids {
            stmt.execute(params![conversation, id.as_slice()])?;
        }
        Ok(())
    }

    /// Mutes or unmutes a group member (local only).
    pub fn set_muted(&self, group: &[u8], account: &[u8], muted: bool) -> Result<()> {
        if muted {
            self.db.conn().execute(
                "INSERT OR IGNORE INTO group_mutes (group_id, account) VALUES (?1, ?2)",
                params![group, account],
            )?;
        } else {
            self.db.conn().execute(
                "DELETE FROM group_mutes WHERE group_id = ?1 AND account = ?2",
                params![group, account],
            )?;
        }
        Ok(())
    }

    /// Whether a member is muted.
    pub fn is_muted(&self, group: &[u8], account: &[u8]) -> Result<bool> {
        Ok(self
            .db
            .conn()
            .query_row(
                "SELECT 1 FROM group_mutes WHERE group_id = ?1 AND account = ?2",
                params![group, account],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }
}
