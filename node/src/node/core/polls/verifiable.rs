//! Verifiable polls on the core thread (SPEC.md §6.4.1): the voter list
//! and binding from the conversation's MLS state, signed ballots, the
//! creator's signed close, and the audit every member runs.

use kovan_crypto::poll::{self as vp, Audit, BINDING_LABEL, Close};
use kovan_spec::validate::{PollSpec, SignedBallot, Verifiable};
use kovan_spec::wire;
use rand_core::{OsRng, RngCore as _};
use rusqlite::params;
use sha2::{Digest as _, Sha256};

use super::super::group::conv_err;
use super::super::{Core, internal};
use crate::identity::now_secs;
use crate::node::views::{PollCheckView, PollFindingView, PollView};
use crate::node::{NodeError, NodeResult};

/// Where a stored ballot came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// Received from its voter (or cast here).
    Received = 0,
    /// Counted by the creator's close.
    Counted = 1,
    /// Void in the creator's close (a double vote).
    Void = 2,
}

/// Whether the poll's voters and binding matched this device's MLS state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Eligibility {
    Checked = 1,
    Unchecked = 0,
    Failed = -1,
}

impl Eligibility {
    fn name(self) -> &'static str {
        match self {
            Eligibility::Checked => "checked",
            Eligibility::Unchecked => "unchecked",
            Eligibility::Failed => "failed",
        }
    }
}

/// Received ballots kept per account: two distinct ones prove a double vote.
const KEPT_PER_ACCOUNT: i64 = 2;

fn seal_context(conv: &[u8], poll: &[u8; 16], account: &[u8]) -> Vec<u8> {
    super::field_context("ballot", &[conv, poll, account])
}

/// A sealed ballot's commitment follows this byte in a stored ballot
/// (choices are option indexes below 12, never this).
const COMMITTED: u8 = 0xff;

fn encode_ballot(b: &SignedBallot) -> Vec<u8> {
    let mut out = b.signature.to_vec();
    match &b.commitment {
        Some(c) => {
            out.push(COMMITTED);
            out.extend_from_slice(c);
        }
        // Choices are option indexes below 12 (SPEC.md §6.4).
        None => out.extend(b.choices.iter().map(|&c| c as u8)),
    }
    out
}

fn decode_ballot(account: &[u8], bytes: &[u8]) -> Option<SignedBallot> {
    let (sig, rest) = bytes.split_at_checked(64)?;
    let (choices, commitment) = match rest.split_first() {
        Some((&COMMITTED, c)) => (Vec::new(), Some(c.try_into().ok()?)),
        _ => (rest.iter().map(|&c| u32::from(c)).collect(), None),
    };
    Some(SignedBallot {
        account: account.try_into().ok()?,
        choices,
        signature: sig.try_into().ok()?,
        commitment,
    })
}

/// Why this device cannot sign a ballot.
pub(super) fn no_account_key() -> NodeError {
    NodeError::State("this device does not hold the account key, so it cannot sign a ballot".into())
}

/// A close's signed ballots as received: an unsigned close of a verifiable
/// poll gets all-zero signatures, which the audit refuses.
pub(in crate::node::core) fn signed_close(
    ballots: &[([u8; 32], Vec<u32>)],
    signatures: &[[u8; 64]],
    commitments: &[[u8; 32]],
) -> Vec<SignedBallot> {
    ballots
        .iter()
        .enumerate()
        .map(|(i, (account, choices))| SignedBallot {
            account: *account,
            choices: choices.clone(),
            signature: signatures.get(i).copied().unwrap_or([0; 64]),
            commitment: commitments.get(i).copied(),
        })
        .collect()
}

