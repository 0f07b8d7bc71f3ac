//! Verifiable polls (SPEC.md §6.4.1): the MLS exporter binding, signed
//! ballots, and the audit every member runs over the ballots it received
//! and the creator's close; sealed polls' commitments and reveals
//! (§6.4.3).
//!
//! The audit is a pure function: the same poll, ballots and close give the
//! same verdict and tally on every device, and anyone in the group can run
//! it again from the stored ballots (`kovan poll verify`).

use std::collections::BTreeMap;

use kovan_spec::validate::{PollSpec, Reveal, SignedBallot, Verifiable};
use sha2::{Digest, Sha256};

use crate::context::SigContext;
use crate::identity::{AccountId, AccountKey};

/// The MLS exporter label of a poll's binding.
pub const BINDING_LABEL: &str = "kovan/v1/poll";

/// Length of the binding the exporter gives.
pub const BINDING_LEN: usize = 32;

/// The exporter context of a poll's binding:
/// `SHA-256(nonce || epoch (u64, big-endian) || voter_1 || … || voter_n)`.
pub fn binding_context(nonce: &[u8; 16], epoch: u64, voters: &[[u8; 32]]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(nonce);
    h.update(epoch.to_be_bytes());
    for v in voters {
        h.update(v);
    }
    h.finalize().into()
}

/// The bytes a ballot signs: `poll (16) || binding (32) || choices (u32,
/// big-endian each)`, under the label `kovan/v1/poll-ballot`.
pub fn ballot_data(poll: &[u8; 16], binding: &[u8; 32], choices: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(48 + 4 * choices.len());
    out.extend_from_slice(poll);
    out.extend_from_slice(binding);
    for c in choices {
        out.extend_from_slice(&c.to_be_bytes());
    }
    out
}

/// Signs a ballot with the account key.
pub fn sign_ballot(
    key: &AccountKey,
    poll: &[u8; 16],
    binding: &[u8; 32],
    choices: &[u32],
) -> [u8; 64] {
    key.sign(SigContext::PollBallot, &ballot_data(poll, binding, choices))
}

/// Whether `b` is signed by its account for this poll (an open ballot
/// over its choices, a sealed one over its commitment).
pub fn ballot_signed(poll: &[u8; 16], binding: &[u8; 32], b: &SignedBallot) -> bool {
    let (context, data) = match &b.commitment {
        Some(c) => (SigContext::PollSealedBallot, sealed_ballot_data(poll, binding, c)),
        None => (SigContext::PollBallot, ballot_data(poll, binding, &b.choices)),
    };
    AccountId::from_bytes(&b.account).is_ok_and(|a| a.verify(context, &data, &b.signature).is_ok())
}

/// The commitment of a sealed ballot (§6.4.3): `SHA-256("kovan/v1/poll-
/// commitment" || 0x00 || poll || binding || account || opening ||
/// choices (u32, big-endian each))`.
pub fn commitment(
    poll: &[u8; 16],
    binding: &[u8; 32],
    account: &[u8; 32],
    opening: &[u8; 32],
    choices: &[u32],
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"kovan/v1/poll-commitment\0");
    h.update(poll);
    h.update(binding);
    h.update(account);
    h.update(opening);
    for c in choices {
        h.update(c.to_be_bytes());
    }
    h.finalize().into()
}

/// The bytes a sealed ballot signs: `poll (16) || binding (32) ||
/// commitment (32)`, under the label `kovan/v1/poll-sealed-ballot`.
pub fn sealed_ballot_data(poll: &[u8; 16], binding: &[u8; 32], commitment: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(80);
    out.extend_from_slice(poll);
    out.extend_from_slice(binding);
    out.extend_from_slice(commitment);
    out
}

