//! Relay locks (SPEC.md §6.10.6, X4): a conditional message whose key part
//! is split k-of-n among relays the sender picks, each of which hands out
//! its share once the time has come and/or the sender has been silent too
//! long by its clock. The sender's device leaves the shares with signed
//! requests before the message goes, checks in and cancels the same way;
//! a recipient's device asks the relays when the message says they may
//! release, then when they say they will, and keeps only shares that match
//! the commitments in the message.

use std::sync::OnceLock;
use std::time::Duration;

use kovan_crypto::conditional as cond;
use kovan_spec::validate::{ConditionalSpec, Lock, RelayTrustee, Release};
use kovan_spec::wire::{self, trustee_request::Body};
use rand_core::{OsRng, RngCore as _};
use rusqlite::{OptionalExtension as _, params};
use serde_json::Value;
use zeroize::Zeroizing;

use super::super::{Core, Input, internal};
use crate::node::views::{RelaysView, Trustees};
use crate::node::{NodeError, NodeHandle, NodeResult};
use crate::relay_client::{self, RelayError};

/// While a device asks a message's relays, it does not ask again for this
/// long (the answers usually come in well under a second).
const LEASE_MS: i64 = 10 * 60_000;
/// A relay that says when its share is due is asked again then: at least
/// this much later ...
const MIN_WAIT_MS: i64 = 1_000;
/// ... and at most this much later.
const MAX_WAIT_MS: i64 = 86_400_000;
/// A relay that cannot be reached is asked again a minute later, doubling
/// up to an hour.
const FIRST_RETRY_MS: i64 = 60_000;
/// See [`FIRST_RETRY_MS`].
const MAX_RETRY_MS: i64 = 3_600_000;
/// A device gives up this long after the last due time it learned (relays
/// keep a due share for as long).
const GIVE_UP_MS: i64 = 30 * 86_400_000;
/// A cancellation that did not reach its relay is sent again this much
/// later, doubling up to an hour, for 30 days.
const FIRST_CANCEL_RETRY_MS: i64 = 5_000;

/// The relay lock of a message, if it has one.
pub(super) fn relays_of(spec: &ConditionalSpec) -> Option<(u8, &[RelayTrustee], Release)> {
    spec.locks.iter().find_map(|l| match l {
        Lock::Relays { threshold, trustees, release } => {
            Some((*threshold, trustees.as_slice(), *release))
        }
        _ => None,
    })
}

/// The HTTP client for trustee relays (any relay, not only this node's).
fn http() -> NodeResult<reqwest::Client> {
    static HTTP: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(c) = HTTP.get() {
        return Ok(c.clone());
    }
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("kovan/", env!("CARGO_PKG_VERSION")))
        // A relay's address is the sender's choice: never followed elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(internal)?;
    Ok(HTTP.get_or_init(|| c).clone())
}

/// What one relay said about its share.
enum Answer {
    Released(Vec<u8>),
    Waiting(i64),
    Cancelled,
    Failed(String),
}

fn answer(v: Result<Value, RelayError>) -> Answer {
    use base64::Engine as _;
    let v = match v {
        Ok(v) => v,
        Err(e) => return Answer::Failed(e.to_string()),
    };
    match v["state"].as_str() {
        Some("released") => {
            let share = v["share"].as_str().unwrap_or_default();
            match base64::engine::general_purpose::STANDARD.decode(share) {
                Ok(bytes) => Answer::Released(bytes),
                Err(_) => Answer::Failed("the relay's share is not base64".into()),
            }
        }
        Some("waiting") => match v["due_ms"].as_i64() {
            Some(due) => Answer::Waiting(due),
            None => Answer::Failed("the relay did not say when its share is due".into()),
        },
        Some("cancelled") => Answer::Cancelled,
        _ => Answer::Failed("the relay's answer is not one of the spec's".into()),
    }
}

/// A relay's word on one deposit of a check-in or cancellation.
fn deposit_state(v: &Value) -> &str {
    v["deposits"][0]["state"].as_str().unwrap_or("unknown")
}

