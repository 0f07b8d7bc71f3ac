//! Friend messages (SPEC.md §7.4).

use super::*;

/// A decoded and validated friend message (SPEC.md §7.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedFriend {
    /// The request this message is about.
    pub request_id: MessageId,
    /// What it says.
    pub body: FriendBody,
}

/// The body of a friend message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FriendBody {
    /// A friend request.
    Request {
        /// The requesting device's KeyPackage (an encoded MLSMessage).
        key_package: Vec<u8>,
        /// The name it claims.
        display_name: String,
        /// A note for the recipient.
        note: String,
        /// The account the request is for.
        recipient_account: [u8; 32],
        /// The requester's relay username as it claims it (empty: none);
        /// checked against the relay's directory before it is believed.
        username: String,
        /// The token of the recipient's invite link, if the requester
        /// followed one (§7.4.1).
        invite: Option<[u8; 16]>,
    },
    /// The request was declined.
    Decline,
    /// The sender ends the friendship.
    Remove,
    /// The requester could not join the conversation the acceptance
    /// created (its Welcome was refused).
    JoinFailed {
        /// Why, as the requester says (at most 256 bytes).
        reason: String,
    },
}

pub(super) const FRIEND: &str = <wire::FriendMessage as Bounded>::NAME;

/// Whether `s` is a relay username: 3 to [`limits::MAX_USERNAME`] of
/// `a-z`, `0-9`, `_` and `.` (SPEC.md §9.2).
pub fn is_username(s: &str) -> bool {
    (3..=limits::MAX_USERNAME).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
}

/// Decodes and validates the payload of a friend envelope.
pub fn validate_friend_message(bytes: &[u8]) -> Result<ValidatedFriend, DecodeError> {
    let m: wire::FriendMessage = decode(bytes)?;
    if m.version != 1 {
        return Err(DecodeError::UnsupportedVersion { what: FRIEND, version: m.version });
    }
    let request_id = id(FRIEND, "request_id", &m.request_id)?;
    let body = match m.body {
        Some(wire::friend_message::Body::Request(r)) => {
            let key_package = key_package(FRIEND, r.key_package)?;
            let recipient_account = account(FRIEND, "recipient_account", &r.recipient_account)?;
            if r.display_name.len() > limits::MAX_DISPLAY_NAME {
                return Err(DecodeError::invalid(FRIEND, "display_name is over 64 bytes"));
            }
            if r.note.len() > limits::MAX_FRIEND_NOTE {
                return Err(DecodeError::invalid(FRIEND, "note is over 512 bytes"));
            }
            if !r.username.is_empty() && !is_username(&r.username) {
                return Err(DecodeError::invalid(
                    FRIEND,
                    "username is not 3 to 32 of a-z, 0-9, '_', '.'",
                ));
            }
            let invite = match r.invite.len() {
                0 => None,
                _ => Some(id(FRIEND, "invite", &r.invite)?),
            };
            FriendBody::Request {
                key_package,
                display_name: r.display_name,
                note: r.note,
                recipient_account,
                username: r.username,
                invite,
            }
        }
        Some(wire::friend_message::Body::Decline(_)) => FriendBody::Decline,
        Some(wire::friend_message::Body::Remove(_)) => FriendBody::Remove,
        Some(wire::friend_message::Body::JoinFailed(f)) => {
            if f.reason.len() > limits::MAX_JOIN_FAILED_REASON {
                return Err(DecodeError::invalid(FRIEND, "reason is over 256 bytes"));
            }
            FriendBody::JoinFailed { reason: f.reason }
        }
        None => return Err(DecodeError::invalid(FRIEND, "no body")),
    };
    Ok(ValidatedFriend { request_id, body })
}