impl Core {
    /// What makes a new poll in `conv` verifiable: its members now, bound
    /// to the current epoch by the MLS exporter.
    pub(super) fn new_verifiable(&self, conv: &[u8]) -> NodeResult<wire::VerifiablePoll> {
        let mut nonce = [0u8; 16];
        OsRng.fill_bytes(&mut nonce);
        let (epoch, voters, binding) = self
            .mls
            .export_for_members(conv, now_secs(), BINDING_LABEL, |epoch, voters| {
                vp::binding_context(&nonce, epoch, voters)
            })
            .map_err(conv_err)?;
        if voters.len() > kovan_spec::limits::MAX_POLL_VOTERS {
            return Err(NodeError::State(format!(
                "a verifiable poll has at most {} voters; this group has {}",
                kovan_spec::limits::MAX_POLL_VOTERS,
                voters.len()
            )));
        }
        Ok(wire::VerifiablePoll {
            epoch,
            nonce: nonce.to_vec(),
            voters: voters.iter().map(|v| v.to_vec()).collect(),
            binding: binding.to_vec(),
            sealed: false,
            anonymous: false,
        })
    }

    /// A verifiable poll arrived in an MLS message of epoch `sent_in`: the
    /// poll must name that epoch, and if this device is still in it, its
    /// voters must be the members and its binding the exporter's; a poll
    /// this device reads after the group moved on cannot be checked here.
    pub(in crate::node::core) fn on_verifiable_poll(
        &mut self,
        conv: &[u8],
        poll: &[u8; 16],
        v: &Verifiable,
        sent_in: u64,
    ) -> crate::Result<()> {
        let now = self.mls.export_for_members(conv, now_secs(), BINDING_LABEL, |epoch, voters| {
            vp::binding_context(&v.nonce, epoch, voters)
        });
        let checked = match now {
            _ if v.epoch != sent_in => {
                tracing::warn!("a verifiable poll names another epoch than the one it came in");
                Eligibility::Failed
            }
            Ok((epoch, voters, binding)) if epoch == v.epoch => {
                if voters == v.voters && binding == v.binding {
                    Eligibility::Checked
                } else {
                    tracing::warn!("a verifiable poll's voters or binding do not match the group");
                    Eligibility::Failed
                }
            }
            _ => Eligibility::Unchecked,
        };
        self.keep_eligibility(conv, poll, checked)
    }

    /// A poll this device made: its voters and binding are its own MLS
    /// state's.
    pub(super) fn poll_checked(&self, conv: &[u8], poll: &[u8; 16]) -> crate::Result<()> {
        self.keep_eligibility(conv, poll, Eligibility::Checked)
    }

    fn keep_eligibility(&self, conv: &[u8], poll: &[u8; 16], e: Eligibility) -> crate::Result<()> {
        self.db.conn().execute(
            "INSERT OR IGNORE INTO poll_eligibility (conversation_id, poll_id, checked) \
             VALUES (?1, ?2, ?3)",
            params![conv, poll.as_slice(), e as i64],
        )?;
        Ok(())
    }

    fn eligibility(&self, conv: &[u8], poll: &[u8; 16]) -> crate::Result<Eligibility> {
        let v: Option<i64> = self.poll_value("poll_eligibility", "checked", conv, poll)?;
        Ok(match v {
            Some(1) => Eligibility::Checked,
            Some(-1) => Eligibility::Failed,
            _ => Eligibility::Unchecked,
        })
    }

