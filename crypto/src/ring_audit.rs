//! The audit of an anonymous poll (SPEC.md §6.4.2): whether the ring its
//! creator published is the registrations this device accepted, which ring
//! ballots count (linked by key image, never by account), and whether the
//! creator's close agrees with the ballots this device holds. A pure
//! function of what the device holds, so any member can run it again.

use std::collections::BTreeMap;

use kovan_spec::validate::{PollSpec, Registration, Verifiable};

use crate::poll::{Finding, fits, tally};
use crate::ring_ballot::{
    RingBallot, ballot_key_valid, registration_signed, ring_ballot_valid, ring_digest,
};

/// A key image: a voter's link tag in one poll.
pub type KeyImage = [u8; 32];

/// The creator's close of an anonymous poll, as received.
#[derive(Debug, Clone, Copy)]
pub struct RingClose<'a> {
    /// The counted ballots by key image, increasing.
    pub counted: &'a [(KeyImage, Vec<u32>)],
    /// The key images of double voters.
    pub void: &'a [KeyImage],
}

/// The outcome of an anonymous poll's audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingAudit {
    /// Votes per option.
    pub tally: Vec<usize>,
    /// The ballots counted, by key image.
    pub counted: Vec<(KeyImage, Vec<u32>)>,
    /// What was found: by account for the ring's findings, by key image
    /// for the ballots'.
    pub findings: Vec<([u8; 32], Finding)>,
}

impl RingAudit {
    /// No finding that makes the ring or the tally untrustworthy.
    pub fn holds(&self) -> bool {
        !self.findings.iter().any(|(_, f)| f.fails())
    }
}

/// The ring's keys, in ring order.
pub fn ring_keys(ring: &[Registration]) -> Vec<[u8; 32]> {
    ring.iter().map(|r| r.key).collect()
}

/// What this device holds of an anonymous poll's ring: the registrations it
/// accepted from their accounts, and the ring digests members said they
/// hold (`RingSeen`, by account).
#[derive(Debug, Clone, Copy)]
pub struct Held<'a> {
    /// Registrations accepted, each from its account.
    pub registrations: &'a [Registration],
    /// (account, digest of the ring it holds).
    pub seen: &'a [([u8; 32], [u8; 32])],
}

/// Checks a published ring: every registration in it an eligible account's
/// signed one with a valid key, every registration `held` (accepted by this
/// device from its account) in it unchanged, and every member that said
/// which ring it holds holding this one (else the creator showed voters
/// different rings, which could tell it who cast a ballot). A ring that
/// holds another signed key of a `held` account is that voter's doing (it
/// registered twice), not the creator's.
pub fn ring_findings(
    poll: &[u8; 16],
    v: &Verifiable,
    ring: &[Registration],
    held: Held<'_>,
) -> Vec<([u8; 32], Finding)> {
    let mut findings = Vec::new();
    let digest = ring_digest(&ring_keys(ring));
    for (account, seen) in held.seen {
        if *seen != digest {
            findings.push((*account, Finding::BadRing));
        }
    }
    let signed = |r: &Registration| {
        v.eligible(&r.account)
            && ballot_key_valid(&r.key)
            && registration_signed(&r.account, poll, &v.binding, &r.key, &r.signature)
    };
    for r in ring {
        if !signed(r) {
            findings.push((r.account, Finding::BadRing));
        }
    }
    for h in held.registrations {
        let finding = match ring.iter().find(|r| r.account == h.account) {
            Some(r) if r.key == h.key => continue,
            Some(r) if signed(r) => Finding::RegisteredTwice,
            _ => Finding::LeftOut,
        };
        findings.push((h.account, finding));
    }
    findings.sort();
    findings.dedup();
    findings
}