/// Seals a ballot: its commitment under a fresh `opening`, signed with the
/// account key. The voter keeps the opening to reveal after the close.
pub fn sign_sealed_ballot(
    key: &AccountKey,
    poll: &[u8; 16],
    binding: &[u8; 32],
    opening: &[u8; 32],
    choices: &[u32],
) -> SignedBallot {
    let account = *key.id().as_bytes();
    let c = commitment(poll, binding, &account, opening, choices);
    let signature = key.sign(SigContext::PollSealedBallot, &sealed_ballot_data(poll, binding, &c));
    SignedBallot { account, choices: Vec::new(), signature, commitment: Some(c) }
}

/// Whether `reveal`, sent by `account`, opens `ballot` (its commitment)
/// with choices that fit the poll.
pub fn reveal_opens(
    poll: &[u8; 16],
    spec: &PollSpec,
    v: &Verifiable,
    ballot: &SignedBallot,
    reveal: &Reveal,
) -> bool {
    ballot.commitment.is_some_and(|c| {
        reveal.poll == *poll
            && fits(spec, &reveal.choices)
            && commitment(poll, &v.binding, &ballot.account, &reveal.opening, &reveal.choices) == c
    })
}

/// A sealed poll's results after the close (§6.4.3): votes per option
/// from the counted ballots whose reveal is held (`reveals`, by their
/// MLS-authenticated sender), and how many counted ballots are not
/// revealed.
pub fn revealed_tally(
    poll: &[u8; 16],
    spec: &PollSpec,
    v: &Verifiable,
    counted: &[SignedBallot],
    reveals: &[([u8; 32], Reveal)],
) -> (Vec<usize>, usize) {
    let mut hidden = 0;
    let opened = counted.iter().filter_map(|b| {
        let r = reveals
            .iter()
            .find(|(account, r)| *account == b.account && reveal_opens(poll, spec, v, b, r));
        hidden += usize::from(r.is_none());
        r.map(|(_, r)| r.choices.as_slice())
    });
    let tally = tally(spec, opened);
    (tally, hidden)
}

/// Votes per option of `spec` from ballots' choices.
pub(crate) fn tally<'a>(
    spec: &PollSpec,
    ballots: impl IntoIterator<Item = &'a [u32]>,
) -> Vec<usize> {
    let mut tally = vec![0; spec.options.len()];
    for choices in ballots {
        for &c in choices {
            if let Some(t) = tally.get_mut(c as usize) {
                *t += 1;
            }
        }
    }
    tally
}

/// What is wrong with one account's ballots, or with the close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Finding {
    /// A ballot's signature does not verify (not counted).
    BadSignature,
    /// A ballot from an account that may not vote (not counted).
    NotEligible,
    /// A ballot chooses what the poll does not offer (not counted).
    Unfit,
    /// The account signed two different ballots: both are void.
    DoubleVote,
    /// The close leaves out a valid ballot this device received.
    Dropped,
    /// The close counts a ballot other than the one this device received.
    Altered,
    /// The close counts a ballot that is not valid (bad signature, not
    /// eligible, or does not fit), or voids one without proof.
    BadClose,
    /// An anonymous poll's ring holds a registration that is not an
    /// eligible account's signed one (SPEC.md §6.4.2).
    BadRing,
    /// An anonymous poll's ring leaves out, or changes, a registration this
    /// device accepted.
    LeftOut,
    /// An anonymous poll's close counts or voids a ballot this device never
    /// received, so it cannot check it.
    NotReceived,
    /// An account registered two ballot keys in an anonymous poll (the
    /// ring holds one of them; not the creator's doing).
    RegisteredTwice,
}

impl Finding {
    /// Whether this finding means the tally cannot be trusted (rather
    /// than a voter caught cheating, whose ballots are simply not counted).
    pub fn fails(self) -> bool {
        matches!(
            self,
            Finding::Dropped
                | Finding::Altered
                | Finding::BadClose
                | Finding::BadRing
                | Finding::LeftOut
                | Finding::NotReceived
        )
    }