impl Core {
    /// Starts following a received message's relays: they are asked once
    /// the message says they may release (its time, or the sender's
    /// silence since `sent_at`). Nothing for other messages, or for this
    /// device's own.
    pub(in crate::node::core) fn track_relays(
        &self,
        conv: &[u8],
        id: &[u8; 16],
        spec: &ConditionalSpec,
        sent_at: i64,
    ) -> crate::Result<()> {
        let Some((_, _, release)) = relays_of(spec) else { return Ok(()) };
        let heard = sent_at.min(self.options.clock.now_ms()).max(0);
        let first = release.due_ms(heard as u64).unwrap_or(0).min(i64::MAX as u64) as i64;
        self.db.conn().execute(
            "INSERT OR IGNORE INTO conditional_relay_fetches \
             (conversation_id, message_id, next_at, give_up_at, state) \
             VALUES (?1, ?2, ?3, ?4, 'waiting')",
            params![conv, id.as_slice(), first, first.saturating_add(GIVE_UP_MS)],
        )?;
        Ok(())
    }

    /// When this device asks a message's relays next.
    pub(in crate::node::core) fn next_relay_ask(&self) -> Option<i64> {
        self.earliest("SELECT MIN(next_at) FROM conditional_relay_fetches WHERE state = 'waiting'")
    }

    /// Asks the relays of every message whose time to ask has come.
    pub(in crate::node::core) fn run_relay_asks(&mut self) {
        if self.stopping {
            return;
        }
        let now = self.options.clock.now_ms();
        let due = self.due_messages(
            "SELECT conversation_id, message_id FROM conditional_relay_fetches \
             WHERE state = 'waiting' AND next_at <= ?1 ORDER BY next_at LIMIT 16",
            now,
            "relay shares",
        );
        for (conv, id) in due {
            let Ok(id) = <[u8; 16]>::try_from(id.as_slice()) else { continue };
            if let Err(e) = self.ask_relays(conv, id, now) {
                tracing::warn!(error = %e, "a message's relays were not asked");
            }
        }
    }

