//! Accepting sealed envelopes, from any path (direct or mailbox): open with
//! the device key, check the sender, drop replays by envelope id
//! (SPEC.md §5.5), so the same envelope is processed once however often it
//! arrives.

use kovan_crypto::envelope::{self, EnvelopeError, Opened, OpenedAnonymous, Opening};
use x25519_dalek::StaticSecret;

use crate::store::Database;
use crate::{Error, Result};

/// What became of an envelope.
#[derive(Debug)]
pub enum Accepted {
    /// New: process it.
    New(Box<Opened>),
    /// A new anonymous ballot from a mailbox (SPEC.md §6.4.2).
    Anonymous(OpenedAnonymous),
    /// Seen before: acknowledge it and do nothing.
    Replay {
        /// Its id.
        envelope_id: [u8; 16],
    },
}

/// Why an envelope was refused for good.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// It does not open, or its sender does not check out.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// It came over a direct connection from a device other than the one
    /// that sealed it.
    #[error("envelope relayed by another device than its sender")]
    WrongPeer,
    /// An anonymous ballot came over a direct connection, which would show
    /// its voter's device: they travel through mailboxes only.
    #[error("an anonymous ballot came directly")]
    AnonymousDirect,
}

/// Opens and deduplicates an envelope. `via_peer` is the transport-
/// authenticated sender for direct deliveries (None for mailbox items).
pub fn accept(
    db: &Database,
    key: &StaticSecret,
    bytes: &[u8],
    via_peer: Option<&str>,
    now: u64,
) -> Result<std::result::Result<Accepted, Refused>> {
    let opened = match envelope::open_any(key, bytes, now) {
        Ok(Opening::Signed(o)) => *o,
        Ok(Opening::Anonymous(_)) if via_peer.is_some() => {
            return Ok(Err(Refused::AnonymousDirect));
        }
        Ok(Opening::Anonymous(a)) => {
            let new = db
                .mark_envelope_seen(&a.envelope_id, now)
                .map_err(|e| Error::Internal(e.to_string()))?;
            return Ok(Ok(match new {
                true => Accepted::Anonymous(a),
                false => Accepted::Replay { envelope_id: a.envelope_id },
            }));
        }
        Err(e) => return Ok(Err(e.into())),
    };
    if let Some(peer) = via_peer
        && opened.sender.peer_id().to_string() != peer
    {
        return Ok(Err(Refused::WrongPeer));
    }
    if !db
        .mark_envelope_seen(&opened.envelope_id, now)
        .map_err(|e| Error::Internal(e.to_string()))?
    {
        return Ok(Ok(Accepted::Replay { envelope_id: opened.envelope_id }));
    }
    Ok(Ok(Accepted::New(Box::new(opened))))
}