    /// Its name in views and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Finding::BadSignature => "bad_signature",
            Finding::NotEligible => "not_eligible",
            Finding::Unfit => "unfit",
            Finding::DoubleVote => "double_vote",
            Finding::Dropped => "dropped",
            Finding::Altered => "altered",
            Finding::BadClose => "bad_close",
            Finding::BadRing => "bad_ring",
            Finding::LeftOut => "left_out",
            Finding::NotReceived => "not_received",
            Finding::RegisteredTwice => "registered_twice",
        }
    }
}

/// The creator's close of a verifiable poll, as received.
#[derive(Debug, Clone, Copy)]
pub struct Close<'a> {
    /// The counted ballots, one per account.
    pub ballots: &'a [SignedBallot],
    /// The void ballots: two per account that voted twice.
    pub void: &'a [SignedBallot],
}

/// The outcome of an audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    /// Votes per option.
    pub tally: Vec<usize>,
    /// The ballots counted, by account.
    pub counted: Vec<SignedBallot>,
    /// What was found, by account, in account order.
    pub findings: Vec<([u8; 32], Finding)>,
}

impl Audit {
    /// No finding that makes the tally untrustworthy.
    pub fn holds(&self) -> bool {
        !self.findings.iter().any(|(_, f)| f.fails())
    }
}

pub(crate) fn fits(spec: &PollSpec, choices: &[u32]) -> bool {
    !choices.is_empty()
        && choices.iter().all(|&c| (c as usize) < spec.options.len())
        && choices.windows(2).all(|w| w[0] < w[1])
        && (spec.multiple || choices.len() == 1)
}

/// Why a ballot cannot count, if it cannot. A sealed poll takes sealed
/// ballots only (their choices are judged at the reveal), any other poll
/// open ones only.
fn invalid(poll: &[u8; 16], spec: &PollSpec, v: &Verifiable, b: &SignedBallot) -> Option<Finding> {
    let fitting = match b.commitment {
        Some(_) => v.sealed && b.choices.is_empty(),
        None => !v.sealed && fits(spec, &b.choices),
    };
    if !v.eligible(&b.account) {
        Some(Finding::NotEligible)
    } else if !ballot_signed(poll, &v.binding, b) {
        Some(Finding::BadSignature)
    } else if !fitting {
        Some(Finding::Unfit)
    } else {
        None
    }
}

/// Two ballots say the same: the same choices, or the same commitment.
fn same(a: &SignedBallot, b: &SignedBallot) -> bool {
    a.choices == b.choices && a.commitment == b.commitment
}

/// Audits a verifiable poll from the ballots this device received (each
/// from its MLS-authenticated sender, `received[i].account`) and, once it
/// is closed, the creator's close.
///
/// Before the close, the tally counts every valid ballot of an account
/// that signed only one. After it, the tally is the close's, and the close
/// must agree with what this device saw: every valid ballot it received
/// counted unchanged, every double vote it saw void, nothing invalid
/// counted, and every void pair a real double vote.
pub fn audit(
    poll: &[u8; 16],
    spec: &PollSpec,
    v: &Verifiable,
    received: &[SignedBallot],
    close: Option<Close<'_>>,
) -> Audit {
    let mut findings: BTreeMap<([u8; 32], Finding), ()> = BTreeMap::new();
    // The valid ballots received, by account (distinct ones only).
    let mut valid: BTreeMap<[u8; 32], Vec<&SignedBallot>> = BTreeMap::new();
    for b in received {
        match invalid(poll, spec, v, b) {
            Some(f) => {
                findings.insert((b.account, f), ());
            }
            None => {
                let seen = valid.entry(b.account).or_default();
                if !seen.iter().any(|s| same(s, b)) {
                    seen.push(b);
                }
            }
        }
    }
    for (account, ballots) in &valid {
        if ballots.len() > 1 {
            findings.insert((*account, Finding::DoubleVote), ());
        }
    }
    let counted: Vec<SignedBallot> = match close {
        None => valid
            .values()
            .filter(|bs| bs.len() == 1)
            .flat_map(|bs| bs.iter().map(|b| (*b).clone()))
            .collect(),
        Some(close) => {
            check_close(poll, spec, v, close, &valid, &mut findings);
            close.ballots.to_vec()
        }
    };
    let tally = tally(spec, counted.iter().map(|b| b.choices.as_slice()));
    Audit { tally, counted, findings: findings.into_keys().collect() }
}

