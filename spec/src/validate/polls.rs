//! Polls, votes and their closing (SPEC.md §6.4).

use super::*;

/// A poll, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollSpec {
    /// The question.
    pub question: String,
    /// 2..=12 distinct options.
    pub options: Vec<String>,
    /// Several choices allowed.
    pub multiple: bool,
    /// Present: a verifiable poll (§6.4.1).
    pub verifiable: Option<Verifiable>,
}

/// What makes a poll verifiable (SPEC.md §6.4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifiable {
    /// The MLS epoch the poll was made in.
    pub epoch: u64,
    /// 16 random bytes.
    pub nonce: [u8; 16],
    /// Eligible accounts, strictly increasing.
    pub voters: Vec<[u8; 32]>,
    /// The MLS exporter value that binds the poll to its epoch.
    pub binding: [u8; 32],
    /// Ballots are sealed commitments until the close (§6.4.3).
    pub sealed: bool,
    /// Ballots are anonymous ring signatures (§6.4.2).
    pub anonymous: bool,
}

impl Verifiable {
    /// Whether `account` may vote.
    pub fn eligible(&self, account: &[u8]) -> bool {
        <&[u8; 32]>::try_from(account).is_ok_and(|a| self.voters.binary_search(a).is_ok())
    }
}

/// A signed ballot of a verifiable poll (§6.4.1).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SignedBallot {
    /// The voter's account.
    pub account: [u8; 32],
    /// Option indexes, strictly increasing: not empty, or empty for a
    /// sealed ballot.
    pub choices: Vec<u32>,
    /// The account's signature.
    pub signature: [u8; 64],
    /// A sealed ballot's commitment to its choices (§6.4.3).
    pub commitment: Option<[u8; 32]>,
}

/// A voter's opened sealed ballot (§6.4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reveal {
    /// The poll's message id.
    pub poll: MessageId,
    /// Option indexes, strictly increasing, not empty.
    pub choices: Vec<u32>,
    /// The commitment's random bytes.
    pub opening: [u8; 32],
}

fn verifiable(v: wire::VerifiablePoll) -> Result<Verifiable, String> {
    let nonce =
        v.nonce.as_slice().try_into().map_err(|_| "a verifiable poll's nonce is 16 bytes")?;
    let binding =
        v.binding.as_slice().try_into().map_err(|_| "a verifiable poll's binding is 32 bytes")?;
    if v.voters.is_empty() || v.voters.len() > limits::MAX_POLL_VOTERS {
        return Err("a verifiable poll has 1..=300 voters".into());
    }
    let mut voters: Vec<[u8; 32]> = Vec::with_capacity(v.voters.len());
    for a in v.voters {
        let a: [u8; 32] = a.as_slice().try_into().map_err(|_| "a voter is a 32-byte account")?;
        if voters.last().is_some_and(|last| *last >= a) {
            return Err("voters must be in increasing account order".into());
        }
        voters.push(a);
    }
    if v.sealed && v.anonymous {
        return Err("a poll is sealed or anonymous, not both".into());
    }
    let (sealed, anonymous) = (v.sealed, v.anonymous);
    Ok(Verifiable { epoch: v.epoch, nonce, voters, binding, sealed, anonymous })
}

fn commitment(c: &[u8]) -> Result<Option<[u8; 32]>, String> {
    if c.is_empty() {
        return Ok(None);
    }
    c.try_into().map(Some).map_err(|_| "a ballot's commitment is 32 bytes".into())
}

fn signature(s: &[u8]) -> Result<Option<[u8; 64]>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    s.try_into().map(Some).map_err(|_| "a ballot signature is 64 bytes".into())
}