/// Audits an anonymous poll from its ring (`None` before the creator
/// published it: then nothing can be judged or counted), the registrations
/// this device accepted, the ring ballots it holds and, once closed, the
/// creator's close.
///
/// Before the close, the tally counts every valid ballot of a key image
/// that signed only one. After it, the tally is the close's, and the close
/// must agree with what this device holds: every valid ballot counted
/// unchanged, every double vote it saw void, nothing it cannot check.
pub fn ring_audit(
    poll: &[u8; 16],
    spec: &PollSpec,
    v: &Verifiable,
    ring: Option<&[Registration]>,
    held: Held<'_>,
    received: &[RingBallot],
    close: Option<RingClose<'_>>,
) -> RingAudit {
    let Some(ring) = ring else {
        return RingAudit { tally: vec![0; spec.options.len()], counted: vec![], findings: vec![] };
    };
    let mut findings: BTreeMap<([u8; 32], Finding), ()> =
        ring_findings(poll, v, ring, held).into_iter().map(|f| (f, ())).collect();
    let keys = ring_keys(ring);
    let mut valid: BTreeMap<KeyImage, Vec<&RingBallot>> = BTreeMap::new();
    for b in received {
        if !fits(spec, &b.choices) {
            findings.insert((b.key_image, Finding::Unfit), ());
        } else if !ring_ballot_valid(&keys, poll, &v.binding, b) {
            findings.insert((b.key_image, Finding::BadSignature), ());
        } else {
            let seen = valid.entry(b.key_image).or_default();
            if !seen.iter().any(|s| s.choices == b.choices) {
                seen.push(b);
            }
        }
    }
    for (image, ballots) in &valid {
        if ballots.len() > 1 {
            findings.insert((*image, Finding::DoubleVote), ());
        }
    }
    let counted: Vec<(KeyImage, Vec<u32>)> = match close {
        None => valid
            .iter()
            .filter(|(_, bs)| bs.len() == 1)
            .map(|(image, bs)| (*image, bs[0].choices.clone()))
            .collect(),
        Some(close) => {
            check_close(spec, close, &valid, &mut findings);
            close.counted.iter().filter(|(_, c)| fits(spec, c)).cloned().collect()
        }
    };
    let tally = tally(spec, counted.iter().map(|(_, c)| c.as_slice()));
    RingAudit { tally, counted, findings: findings.into_keys().collect() }
}

fn check_close(
    spec: &PollSpec,
    close: RingClose<'_>,
    valid: &BTreeMap<KeyImage, Vec<&RingBallot>>,
    findings: &mut BTreeMap<([u8; 32], Finding), ()>,
) {
    let mut counted: BTreeMap<KeyImage, &[u32]> = BTreeMap::new();
    for (image, choices) in close.counted {
        let finding = match valid.get(image).map(Vec::as_slice) {
            _ if !fits(spec, choices) || counted.insert(*image, choices).is_some() => {
                Some(Finding::BadClose)
            }
            _ if close.void.contains(image) => Some(Finding::BadClose),
            None => Some(Finding::NotReceived),
            Some([b]) if b.choices != *choices => Some(Finding::Altered),
            Some([_]) => None,
            // Two ballots seen: the close should have voided them.
            Some(_) => Some(Finding::BadClose),
        };
        if let Some(f) = finding {
            findings.insert((*image, f), ());
        }
    }
    for image in close.void {
        let finding = match valid.get(image).map(Vec::len) {
            None | Some(0) => Finding::NotReceived,
            // One ballot seen: the double vote is the creator's word only.
            Some(1) => Finding::BadClose,
            Some(_) => Finding::DoubleVote,
        };
        findings.insert((*image, finding), ());
    }
    for (image, seen) in valid {
        if seen.len() == 1 && !counted.contains_key(image) && !close.void.contains(image) {
            findings.insert((*image, Finding::Dropped), ());
        }
    }
}

#[cfg(test)]
mod tests {
    use rand_core::OsRng;

    use super::*;
    use crate::identity::AccountKey;
    use crate::ring_ballot::{BallotSecret, ballot_key, sign_registration, sign_ring_ballot};

    struct Poll {
        poll: [u8; 16],
        spec: PollSpec,
        v: Verifiable,
        ring: Vec<Registration>,
        secrets: Vec<BallotSecret>,
    }

