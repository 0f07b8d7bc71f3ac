//! Spreading messages (SPEC.md §6.11, X7): a text its author signs with a
//! hop limit, passed on by nodes that opted in to their friends who opted
//! in, in their 1:1 conversations, once their users have seen it.
//!
//! A node keeps one row per spread, keyed by a lookup tag of its (author,
//! id), with the copy of the lowest hop it has seen; it passes a spread on
//! after its user saw it (and again from a lower hop, at most `hop_limit`
//! times), within the rate limits below, and a retraction follows the
//! spread into every conversation this node passed it to.

use kovan_crypto::spread as chain;
use kovan_spec::validate::{SpreadRetractSpec, SpreadSpec, spread as validate_spread};
use kovan_spec::wire;
use rand_core::OsRng;
use rusqlite::params;

use super::Core;
use crate::contacts::{ContactRow, FriendState};
use crate::control::to_value;
use crate::node::views::{Event, SpreadSettings, SpreadView};
use crate::node::{NodeError, NodeHandle, NodeResult};

const HOUR_MS: i64 = 3_600_000;
/// Spreads a node passes on per hour (SPEC.md §6.11).
pub const PASS_LIMIT: i64 = 20;
/// Spreads of one author a node passes on per hour.
pub const PASS_PER_AUTHOR: i64 = 3;
/// New spreads a node keeps per hour; the rest are dropped unseen.
pub const KEEP_LIMIT: i64 = 100;
/// New spreads a node keeps per hour from one friend.
pub const KEEP_FROM_FRIEND: i64 = 30;
/// Spreads a node holds at most (about a month of a busy friend circle).
pub const MAX_HELD: i64 = 5_000;
/// How long a node keeps a spread: older ones are refused (their author's
/// clock says so) and forgotten (SPEC.md §6.11).
const KEEP_MS: i64 = 30 * 24 * HOUR_MS;
/// How far ahead of this node's clock an author's clock may be.
const AHEAD_MS: i64 = 24 * HOUR_MS;
/// The spreads this node lists, newest first.
const LISTED: i64 = 500;
/// The setting: "1" when this node takes part.
const SETTING: &str = "spreads";

/// A spread this node holds.
struct Held {
    tag: [u8; 32],
    spread: chain::VerifiedSpread,
    from_conv: Option<Vec<u8>>,
    received_at: i64,
    seen: bool,
    passed_hop: Option<u8>,
    passes: u8,
    retracted_at: Option<i64>,
}

fn sealed_context(tag: &[u8; 32]) -> Vec<u8> {
    [b"spreads/".as_slice(), tag].concat()
}

fn wire_of(s: &SpreadSpec) -> wire::Spread {
    wire::Spread {
        core: s.core_bytes.clone(),
        signature: s.signature.to_vec(),
        hop: u32::from(s.hop),
        hop_token: s.hop_token.to_vec(),
    }
}

fn retract_wire(r: &SpreadRetractSpec) -> wire::SpreadRetract {
    wire::SpreadRetract {
        id: r.id.to_vec(),
        author: r.author.to_vec(),
        retracted_ms: r.retracted_ms,
        signature: r.signature.to_vec(),
    }
}

fn name_of(c: &ContactRow) -> String {
    if !c.display_name.is_empty() {
        return c.display_name.clone();
    }
    c.username.clone().unwrap_or_else(|| hex::encode(&c.account[..8]))
}

impl Core {
    fn spreads_on(&self) -> bool {
        self.db.setting(SETTING).ok().flatten().is_some_and(|v| v == b"1")
    }

    fn spread_tag(&self, author: &[u8; 32], id: &[u8; 16]) -> [u8; 32] {
        self.identity.storage_key().lookup_tag(b"kovan/spread", &[author.as_slice(), id].concat())
    }

    fn spread_author_tag(&self, author: &[u8; 32]) -> [u8; 32] {
        self.identity.storage_key().lookup_tag(b"kovan/spread-author", author)
    }