/// Checks a poll's fields (SPEC.md §6.4).
pub fn poll_spec(p: wire::Poll) -> Result<PollSpec, String> {
    if p.question.trim().is_empty() || p.question.len() > limits::MAX_POLL_QUESTION {
        return Err("poll question must be 1..=1024 bytes".into());
    }
    if p.options.len() < 2 || p.options.len() > limits::MAX_POLL_OPTIONS {
        return Err("a poll has 2..=12 options".into());
    }
    for (i, o) in p.options.iter().enumerate() {
        if o.trim().is_empty() || o.len() > limits::MAX_POLL_OPTION {
            return Err("poll options must be 1..=256 bytes".into());
        }
        if p.options[..i].contains(o) {
            return Err("poll options must be distinct".into());
        }
    }
    let verifiable = p.verifiable.map(verifiable).transpose()?;
    Ok(PollSpec { question: p.question, options: p.options, multiple: p.multiple, verifiable })
}

/// Checks a list of choices: at most 12, strictly increasing, each below
/// 12. (Whether they fit the poll is checked against the poll itself.)
pub(super) fn choices(c: Vec<u32>) -> Result<Vec<u32>, String> {
    if c.len() > limits::MAX_POLL_OPTIONS
        || c.iter().any(|&i| i as usize >= limits::MAX_POLL_OPTIONS)
        || c.windows(2).any(|w| w[0] >= w[1])
    {
        return Err("poll choices must be distinct option indexes below 12, in order".into());
    }
    Ok(c)
}

pub(super) fn vote(v: wire::Vote) -> Result<Content, String> {
    let poll = v.poll.as_slice().try_into().map_err(|_| "vote poll must be 16 bytes")?;
    let signature = signature(&v.signature)?;
    let commitment = commitment(&v.commitment)?;
    let choices = choices(v.choices)?;
    if commitment.is_some() && (signature.is_none() || !choices.is_empty()) {
        return Err("a sealed ballot is signed and chooses nothing in the clear".into());
    }
    if commitment.is_none() && signature.is_some() && choices.is_empty() {
        return Err("a signed ballot chooses at least one option".into());
    }
    Ok(Content::Vote { poll, choices, signature, commitment })
}

pub(super) fn ballot_reveal(r: wire::BallotReveal) -> Result<Content, String> {
    let poll = r.poll.as_slice().try_into().map_err(|_| "a reveal's poll is 16 bytes")?;
    let opening = r.opening.as_slice().try_into().map_err(|_| "a reveal's opening is 32 bytes")?;
    let choices = choices(r.choices)?;
    if choices.is_empty() {
        return Err("a reveal chooses at least one option".into());
    }
    Ok(Content::BallotReveal(Reveal { poll, choices, opening }))
}

pub(super) fn poll_close(c: wire::PollClose) -> Result<Content, String> {
    let poll = c.poll.as_slice().try_into().map_err(|_| "poll_close poll must be 16 bytes")?;
    if c.ballots.len() > limits::MAX_POLL_BALLOTS {
        return Err("a closed poll lists at most 10,000 ballots".into());
    }
    if c.void.len() > limits::MAX_POLL_BALLOTS {
        return Err("a closed poll lists at most 10,000 void ballots".into());
    }
    let signed = c.ballots.first().is_some_and(|b| !b.signature.is_empty()) || !c.void.is_empty();
    if signed && c.ballots.len() + c.void.len() > 2 * limits::MAX_POLL_VOTERS {
        return Err("a verifiable poll's close lists at most 600 ballots".into());
    }
    let sealed = c.ballots.iter().chain(&c.void).next().is_some_and(|b| !b.commitment.is_empty());
    let mut ballots: Vec<([u8; 32], Vec<u32>)> = Vec::with_capacity(c.ballots.len());
    let mut signatures = Vec::new();
    let mut commitments = Vec::new();
    for b in c.ballots {
        let (account, chosen, sig, commitment) = ballot(b, sealed)?;
        if ballots.last().is_some_and(|(last, _)| *last >= account) {
            return Err("ballots must be in increasing account order".into());
        }
        match (signed, sig) {
            (true, Some(s)) => signatures.push(s),
            (false, None) => {}
            _ => return Err("either every ballot of a close is signed or none is".into()),
        }
        commitments.extend(commitment);
        ballots.push((account, chosen));
    }
    let mut void: Vec<SignedBallot> = Vec::with_capacity(c.void.len());
    for b in c.void {
        let (account, choices, sig, commitment) = ballot(b, sealed)?;
        let signature = sig.ok_or("a void ballot is signed")?;
        let b = SignedBallot { account, choices, signature, commitment };
        if void.last().is_some_and(|last| *last >= b) {
            return Err("void ballots must be in increasing order".into());
        }
        void.push(b);
    }
    let (anonymous, void_images) = anonymous_close(c.anonymous, c.void_images)?;
    let by_image = !anonymous.is_empty() || !void_images.is_empty();
    if by_image && !(ballots.is_empty() && void.is_empty()) {
        return Err("an anonymous poll's close lists key images only".into());
    }
    Ok(Content::PollClose { poll, ballots, signatures, commitments, void, anonymous, void_images })
}

