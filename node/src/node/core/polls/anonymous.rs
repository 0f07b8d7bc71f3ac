//! Anonymous polls on the core thread (SPEC.md §6.4.2): each voter's
//! device registers its account's ballot key in the conversation, the
//! creator publishes the ring of registrations, a ballot is a ring
//! signature sealed with no sender to every member device and put into
//! relay mailboxes only, and every member audits what it holds by key
//! image, never by account.

use kovan_crypto::envelope::OpenedAnonymous;
use kovan_crypto::poll::Finding;
use kovan_crypto::ring_audit::{self, Held, RingAudit, RingClose, ring_findings, ring_keys};
use kovan_crypto::ring_ballot::{self, RingBallot};
use kovan_spec::validate::{PollSpec, Registration, Verifiable, validate_anonymous_ballot};
use kovan_spec::wire;
use rand_core::OsRng;
use rusqlite::params;
use sha2::{Digest as _, Sha256};

use super::super::{Core, Fail, internal, reject};
use super::verifiable::no_account_key;
use crate::node::views::{AnonymousPollView, PollCheckView, PollFindingView, PollView};
use crate::node::{NodeError, NodeResult};

/// Fewest voters of an anonymous poll, and keys in its ring: with two, each
/// would know the other's choice from the tally.
pub(super) const MIN_ANONYMOUS_VOTERS: usize = kovan_spec::limits::MIN_RING;

/// A registration as stored in a ring: account ‖ key ‖ signature.
const REGISTRATION_LEN: usize = 32 + 32 + 64;

/// Registration states in `poll_anonymous`.
const TO_REGISTER: i64 = 0;
const REGISTERED: i64 = 1;
const NOT_MINE: i64 = 2;

fn encode_ring(ring: &[Registration]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ring.len() * REGISTRATION_LEN);
    for r in ring {
        out.extend_from_slice(&r.account);
        out.extend_from_slice(&r.key);
        out.extend_from_slice(&r.signature);
    }
    out
}

fn decode_ring(bytes: &[u8]) -> Option<Vec<Registration>> {
    if !bytes.len().is_multiple_of(REGISTRATION_LEN) {
        return None;
    }
    bytes
        .chunks_exact(REGISTRATION_LEN)
        .map(|c| {
            Some(Registration {
                account: c[..32].try_into().ok()?,
                key: c[32..64].try_into().ok()?,
                signature: c[64..].try_into().ok()?,
            })
        })
        .collect()
}

/// A ring ballot as stored: challenge ‖ key image ‖ choices count ‖
/// choices ‖ responses.
fn encode_ballot(b: &RingBallot) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.size() + 1);
    out.extend_from_slice(&b.challenge);
    out.extend_from_slice(&b.key_image);
    // At most 12 choices, each below 12 (SPEC.md §6.4).
    out.push(b.choices.len() as u8);
    out.extend(b.choices.iter().map(|&c| c as u8));
    for r in &b.responses {
        out.extend_from_slice(r);
    }
    out
}

fn decode_ballot(bytes: &[u8]) -> Option<RingBallot> {
    let (challenge, rest) = bytes.split_at_checked(32)?;
    let (key_image, rest) = rest.split_at_checked(32)?;
    let (&n, rest) = rest.split_first()?;
    let (choices, responses) = rest.split_at_checked(usize::from(n))?;
    if !responses.len().is_multiple_of(32) {
        return None;
    }
    Some(RingBallot {
        choices: choices.iter().map(|&c| u32::from(c)).collect(),
        challenge: challenge.try_into().ok()?,
        responses: responses.chunks_exact(32).map(|r| r.try_into().ok()).collect::<Option<_>>()?,
        key_image: key_image.try_into().ok()?,
    })
}

fn ballot_context(conv: &[u8], poll: &[u8; 16]) -> Vec<u8> {
    super::field_context("ring-ballot", &[conv, poll])
}

pub(super) use kovan_spec::validate::RingCloseLists;

/// The `PollClose` of an anonymous poll.
pub(super) fn ring_close_wire(
    poll: &[u8; 16],
    counted: &[([u8; 32], Vec<u32>)],
    void: &[[u8; 32]],
) -> wire::PollClose {
    wire::PollClose {
        poll: poll.to_vec(),
        anonymous: counted
            .iter()
            .map(|(i, c)| wire::RingCount { key_image: i.to_vec(), choices: c.clone() })
            .collect(),
        void_images: void.iter().map(|i| i.to_vec()).collect(),
        ..Default::default()
    }
}