fn check_close(
    poll: &[u8; 16],
    spec: &PollSpec,
    v: &Verifiable,
    close: Close<'_>,
    valid: &BTreeMap<[u8; 32], Vec<&SignedBallot>>,
    findings: &mut BTreeMap<([u8; 32], Finding), ()>,
) {
    let mut counted: BTreeMap<[u8; 32], &SignedBallot> = BTreeMap::new();
    for b in close.ballots {
        if invalid(poll, spec, v, b).is_some() || counted.insert(b.account, b).is_some() {
            findings.insert((b.account, Finding::BadClose), ());
        }
    }
    // A void pair proves a double vote: two different valid ballots of one
    // account, which the close does not also count.
    let mut void: BTreeMap<[u8; 32], Vec<&SignedBallot>> = BTreeMap::new();
    for b in close.void {
        void.entry(b.account).or_default().push(b);
    }
    for (account, pair) in &void {
        let proven = pair.len() == 2
            && !same(pair[0], pair[1])
            && pair.iter().all(|b| invalid(poll, spec, v, b).is_none())
            && !counted.contains_key(account);
        let finding = if proven { Finding::DoubleVote } else { Finding::BadClose };
        findings.insert((*account, finding), ());
    }
    for (account, seen) in valid {
        if void.contains_key(account) {
            continue;
        }
        match (seen.as_slice(), counted.get(account)) {
            ([_, _, ..], _) => {
                findings.insert((*account, Finding::BadClose), ());
            }
            ([b], Some(c)) if !same(c, b) => {
                findings.insert((*account, Finding::Altered), ());
            }
            ([_], None) => {
                findings.insert((*account, Finding::Dropped), ());
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture {
        keys: Vec<AccountKey>,
        poll: [u8; 16],
        spec: PollSpec,
        v: Verifiable,
    }

    fn fixture(n: u8) -> Fixture {
        let keys: Vec<AccountKey> = (1..=n).map(|i| AccountKey::from_seed(&[i; 32])).collect();
        let mut voters: Vec<[u8; 32]> = keys.iter().map(|k| *k.id().as_bytes()).collect();
        voters.sort();
        let spec = PollSpec {
            question: "Nereye?".into(),
            options: vec!["deniz".into(), "dağ".into(), "şehir".into()],
            multiple: false,
            verifiable: None,
        };
        let v = Verifiable {
            epoch: 4,
            nonce: [7; 16],
            voters,
            binding: [9; 32],
            sealed: false,
            anonymous: false,
        };
        Fixture { keys, poll: [1; 16], spec, v }
    }

    impl Fixture {
        fn ballot(&self, who: usize, choices: &[u32]) -> SignedBallot {
            let k = &self.keys[who];
            SignedBallot {
                account: *k.id().as_bytes(),
                choices: choices.to_vec(),
                signature: sign_ballot(k, &self.poll, &self.v.binding, choices),
                commitment: None,
            }
        }
        fn audit(&self, received: &[SignedBallot], close: Option<Close<'_>>) -> Audit {
            audit(&self.poll, &self.spec, &self.v, received, close)
        }
    }

    fn found(a: &Audit) -> Vec<Finding> {
        a.findings.iter().map(|(_, f)| *f).collect()
    }

    #[test]
    fn honest_ballots_and_close_verify_with_the_same_tally() {
        let f = fixture(4);
        let got = [f.ballot(0, &[0]), f.ballot(1, &[2]), f.ballot(2, &[0])];
        let open = f.audit(&got, None);
        assert_eq!((open.tally.clone(), open.holds()), (vec![2, 0, 1], true));
        let mut ballots = got.to_vec();
        ballots.sort();
        let closed = f.audit(&got, Some(Close { ballots: &ballots, void: &[] }));
        assert!(closed.holds() && closed.findings.is_empty());
        assert_eq!(closed.tally, [2, 0, 1]);
    }

    #[test]
    fn sealed_ballots_show_nothing_until_revealed_and_bind_their_choices() {
        let mut f = fixture(3);
        f.v.sealed = true;
        let openings = [[1u8; 32], [2; 32], [3; 32]];
        let chosen: [&[u32]; 3] = [&[0], &[2], &[0]];
        let seal = |i: usize, opening: &[u8; 32], choices: &[u32]| {
            sign_sealed_ballot(&f.keys[i], &f.poll, &f.v.binding, opening, choices)
        };
        let sealed: Vec<SignedBallot> = (0..3).map(|i| seal(i, &openings[i], chosen[i])).collect();
        assert!(sealed.iter().all(|b| b.choices.is_empty()), "choices in the clear");
        let open = f.audit(&sealed, None);
        assert_eq!(
            (open.tally.clone(), open.counted.len(), open.holds()),
            (vec![0, 0, 0], 3, true)
        );
        // An open ballot has no place in a sealed poll, nor a sealed one in
        // an open poll.
        assert_eq!(found(&f.audit(&[f.ballot(0, &[0])], None)), [Finding::Unfit]);
        let mut unsealed = fixture(3);
        unsealed.v.binding = f.v.binding;
        assert_eq!(found(&unsealed.audit(&sealed[..1], None)), [Finding::Unfit]);

        // The close counts the three commitments; two voters reveal.
        let mut ballots = sealed.clone();
        ballots.sort();
        let closed = f.audit(&sealed, Some(Close { ballots: &ballots, void: &[] }));
        assert!(closed.holds(), "{:?}", closed.findings);
        let reveal = |i: usize, choices: &[u32], opening: [u8; 32]| {
            (sealed[i].account, Reveal { poll: f.poll, choices: choices.to_vec(), opening })
        };
        let reveals = [reveal(0, &[0], openings[0]), reveal(1, &[2], openings[1])];
        let tally = |reveals: &[([u8; 32], Reveal)]| {
            revealed_tally(&f.poll, &f.spec, &f.v, &closed.counted, reveals)
        };
        assert_eq!(tally(&reveals), (vec![1, 0, 1], 1), "one not revealed");
        // Other choices than committed, another's opening, or another
        // voter's reveal sent as one's own open nothing.
        assert_eq!(tally(&[reveal(0, &[1], openings[0])]), (vec![0, 0, 0], 3));
        assert_eq!(tally(&[reveal(0, &[0], openings[1])]), (vec![0, 0, 0], 3));
        let stolen = (sealed[1].account, reveals[0].1.clone());
        assert_eq!(tally(&[stolen]), (vec![0, 0, 0], 3));

        // Two commitments of one voter are a double vote, even to the same
        // choices; a close that counts an altered commitment fails.
        let again = seal(0, &[9; 32], &[0]);
        let a = f.audit(&[sealed[0].clone(), again], None);
        assert_eq!((found(&a), a.counted.len()), (vec![Finding::DoubleVote], 0));
        let mut altered = ballots.clone();
        altered[0].commitment = Some([0; 32]);
        assert!(!f.audit(&sealed, Some(Close { ballots: &altered, void: &[] })).holds());
    }

    #[test]
    fn a_dropped_or_altered_ballot_makes_the_close_fail() {
        let f = fixture(3);
        let got = [f.ballot(0, &[0]), f.ballot(1, &[2])];
        let dropped = [got[0].clone()];
        let a = f.audit(&got, Some(Close { ballots: &dropped, void: &[] }));
        assert!(!a.holds());
        assert_eq!(a.findings, [(got[1].account, Finding::Dropped)]);
        // The creator rewrites a voter's choice: the signature no longer
        // matches.
        let mut altered = got.to_vec();
        altered[1].choices = vec![1];
        let a = f.audit(&got, Some(Close { ballots: &altered, void: &[] }));
        assert!(!a.holds());
        assert!(found(&a).contains(&Finding::BadClose), "{:?}", a.findings);
        // A ballot the creator forged for someone who never voted.
        let mut forged = got.to_vec();
        let mut fake = f.ballot(2, &[1]);
        fake.signature[0] ^= 1;
        forged.push(fake);
        assert!(!f.audit(&got, Some(Close { ballots: &forged, void: &[] })).holds());
    }

    #[test]
    fn double_votes_and_strangers_are_caught_and_not_counted() {
        let f = fixture(3);
        let stranger = {
            let k = AccountKey::from_seed(&[99; 32]);
            SignedBallot {
                account: *k.id().as_bytes(),
                choices: vec![1],
                signature: sign_ballot(&k, &f.poll, &f.v.binding, &[1]),
                commitment: None,
            }
        };
        let twice = [f.ballot(0, &[0]), f.ballot(0, &[1])];
        let got = [twice[0].clone(), twice[1].clone(), f.ballot(1, &[2]), stranger.clone()];
        let a = f.audit(&got, None);
        assert_eq!(a.tally, [0, 0, 1], "neither of the double ballots counts, nor the stranger");
        assert!(a.holds(), "caught voters do not make the tally untrustworthy");
        assert!(found(&a).contains(&Finding::DoubleVote));
        assert!(found(&a).contains(&Finding::NotEligible));
        // A close that voids the double voter with both ballots holds; one
        // that counts one of them does not.
        let mut void = twice.to_vec();
        void.sort();
        let ok = f.audit(&got, Some(Close { ballots: &[got[2].clone()], void: &void }));
        assert!(ok.holds(), "{:?}", ok.findings);
        let counts = [twice[0].clone(), got[2].clone()];
        let mut counts = counts.to_vec();
        counts.sort();
        assert!(!f.audit(&got, Some(Close { ballots: &counts, void: &[] })).holds());
        // A device that saw only one of the two learns of the double vote
        // from the close's proof, and accepts it.
        let partial = [twice[1].clone(), got[2].clone()];
        let ok = f.audit(&partial, Some(Close { ballots: &[got[2].clone()], void: &void }));
        assert!(ok.holds(), "{:?}", ok.findings);
        assert_eq!(found(&ok), [Finding::DoubleVote], "the close's proof names the double voter");
        // A void entry without two different signed ballots is no proof.
        let fake = [twice[0].clone(), twice[0].clone()];
        assert!(!f.audit(&got[2..3], Some(Close { ballots: &[], void: &fake })).holds());
    }

    #[test]
    fn a_ballot_for_another_poll_or_binding_does_not_verify() {
        let f = fixture(2);
        let b = f.ballot(0, &[1]);
        assert!(ballot_signed(&f.poll, &f.v.binding, &b));
        assert!(!ballot_signed(&[2; 16], &f.v.binding, &b));
        assert!(!ballot_signed(&f.poll, &[8; 32], &b));
        let a = f.audit(&[f.ballot(1, &[0, 1])], None);
        assert_eq!(found(&a), [Finding::Unfit], "two choices in a single-choice poll");
    }

    proptest::proptest! {
        #[test]
        fn any_ballots_and_close_audit_without_panicking(
            raw in proptest::collection::vec(
                (0u8..4, proptest::collection::vec(0u32..14, 0..4), proptest::prelude::any::<[u8; 32]>()),
                0..8,
            ),
            closed in proptest::prelude::any::<bool>(),
        ) {
            let f = fixture(3);
            let ballots: Vec<SignedBallot> = raw
                .iter()
                .map(|(who, choices, noise)| {
                    let mut b = f.ballot(usize::from(who % 3), choices);
                    if *who == 3 {
                        b.signature[..32].copy_from_slice(noise);
                    }
                    b
                })
                .collect();
            let (half, rest) = ballots.split_at(ballots.len() / 2);
            let close = closed.then_some(Close { ballots: half, void: rest });
            let a = f.audit(&ballots, close);
            proptest::prop_assert_eq!(a.tally.len(), 3);
        }
    }
}
