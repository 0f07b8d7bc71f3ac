//! Sealed polls on the core thread (SPEC.md §6.4.3): a voter's ballot is a
//! signed commitment whose opening this device keeps sealed; once the
//! creator's close fixes the counted commitments, the voter's device
//! reveals (also after coming back online), and every member counts the
//! reveals that open a counted commitment.

use kovan_crypto::poll::{self as vp, Audit};
use kovan_spec::validate::{PollSpec, Reveal, SignedBallot, Verifiable};
use kovan_spec::wire;
use rand_core::{OsRng, RngCore as _};
use rusqlite::{OptionalExtension as _, params};
use zeroize::Zeroizing;

use super::super::Core;
use super::verifiable::{Source, no_account_key};
use crate::node::{NodeError, NodeResult};

/// What the view of a sealed poll shows: votes per option, who chose what
/// (revealed only), and how many counted ballots are not revealed.
pub(super) type Results = (Vec<usize>, Vec<([u8; 32], Vec<u32>)>, usize);

fn context(table: &str, conv: &[u8], poll: &[u8; 16], account: &[u8]) -> Vec<u8> {
    super::field_context(table, &[conv, poll, account])
}

/// `opening (32) || choices (one byte each: option indexes below 12)`.
fn encode(opening: &[u8; 32], choices: &[u32]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(opening.to_vec());
    out.extend(choices.iter().map(|&c| c as u8));
    out
}

fn decode(poll: &[u8; 16], bytes: &[u8]) -> Option<Reveal> {
    let (opening, choices) = bytes.split_at_checked(32)?;
    Some(Reveal {
        poll: *poll,
        choices: choices.iter().map(|&c| u32::from(c)).collect(),
        opening: opening.try_into().ok()?,
    })
}

impl Core {
    /// This account's sealed ballot in a sealed poll: its opening is kept
    /// (sealed) to reveal after the close.
    pub(super) fn seal_my_ballot(
        &self,
        conv: &[u8],
        poll: &[u8; 16],
        v: &Verifiable,
        choices: &[u32],
    ) -> NodeResult<SignedBallot> {
        self.may_cast(conv, poll, v, choices)?;
        let mut opening = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(opening.as_mut());
        let ballot = self
            .identity
            .sign_sealed_ballot(poll, &v.binding, &opening, choices)
            .ok_or_else(no_account_key)?;
        let me = self.my_account();
        let sealed = self.field.seal(
            &mut OsRng,
            &context("opening", conv, poll, &me),
            &encode(&opening, choices),
        );
        self.db.conn().execute(
            "INSERT OR REPLACE INTO poll_openings (conversation_id, poll_id, sealed) \
             VALUES (?1, ?2, ?3)",
            params![conv, poll.as_slice(), sealed],
        )?;
        Ok(ballot)
    }

    /// What this account chose in a sealed poll, from its kept opening.
    fn my_opening(&self, conv: &[u8], poll: &[u8; 16]) -> crate::Result<Option<(Reveal, bool)>> {
        let row: Option<(Vec<u8>, bool)> = self
            .db
            .conn()
            .query_row(
                "SELECT sealed, revealed FROM poll_openings WHERE conversation_id = ?1 \
                 AND poll_id = ?2",
                params![conv, poll.as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((sealed, revealed)) = row else { return Ok(None) };
        let me = self.my_account();
        let plain = self
            .field
            .open(&context("opening", conv, poll, &me), &sealed)
            .map_err(|_| crate::Error::Internal("a ballot's opening does not open".into()))?;
        Ok(decode(poll, &plain).map(|r| (r, revealed)))
    }

    pub(super) fn my_sealed_choices(
        &self,
        conv: &[u8],
        poll: &[u8; 16],
    ) -> crate::Result<Option<Vec<u32>>> {
        Ok(self.my_opening(conv, poll)?.map(|(r, _)| r.choices))
    }

    /// Reveals this account's sealed ballots of closed polls: at once when
    /// a close is applied, and at start for closes applied while a reveal
    /// could not go.
    pub(in crate::node::core) fn send_due_reveals(&mut self) {
        let due: rusqlite::Result<Vec<(Vec<u8>, Vec<u8>)>> = self
            .db
            .conn()
            .prepare("SELECT conversation_id, poll_id FROM poll_openings WHERE revealed = 0")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()
            });
        let due = match due {
            Ok(d) => d,
            Err(e) => return tracing::error!(error = %e, "reading ballots to reveal failed"),
        };
        for (conv, poll) in due {
            let Ok(poll) = <[u8; 16]>::try_from(poll.as_slice()) else { continue };
            if let Err(e) = self.reveal(&conv, &poll) {
                tracing::warn!(error = %e, "revealing a sealed ballot failed");
            }
        }
    }

