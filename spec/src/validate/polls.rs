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
    Ok(PollSpec { question: p.question, options: p.options, multiple: p.multiple })
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
    Ok(Content::Vote { poll, choices: choices(v.choices)? })
}

pub(super) fn poll_close(c: wire::PollClose) -> Result<Content, String> {
    let poll = c.poll.as_slice().try_into().map_err(|_| "poll_close poll must be 16 bytes")?;
    if c.ballots.len() > limits::MAX_POLL_BALLOTS {
        return Err("a closed poll lists at most 10,000 ballots".into());
    }
    let mut ballots: Vec<([u8; 32], Vec<u32>)> = Vec::with_capacity(c.ballots.len());
    for b in c.ballots {
        let account: [u8; 32] =
            b.account.as_slice().try_into().map_err(|_| "ballot account must be 32 bytes")?;
        if ballots.last().is_some_and(|(last, _)| *last >= account) {
            return Err("ballots must be in increasing account order".into());
        }
        let chosen = choices(b.choices)?;
        if chosen.is_empty() {
            return Err("a ballot chooses at least one option".into());
        }
        ballots.push((account, chosen));
    }
    Ok(Content::PollClose { poll, ballots })
}