    /// Three voters, all registered; `secrets[i]` signs as ring member i.
    fn poll() -> Poll {
        let poll = [4; 16];
        let keys: Vec<AccountKey> = (1..=3).map(|i| AccountKey::from_seed(&[i; 32])).collect();
        let mut voters: Vec<[u8; 32]> = keys.iter().map(|k| *k.id().as_bytes()).collect();
        voters.sort();
        let v = Verifiable {
            epoch: 2,
            nonce: [5; 16],
            voters,
            binding: [6; 32],
            sealed: false,
            anonymous: true,
        };
        let mut members: Vec<(Registration, BallotSecret)> = keys
            .iter()
            .map(|k| {
                let (secret, key) = ballot_key(k, &poll, &v.binding);
                let signature = sign_registration(k, &poll, &v.binding, &key);
                (Registration { account: *k.id().as_bytes(), key, signature }, secret)
            })
            .collect();
        members.sort_by_key(|(r, _)| r.key);
        let (ring, secrets) = members.into_iter().unzip();
        let spec = PollSpec {
            question: "Hangi gün?".into(),
            options: vec!["cuma".into(), "cumartesi".into()],
            multiple: false,
            verifiable: Some(v.clone()),
        };
        Poll { poll, spec, v, ring, secrets }
    }

    impl Poll {
        fn ballot(&self, who: usize, choices: &[u32]) -> RingBallot {
            let keys = ring_keys(&self.ring);
            sign_ring_ballot::<OsRng>(
                &self.secrets[who],
                &keys,
                &self.poll,
                &self.v.binding,
                choices,
            )
            .unwrap()
        }

        fn audit(&self, received: &[RingBallot], close: Option<RingClose<'_>>) -> RingAudit {
            let ring = Some(self.ring.as_slice());
            let held = Held { registrations: &self.ring, seen: &[] };
            ring_audit(&self.poll, &self.spec, &self.v, ring, held, received, close)
        }
    }

    #[test]
    fn ballots_count_once_each_and_a_double_voter_is_caught_by_its_tag() {
        let p = poll();
        let (a, b, c) = (p.ballot(0, &[0]), p.ballot(1, &[1]), p.ballot(2, &[1]));
        let audit = p.audit(&[a.clone(), b.clone(), c.clone(), b.clone()], None);
        assert!(audit.holds());
        assert_eq!(audit.tally, vec![1, 2]);
        let again = p.ballot(2, &[0]);
        let audit = p.audit(&[a.clone(), b.clone(), c.clone(), again], None);
        assert_eq!(audit.tally, vec![1, 1], "both of the double voter's ballots are void");
        assert!(audit.findings.contains(&(c.key_image, Finding::DoubleVote)));
        assert!(audit.holds(), "a cheating voter does not spoil the tally");
        let mut forged = a.clone();
        forged.choices = vec![1];
        let audit = p.audit(&[forged.clone()], None);
        assert_eq!(audit.findings, vec![(a.key_image, Finding::BadSignature)]);
        assert_eq!(audit.tally, vec![0, 0]);
    }

    #[test]
    fn a_close_must_count_every_ballot_held_unchanged_and_only_those() {
        let p = poll();
        let (a, b) = (p.ballot(0, &[0]), p.ballot(1, &[1]));
        let held = [a.clone(), b.clone()];
        let mut fair = vec![(a.key_image, vec![0]), (b.key_image, vec![1])];
        fair.sort();
        let audit = p.audit(&held, Some(RingClose { counted: &fair, void: &[] }));
        assert!(audit.holds(), "{:?}", audit.findings);
        assert_eq!(audit.tally, vec![1, 1]);

        let dropped = vec![(a.key_image, vec![0])];
        let audit = p.audit(&held, Some(RingClose { counted: &dropped, void: &[] }));
        assert_eq!(audit.findings, vec![(b.key_image, Finding::Dropped)]);
        assert!(!audit.holds());

        let mut altered = vec![(a.key_image, vec![0]), (b.key_image, vec![0])];
        altered.sort();
        let audit = p.audit(&held, Some(RingClose { counted: &altered, void: &[] }));
        assert_eq!(audit.findings, vec![(b.key_image, Finding::Altered)]);

        let mut stuffed = fair.clone();
        stuffed.push(([9; 32], vec![0]));
        stuffed.sort();
        let audit = p.audit(&held, Some(RingClose { counted: &stuffed, void: &[] }));
        assert_eq!(audit.findings, vec![([9; 32], Finding::NotReceived)]);

        // Voiding an honest voter on the creator's word alone.
        let counted = vec![(a.key_image, vec![0])];
        let void = [b.key_image];
        let audit = p.audit(&held, Some(RingClose { counted: &counted, void: &void }));
        assert_eq!(audit.findings, vec![(b.key_image, Finding::BadClose)]);
    }