    /// Reads spreads (`clauses` after `FROM spreads`, with `args`), each
    /// opened and checked again: a spread passed on is always one whose
    /// signature and hop chain hold.
    fn read_spreads(&self, clauses: &str, args: impl rusqlite::Params) -> NodeResult<Vec<Held>> {
        let mut st = self.db.conn().prepare_cached(&format!(
            "SELECT tag, sealed, from_conv, received_at, seen, passed_hop, passes, \
             retracted_at FROM spreads {clauses}"
        ))?;
        let rows = st.query_map(args, |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get::<_, Option<u8>>(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (tag, sealed, from_conv, received_at, seen, passed_hop, passes, retracted_at) =
                row?;
            let Ok(tag) = <[u8; 32]>::try_from(tag.as_slice()) else { continue };
            let plain = self.field.open(&sealed_context(&tag), &sealed).map_err(super::internal)?;
            let w: wire::Spread = kovan_spec::decode(&plain).map_err(super::internal)?;
            let spread = chain::verify(validate_spread(w).map_err(super::internal)?)
                .map_err(super::internal)?;
            out.push(Held {
                tag,
                spread,
                from_conv,
                received_at,
                seen,
                passed_hop,
                passes,
                retracted_at,
            });
        }
        Ok(out)
    }

    fn held_spread(&self, tag: &[u8; 32]) -> NodeResult<Option<Held>> {
        Ok(self.read_spreads("WHERE tag = ?1", params![tag.as_slice()])?.pop())
    }

    fn seal_spread(&self, tag: &[u8; 32], s: &SpreadSpec) -> Vec<u8> {
        self.field.seal(&mut OsRng, &sealed_context(tag), &kovan_spec::encode(&wire_of(s)))
    }

    fn spread_view(&self, h: &Held) -> NodeResult<SpreadView> {
        let contacts = self.contacts_store();
        let mine = h.spread.core.author == self.my_account();
        let author_name = if mine {
            "you".to_owned()
        } else {
            contacts
                .get(&h.spread.core.author)?
                .map_or_else(|| hex::encode(&h.spread.core.author[..8]), |c| name_of(&c))
        };
        let from = match &h.from_conv {
            Some(conv) => contacts.by_conversation(conv)?,
            None => None,
        };
        let passed_to: u32 = self.db.conn().query_row(
            "SELECT COUNT(*) FROM spread_sent WHERE tag = ?1",
            params![h.tag.as_slice()],
            |r| r.get(0),
        )?;
        let retracted = h.retracted_at.is_some();
        Ok(SpreadView {
            id: hex::encode(h.spread.core.id),
            author: hex::encode(h.spread.core.author),
            author_name,
            mine,
            text: if retracted { String::new() } else { h.spread.core.text.clone() },
            hop: if mine { 0 } else { h.spread.hop },
            hop_limit: h.spread.core.hop_limit,
            from: from.as_ref().map(|c| hex::encode(c.account)),
            from_name: from.as_ref().map(name_of),
            created_at: h.spread.core.created_ms.min(i64::MAX as u64) as i64,
            received_at: h.received_at,
            seen: h.seen,
            passed_to,
            retracted_at: h.retracted_at,
        })
    }

    /// Friends who said they opted in, with their conversation and device.
    fn spread_friends(&self) -> NodeResult<Vec<(ContactRow, Vec<u8>)>> {
        let on: std::collections::HashSet<Vec<u8>> = self
            .db
            .conn()
            .prepare_cached("SELECT conversation_id FROM spread_friends WHERE enabled = 1")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut friends = self.friend_conversations()?;
        friends.retain(|(_, conv)| on.contains(conv));
        Ok(friends)
    }

    /// Sends `content` into each friend's 1:1 conversation, each in its
    /// own savepoint: one that fails is logged and skipped (what it began
    /// is undone), the others go. The conversations it went into.
    fn send_each(
        &mut self,
        friends: &[(ContactRow, Vec<u8>)],
        content: &wire::app_envelope::Content,
    ) -> Vec<Vec<u8>> {
        let mut sent = Vec::new();
        for (c, conv) in friends {
            let Some(cert) = c.certificate.clone() else { continue };
            let tx = self.db.tx();
            let done = tx.savepoint(|| {
                self.send_app(conv, std::slice::from_ref(&cert), content.clone(), None, false)
            });
            match done {
                Ok(_) => sent.push(conv.clone()),
                Err(e) => tracing::warn!(error = %e, "a spreading message did not go to a friend"),
            }
        }
        sent
    }

    /// How many `kind` rows the rate-limit log has since an hour ago: of
    /// one author and/or through one conversation, or all.
    fn spread_log_count(
        &self,
        kind: &str,
        author: Option<&[u8; 32]>,
        via: Option<&[u8]>,
    ) -> crate::Result<i64> {
        let since = self.options.clock.now_ms() - HOUR_MS;
        Ok(self.db.conn().query_row(
            "SELECT COUNT(*) FROM spread_log WHERE kind = ?1 AND at > ?2 \
             AND (?3 IS NULL OR author = ?3) AND (?4 IS NULL OR via = ?4)",
            params![kind, since, author.map(|a| a.as_slice()), via],
            |r| r.get(0),
        )?)
    }

    fn spread_log(&self, kind: &str, author: &[u8; 32], via: Option<&[u8]>) -> crate::Result<()> {
        let now = self.options.clock.now_ms();
        self.db.conn().execute(
            "INSERT INTO spread_log (at, kind, author, via) VALUES (?1, ?2, ?3, ?4)",
            params![now, kind, author.as_slice(), via],
        )?;
        Ok(())
    }

    /// Forgets spreads that came more than [`KEEP_MS`] + [`AHEAD_MS`] ago:
    /// a copy of one arriving now is refused as too old.
    fn forget_old_spreads(&self, now: i64) -> crate::Result<()> {
        let before = now - KEEP_MS - AHEAD_MS;
        let conn = self.db.conn();
        conn.execute("DELETE FROM spread_log WHERE at <= ?1", params![now - HOUR_MS])?;
        conn.execute(
            "DELETE FROM spread_sent WHERE tag IN (SELECT tag FROM spreads WHERE received_at < ?1)",
            params![before],
        )?;
        conn.execute("DELETE FROM spreads WHERE received_at < ?1", params![before])?;
        Ok(())
    }

    fn emit_spread(&mut self, tag: &[u8; 32]) -> NodeResult<()> {
        if let Some(h) = self.held_spread(tag)? {
            let spread = self.spread_view(&h)?;
            self.emit(Event::Spread { spread });
        }
        Ok(())
    }

    // -----------------------------------------------------------------
    // Inbound
    // -----------------------------------------------------------------

    /// A friend passed a spread on to us.
    pub(in crate::node::core) fn on_spread(
        &mut self,
        conv: &[u8],
        is_group: bool,
        s: SpreadSpec,
    ) -> NodeResult<()> {
        if is_group {
            tracing::debug!("a spreading message in a group was dropped");
            return Ok(());
        }
        if !self.spreads_on() {
            tracing::debug!("a spreading message was dropped: this node has not opted in");
            return Ok(());
        }
        // This account's own (after a restore, say): never shown as news.
        if s.core.author == self.my_account() {
            return Ok(());
        }
        let s = match chain::verify(s) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "a spreading message was refused");
                return Ok(());
            }
        };
        let now = self.options.clock.now_ms();
        let created = i64::try_from(s.core.created_ms).unwrap_or(i64::MAX);
        if created < now - KEEP_MS || created > now + AHEAD_MS {
            tracing::debug!(
                "a spreading message from too long ago, or from the future, was dropped"
            );
            return Ok(());
        }
        let tag = self.spread_tag(&s.core.author, &s.core.id);
        if let Some(h) = self.held_spread(&tag)? {
            if h.retracted_at.is_some() || s.hop >= h.spread.hop {
                return Ok(());
            }
            // A copy closer to its author: kept, and passed on again from
            // there if this node already passed it on from farther away (or
            // passed nothing on, holding it at its limit).
            let again = h.seen
                && h.passed_hop.is_none_or(|p| p > s.hop)
                && h.passes < s.core.hop_limit
                && s.hop < s.core.hop_limit;
            self.db.conn().execute(
                "UPDATE spreads SET sealed = ?2, hop = ?3, from_conv = ?4, \
                 pending = pending OR ?5 WHERE tag = ?1",
                params![tag.as_slice(), self.seal_spread(&tag, &s), s.hop, conv, again],
            )?;
            self.spreads_due |= again;
            return self.emit_spread(&tag);
        }
        let held: i64 =
            self.db.conn().query_row("SELECT COUNT(*) FROM spreads", [], |r| r.get(0))?;
        if held >= MAX_HELD
            || self.spread_log_count("kept", None, None)? >= KEEP_LIMIT
            || self.spread_log_count("kept", None, Some(conv))? >= KEEP_FROM_FRIEND
        {
            tracing::warn!("a spreading message was dropped unseen: too many this hour");
            return Ok(());
        }
        let author_tag = self.spread_author_tag(&s.core.author);
        self.db.conn().execute(
            "INSERT INTO spreads (tag, author_tag, sealed, hop, from_conv, received_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                tag.as_slice(),
                author_tag.as_slice(),
                self.seal_spread(&tag, &s),
                s.hop,
                conv,
                now
            ],
        )?;
        self.spread_log("kept", &author_tag, Some(conv))?;
        self.emit_spread(&tag)
    }

    /// The author takes a spread back: hidden here, and the retraction
    /// follows it wherever this node passed it.
    pub(in crate::node::core) fn on_spread_retract(
        &mut self,
        is_group: bool,
        r: &SpreadRetractSpec,
    ) -> NodeResult<()> {
        if is_group {
            return Ok(());
        }
        let tag = self.spread_tag(&r.author, &r.id);
        let Some(h) = self.held_spread(&tag)? else {
            tracing::debug!("a retraction of a spreading message not held here was dropped");
            return Ok(());
        };
        if h.retracted_at.is_some() {
            return Ok(());
        }
        if !chain::retracts(r, &h.spread.core) {
            tracing::warn!("a retraction not signed by the spread's author was refused");
            return Ok(());
        }
        self.retract_held(&h, r)
    }

    fn retract_held(&mut self, h: &Held, r: &SpreadRetractSpec) -> NodeResult<()> {
        let now = self.options.clock.now_ms();
        self.db.conn().execute(
            "UPDATE spreads SET retracted_at = ?2, pending = 0 WHERE tag = ?1",
            params![h.tag.as_slice(), now],
        )?;
        let sent: std::collections::HashSet<Vec<u8>> = self
            .db
            .conn()
            .prepare_cached("SELECT conversation_id FROM spread_sent WHERE tag = ?1")?
            .query_map(params![h.tag.as_slice()], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        let mut friends = self.friend_conversations()?;
        friends.retain(|(_, conv)| sent.contains(conv));
        self.send_each(&friends, &wire::app_envelope::Content::SpreadRetract(retract_wire(r)));
        self.emit_spread(&h.tag)
    }

    /// A friend says whether it takes part.
    pub(in crate::node::core) fn on_spread_opt_in(
        &mut self,
        conv: &[u8],
        is_group: bool,
        enabled: bool,
    ) -> NodeResult<()> {
        if is_group {
            return Ok(());
        }
        let changed = self.db.conn().execute(
            "INSERT INTO spread_friends (conversation_id, enabled) VALUES (?1, ?2) \
             ON CONFLICT (conversation_id) DO UPDATE SET enabled = excluded.enabled \
             WHERE enabled != excluded.enabled",
            params![conv, enabled],
        )?;
        if changed > 0 {
            let settings = self.spread_settings()?;
            self.emit(Event::SpreadSettings { settings });
        }
        Ok(())
    }

    fn spread_settings(&self) -> NodeResult<SpreadSettings> {
        let friends = self.spread_friends()?.iter().map(|(f, _)| hex::encode(f.account)).collect();
        Ok(SpreadSettings { enabled: self.spreads_on(), friends })
    }

    // -----------------------------------------------------------------
    // Passing on
    // -----------------------------------------------------------------

    /// When this node next has spread work: a spread waiting for the
    /// hourly limit may go (the oldest passing of the last hour leaves
    /// it), or the oldest spread is to be forgotten.
    pub(in crate::node::core) fn next_spread_pass(&self) -> Option<i64> {
        let since = self.options.clock.now_ms() - HOUR_MS;
        let waiting = self
            .db
            .conn()
            .query_row(
                "SELECT MIN(at) + ?2 FROM spread_log WHERE kind = 'passed' AND at > ?1 \
                 AND EXISTS (SELECT 1 FROM spreads WHERE pending = 1 AND retracted_at IS NULL)",
                params![since, HOUR_MS],
                |r| r.get::<_, Option<i64>>(0),
            )
            .ok()
            .flatten()
            .filter(|_| self.spreads_on());
        let forget = self.db.conn().query_row(
            "SELECT MIN(received_at) + ?1 FROM spreads",
            params![KEEP_MS + AHEAD_MS],
            |r| r.get::<_, Option<i64>>(0),
        );
        [waiting, forget.ok().flatten()].into_iter().flatten().min()
    }

    /// Passes on every spread the user has seen and this node still owes
    /// its friends, within the hourly limits (the rest wait).
    pub(in crate::node::core) fn run_spread_passes(&mut self) {
        if self.stopping {
            return;
        }
        let now = self.options.clock.now_ms();
        if let Err(e) = self.forget_old_spreads(now) {
            tracing::warn!(error = %e, "old spreading messages were not forgotten");
        }
        if !self.spreads_on() {
            return;
        }
        // Authors at their hourly limit wait without holding up the others.
        let tags: Vec<Vec<u8>> = self
            .db
            .conn()
            .prepare_cached(
                "SELECT tag FROM spreads s WHERE pending = 1 AND retracted_at IS NULL \
                 AND (SELECT COUNT(*) FROM spread_log l WHERE l.kind = 'passed' \
                      AND l.author = s.author_tag AND l.at > ?1) < ?2 \
                 ORDER BY received_at LIMIT 32",
            )
            .and_then(|mut st| {
                st.query_map(params![now - HOUR_MS, PASS_PER_AUTHOR], |r| r.get(0))?.collect()
            })
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "reading spreads to pass on failed");
                Vec::new()
            });
        let mut passed = false;
        for tag in tags {
            let Ok(tag) = <[u8; 32]>::try_from(tag.as_slice()) else { continue };
            match self.pass_spread(&tag) {
                Ok(Some(true)) => passed = true,
                Ok(Some(false)) => {}
                // This node's limit for the hour is reached.
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "a spreading message was not passed on");
                    let _ = self.db.conn().execute(
                        "UPDATE spreads SET pending = 0 WHERE tag = ?1",
                        params![tag.as_slice()],
                    );
                }
            }
        }
        if passed {
            self.flush_events();
            self.pump();
        }
    }

    /// Passes one spread on: whether it went (false: it waits for its
    /// author's limit, or there is nothing to do); None when this node's
    /// own limit is reached.
    fn pass_spread(&mut self, tag: &[u8; 32]) -> NodeResult<Option<bool>> {
        let Some(h) = self.held_spread(tag)? else { return Ok(Some(false)) };
        let limit = h.spread.core.hop_limit;
        let Some(next) = chain::pass_on(&h.spread).filter(|_| h.passes < limit) else {
            self.db.conn().execute(
                "UPDATE spreads SET pending = 0 WHERE tag = ?1",
                params![tag.as_slice()],
            )?;
            return Ok(Some(false));
        };
        if self.spread_log_count("passed", None, None)? >= PASS_LIMIT {
            return Ok(None);
        }
        let author_tag = self.spread_author_tag(&h.spread.core.author);
        if self.spread_log_count("passed", Some(&author_tag), None)? >= PASS_PER_AUTHOR {
            return Ok(Some(false));
        }
        let mut friends = self.spread_friends()?;
        friends.retain(|(c, conv)| {
            c.account != h.spread.core.author && Some(conv) != h.from_conv.as_ref()
        });
        let tx = self.db.tx();
        tx.atomic(|| -> NodeResult<()> {
            let content = wire::app_envelope::Content::Spread(next);
            for conv in self.send_each(&friends, &content) {
                self.db.conn().execute(
                    "INSERT OR IGNORE INTO spread_sent (tag, conversation_id) VALUES (?1, ?2)",
                    params![tag.as_slice(), conv],
                )?;
            }
            self.db.conn().execute(
                "UPDATE spreads SET pending = 0, passed_hop = ?2, passes = passes + 1 \
                 WHERE tag = ?1",
                params![tag.as_slice(), h.spread.hop],
            )?;
            self.spread_log("passed", &author_tag, None)?;
            Ok(())
        })?;
        self.emit_spread(tag)?;
        Ok(Some(true))
    }

    // -----------------------------------------------------------------
    // The user's actions
    // -----------------------------------------------------------------

    /// Friends with a 1:1 conversation still open (whether they take
    /// part or not), with it.
    fn friend_conversations(&self) -> NodeResult<Vec<(ContactRow, Vec<u8>)>> {
        let mut out = Vec::new();
        for c in self.contacts_store().list()? {
            if c.state != FriendState::Friend || c.blocked {
                continue;
            }
            let Some(conv) = c.conversation_id.clone() else { continue };
            if !self.history().is_closed(&conv)? {
                out.push((c, conv));
            }
        }
        Ok(out)
    }

    /// Tells a friend whether this node takes part (after a new
    /// friendship; nothing to say while off, which is what a friend
    /// assumes).
    pub(in crate::node::core) fn tell_spread_opt_in(&mut self, account: &[u8; 32]) {
        if !self.spreads_on() {
            return;
        }
        let friend = self
            .friend_conversations()
            .map(|all| all.into_iter().filter(|(c, _)| c.account == *account).collect::<Vec<_>>());
        match friend {
            Ok(f) => {
                let content =
                    wire::app_envelope::Content::SpreadOptIn(wire::SpreadOptIn { enabled: true });
                if !self.send_each(&f, &content).is_empty() {
                    self.pump();
                }
            }
            Err(e) => tracing::warn!(error = %e, "a new friend was not told about spreads"),
        }
    }

    fn set_spreads(&mut self, on: bool) -> NodeResult<()> {
        if self.spreads_on() == on {
            return Ok(());
        }
        self.db.set_setting(SETTING, if on { b"1" } else { b"0" })?;
        if !on {
            // Nothing goes on from a node that stopped taking part.
            self.db.conn().execute("UPDATE spreads SET pending = 0", [])?;
        }
        let friends = self.friend_conversations()?;
        let content = wire::app_envelope::Content::SpreadOptIn(wire::SpreadOptIn { enabled: on });
        self.send_each(&friends, &content);
        self.pump();
        Ok(())
    }

    fn start_spread(&mut self, text: &str, hop_limit: u8) -> NodeResult<SpreadView> {
        let now = self.options.clock.now_ms();
        let w = self
            .identity
            .author_spread(text, hop_limit, now.max(0) as u64)
            .map_err(NodeError::Invalid)?;
        let s = validate_spread(w.clone()).map_err(NodeError::Invalid)?;
        let friends = self.spread_friends()?;
        if friends.is_empty() {
            return Err(NodeError::State(
                "none of your friends takes part in spreading messages yet".into(),
            ));
        }
        let tag = self.spread_tag(&s.core.author, &s.core.id);
        let author_tag = self.spread_author_tag(&s.core.author);
        let tx = self.db.tx();
        tx.atomic(|| -> NodeResult<()> {
            self.db.conn().execute(
                "INSERT INTO spreads (tag, author_tag, sealed, hop, from_conv, received_at, seen, \
                 passed_hop, passes) VALUES (?1, ?2, ?3, 1, NULL, ?4, 1, 0, 1)",
                params![tag.as_slice(), author_tag.as_slice(), self.seal_spread(&tag, &s), now],
            )?;
            for conv in self.send_each(&friends, &wire::app_envelope::Content::Spread(w)) {
                self.db.conn().execute(
                    "INSERT INTO spread_sent (tag, conversation_id) VALUES (?1, ?2)",
                    params![tag.as_slice(), conv],
                )?;
            }
            Ok(())
        })?;
        let h = self.held_spread(&tag)?.ok_or_else(|| super::internal("spread vanished"))?;
        let view = self.spread_view(&h)?;
        self.emit(Event::Spread { spread: view.clone() });
        self.flush_events();
        self.pump();
        Ok(view)
    }

    /// The spread `which` names: its id in hex, or `author:id` when
    /// several authors used the same id.
    fn find_spread(&self, which: &str) -> NodeResult<Held> {
        let not_found = || NodeError::NotFound("no such spreading message".into());
        let (author, id) = match which.trim().split_once(':') {
            Some((a, i)) => (Some(a), i),
            None => (None, which.trim()),
        };
        let id = crate::node::views::parse_message_id(id)?;
        if let Some(a) = author {
            let a: [u8; 32] = hex::decode(a)
                .ok()
                .and_then(|a| a.try_into().ok())
                .ok_or_else(|| NodeError::Invalid("an author is 64 hex digits".into()))?;
            return self.held_spread(&self.spread_tag(&a, &id))?.ok_or_else(not_found);
        }
        let mut found: Vec<Held> =
            self.all_spreads()?.into_iter().filter(|h| h.spread.core.id == id).collect();
        match found.len() {
            0 => Err(not_found()),
            1 => found.pop().ok_or_else(not_found),
            _ => Err(NodeError::Invalid(
                "several spreading messages have that id: name it as author:id".into(),
            )),
        }
    }

    fn all_spreads(&self) -> NodeResult<Vec<Held>> {
        self.read_spreads("ORDER BY received_at DESC LIMIT ?1", params![LISTED])
    }

    fn spreads(&self) -> NodeResult<Vec<SpreadView>> {
        self.all_spreads()?.iter().map(|h| self.spread_view(h)).collect()
    }

    /// The user saw these spreads: they go on to this node's friends.
    fn spreads_seen(&mut self, which: &[String]) -> NodeResult<Vec<SpreadView>> {
        let mut tags = Vec::new();
        for w in which {
            let h = self.find_spread(w)?;
            if !h.seen {
                self.db.conn().execute(
                    "UPDATE spreads SET seen = 1, pending = (retracted_at IS NULL AND ?2) \
                     WHERE tag = ?1",
                    params![h.tag.as_slice(), self.spreads_on()],
                )?;
            }
            tags.push(h.tag);
        }
        self.run_spread_passes();
        let mut out = Vec::new();
        for tag in tags {
            if let Some(h) = self.held_spread(&tag)? {
                out.push(self.spread_view(&h)?);
            }
        }
        Ok(out)
    }

    fn retract_spread(&mut self, which: &str) -> NodeResult<SpreadView> {
        let h = self.find_spread(which)?;
        if h.spread.core.author != self.my_account() {
            return Err(NodeError::Invalid(
                "only its author takes a spreading message back".into(),
            ));
        }
        if h.retracted_at.is_some() {
            return Err(NodeError::State("this spreading message was already taken back".into()));
        }
        let now = self.options.clock.now_ms().max(0) as u64;
        let w = self
            .identity
            .retract_spread(&h.spread.core.id, now)
            .ok_or_else(|| NodeError::State("this device does not hold the account key".into()))?;
        let r = kovan_spec::validate::spread_retract(w).map_err(NodeError::Invalid)?;
        let tx = self.db.tx();
        tx.atomic(|| self.retract_held(&h, &r))?;
        let h = self.held_spread(&h.tag)?.ok_or_else(|| super::internal("spread vanished"))?;
        let view = self.spread_view(&h)?;
        self.flush_events();
        self.pump();
        Ok(view)
    }
}

