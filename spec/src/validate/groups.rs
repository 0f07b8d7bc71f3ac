//! Group metas, modes and invitations (SPEC.md §7.6.1, §7.6.2, §7.8).

use super::*;

/// A decoded and validated group meta (SPEC.md §7.6.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidatedGroupMeta {
    /// The group's name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Admin accounts, without duplicates, in encoded order.
    pub admins: Vec<[u8; 32]>,
    /// Banned accounts, without duplicates, in encoded order.
    pub banned: Vec<[u8; 32]>,
    /// Whether members who are not admins may invite.
    pub members_invite: bool,
    /// Whether the group was deleted.
    pub dissolved: bool,
    /// How its messages travel and are kept (§7.8); fixed at creation.
    pub mode: ConversationMode,
    /// A chat between two accounts (never more than two members).
    pub pair: bool,
}

/// A conversation's mode (SPEC.md §7.8).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ConversationMode {
    /// Messages go directly or through the relay, and are kept.
    #[default]
    Normal,
    /// Payload travels only over direct connections between the devices.
    DirectOnly,
    /// Direct only, and nothing of it is written to disk.
    NoTrace,
}

/// A mode from its wire value; `None` for one this version does not know.
pub(super) fn mode_from_wire(v: i32) -> Option<ConversationMode> {
    Some(match wire::ConversationMode::try_from(v).ok()? {
        wire::ConversationMode::Normal => ConversationMode::Normal,
        wire::ConversationMode::DirectOnly => ConversationMode::DirectOnly,
        wire::ConversationMode::NoTrace => ConversationMode::NoTrace,
    })
}

impl ConversationMode {
    /// The wire value.
    pub fn to_wire(self) -> i32 {
        (match self {
            ConversationMode::Normal => wire::ConversationMode::Normal,
            ConversationMode::DirectOnly => wire::ConversationMode::DirectOnly,
            ConversationMode::NoTrace => wire::ConversationMode::NoTrace,
        }) as i32
    }
    /// Whether its payload may only travel directly.
    pub fn direct_only(self) -> bool {
        self != ConversationMode::Normal
    }
    /// The name views and the control socket use.
    pub fn name(self) -> &'static str {
        match self {
            ConversationMode::Normal => "normal",
            ConversationMode::DirectOnly => "direct_only",
            ConversationMode::NoTrace => "no_trace",
        }
    }
}

impl ValidatedGroupMeta {
    /// The wire form (the inverse of [`validate_group_meta`]).
    pub fn to_wire(&self) -> wire::GroupMeta {
        wire::GroupMeta {
            version: 1,
            name: self.name.clone(),
            description: self.description.clone(),
            admins: self.admins.iter().map(|a| a.to_vec()).collect(),
            banned: self.banned.iter().map(|a| a.to_vec()).collect(),
            members_invite: self.members_invite,
            dissolved: self.dissolved,
            mode: self.mode.to_wire(),
            pair: self.pair,
        }
    }
    /// Whether `account` is an admin.
    pub fn is_admin(&self, account: &[u8; 32]) -> bool {
        self.admins.contains(account)
    }
    /// Whether `account` is banned.
    pub fn is_banned(&self, account: &[u8; 32]) -> bool {
        self.banned.contains(account)
    }
}

pub(super) const META: &str = <wire::GroupMeta as Bounded>::NAME;

pub(super) fn accounts(field: &str, list: Vec<Vec<u8>>) -> Result<Vec<[u8; 32]>, DecodeError> {
    if list.len() > limits::MAX_GROUP_ACCOUNTS {
        return Err(DecodeError::invalid(META, format!("{field} lists over 1,024 accounts")));
    }
    let mut out: Vec<[u8; 32]> = Vec::with_capacity(list.len());
    for a in list {
        let a = account(META, field, &a)?;
        if out.contains(&a) {
            return Err(DecodeError::invalid(META, format!("{field} lists an account twice")));
        }
        out.push(a);
    }
    Ok(out)
}