    /// The places (0-based) of the relays whose shares this device holds.
    fn relay_places(&self, conv: &[u8], id: &[u8; 16]) -> crate::Result<Vec<usize>> {
        let conn = self.db.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT place FROM conditional_relay_shares WHERE conversation_id = ?1 \
             AND message_id = ?2 ORDER BY place",
        )?;
        let rows = stmt.query_map(params![conv, id.as_slice()], |r| r.get::<_, i64>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.extend(usize::try_from(row?).ok());
        }
        Ok(out)
    }

    fn ask_relays(&mut self, conv: Vec<u8>, id: [u8; 16], now: i64) -> NodeResult<()> {
        let spec = self.stored_conditional(&conv, &id)?;
        let Some((_, trustees, _)) = spec.as_ref().and_then(relays_of) else {
            // The message is gone (deleted for everyone).
            self.db.conn().execute(
                "DELETE FROM conditional_relay_fetches WHERE conversation_id = ?1 \
                 AND message_id = ?2",
                params![conv, id.as_slice()],
            )?;
            return Ok(());
        };
        let have = self.relay_places(&conv, &id)?;
        let ask: Vec<(usize, String, [u8; 16])> = trustees
            .iter()
            .enumerate()
            .filter(|(i, _)| !have.contains(i))
            .map(|(i, t)| (i, t.relay.clone(), t.deposit))
            .collect();
        self.db.conn().execute(
            "UPDATE conditional_relay_fetches SET next_at = ?3 WHERE conversation_id = ?1 \
             AND message_id = ?2",
            params![conv, id.as_slice(), now.saturating_add(LEASE_MS)],
        )?;
        let http = http()?;
        let input = self.input.clone();
        self.spawn(async move {
            let asks = ask.into_iter().map(|(place, relay, deposit)| {
                let http = http.clone();
                async move {
                    (place, answer(relay_client::trustee_share(&http, &relay, &deposit).await))
                }
            });
            let answers = futures_util::future::join_all(asks).await;
            let job: crate::node::Job = Box::new(move |c: &mut Core| {
                if let Err(e) = c.relay_answers(&conv, &id, answers) {
                    tracing::warn!(error = %e, "a message's relays' answers were not kept");
                }
            });
            let _ = input.send(Input::Job(job)).await;
        });
        Ok(())
    }

    /// Keeps the shares a message's relays released (if they match), opens
    /// it when enough are here and it waits for nothing else, and says when
    /// to ask again.
    fn relay_answers(
        &mut self,
        conv: &[u8],
        id: &[u8; 16],
        answers: Vec<(usize, Answer)>,
    ) -> NodeResult<()> {
        let Some(spec) = self.stored_conditional(conv, id)? else { return Ok(()) };
        let Some((k, trustees, _)) = relays_of(&spec) else { return Ok(()) };
        let now = self.options.clock.now_ms();
        let (mut soonest, mut failed, mut cancelled) = (None::<i64>, false, 0usize);
        for (place, a) in answers {
            let Some(t) = trustees.get(place) else { continue };
            match a {
                Answer::Released(share) => match <[u8; 33]>::try_from(share.as_slice()) {
                    Ok(s)
                        if usize::from(s[0]) == place + 1
                            && cond::share_matches(&s, &t.commitment) =>
                    {
                        self.db.conn().execute(
                            "INSERT OR IGNORE INTO conditional_relay_shares \
                             (conversation_id, message_id, place, share) VALUES (?1, ?2, ?3, ?4)",
                            params![conv, id.as_slice(), place as i64, s.as_slice()],
                        )?;
                    }
                    _ => {
                        tracing::warn!(relay = %t.relay, "a relay handed out a share that does not match the message; it was dropped");
                        failed = true;
                    }
                },
                Answer::Waiting(due) => soonest = Some(soonest.map_or(due, |s| s.min(due))),
                Answer::Cancelled => cancelled += 1,
                Answer::Failed(e) => {
                    tracing::debug!(relay = %t.relay, error = %e, "a relay was not asked");
                    failed = true;
                }
            }
        }
        let have = self.relay_places(conv, id)?.len();
        let (retry_ms, give_up_at): (i64, i64) = self
            .db
            .conn()
            .query_row(
                "SELECT retry_ms, give_up_at FROM conditional_relay_fetches \
                 WHERE conversation_id = ?1 AND message_id = ?2",
                params![conv, id.as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((0, now.saturating_add(GIVE_UP_MS)));
        let give_up_at =
            soonest.map_or(give_up_at, |s| give_up_at.max(s.saturating_add(GIVE_UP_MS)));
        let retry = if failed { (retry_ms * 2).clamp(FIRST_RETRY_MS, MAX_RETRY_MS) } else { 0 };
        let next = soonest
            .map(|s| s.clamp(now + MIN_WAIT_MS, now + MAX_WAIT_MS))
            .into_iter()
            .chain(failed.then_some(now + retry))
            .min()
            .unwrap_or(now + MAX_WAIT_MS);
        let state = if have >= usize::from(k) {
            "released"
        } else if trustees.len().saturating_sub(cancelled) < usize::from(k) {
            "cancelled"
        } else if now > give_up_at {
            "failed"
        } else {
            "waiting"
        };
        self.db.conn().execute(
            "UPDATE conditional_relay_fetches SET next_at = ?3, retry_ms = ?4, give_up_at = ?5, \
             state = ?6 WHERE conversation_id = ?1 AND message_id = ?2",
            params![conv, id.as_slice(), next, retry, give_up_at, state],
        )?;
        if state == "released" {
            self.open_by_shares(conv, id, &spec)?;
        }
        self.members_changed(conv, id)?;
        self.schedule();
        Ok(())
    }

    /// The relay lock's key part, once enough relays released theirs.
    pub(super) fn relays_part(
        &self,
        conv: &[u8],
        id: &[u8; 16],
        spec: &ConditionalSpec,
    ) -> NodeResult<cond::Part> {
        let (k, _, _) = relays_of(spec).ok_or_else(|| internal("no relay lock"))?;
        let conn = self.db.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT share FROM conditional_relay_shares WHERE conversation_id = ?1 \
             AND message_id = ?2 ORDER BY place LIMIT ?3",
        )?;
        let rows =
            stmt.query_map(params![conv, id.as_slice(), i64::from(k)], |r| r.get::<_, Vec<u8>>(0))?;
        let mut shares = Vec::new();
        for row in rows {
            let bytes = Zeroizing::new(row?);
            if let Ok(s) = <[u8; 33]>::try_from(bytes.as_slice()) {
                shares.push(Zeroizing::new(s));
            }
        }
        if shares.len() < usize::from(k) {
            return Err(NodeError::State(
                "not enough relays have released their shares of this message yet".into(),
            ));
        }
        cond::combine(&shares).map_err(|e| NodeError::Invalid(e.to_string()))
    }

    /// Fills in a message's relays as this device sees them.
    pub(super) fn relays_view(
        &self,
        conv: &[u8],
        id: &[u8; 16],
        outgoing: bool,
        view: &mut RelaysView,
    ) -> crate::Result<()> {
        view.released = self.relay_places(conv, id)?.len();
        let row: Option<(i64, String)> = self
            .db
            .conn()
            .query_row(
                "SELECT next_at, state FROM conditional_relay_fetches WHERE conversation_id = ?1 \
                 AND message_id = ?2",
                params![conv, id.as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match row {
            Some((next, state)) => {
                view.next_ask_at = (state == "waiting").then_some(next);
                view.state = state;
            }
            None if outgoing => view.state = "sent".into(),
            None => {}
        }
        Ok(())
    }

    /// The relays and deposits of this account's own message with a relay
    /// lock (for a check-in, only one with a dead man's switch); none for
    /// another message.
    fn own_deposits(
        &self,
        who: &str,
        id: &[u8; 16],
        silence_only: bool,
    ) -> NodeResult<Vec<(String, [u8; 16])>> {
        let (conv, _) = self.find_conversation(who)?;
        let Some(spec) = self.stored_conditional(&conv, id)? else { return Ok(Vec::new()) };
        let mine = self.history().get(&conv, id)?.is_some_and(|m| m.outgoing);
        Ok(match relays_of(&spec) {
            Some((_, trustees, release))
                if mine && (!silence_only || release.silence_ms.is_some()) =>
            {
                trustees.iter().map(|t| (t.relay.clone(), t.deposit)).collect()
            }
            _ => Vec::new(),
        })
    }
}

/// Relay locks: leaving shares, checking in, cancelling.
impl NodeHandle {
    /// Leaves a fresh part's shares with `t`'s relays (SPEC.md §6.10.6):
    /// the lock to put in the message and its part. Nothing is left if any
    /// relay does not keep its share.
    pub(super) async fn relay_lock(
        &self,
        t: &Trustees,
    ) -> NodeResult<(wire::RelayLock, cond::Part)> {
        let mut relays = Vec::with_capacity(t.relays.len());
        for r in &t.relays {
            let r = match r.trim() {
                "mine" => self.relay()?.base().to_owned(),
                r => r.trim_end_matches('/').to_owned(),
            };
            crate::config::check_relay_url(&r).map_err(NodeError::Invalid)?;
            if !kovan_spec::validate::is_trustee_url(&r) {
                return Err(NodeError::Invalid(format!(
                    "{} is not a relay address of at most 256 characters",
                    crate::node::views::shown(&r)
                )));
            }
            if relays.contains(&r) {
                return Err(NodeError::Invalid(format!("{r} is named twice")));
            }
            relays.push(r);
        }
        let n = relays.len();
        if !(1..=kovan_spec::limits::MAX_TRUSTEES).contains(&n) {
            return Err(NodeError::Invalid("name 1 to 8 relays to keep the key".into()));
        }
        let k = usize::from(t.threshold);
        if !(1..=n).contains(&k) {
            return Err(NodeError::Invalid(format!(
                "between 1 and {n} of the relays must release"
            )));
        }
        if t.release_at_ms.is_some_and(|at| at <= crate::clock::system_now_ms()) {
            return Err(NodeError::Invalid("the time it opens at has passed".into()));
        }
        if t.silence_ms.is_some_and(|s| {
            !(kovan_spec::limits::MIN_SILENCE_MS..=kovan_spec::limits::MAX_SILENCE_MS).contains(&s)
        }) {
            return Err(NodeError::Invalid("a dead man's switch waits an hour to 366 days".into()));
        }
        let release_at = t.release_at_ms.map(|t| t.max(0) as u64).unwrap_or(0);
        let silence = t.silence_ms.unwrap_or(0);
        if release_at == 0 && silence == 0 {
            return Err(NodeError::Invalid(
                "say when the relays release: not before a time, after your silence, or both"
                    .into(),
            ));
        }
        let dealt = kovan_crypto::trustee::deal(&mut OsRng, k, n)
            .map_err(|e| NodeError::Invalid(e.to_string()))?;
        let created = u64::try_from(crate::clock::system_now_ms()).unwrap_or(0);
        let mut trustees = Vec::with_capacity(n);
        let mut requests = Vec::with_capacity(n);
        for (relay, (share, commitment)) in relays.iter().zip(&dealt.shares) {
            let mut deposit = [0u8; 16];
            OsRng.fill_bytes(&mut deposit);
            let body = Body::Deposit(wire::TrusteeDeposit {
                deposit: deposit.to_vec(),
                share: share.to_vec(),
                release_at_ms: release_at,
                silence_ms: silence,
            });
            let (bytes, sig) = self
                .inner
                .identity
                .sign_trustee_request(created, body)
                .map_err(NodeError::Invalid)?;
            requests.push((relay.clone(), Zeroizing::new(bytes), sig, deposit));
            trustees.push(wire::RelayTrustee {
                relay: relay.clone(),
                deposit: deposit.to_vec(),
                commitment: commitment.to_vec(),
            });
        }
        kovan_spec::validate::conditional(wire::Conditional {
            conditions: vec![wire::Condition {
                kind: Some(wire::condition::Kind::Relays(wire::RelayLock {
                    threshold: k as u32,
                    trustees: trustees.clone(),
                    release_at_ms: release_at,
                    silence_ms: silence,
                })),
            }],
            nonce: vec![0; 24],
            ciphertext: vec![0; 16],
            ..Default::default()
        })
        .map_err(NodeError::Invalid)?;
        let http = http()?;
        let sends = requests
            .iter()
            .map(|(relay, bytes, sig, _)| relay_client::trustee_request(&http, relay, bytes, sig));
        let results = futures_util::future::join_all(sends).await;
        let mut kept = Vec::new();
        let mut refused = None;
        for ((relay, _, _, deposit), r) in requests.iter().zip(results) {
            match r {
                Ok(v) if deposit_state(&v) == "waiting" => kept.push((relay.clone(), *deposit)),
                Ok(v) => {
                    refused.get_or_insert((relay.clone(), deposit_state(&v).to_owned()));
                }
                Err(e) => {
                    refused.get_or_insert((relay.clone(), e.to_string()));
                }
            }
        }
        if let Some((relay, why)) = refused {
            // Take back what the others kept: the message will not go.
            for (relay, deposit) in &kept {
                let _ =
                    one_request(&self.inner.identity, &http, relay, deposit, Kind::Cancel).await;
            }
            return Err(NodeError::State(format!(
                "the relay at {relay} did not keep its share, so nothing was sent: {why}"
            )));
        }
        let lock = wire::RelayLock {
            threshold: k as u32,
            trustees,
            release_at_ms: release_at,
            silence_ms: silence,
        };
        Ok((lock, dealt.part))
    }

    /// Tells the relays of this account's message with a dead man's switch
    /// that it is still there; `Ok(false)` if it has no relay lock with one.
    pub(super) async fn check_in_relays(&self, who: &str, id: &[u8; 16]) -> NodeResult<bool> {
        let (who2, id2) = (who.to_owned(), *id);
        let deposits = self.call(move |c| c.own_deposits(&who2, &id2, true)).await?;
        if deposits.is_empty() {
            return Ok(false);
        }
        let http = http()?;
        let mut words = Vec::with_capacity(deposits.len());
        for (relay, deposit) in &deposits {
            let word =
                one_request(&self.inner.identity, &http, relay, deposit, Kind::CheckIn).await?;
            words.push(word);
        }
        if words.iter().any(|w| w == "released") {
            return Err(NodeError::State("too late: this message has been released".into()));
        }
        if let Some(w) = words.iter().find(|w| *w != "waiting") {
            return Err(NodeError::State(format!("a relay did not take the check-in: {w}")));
        }
        Ok(true)
    }

    /// Before this account's message with a relay lock is deleted: tells
    /// its relays to forget their shares. A relay that cannot be reached
    /// now is told later (`conditional_relay_cancels`), so the deletion
    /// never waits for a relay that is down.
    pub(in crate::node::core) async fn cancel_relays(
        &self,
        who: &str,
        id: &[u8; 16],
    ) -> NodeResult<()> {
        let (who2, id2) = (who.to_owned(), *id);
        let deposits = self.call(move |c| c.own_deposits(&who2, &id2, false)).await?;
        if deposits.is_empty() {
            return Ok(());
        }
        let http = http()?;
        let mut later = Vec::new();
        for (relay, deposit) in deposits {
            let sent = one_request(&self.inner.identity, &http, &relay, &deposit, Kind::Cancel);
            if let Err(e) = sent.await {
                tracing::info!(error = %e, "a relay will be told of the cancellation later");
                later.push((relay, deposit));
            }
        }
        if !later.is_empty() {
            self.call(move |c| c.queue_relay_cancels(&later)).await?;
        }
        Ok(())
    }
}

impl Core {
    /// Keeps cancellations that did not reach their relays, to send again.
    fn queue_relay_cancels(&mut self, deposits: &[(String, [u8; 16])]) -> NodeResult<()> {
        let now = self.options.clock.now_ms();
        for (relay, deposit) in deposits {
            self.db.conn().execute(
                "INSERT OR IGNORE INTO conditional_relay_cancels \
                 (relay, deposit, next_at, retry_ms, give_up_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    relay,
                    deposit.as_slice(),
                    now + FIRST_CANCEL_RETRY_MS,
                    FIRST_CANCEL_RETRY_MS,
                    now.saturating_add(GIVE_UP_MS)
                ],
            )?;
        }
        self.schedule();
        Ok(())
    }

    /// When a cancellation is sent again next.
    pub(in crate::node::core) fn next_relay_cancel(&self) -> Option<i64> {
        self.earliest("SELECT MIN(next_at) FROM conditional_relay_cancels")
    }

    /// Sends again the cancellations whose time has come (those given up
    /// 30 days after the deletion are dropped).
    pub(in crate::node::core) fn run_relay_cancels(&mut self) {
        if self.stopping {
            return;
        }
        let now = self.options.clock.now_ms();
        let conn = self.db.conn();
        if let Err(e) = conn
            .execute("DELETE FROM conditional_relay_cancels WHERE give_up_at < ?1", params![now])
        {
            tracing::warn!(error = %e, "old cancellations were not dropped");
        }
        let due: Vec<(String, Vec<u8>, i64)> = conn
            .prepare_cached(
                "SELECT relay, deposit, retry_ms FROM conditional_relay_cancels \
                 WHERE next_at <= ?1 ORDER BY next_at LIMIT 16",
            )
            .and_then(|mut st| {
                st.query_map(params![now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect()
            })
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "due cancellations were not read");
                Vec::new()
            });
        let Ok(http) = http() else { return };
        for (relay, deposit, retry_ms) in due {
            let Ok(deposit) = <[u8; 16]>::try_from(deposit.as_slice()) else { continue };
            // Leased while the request runs.
            let _ = conn.execute(
                "UPDATE conditional_relay_cancels SET next_at = ?3 WHERE relay = ?1 AND deposit = ?2",
                params![relay, deposit.as_slice(), now.saturating_add(LEASE_MS)],
            );
            let (identity, http, input) = (self.identity.clone(), http.clone(), self.input.clone());
            self.spawn(async move {
                let sent = one_request(&identity, &http, &relay, &deposit, Kind::Cancel).await;
                let job: crate::node::Job = Box::new(move |c: &mut Core| {
                    c.relay_cancel_done(&relay, &deposit, sent.is_ok(), retry_ms);
                });
                let _ = input.send(Input::Job(job)).await;
            });
        }
    }

    fn relay_cancel_done(&mut self, relay: &str, deposit: &[u8; 16], sent: bool, retry_ms: i64) {
        let now = self.options.clock.now_ms();
        let retry = (retry_ms * 2).clamp(FIRST_CANCEL_RETRY_MS, MAX_RETRY_MS);
        let done = if sent {
            self.db.conn().execute(
                "DELETE FROM conditional_relay_cancels WHERE relay = ?1 AND deposit = ?2",
                params![relay, deposit.as_slice()],
            )
        } else {
            self.db.conn().execute(
                "UPDATE conditional_relay_cancels SET next_at = ?3, retry_ms = ?4 \
                 WHERE relay = ?1 AND deposit = ?2",
                params![relay, deposit.as_slice(), now + retry, retry],
            )
        };
        if let Err(e) = done {
            tracing::warn!(error = %e, "a cancellation's state was not kept");
        }
        self.schedule();
    }
}

/// Signs a check-in or a cancellation of `deposit` with the account key
/// and sends it to `relay`: the relay's word on it, or why it could not
/// be reached.
async fn one_request(
    identity: &crate::identity::Identity,
    http: &reqwest::Client,
    relay: &str,
    deposit: &[u8; 16],
    kind: Kind,
) -> NodeResult<String> {
    let created = u64::try_from(crate::clock::system_now_ms()).unwrap_or(0);
    let ids = wire::TrusteeIds { deposits: vec![deposit.to_vec()] };
    let body = match kind {
        Kind::CheckIn => Body::CheckIn(ids),
        Kind::Cancel => Body::Cancel(ids),
    };
    let (bytes, sig) = identity.sign_trustee_request(created, body).map_err(NodeError::Invalid)?;
    let v = relay_client::trustee_request(http, relay, &bytes, &sig)
        .await
        .map_err(|e| NodeError::State(format!("the relay at {relay} could not be reached: {e}")))?;
    Ok(deposit_state(&v).to_owned())
}

/// A request naming deposits.
#[derive(Clone, Copy)]
enum Kind {
    CheckIn,
    Cancel,
}