/// Spreading messages (SPEC.md §6.11).
impl NodeHandle {
    /// Takes part in spreading messages, or stops; friends are told.
    pub async fn set_spreads(&self, on: bool) -> NodeResult<()> {
        self.call(move |c| c.set_spreads(on)).await
    }

    /// Whether this node takes part in spreading messages, and which
    /// friends said they do.
    pub async fn spread_settings(&self) -> NodeResult<SpreadSettings> {
        self.call(|c| c.spread_settings()).await
    }

    /// Starts a spreading message (this device must hold the account
    /// key): it goes to every friend who opted in, at hop 1.
    pub async fn start_spread(&self, text: &str, hop_limit: u8) -> NodeResult<SpreadView> {
        let text = text.to_owned();
        self.call(move |c| c.start_spread(&text, hop_limit)).await
    }

    /// The spreading messages this node holds, newest first.
    pub async fn spreads(&self) -> NodeResult<Vec<SpreadView>> {
        self.call(|c| c.spreads()).await
    }

    /// The user saw these spreads (ids, or `author:id`): this node passes
    /// them on.
    pub async fn spreads_seen(&self, which: Vec<String>) -> NodeResult<Vec<SpreadView>> {
        self.call(move |c| c.spreads_seen(&which)).await
    }

    /// Takes back a spreading message this account started.
    pub async fn retract_spread(&self, which: &str) -> NodeResult<SpreadView> {
        let which = which.to_owned();
        self.call(move |c| c.retract_spread(&which)).await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "spread_opt_in" => {
        if let Some(on) = p["enabled"].as_bool() {
            node.set_spreads(on).await?;
        }
        to_value(node.spread_settings().await?)
    }
    "spread" => {
        let hops = p["hop_limit"]
            .as_u64()
            .and_then(|h| u8::try_from(h).ok())
            .ok_or_else(|| NodeError::Invalid("\"hop_limit\" is 1..=8".into()))?;
        to_value(node.start_spread(crate::control::s(p, "text")?, hops).await?)
    }
    "spreads" => to_value(node.spreads().await?),
    "spreads_seen" => to_value(node.spreads_seen(crate::control::strings(p, "ids")?).await?),
    "spread_retract" => to_value(node.retract_spread(crate::control::s(p, "id")?).await?),
});