    fn reveal(&mut self, conv: &[u8], poll: &[u8; 16]) -> NodeResult<()> {
        if !self.history().poll_closed(conv, poll)? {
            return Ok(());
        }
        let Some((reveal, false)) = self.my_opening(conv, poll)? else { return Ok(()) };
        let Some((spec, _)) = self.poll(conv, poll)? else { return Ok(()) };
        let Some(v) = spec.verifiable.as_ref() else { return Ok(()) };
        // A ballot the close left out is not revealed: its choice would
        // count for nothing (the audit names it dropped).
        let me = self.my_account();
        let counted = self
            .ballots(conv, poll, Source::Counted)?
            .into_iter()
            .any(|b| b.account.as_slice() == me && vp::reveal_opens(poll, &spec, v, &b, &reveal));
        if !counted {
            self.mark_revealed(conv, poll)?;
            return Ok(());
        }
        let (_, recipients) = self.writable(&hex::encode(conv))?;
        let content = wire::app_envelope::Content::BallotReveal(wire::BallotReveal {
            poll: poll.to_vec(),
            choices: reveal.choices.clone(),
            opening: reveal.opening.to_vec(),
        });
        let tx = self.db.tx();
        tx.atomic(|| {
            self.send_app(conv, &recipients, content, None, false)?;
            self.keep_reveal(conv, poll, &me, &reveal, true)?;
            self.mark_revealed(conv, poll)?;
            Ok::<_, NodeError>(())
        })?;
        self.poll_updated(conv, poll)?;
        self.pump();
        Ok(())
    }

    /// This account's ballot of `poll` needs no reveal any more.
    fn mark_revealed(&self, conv: &[u8], poll: &[u8; 16]) -> crate::Result<()> {
        self.db.conn().execute(
            "UPDATE poll_openings SET revealed = 1 WHERE conversation_id = ?1 AND poll_id = ?2",
            params![conv, poll.as_slice()],
        )?;
        Ok(())
    }

    /// Keeps a voter's reveal: one that opens a ballot held here replaces
    /// what was kept (`opens`); another is kept only if none is, since the
    /// ballot it opens may come with the close (the tally checks it then).
    fn keep_reveal(
        &self,
        conv: &[u8],
        poll: &[u8; 16],
        account: &[u8],
        r: &Reveal,
        opens: bool,
    ) -> crate::Result<bool> {
        let sealed = self.field.seal(
            &mut OsRng,
            &context("reveal", conv, poll, account),
            &encode(&r.opening, &r.choices),
        );
        let verb = if opens { "INSERT OR REPLACE" } else { "INSERT OR IGNORE" };
        let n = self.db.conn().execute(
            &format!(
                "{verb} INTO poll_reveals (conversation_id, poll_id, voter_account, sealed) \
                 VALUES (?1, ?2, ?3, ?4)"
            ),
            params![conv, poll.as_slice(), account, sealed],
        )?;
        Ok(n == 1)
    }

    /// A voter revealed its sealed ballot: kept if it comes from a voter of
    /// a sealed poll (the tally counts it only if it opens that voter's
    /// counted ballot); one that opens a ballot held here wins.
    pub(in crate::node::core) fn on_reveal(
        &mut self,
        conv: &[u8],
        account: &[u8],
        reveal: &Reveal,
    ) -> crate::Result<()> {
        let poll = &reveal.poll;
        let Some((spec, _)) = self.poll(conv, poll)? else { return Ok(()) };
        let Some(v) = spec.verifiable.as_ref().filter(|v| v.sealed) else { return Ok(()) };
        if !v.eligible(account) {
            tracing::debug!("a reveal from someone who may not vote was dropped");
            return Ok(());
        }
        let mut held = self.ballots(conv, poll, Source::Received)?;
        held.extend(self.ballots(conv, poll, Source::Counted)?);
        let opens = held.iter().any(|b| {
            b.account.as_slice() == account && vp::reveal_opens(poll, &spec, v, b, reveal)
        });
        if self.keep_reveal(conv, poll, account, reveal, opens)? {
            self.poll_updated(conv, poll)?;
        }
        Ok(())
    }

    fn reveals(&self, conv: &[u8], poll: &[u8; 16]) -> crate::Result<Vec<([u8; 32], Reveal)>> {
        let mut stmt = self.db.conn().prepare_cached(
            "SELECT voter_account, sealed FROM poll_reveals WHERE conversation_id = ?1 \
             AND poll_id = ?2 ORDER BY voter_account",
        )?;
        let rows = stmt
            .query_map(params![conv, poll.as_slice()], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(account, sealed)| {
                let plain =
                    self.field.open(&context("reveal", conv, poll, &account), &sealed).ok()?;
                Some((account.as_slice().try_into().ok()?, decode(poll, &plain)?))
            })
            .collect())
    }

    /// A sealed poll's results as shown: nothing before the close; after
    /// it, the revealed choices of the counted ballots.
    pub(super) fn sealed_results(
        &self,
        conv: &[u8],
        poll: &[u8; 16],
        spec: &PollSpec,
        v: &Verifiable,
        audit: &Audit,
        closed: bool,
    ) -> crate::Result<Results> {
        if !closed {
            return Ok((vec![0; spec.options.len()], Vec::new(), 0));
        }
        let reveals = self.reveals(conv, poll)?;
        let (tally, hidden) = vp::revealed_tally(poll, spec, v, &audit.counted, &reveals);
        let shown = audit
            .counted
            .iter()
            .filter_map(|b| {
                let (_, r) = reveals
                    .iter()
                    .find(|(a, r)| *a == b.account && vp::reveal_opens(poll, spec, v, b, r))?;
                Some((b.account, r.choices.clone()))
            })
            .collect();
        Ok((tally, shown, hidden))
    }
}