    #[test]
    fn a_close_that_voids_a_double_vote_the_device_saw_holds() {
        let p = poll();
        let (a, b1, b2) = (p.ballot(0, &[0]), p.ballot(1, &[1]), p.ballot(1, &[0]));
        let counted = vec![(a.key_image, vec![0])];
        let void = [b1.key_image];
        let audit =
            p.audit(&[a, b1.clone(), b2], Some(RingClose { counted: &counted, void: &void }));
        assert!(audit.holds(), "{:?}", audit.findings);
        assert_eq!(audit.findings, vec![(b1.key_image, Finding::DoubleVote)]);
        assert_eq!(audit.tally, vec![1, 0]);
    }

    #[test]
    fn before_its_ring_nothing_is_counted_or_judged() {
        let p = poll();
        let b = p.ballot(0, &[0]);
        let held = Held { registrations: &p.ring, seen: &[] };
        let audit = ring_audit(&p.poll, &p.spec, &p.v, None, held, &[b], None);
        assert_eq!((audit.tally, audit.findings), (vec![0, 0], vec![]));
    }

    fn regs(registrations: &[Registration]) -> Held<'_> {
        Held { registrations, seen: &[] }
    }

    #[test]
    fn a_member_shown_another_ring_makes_it_a_bad_ring() {
        let p = poll();
        let digest = ring_digest(&ring_keys(&p.ring));
        let seen = [([1; 32], digest), ([2; 32], [9; 32])];
        let held = Held { registrations: &p.ring, seen: &seen };
        assert_eq!(ring_findings(&p.poll, &p.v, &p.ring, held), vec![([2; 32], Finding::BadRing)]);
    }

    #[test]
    fn a_ring_that_leaves_out_a_registration_or_adds_a_stranger_fails() {
        let p = poll();
        let short = p.ring[1..].to_vec();
        let f = ring_findings(&p.poll, &p.v, &short, regs(&p.ring));
        assert_eq!(f, vec![(p.ring[0].account, Finding::LeftOut)]);
        let stranger = AccountKey::from_seed(&[99; 32]);
        let (_, key) = ballot_key(&stranger, &p.poll, &p.v.binding);
        let mut padded = p.ring.clone();
        padded.push(Registration {
            account: *stranger.id().as_bytes(),
            key,
            signature: sign_registration(&stranger, &p.poll, &p.v.binding, &key),
        });
        let f = ring_findings(&p.poll, &p.v, &padded, regs(&p.ring));
        assert_eq!(f, vec![(*stranger.id().as_bytes(), Finding::BadRing)]);
        let mut swapped = p.ring.clone();
        swapped[0].key = p.ring[1].key;
        assert!(
            ring_findings(&p.poll, &p.v, &swapped, regs(&p.ring)).iter().any(|(_, f)| f.fails())
        );
        assert!(ring_findings(&p.poll, &p.v, &p.ring, regs(&p.ring)).is_empty());
        // A voter who signed a second key, shown to this device, while the
        // ring holds its first: the voter's doing, not the creator's.
        let voter = AccountKey::from_seed(&[1; 32]);
        let other = ballot_key(&AccountKey::from_seed(&[98; 32]), &p.poll, &p.v.binding).1;
        let second = Registration {
            account: *voter.id().as_bytes(),
            key: other,
            signature: sign_registration(&voter, &p.poll, &p.v.binding, &other),
        };
        let f = ring_findings(&p.poll, &p.v, &p.ring, regs(std::slice::from_ref(&second)));
        assert_eq!(f, vec![(*voter.id().as_bytes(), Finding::RegisteredTwice)]);
        assert!(!Finding::RegisteredTwice.fails());
        // A key that is not a point spoils every ballot: a bad ring.
        let mut broken = p.ring.clone();
        broken[2].key = [0xff; 32];
        assert!(
            ring_findings(&p.poll, &p.v, &broken, regs(&[]))
                .iter()
                .any(|(_, f)| *f == Finding::BadRing)
        );
    }
}