    /// Keeps a signed ballot; false if it was known, or if two distinct
    /// ballots of that account were kept already.
    pub(super) fn keep_ballot(
        &self,
        conv: &[u8],
        poll: &[u8; 16],
        source: Source,
        b: &SignedBallot,
    ) -> crate::Result<bool> {
        let conn = self.db.conn();
        if source == Source::Received {
            // A second signature over the same choices (a dishonest signer
            // can make many) is the same ballot: only distinct choices
            // take one of the two places.
            let same = self.ballots(conv, poll, Source::Received)?;
            if same.iter().any(|s| {
                s.account == b.account && s.choices == b.choices && s.commitment == b.commitment
            }) {
                return Ok(false);
            }
            let kept: i64 = conn.query_row(
                "SELECT COUNT(*) FROM poll_ballots WHERE conversation_id = ?1 AND poll_id = ?2 \
                 AND source = 0 AND voter_account = ?3",
                params![conv, poll.as_slice(), b.account.as_slice()],
                |r| r.get(0),
            )?;
            if kept >= KEPT_PER_ACCOUNT {
                return Ok(false);
            }
        }
        let id: [u8; 32] = Sha256::digest(b.signature).into();
        let sealed =
            self.field.seal(&mut OsRng, &seal_context(conv, poll, &b.account), &encode_ballot(b));
        let n = conn.execute(
            "INSERT OR IGNORE INTO poll_ballots (conversation_id, poll_id, source, voter_account, \
             id, ballot) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                conv,
                poll.as_slice(),
                source as i64,
                b.account.as_slice(),
                id.as_slice(),
                sealed
            ],
        )?;
        Ok(n == 1)
    }

    pub(super) fn ballots(
        &self,
        conv: &[u8],
        poll: &[u8; 16],
        source: Source,
    ) -> crate::Result<Vec<SignedBallot>> {
        let mut stmt = self.db.conn().prepare_cached(
            "SELECT voter_account, ballot FROM poll_ballots WHERE conversation_id = ?1 \
             AND poll_id = ?2 AND source = ?3 ORDER BY voter_account, id",
        )?;
        let rows = stmt
            .query_map(params![conv, poll.as_slice(), source as i64], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut out: Vec<SignedBallot> = rows
            .into_iter()
            .filter_map(|(account, sealed)| {
                let plain = self.field.open(&seal_context(conv, poll, &account), &sealed).ok()?;
                decode_ballot(&account, &plain)
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// The audit of a verifiable poll as this device sees it now.
    pub(super) fn audit_poll(
        &self,
        conv: &[u8],
        poll: &[u8; 16],
        spec: &PollSpec,
        v: &Verifiable,
    ) -> crate::Result<Audit> {
        let received = self.ballots(conv, poll, Source::Received)?;
        let closed = self.history().poll_closed(conv, poll)?;
        let (counted, void) = if closed {
            (self.ballots(conv, poll, Source::Counted)?, self.ballots(conv, poll, Source::Void)?)
        } else {
            (Vec::new(), Vec::new())
        };
        let close = closed.then_some(Close { ballots: &counted, void: &void });
        Ok(vp::audit(poll, spec, v, &received, close))
    }

    /// A poll's view with the audit's tally and verdict.
    pub(in crate::node::core) fn verified_view(
        &self,
        conv: &[u8],
        poll_id: &[u8; 16],
        spec: &PollSpec,
        v: &Verifiable,
        mut poll: PollView,
    ) -> crate::Result<PollView> {
        let eligibility = self.eligibility(conv, poll_id)?;
        if v.anonymous {
            let checked = (eligibility == Eligibility::Checked, eligibility.name());
            return self.anonymous_view(conv, poll_id, spec, v, poll, checked);
        }
        let audit = self.audit_poll(conv, poll_id, spec, v)?;
        let me = self.my_account();
        poll.closed = self.history().poll_closed(conv, poll_id)?;
        poll.voters = audit.counted.len();
        // A sealed poll shows choices only once revealed after the close
        // (SPEC.md §6.4.3); before it, only how many sealed ballots count.
        let (tally, shown, not_revealed) = if v.sealed {
            self.sealed_results(conv, poll_id, spec, v, &audit, poll.closed)?
        } else {
            let shown = audit.counted.iter().map(|b| (b.account, b.choices.clone())).collect();
            (audit.tally.clone(), shown, 0)
        };
        for (o, count) in poll.options.iter_mut().zip(&tally) {
            o.votes = *count;
        }
        for (account, choices) in &shown {
            for &c in choices {
                if let Some(o) = poll.options.get_mut(c as usize) {
                    o.by.push(hex::encode(account));
                }
            }
        }
        poll.mine = if v.sealed {
            self.my_sealed_choices(conv, poll_id)?
        } else {
            self.ballots(conv, poll_id, Source::Received)?
                .into_iter()
                .find(|b| b.account.as_slice() == me)
                .map(|b| b.choices)
        }
        .unwrap_or_default();
        poll.verifiable = Some(PollCheckView {
            // Only a voter list this device matched against its own MLS
            // state counts: a poll that arrived after the group moved on
            // could name anyone (a creator can hold it back on purpose).
            verified: audit.holds() && eligibility == Eligibility::Checked,
            eligibility: eligibility.name(),
            eligible: v.voters.len(),
            can_vote: v.eligible(&me),
            sealed: v.sealed,
            not_revealed,
            findings: audit
                .findings
                .iter()
                .map(|(a, f)| PollFindingView { account: hex::encode(a), finding: f.name() })
                .collect(),
            anonymous: None,
        });
        Ok(poll)
    }

    /// This account's signed ballot in a verifiable poll.
    pub(super) fn sign_ballot(
        &self,
        conv: &[u8],
        poll: &[u8; 16],
        v: &Verifiable,
        choices: &[u32],
    ) -> NodeResult<SignedBallot> {
        self.may_cast(conv, poll, v, choices)?;
        let me = self.my_account();
        let signature =
            self.identity.sign_ballot(poll, &v.binding, choices).ok_or_else(no_account_key)?;
        let account = me.as_slice().try_into().map_err(internal)?;
        Ok(SignedBallot { account, choices: choices.to_vec(), signature, commitment: None })
    }

    /// Whether this account may cast its one ballot in a verifiable poll.
    pub(super) fn may_cast(
        &self,
        conv: &[u8],
        poll: &[u8; 16],
        v: &Verifiable,
        choices: &[u32],
    ) -> NodeResult<()> {
        let me = self.my_account();
        if !v.eligible(&me) {
            return Err(NodeError::State(
                "you were not a member when this verifiable poll was made, so you cannot vote in it"
                    .into(),
            ));
        }
        if choices.is_empty() {
            return Err(NodeError::Invalid(
                "a verifiable poll's ballot cannot be withdrawn".into(),
            ));
        }
        if self.ballots(conv, poll, Source::Received)?.iter().any(|b| b.account.as_slice() == me) {
            return Err(NodeError::State(
                "you have voted in this verifiable poll; its ballots cannot be changed".into(),
            ));
        }
        Ok(())
    }

    /// The creator's close of a verifiable poll: the ballots its audit
    /// counts, and both ballots of each double voter.
    pub(super) fn verifiable_close(
        &self,
        conv: &[u8],
        poll: &[u8; 16],
        spec: &PollSpec,
        v: &Verifiable,
    ) -> NodeResult<(Vec<SignedBallot>, Vec<SignedBallot>)> {
        let audit = self.audit_poll(conv, poll, spec, v)?;
        let doubles: Vec<[u8; 32]> = audit
            .findings
            .iter()
            .filter(|(_, f)| *f == vp::Finding::DoubleVote)
            .map(|(a, _)| *a)
            .collect();
        let void = self
            .ballots(conv, poll, Source::Received)?
            .into_iter()
            .filter(|b| doubles.contains(&b.account) && vp::ballot_signed(poll, &v.binding, b))
            .collect();
        Ok((audit.counted, void))
    }

    /// Stores a creator's close of a verifiable poll.
    pub(super) fn keep_close(
        &self,
        conv: &[u8],
        poll: &[u8; 16],
        counted: &[SignedBallot],
        void: &[SignedBallot],
    ) -> crate::Result<()> {
        for b in counted {
            self.keep_ballot(conv, poll, Source::Counted, b)?;
        }
        for b in void {
            self.keep_ballot(conv, poll, Source::Void, b)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ballot_round_trips_through_its_stored_form() {
        let b = SignedBallot {
            account: [3; 32],
            choices: vec![0, 4, 11],
            signature: [8; 64],
            commitment: None,
        };
        assert_eq!(decode_ballot(&[3; 32], &encode_ballot(&b)), Some(b));
        assert_eq!(decode_ballot(&[3; 32], &[1; 63]), None, "too short for a signature");
    }
}