/// An anonymous poll's close: counted ballots by key image and the key
/// images of double voters, each list increasing, at most 300 (§6.4.2).
fn anonymous_close(
    counted: Vec<wire::RingCount>,
    void: Vec<Vec<u8>>,
) -> Result<RingCloseLists, String> {
    if counted.len() > limits::MAX_POLL_VOTERS || void.len() > limits::MAX_POLL_VOTERS {
        return Err("an anonymous poll's close lists at most 300 ballots and 300 void".into());
    }
    let image = |b: &[u8]| -> Result<[u8; 32], String> {
        b.try_into().map_err(|_| "a key image is 32 bytes".into())
    };
    let mut out: Vec<([u8; 32], Vec<u32>)> = Vec::with_capacity(counted.len());
    for c in counted {
        let key_image = image(&c.key_image)?;
        let chosen = choices(c.choices)?;
        if chosen.is_empty() {
            return Err("a ballot chooses at least one option".into());
        }
        if out.last().is_some_and(|(last, _)| *last >= key_image) {
            return Err("counted key images must be increasing".into());
        }
        out.push((key_image, chosen));
    }
    let mut voided: Vec<[u8; 32]> = Vec::with_capacity(void.len());
    for v in void {
        let v = image(&v)?;
        if voided.last().is_some_and(|last| *last >= v) {
            return Err("void key images must be increasing".into());
        }
        voided.push(v);
    }
    Ok((out, voided))
}

/// An anonymous poll's close (§6.4.2): the counted ballots by key image
/// with their choices, and the key images of double voters.
pub type RingCloseLists = (Vec<([u8; 32], Vec<u32>)>, Vec<[u8; 32]>);

/// An account's registration of its ballot key (§6.4.2).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Registration {
    /// The registering account.
    pub account: [u8; 32],
    /// The ballot key (a ristretto255 encoding; checked by the crypto).
    pub key: [u8; 32],
    /// The account's signature.
    pub signature: [u8; 64],
}

fn registration(r: &wire::BallotKey, account: [u8; 32]) -> Result<Registration, String> {
    Ok(Registration {
        account,
        key: r.key.as_slice().try_into().map_err(|_| "a ballot key is 32 bytes")?,
        signature: r
            .signature
            .as_slice()
            .try_into()
            .map_err(|_| "a registration signature is 64 bytes")?,
    })
}

/// A `BallotKey` sent by its account (the MLS sender, filled in later).
pub(super) fn ballot_key(r: wire::BallotKey) -> Result<Content, String> {
    let poll = r.poll.as_slice().try_into().map_err(|_| "a registration's poll is 16 bytes")?;
    if !r.account.is_empty() {
        return Err("a registration sent by its account names no account".into());
    }
    let Registration { key, signature, .. } = registration(&r, [0; 32])?;
    Ok(Content::BallotKey { poll, key, signature })
}

/// A poll's ring: 3..=300 registrations with their accounts, keys strictly
/// increasing, accounts distinct.
pub(super) fn poll_ring(r: wire::PollRing) -> Result<Content, String> {
    let poll = r.poll.as_slice().try_into().map_err(|_| "a ring's poll is 16 bytes")?;
    if r.keys.len() < limits::MIN_RING || r.keys.len() > limits::MAX_POLL_VOTERS {
        return Err("a ring holds 3..=300 registrations".into());
    }
    let mut members: Vec<Registration> = Vec::with_capacity(r.keys.len());
    for k in &r.keys {
        if !k.poll.is_empty() {
            return Err("a ring's registrations name no poll".into());
        }
        let account =
            k.account.as_slice().try_into().map_err(|_| "a ring names 32-byte accounts")?;
        let m = registration(k, account)?;
        if members.last().is_some_and(|last| last.key >= m.key) {
            return Err("a ring's keys must be increasing".into());
        }
        if members.iter().any(|o| o.account == m.account) {
            return Err("a ring names each account once".into());
        }
        members.push(m);
    }
    Ok(Content::PollRing { poll, members })
}