/// A close as stored: the number of counted ballots (u16), each as key
/// image ‖ choices count ‖ choices, then the void key images.
fn encode_close(counted: &[([u8; 32], Vec<u32>)], void: &[[u8; 32]]) -> Vec<u8> {
    // At most 300 counted ballots (SPEC.md §6.4.2).
    let mut out = (counted.len() as u16).to_be_bytes().to_vec();
    for (image, choices) in counted {
        out.extend_from_slice(image);
        out.push(choices.len() as u8);
        out.extend(choices.iter().map(|&c| c as u8));
    }
    for image in void {
        out.extend_from_slice(image);
    }
    out
}

fn decode_close(bytes: &[u8]) -> Option<RingCloseLists> {
    let (n, mut rest) = bytes.split_at_checked(2)?;
    let mut counted = Vec::new();
    for _ in 0..u16::from_be_bytes([n[0], n[1]]) {
        let (image, r) = rest.split_at_checked(32)?;
        let (&k, r) = r.split_first()?;
        let (choices, r) = r.split_at_checked(usize::from(k))?;
        counted.push((image.try_into().ok()?, choices.iter().map(|&c| u32::from(c)).collect()));
        rest = r;
    }
    if !rest.len().is_multiple_of(32) {
        return None;
    }
    let void = rest.chunks_exact(32).map(|c| c.try_into().ok()).collect::<Option<_>>()?;
    Some((counted, void))
}

/// A poll's anonymous part, if it is anonymous.
fn anonymous(spec: &PollSpec) -> Option<&Verifiable> {
    spec.verifiable.as_ref().filter(|v| v.anonymous)
}

impl Core {
    /// An anonymous poll was stored here (received, or made by this
    /// device): its registration goes out once this input is done.
    pub(in crate::node::core) fn anonymous_poll_known(
        &mut self,
        conv: &[u8],
        poll: &[u8; 16],
        created: bool,
    ) -> crate::Result<()> {
        self.db.conn().execute(
            "INSERT OR IGNORE INTO poll_anonymous (conversation_id, poll_id, registered, created) \
             VALUES (?1, ?2, ?3, ?4)",
            params![conv, poll.as_slice(), TO_REGISTER, created],
        )?;
        self.anonymous_due = true;
        Ok(())
    }

