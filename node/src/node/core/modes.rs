//! Conversation modes (SPEC.md §7.8, X2): a chat with one friend or a
//! group marked direct-only when it is created. The mode is in the group's
//! meta (part of the MLS group context), so every member agreed to it by
//! joining and no commit can change it. Its payload — messages, receipts,
//! commits, the invitation and the Welcome — travels only over direct
//! connections between the devices: its own outbox queue per device never
//! uses a mailbox or a relayed circuit (`delivery.rs`), and what arrives
//! otherwise is refused (`inbound.rs`, `group/invitations.rs`).

use kovan_spec::{ConversationMode, ValidatedGroupMeta};

use super::Core;
use crate::contacts::FriendState;
use crate::control::{s, to_value};
use crate::identity::now_secs;
use crate::node::views::{ContactView, GroupView};
use crate::node::{NodeError, NodeHandle, NodeResult};

impl Core {
    /// A conversation's mode: its group meta's, `Normal` for a 1:1 chat.
    /// A group's mode never changes, so it is remembered once known.
    pub(super) fn mode_of(&self, conv: &[u8]) -> ConversationMode {
        if let Some(m) = self.modes.borrow().get(conv) {
            return *m;
        }
        let Ok(state) = self.mls.group_state(conv, now_secs()) else {
            // Not a group of ours (yet): nothing to remember.
            return ConversationMode::Normal;
        };
        let mode = state.meta.map(|m| m.mode).unwrap_or_default();
        self.modes.borrow_mut().insert(conv.to_vec(), mode);
        mode
    }

    /// A chat with one friend in `mode`: a group of the two of you that no
    /// third member may join, created now; the friend is invited and the
    /// chat starts when they accept.
    fn chat_new(&mut self, friend: &str, mode: ConversationMode) -> NodeResult<GroupView> {
        if mode == ConversationMode::NoTrace {
            return Err(NodeError::Invalid(
                "a leave-no-trace chat is not a stored group: use chat_new_no_trace".into(),
            ));
        }
        let c = self.find_contact(friend)?;
        if c.state != FriendState::Friend || c.blocked {
            return Err(NodeError::State("you can start a chat with a friend only".into()));
        }
        let mine = match self.options.display_name.as_str() {
            "" => "me",
            name => name,
        };
        let mut name = format!("{mine} & {}", ContactView::from(&c).name());
        while name.len() > kovan_spec::limits::MAX_GROUP_NAME {
            name.pop();
        }
        let meta = ValidatedGroupMeta {
            admins: vec![self.my_account(), c.account],
            mode,
            pair: true,
            ..Default::default()
        };
        let group = self.group_create_as(meta, &name, "")?;
        self.group_invite(&group.id, &hex::encode(c.account))?;
        self.group_view(&hex::decode(&group.id).unwrap_or_default())
    }

    /// A group in `mode`, with this account as its admin.
    fn group_create_in_mode(
        &mut self,
        name: &str,
        description: &str,
        members_invite: bool,
        mode: ConversationMode,
    ) -> NodeResult<GroupView> {
        if mode == ConversationMode::NoTrace {
            return Err(NodeError::Invalid(
                "leave-no-trace groups are not available on this device".into(),
            ));
        }
        let meta = ValidatedGroupMeta {
            admins: vec![self.my_account()],
            members_invite,
            mode,
            ..Default::default()
        };
        self.group_create_as(meta, name, description)
    }
}

/// A mode's name as the CLI and the control socket write it.
pub fn parse_mode(s: &str) -> NodeResult<ConversationMode> {
    match s {
        "normal" => Ok(ConversationMode::Normal),
        "direct_only" | "direct-only" => Ok(ConversationMode::DirectOnly),
        "no_trace" | "no-trace" => Ok(ConversationMode::NoTrace),
        other => Err(NodeError::Invalid(format!(
            "{} is not a conversation mode (normal, direct_only or no_trace)",
            crate::node::views::shown(other)
        ))),
    }
}

/// Conversation modes.
impl NodeHandle {
    /// Starts a chat with a friend in `mode` (X2: direct-only): a new
    /// conversation beside your usual chat with them, which starts when
    /// they accept its invitation.
    pub async fn chat_new(&self, friend: &str, mode: ConversationMode) -> NodeResult<GroupView> {
        let friend = friend.to_owned();
        self.call(move |c| c.chat_new(&friend, mode)).await
    }

    /// Creates a group in `mode` (X2: direct-only), with this account as
    /// its admin; the mode never changes.
    pub async fn group_create_in_mode(
        &self,
        name: &str,
        description: &str,
        members_invite: bool,
        mode: ConversationMode,
    ) -> NodeResult<GroupView> {
        let (name, description) = (name.to_owned(), description.to_owned());
        self.call(move |c| c.group_create_in_mode(&name, &description, members_invite, mode)).await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "chat_new" => {
        match parse_mode(p["mode"].as_str().unwrap_or("direct_only"))? {
            ConversationMode::NoTrace => to_value(node.chat_new_no_trace(s(p, "with")?).await?),
            mode => to_value(node.chat_new(s(p, "with")?, mode).await?),
        }
    }
});