/// A member's word on which ring it holds.
pub(super) fn ring_seen(r: wire::RingSeen) -> Result<Content, String> {
    let poll = r.poll.as_slice().try_into().map_err(|_| "a ring's poll is 16 bytes")?;
    let ring = r.ring.as_slice().try_into().map_err(|_| "a ring's digest is 32 bytes")?;
    Ok(Content::RingSeen { poll, ring })
}

/// An anonymous ballot as it arrives (§6.4.2), checked for shape only:
/// whether it is a valid ring signature is the poll's audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnonymousBallotSpec {
    /// The conversation's MLS group id.
    pub group_id: Vec<u8>,
    /// The poll's message id.
    pub poll: MessageId,
    /// Option indexes, strictly increasing, not empty.
    pub choices: Vec<u32>,
    /// The first challenge.
    pub challenge: [u8; 32],
    /// One response per ring key.
    pub responses: Vec<[u8; 32]>,
    /// The voter's link tag in the poll.
    pub key_image: [u8; 32],
}

/// Decodes and checks the payload of an anonymous-ballot envelope.
pub fn validate_anonymous_ballot(bytes: &[u8]) -> Result<AnonymousBallotSpec, DecodeError> {
    const WHAT: &str = "AnonymousBallot";
    let invalid = |r: &str| DecodeError::invalid(WHAT, r);
    let a: wire::AnonymousBallot = decode(bytes)?;
    if a.group_id.is_empty() || a.group_id.len() > limits::MAX_GROUP_ID {
        return Err(invalid("group_id is 1..=64 bytes"));
    }
    let b = a.ballot.ok_or_else(|| invalid("no ballot"))?;
    let poll = id(WHAT, "poll", &b.poll)?;
    let choices = choices(b.choices).map_err(|e| invalid(&e))?;
    if choices.is_empty() {
        return Err(invalid("a ballot chooses at least one option"));
    }
    let scalar = |s: &[u8], name: &str| -> Result<[u8; 32], DecodeError> {
        s.try_into().map_err(|_| invalid(&format!("{name} is 32 bytes")))
    };
    if b.responses.is_empty() || b.responses.len() > limits::MAX_RING {
        return Err(invalid("a ballot has 1..=1024 responses"));
    }
    Ok(AnonymousBallotSpec {
        group_id: a.group_id,
        poll,
        choices,
        challenge: scalar(&b.challenge, "challenge")?,
        responses: b.responses.iter().map(|r| scalar(r, "a response")).collect::<Result<_, _>>()?,
        key_image: scalar(&b.key_image, "key_image")?,
    })
}

/// A close's ballot: account, choices, signature and commitment if any.
type Listed = ([u8; 32], Vec<u32>, Option<[u8; 64]>, Option<[u8; 32]>);

/// One ballot of a close: with a commitment and no choices when the close
/// is of a sealed poll (§6.4.3), with choices and no commitment otherwise.
fn ballot(b: wire::PollBallot, sealed: bool) -> Result<Listed, String> {
    let account: [u8; 32] =
        b.account.as_slice().try_into().map_err(|_| "ballot account must be 32 bytes")?;
    let chosen = choices(b.choices)?;
    let commitment = commitment(&b.commitment)?;
    let signature = signature(&b.signature)?;
    if sealed {
        if commitment.is_none() || signature.is_none() || !chosen.is_empty() {
            return Err("a sealed poll's close lists signed commitments only".into());
        }
    } else if commitment.is_some() || chosen.is_empty() {
        return Err("a ballot chooses at least one option".into());
    }
    Ok((account, chosen, signature, commitment))
}