    /// Registrations this device owes, and the rings of polls this
    /// account created once every voter has registered.
    pub(in crate::node::core) fn send_due_anonymous(&mut self) {
        type Due = (Vec<u8>, Vec<u8>, i64, bool, bool);
        let due: rusqlite::Result<Vec<Due>> = self
            .db
            .conn()
            .prepare(
                "SELECT a.conversation_id, a.poll_id, a.registered, a.created, a.seen_said = 0 \
                 FROM poll_anonymous a WHERE a.registered = 0 OR a.seen_said = 0 OR (a.created = 1 \
                 AND NOT EXISTS (SELECT 1 FROM poll_rings r WHERE r.conversation_id = \
                 a.conversation_id AND r.poll_id = a.poll_id))",
            )
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
                    .collect::<rusqlite::Result<_>>()
            });
        let due = match due {
            Ok(d) => d,
            Err(e) => return tracing::error!(error = %e, "reading anonymous polls failed"),
        };
        for (conv, poll, registered, created, say_seen) in due {
            let Ok(poll) = <[u8; 16]>::try_from(poll.as_slice()) else { continue };
            if registered == TO_REGISTER
                && let Err(e) = self.register(&conv, &poll)
            {
                tracing::warn!(error = %e, "registering a ballot key failed");
            }
            if say_seen && let Err(e) = self.say_ring_seen(&conv, &poll) {
                tracing::warn!(error = %e, "saying which ring this device holds failed");
            }
            if created && let Err(e) = self.publish_ring(&conv, &poll, false) {
                tracing::warn!(error = %e, "publishing an anonymous poll's ring failed");
            }
            // A poll deleted or closed meanwhile has no ring left to send.
            let gone = !matches!(self.history().poll_closed(&conv, &poll), Ok(false))
                || !matches!(self.poll(&conv, &poll), Ok(Some(_)));
            if created && gone {
                let _ = self.db.conn().execute(
                    "UPDATE poll_anonymous SET created = 0 WHERE conversation_id = ?1 AND poll_id = ?2",
                    params![conv, poll.as_slice()],
                );
            }
        }
        self.flush_events();
        self.pump();
    }

    fn set_registered(&self, conv: &[u8], poll: &[u8; 16], state: i64) -> crate::Result<()> {
        self.db.conn().execute(
            "UPDATE poll_anonymous SET registered = ?3 WHERE conversation_id = ?1 AND poll_id = ?2",
            params![conv, poll.as_slice(), state],
        )?;
        Ok(())
    }

    /// Registers this account's ballot key in the conversation, if it is a
    /// voter, this device holds the account key, and the ring is not out.
    fn register(&mut self, conv: &[u8], poll: &[u8; 16]) -> NodeResult<()> {
        let me = self.my_account();
        let spec = self.poll(conv, poll)?;
        let Some(v) = spec.as_ref().and_then(|(s, _)| anonymous(s)) else {
            return Ok(self.set_registered(conv, poll, NOT_MINE)?);
        };
        let late = self.ring_of(conv, poll)?.is_some() || self.history().poll_closed(conv, poll)?;
        let held = self.registrations(conv, poll)?.iter().any(|r| r.account == me);
        let key = self.identity.ballot_key(poll, &v.binding);
        let Some((_, key, signature)) = key.filter(|_| v.eligible(&me) && !late && !held) else {
            return Ok(self.set_registered(conv, poll, NOT_MINE)?);
        };
        let recipients = self.group_recipients(conv)?;
        let content = wire::app_envelope::Content::BallotKey(wire::BallotKey {
            poll: poll.to_vec(),
            key: key.to_vec(),
            signature: signature.to_vec(),
            account: Vec::new(),
        });
        self.send_app(conv, &recipients, content, None, false)?;
        self.keep_registration(conv, poll, &Registration { account: me, key, signature })?;
        self.set_registered(conv, poll, REGISTERED)?;
        self.poll_updated(conv, poll)?;
        Ok(())
    }

    /// A member registered its ballot key: kept if it is a voter's first,
    /// correctly signed, before the ring.
    pub(in crate::node::core) fn on_ballot_key(
        &mut self,
        conv: &[u8],
        poll: &[u8; 16],
        account: &[u8],
        key: [u8; 32],
        signature: [u8; 64],
    ) -> crate::Result<()> {
        let Some((spec, creator)) = self.poll(conv, poll)? else {
            tracing::debug!("dropped a registration for a poll not received");
            return Ok(());
        };
        let (Some(v), Ok(account)) = (anonymous(&spec), <[u8; 32]>::try_from(account)) else {
            return Ok(());
        };
        let taken = self.registrations(conv, poll)?.iter().any(|r| r.key == key);
        if !v.eligible(&account)
            || taken
            || !ring_ballot::ballot_key_valid(&key)
            || self.ring_of(conv, poll)?.is_some()
            || !ring_ballot::registration_signed(&account, poll, &v.binding, &key, &signature)
        {
            tracing::debug!(
                "ignored a registration that is late, taken, not a voter's, not a key or not signed"
            );
            return Ok(());
        }
        if self.keep_registration(conv, poll, &Registration { account, key, signature })? {
            self.anonymous_due |= creator == self.my_account();
            self.poll_updated(conv, poll)?;
        }
        Ok(())
    }

    fn keep_registration(
        &self,
        conv: &[u8],
        poll: &[u8; 16],
        r: &Registration,
    ) -> crate::Result<bool> {
        let n = self.db.conn().execute(
            "INSERT OR IGNORE INTO poll_registrations (conversation_id, poll_id, account, \
             ballot_key, signature) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![conv, poll.as_slice(), r.account, r.key, r.signature],
        )?;
        Ok(n == 1)
    }

    /// The registrations this device accepted, in key order.
    fn registrations(&self, conv: &[u8], poll: &[u8; 16]) -> crate::Result<Vec<Registration>> {
        let mut stmt = self.db.conn().prepare_cached(
            "SELECT account, ballot_key, signature FROM poll_registrations \
             WHERE conversation_id = ?1 AND poll_id = ?2 ORDER BY ballot_key",
        )?;
        let rows = stmt
            .query_map(params![conv, poll.as_slice()], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, Vec<u8>>(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(a, k, s)| {
                Some(Registration {
                    account: a.try_into().ok()?,
                    key: k.try_into().ok()?,
                    signature: s.try_into().ok()?,
                })
            })
            .collect())
    }

    /// The ring the creator published, once it has.
    fn ring_of(&self, conv: &[u8], poll: &[u8; 16]) -> crate::Result<Option<Vec<Registration>>> {
        let bytes: Option<Vec<u8>> = self.poll_value("poll_rings", "ring", conv, poll)?;
        Ok(bytes.and_then(|b| decode_ring(&b)))
    }

    fn keep_ring(
        &self,
        conv: &[u8],
        poll: &[u8; 16],
        ring: &[Registration],
    ) -> crate::Result<bool> {
        let n = self.db.conn().execute(
            "INSERT OR IGNORE INTO poll_rings (conversation_id, poll_id, ring) VALUES (?1, ?2, ?3)",
            params![conv, poll.as_slice(), encode_ring(ring)],
        )?;
        Ok(n == 1)
    }

    /// The creator publishes the ring: at once with `now`, otherwise only
    /// when every voter has registered. Returns the ring's size (0: not
    /// yet).
    pub(super) fn publish_ring(
        &mut self,
        conv: &[u8],
        poll: &[u8; 16],
        now: bool,
    ) -> NodeResult<usize> {
        let (spec, creator) =
            self.poll(conv, poll)?.ok_or_else(|| NodeError::NotFound("no such poll".into()))?;
        let v = anonymous(&spec)
            .ok_or_else(|| NodeError::Invalid("this poll is not anonymous".into()))?;
        if creator != self.my_account() {
            return Err(NodeError::Invalid("only the poll's creator publishes its ring".into()));
        }
        if self.ring_of(conv, poll)?.is_some() || self.history().poll_closed(conv, poll)? {
            return match now {
                true => Err(NodeError::State("the poll's ring is published already".into())),
                false => Ok(0),
            };
        }
        let ring = self.registrations(conv, poll)?;
        if !now && ring.len() < v.voters.len() {
            return Ok(0);
        }
        if ring.len() < MIN_ANONYMOUS_VOTERS {
            return Err(NodeError::State(format!(
                "{} of {} voters have registered; a ring needs {} at least, or each would know \
                 the others' choices",
                ring.len(),
                v.voters.len(),
                MIN_ANONYMOUS_VOTERS
            )));
        }
        let recipients = self.group_recipients(conv)?;
        let content = wire::app_envelope::Content::PollRing(wire::PollRing {
            poll: poll.to_vec(),
            keys: ring
                .iter()
                .map(|r| wire::BallotKey {
                    poll: Vec::new(),
                    key: r.key.to_vec(),
                    signature: r.signature.to_vec(),
                    account: r.account.to_vec(),
                })
                .collect(),
        });
        self.send_app(conv, &recipients, content, None, false)?;
        self.keep_ring(conv, poll, &ring)?;
        self.ring_arrived(conv, poll, &ring, v)?;
        self.poll_updated(conv, poll)?;
        Ok(ring.len())
    }

    /// A ring is here (received or published): ballots kept unchecked
    /// before it that do not verify over it go.
    fn ring_arrived(
        &self,
        conv: &[u8],
        poll: &[u8; 16],
        ring: &[Registration],
        v: &Verifiable,
    ) -> crate::Result<()> {
        let keys = ring_keys(ring);
        for (b, _, id) in self.ring_ballots_with_ids(conv, poll)? {
            if !ring_ballot::ring_ballot_valid(&keys, poll, &v.binding, &b) {
                self.db.conn().execute(
                    "DELETE FROM poll_ring_ballots WHERE conversation_id = ?1 AND poll_id = ?2 \
                     AND id = ?3",
                    params![conv, poll.as_slice(), id],
                )?;
            }
        }
        Ok(())
    }

    /// Says which ring this device holds, so that every member can tell
    /// whether the creator showed everyone the same one.
    fn say_ring_seen(&mut self, conv: &[u8], poll: &[u8; 16]) -> NodeResult<()> {
        self.db.conn().execute(
            "UPDATE poll_anonymous SET seen_said = 1 WHERE conversation_id = ?1 AND poll_id = ?2",
            params![conv, poll.as_slice()],
        )?;
        let Some(ring) = self.ring_of(conv, poll)? else { return Ok(()) };
        if self.history().poll_closed(conv, poll)? || self.history().is_closed(conv)? {
            return Ok(());
        }
        let digest = ring_ballot::ring_digest(&ring_keys(&ring));
        let recipients = self.group_recipients(conv)?;
        let content = wire::app_envelope::Content::RingSeen(wire::RingSeen {
            poll: poll.to_vec(),
            ring: digest.to_vec(),
        });
        self.send_app(conv, &recipients, content, None, false)?;
        Ok(())
    }

    /// A member said which ring it holds: its first word is kept.
    pub(in crate::node::core) fn on_ring_seen(
        &mut self,
        conv: &[u8],
        poll: &[u8; 16],
        account: &[u8],
        ring: [u8; 32],
    ) -> crate::Result<()> {
        let n = self.db.conn().execute(
            "INSERT OR IGNORE INTO poll_ring_seen (conversation_id, poll_id, account, ring) \
             SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM poll_anonymous \
             WHERE conversation_id = ?1 AND poll_id = ?2)",
            params![conv, poll.as_slice(), account, ring.as_slice()],
        )?;
        if n == 1 {
            self.poll_updated(conv, poll)?;
        }
        Ok(())
    }

    fn rings_seen(&self, conv: &[u8], poll: &[u8; 16]) -> crate::Result<Vec<([u8; 32], [u8; 32])>> {
        let mut stmt = self.db.conn().prepare_cached(
            "SELECT account, ring FROM poll_ring_seen WHERE conversation_id = ?1 AND poll_id = ?2",
        )?;
        let rows = stmt
            .query_map(params![conv, poll.as_slice()], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(a, d)| Some((a.try_into().ok()?, d.try_into().ok()?)))
            .collect())
    }

    /// The creator's ring arrived: the first one is kept (the audit judges
    /// it).
    pub(in crate::node::core) fn on_poll_ring(
        &mut self,
        conv: &[u8],
        poll: &[u8; 16],
        sender: &[u8],
        members: &[Registration],
    ) -> crate::Result<()> {
        match self.poll(conv, poll)? {
            Some((spec, creator)) if creator == sender && anonymous(&spec).is_some() => {
                if self.keep_ring(conv, poll, members)?
                    && let Some(v) = anonymous(&spec)
                {
                    self.ring_arrived(conv, poll, members, v)?;
                    // Said once this input is done (sending waits for it).
                    self.db.conn().execute(
                        "UPDATE poll_anonymous SET seen_said = 0 WHERE conversation_id = ?1 \
                         AND poll_id = ?2",
                        params![conv, poll.as_slice()],
                    )?;
                    self.anonymous_due = true;
                    self.poll_updated(conv, poll)?;
                }
            }
            _ => tracing::debug!("ignored a ring not from its anonymous poll's creator"),
        }
        Ok(())
    }

    /// Casts this account's anonymous ballot: a ring signature sealed with
    /// no sender to every other member device, through relay mailboxes.
    pub(super) fn cast_anonymous(
        &mut self,
        conv: &[u8],
        poll: &[u8; 16],
        v: &Verifiable,
        choices: &[u32],
    ) -> NodeResult<()> {
        if choices.is_empty() {
            return Err(NodeError::Invalid("an anonymous ballot cannot be withdrawn".into()));
        }
        let ring = self.ring_of(conv, poll)?.ok_or_else(|| {
            NodeError::State(
                "the poll's creator has not published the ring of voters yet; you can vote once \
                 it has"
                    .into(),
            )
        })?;
        let (secret, key, _) =
            self.identity.ballot_key(poll, &v.binding).ok_or_else(no_account_key)?;
        if !ring.iter().any(|r| r.key == key) {
            return Err(NodeError::State(
                "your ballot key is not in this poll's ring (it was published before your \
                 registration came), so you cannot vote in it"
                    .into(),
            ));
        }
        let registrations = self.registrations(conv, poll)?;
        let seen = self.rings_seen(conv, poll)?;
        let held = Held { registrations: &registrations, seen: &seen };
        if ring_findings(poll, v, &ring, held).iter().any(|(_, f)| f.fails()) {
            return Err(NodeError::State(
                "this poll's ring of voters does not match the registrations this device saw, so \
                 a ballot in it would not be anonymous among the voters you expect"
                    .into(),
            ));
        }
        let image = ring_ballot::key_image(&secret);
        if self.ring_ballots(conv, poll)?.iter().any(|(b, _)| b.key_image == image) {
            return Err(NodeError::State(
                "you have voted in this anonymous poll; its ballots cannot be changed".into(),
            ));
        }
        if self.relay.is_none() {
            return Err(NodeError::State(
                "an anonymous ballot travels through a relay's mailboxes, and this device has no \
                 relay"
                    .into(),
            ));
        }
        let keys = ring_keys(&ring);
        let ballot =
            ring_ballot::sign_ring_ballot::<OsRng>(&secret, &keys, poll, &v.binding, choices)
                .map_err(internal)?;
        let payload = kovan_spec::encode(&wire::AnonymousBallot {
            group_id: conv.to_vec(),
            ballot: Some(wire::RingBallot {
                poll: poll.to_vec(),
                choices: ballot.choices.clone(),
                challenge: ballot.challenge.to_vec(),
                responses: ballot.responses.iter().map(|r| r.to_vec()).collect(),
                key_image: ballot.key_image.to_vec(),
            }),
        });
        // Every member device, this one too: a device left out would be
        // the voter's, to a relay that sees which mailboxes a ballot fills.
        let mine = self.identity.certificate().clone();
        for device in self.group_recipients(conv)?.iter().chain([&mine]) {
            self.enqueue_anonymous(device, &payload)?;
        }
        self.keep_ring_ballot(conv, poll, &ballot, true, true)?;
        Ok(())
    }

    /// An anonymous ballot from a mailbox: kept if it is for an open
    /// anonymous poll here and (once the ring is here) verifies.
    pub(in crate::node::core) fn apply_anonymous(
        &mut self,
        a: &OpenedAnonymous,
    ) -> Result<(), Fail> {
        let b = validate_anonymous_ballot(&a.payload).map_err(reject)?;
        let conv = b.group_id.as_slice();
        let history = self.history();
        if !history.exists(conv)? || history.is_closed(conv)? || !self.is_group(conv)? {
            tracing::debug!("dropped an anonymous ballot for no open group here");
            return Ok(());
        }
        let Some(v) = self.poll(conv, &b.poll)?.and_then(|(s, _)| anonymous(&s).cloned()) else {
            tracing::debug!("dropped an anonymous ballot for no anonymous poll here");
            return Ok(());
        };
        // After the close, only a ballot the close names is kept: it is
        // needed to check the close (mailboxes are slower than the close).
        if let Some((counted, void)) = self.ring_close(conv, &b.poll)?
            && !counted.iter().any(|(i, _)| *i == b.key_image)
            && !void.contains(&b.key_image)
        {
            return Ok(());
        }
        let ballot = RingBallot {
            choices: b.choices,
            challenge: b.challenge,
            responses: b.responses,
            key_image: b.key_image,
        };
        let ring = self.ring_of(conv, &b.poll)?;
        match &ring {
            Some(ring)
                if !ring_ballot::ring_ballot_valid(
                    &ring_keys(ring),
                    &b.poll,
                    &v.binding,
                    &ballot,
                ) =>
            {
                return Err(reject("an anonymous ballot does not verify"));
            }
            // Before its ring, a ballot cannot be checked: a few are kept,
            // no larger than a ring of the poll's voters, and those that do
            // not verify over the ring go when it comes.
            None if ballot.responses.len() > v.voters.len()
                || self.ring_ballots(conv, &b.poll)?.len() >= 2 * v.voters.len() =>
            {
                return Ok(());
            }
            _ => {}
        }
        if self.keep_ring_ballot(conv, &b.poll, &ballot, false, ring.is_some())? {
            self.poll_updated(conv, &b.poll)?;
        }
        Ok(())
    }

    /// Keeps a ring ballot; false if it was known, or if (once the ring is
    /// here, so that they verified) two with other choices were kept for its
    /// key image already.
    fn keep_ring_ballot(
        &self,
        conv: &[u8],
        poll: &[u8; 16],
        b: &RingBallot,
        mine: bool,
        checked: bool,
    ) -> crate::Result<bool> {
        let same_tag: Vec<RingBallot> = self
            .ring_ballots(conv, poll)?
            .into_iter()
            .map(|(held, _)| held)
            .filter(|held| held.key_image == b.key_image)
            .collect();
        // Once checked, the same choices under one key image are the same
        // ballot; before, only the same bytes (an unchecked one may be junk
        // that would otherwise keep the real one out).
        let same = |held: &RingBallot| if checked { held.choices == b.choices } else { held == b };
        if (checked && same_tag.len() >= 2) || same_tag.iter().any(same) {
            return Ok(false);
        }
        let plain = encode_ballot(b);
        let id: [u8; 32] = Sha256::digest(&plain).into();
        let sealed = self.field.seal(&mut OsRng, &ballot_context(conv, poll), &plain);
        let n = self.db.conn().execute(
            "INSERT OR IGNORE INTO poll_ring_ballots (conversation_id, poll_id, key_image, id, \
             ballot, cast_here) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![conv, poll.as_slice(), b.key_image, id.as_slice(), sealed, mine],
        )?;
        Ok(n == 1)
    }

    /// The ring ballots held, each with whether this device cast it.
    fn ring_ballots(&self, conv: &[u8], poll: &[u8; 16]) -> crate::Result<Vec<(RingBallot, bool)>> {
        Ok(self.ring_ballots_with_ids(conv, poll)?.into_iter().map(|(b, m, _)| (b, m)).collect())
    }

    /// [`Self::ring_ballots`] with each one's row id.
    fn ring_ballots_with_ids(
        &self,
        conv: &[u8],
        poll: &[u8; 16],
    ) -> crate::Result<Vec<(RingBallot, bool, Vec<u8>)>> {
        let mut stmt = self.db.conn().prepare_cached(
            "SELECT ballot, cast_here, id FROM poll_ring_ballots WHERE conversation_id = ?1 \
             AND poll_id = ?2 ORDER BY key_image, id",
        )?;
        let rows = stmt
            .query_map(params![conv, poll.as_slice()], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, bool>(1)?, r.get::<_, Vec<u8>>(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let context = ballot_context(conv, poll);
        Ok(rows
            .into_iter()
            .filter_map(|(sealed, mine, id)| {
                let plain = self.field.open(&context, &sealed).ok()?;
                Some((decode_ballot(&plain)?, mine, id))
            })
            .collect())
    }

    /// The close of an anonymous poll as this device's audit would make
    /// it: the counted ballots by key image, and the double voters' images.
    pub(super) fn anonymous_close(
        &self,
        conv: &[u8],
        poll: &[u8; 16],
        spec: &PollSpec,
        v: &Verifiable,
    ) -> NodeResult<RingCloseLists> {
        let audit = self.ring_audit(conv, poll, spec, v)?;
        let mut void: Vec<[u8; 32]> = audit
            .findings
            .iter()
            .filter(|(_, f)| *f == Finding::DoubleVote)
            .map(|(image, _)| *image)
            .collect();
        void.sort_unstable();
        void.dedup();
        Ok((audit.counted, void))
    }

    /// Keeps the creator's close of an anonymous poll (the first one).
    pub(super) fn keep_ring_close(
        &self,
        conv: &[u8],
        poll: &[u8; 16],
        counted: &[([u8; 32], Vec<u32>)],
        void: &[[u8; 32]],
    ) -> crate::Result<()> {
        // Sealed: with the key image of this device's own ballot (kept in
        // the clear), the close's choices would say how its user voted.
        let close = self.field.seal(
            &mut OsRng,
            &super::field_context("ring-close", &[conv, poll]),
            &encode_close(counted, void),
        );
        self.db.conn().execute(
            "INSERT OR IGNORE INTO poll_ring_closes (conversation_id, poll_id, close) \
             VALUES (?1, ?2, ?3)",
            params![conv, poll.as_slice(), close],
        )?;
        Ok(())
    }

    fn ring_close(&self, conv: &[u8], poll: &[u8; 16]) -> crate::Result<Option<RingCloseLists>> {
        let sealed: Option<Vec<u8>> = self.poll_value("poll_ring_closes", "close", conv, poll)?;
        let context = super::field_context("ring-close", &[conv, poll]);
        Ok(sealed.and_then(|b| self.field.open(&context, &b).ok()).and_then(|b| decode_close(&b)))
    }

    /// The audit of an anonymous poll as this device sees it now.
    fn ring_audit(
        &self,
        conv: &[u8],
        poll: &[u8; 16],
        spec: &PollSpec,
        v: &Verifiable,
    ) -> crate::Result<RingAudit> {
        let ring = self.ring_of(conv, poll)?;
        let registrations = self.registrations(conv, poll)?;
        let seen = self.rings_seen(conv, poll)?;
        let held = Held { registrations: &registrations, seen: &seen };
        let ballots: Vec<RingBallot> =
            self.ring_ballots(conv, poll)?.into_iter().map(|(b, _)| b).collect();
        let close = self.ring_close(conv, poll)?;
        let close = close.as_ref().map(|(counted, void)| RingClose { counted, void });
        Ok(ring_audit::ring_audit(poll, spec, v, ring.as_deref(), held, &ballots, close))
    }

    /// Members of the ring, other than the creator and this account, who
    /// have not said they hold this device's ring.
    fn unconfirmed(
        &self,
        conv: &[u8],
        poll: &[u8; 16],
        ring: Option<&[Registration]>,
        creator: &[u8],
    ) -> crate::Result<usize> {
        let Some(ring) = ring else { return Ok(0) };
        let digest = ring_ballot::ring_digest(&ring_keys(ring));
        let seen = self.rings_seen(conv, poll)?;
        let me = self.my_account();
        Ok(ring
            .iter()
            .filter(|r| r.account != me && r.account.as_slice() != creator)
            .filter(|r| !seen.iter().any(|(a, d)| *a == r.account && *d == digest))
            .count())
    }

    /// An anonymous poll's view: the tally with nobody's name on it, this
    /// account's own choices, and the audit's verdict.
    pub(super) fn anonymous_view(
        &self,
        conv: &[u8],
        poll_id: &[u8; 16],
        spec: &PollSpec,
        v: &Verifiable,
        mut poll: PollView,
        eligibility: (bool, &'static str),
    ) -> crate::Result<PollView> {
        let ring = self.ring_of(conv, poll_id)?;
        let creator = self.poll(conv, poll_id)?.map(|(_, c)| c).unwrap_or_default();
        let audit = self.ring_audit(conv, poll_id, spec, v)?;
        poll.closed = self.history().poll_closed(conv, poll_id)?;
        poll.voters = audit.counted.len();
        for (o, count) in poll.options.iter_mut().zip(&audit.tally) {
            o.votes = *count;
            o.by.clear();
        }
        let mine = self.ring_ballots(conv, poll_id)?.into_iter().find(|(_, m)| *m);
        // A ballot cast from another device of this account carries the
        // same key image.
        let key = self.identity.ballot_key(poll_id, &v.binding);
        let image = key.as_ref().map(|(s, _, _)| ring_ballot::key_image(s));
        let voted =
            mine.is_some() || image.is_some_and(|i| audit.counted.iter().any(|(c, _)| *c == i));
        poll.mine = mine.map(|(b, _)| b.choices).unwrap_or_default();
        let in_ring = key
            .as_ref()
            .is_some_and(|(_, k, _)| ring.as_ref().is_some_and(|r| r.iter().any(|m| m.key == *k)));
        let (checked, eligibility) = eligibility;
        poll.verifiable = Some(PollCheckView {
            verified: checked && ring.is_some() && audit.holds(),
            eligibility,
            eligible: v.voters.len(),
            can_vote: in_ring && !voted && !poll.closed,
            sealed: false,
            not_revealed: 0,
            findings: audit
                .findings
                .iter()
                .map(|(a, f)| PollFindingView { account: hex::encode(a), finding: f.name() })
                .collect(),
            anonymous: Some(AnonymousPollView {
                registered: self.registrations(conv, poll_id)?.len(),
                ring: ring.as_ref().map(Vec::len),
                unconfirmed: self.unconfirmed(conv, poll_id, ring.as_deref(), &creator)?,
                in_ring,
                voted,
            }),
        });
        Ok(poll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_and_ballots_round_trip_through_their_stored_forms() {
        let ring = vec![
            Registration { account: [1; 32], key: [2; 32], signature: [3; 64] },
            Registration { account: [4; 32], key: [5; 32], signature: [6; 64] },
        ];
        assert_eq!(decode_ring(&encode_ring(&ring)), Some(ring));
        assert_eq!(decode_ring(&[0; 127]), None, "a torn registration");
        let b = RingBallot {
            choices: vec![0, 3],
            challenge: [7; 32],
            responses: vec![[8; 32], [9; 32], [10; 32]],
            key_image: [11; 32],
        };
        assert_eq!(decode_ballot(&encode_ballot(&b)), Some(b));
        assert_eq!(decode_ballot(&[0; 64]), None, "no choices count");
        let counted = vec![([1; 32], vec![0]), ([2; 32], vec![1, 2])];
        let void = vec![[3; 32]];
        assert_eq!(decode_close(&encode_close(&counted, &void)), Some((counted, void)));
        assert_eq!(decode_close(&[0, 1, 5]), None, "a torn ballot");
    }
}