/// Decodes and validates a group meta extension.
pub fn validate_group_meta(bytes: &[u8]) -> Result<ValidatedGroupMeta, DecodeError> {
    let m: wire::GroupMeta = decode(bytes)?;
    if m.version != 1 {
        return Err(DecodeError::UnsupportedVersion { what: META, version: m.version });
    }
    if m.name.trim().is_empty() || m.name.len() > limits::MAX_GROUP_NAME {
        return Err(DecodeError::invalid(META, "name must be 1..=128 bytes"));
    }
    if m.description.len() > limits::MAX_GROUP_DESCRIPTION {
        return Err(DecodeError::invalid(META, "description is over 1,024 bytes"));
    }
    // A mode this node cannot honour: it must not take part.
    let mode = mode_from_wire(m.mode)
        .ok_or_else(|| DecodeError::invalid(META, "an unknown conversation mode"))?;
    Ok(ValidatedGroupMeta {
        name: m.name,
        description: m.description,
        admins: accounts("admins", m.admins)?,
        banned: accounts("banned", m.banned)?,
        members_invite: m.members_invite,
        dissolved: m.dissolved,
        mode,
        pair: m.pair,
    })
}

/// A decoded and validated group control message (SPEC.md §7.6.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedGroupControl {
    /// The invitation it is about.
    pub invitation_id: MessageId,
    /// What it says.
    pub body: GroupControlBody,
}

/// The body of a group control message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GroupControlBody {
    /// An invitation.
    Invite {
        /// The MLS group id.
        group_id: Vec<u8>,
        /// The group's name.
        group_name: String,
        /// Members when invited.
        members: u32,
        /// The account invited.
        recipient_account: [u8; 32],
        /// The group's mode (§7.8).
        mode: ConversationMode,
        /// A chat between two accounts.
        pair: bool,
    },
    /// The invitee accepts with this KeyPackage.
    Accept {
        /// An encoded MLSMessage carrying a KeyPackage.
        key_package: Vec<u8>,
    },
    /// The invitee declines.
    Decline,
}

pub(super) const CONTROL: &str = <wire::GroupControl as Bounded>::NAME;

/// Decodes and validates the payload of a group envelope.
pub fn validate_group_control(bytes: &[u8]) -> Result<ValidatedGroupControl, DecodeError> {
    let m: wire::GroupControl = decode(bytes)?;
    if m.version != 1 {
        return Err(DecodeError::UnsupportedVersion { what: CONTROL, version: m.version });
    }
    let invitation_id = id(CONTROL, "invitation_id", &m.invitation_id)?;
    let body = match m.body {
        Some(wire::group_control::Body::Invite(i)) => {
            if i.group_id.is_empty() || i.group_id.len() > limits::MAX_GROUP_ID {
                return Err(DecodeError::invalid(CONTROL, "group_id must be 1..=64 bytes"));
            }
            if i.group_name.trim().is_empty() || i.group_name.len() > limits::MAX_GROUP_NAME {
                return Err(DecodeError::invalid(CONTROL, "group_name must be 1..=128 bytes"));
            }
            let recipient_account = account(CONTROL, "recipient_account", &i.recipient_account)?;
            GroupControlBody::Invite {
                group_id: i.group_id,
                group_name: i.group_name,
                members: i.members,
                recipient_account,
                mode: mode_from_wire(i.mode)
                    .ok_or_else(|| DecodeError::invalid(CONTROL, "an unknown conversation mode"))?,
                pair: i.pair,
            }
        }
        Some(wire::group_control::Body::Accept(a)) => {
            GroupControlBody::Accept { key_package: key_package(CONTROL, a.key_package)? }
        }
        Some(wire::group_control::Body::Decline(_)) => GroupControlBody::Decline,
        None => return Err(DecodeError::invalid(CONTROL, "no body")),
    };
    Ok(ValidatedGroupControl { invitation_id, body })
}
