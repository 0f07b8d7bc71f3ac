//! What the node tells a UI as it happens.

use super::*;

/// Something a UI shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A file transfer moved on: progress (at most a few times a second),
    /// or a change of state.
    File {
        /// The transfer.
        file: FileView,
    },
    /// The node listens on a new address.
    Listening {
        /// The address.
        addr: String,
    },
    /// A call rings, connects or ends (SPEC.md §6.9).
    Call {
        /// The call.
        call: crate::node::core::CallView,
    },
    /// Someone in a conversation is typing, or stopped (SPEC.md §6.8);
    /// shown for at most 6 s after the last `active`.
    Typing {
        /// The conversation, hex.
        conversation: String,
        /// Who, hex.
        account: String,
        /// Typing now.
        active: bool,
    },
    /// A contact's device came online (a connection opened) or went
    /// offline (its last connection closed).
    Presence {
        /// Their account, hex.
        account: String,
        /// Online now.
        online: bool,
        /// When last seen, ms.
        last_seen: Option<i64>,
    },
    /// A peer connected.
    PeerConnected {
        /// Its PeerId.
        peer_id: String,
    },
    /// A peer's last connection closed.
    PeerDisconnected {
        /// Its PeerId.
        peer_id: String,
    },
    /// A kovan peer showed up on the LAN.
    LanPeer {
        /// Who.
        peer: LanPeer,
    },
    /// The relay's WebSocket is up.
    RelayConnected,
    /// The relay's WebSocket dropped; retrying.
    RelayDisconnected {
        /// Next attempt in, ms.
        retry_in_ms: u64,
    },
    /// The relay session ended (revoked or expired): log in again.
    RelaySessionEnded,
    /// Another session signed in to this account on the relay: a new login
    /// (from this device or another one). If it was not the user, they
    /// should revoke it and change the password.
    AccountLogin {
        /// The new session's id (to revoke it).
        session_id: String,
        /// The device it belongs to, PeerId.
        device_peer_id: String,
        /// The client it described itself as.
        user_agent: String,
        /// Whether the login added a device to the account.
        new_device: bool,
    },
    /// Something in a community concerns this account (the relay's word,
    /// SPEC.md §9.10.4; open the item to see it checked): someone answered
    /// (`reply`) or mentioned (`mention`) it, or a moderator admitted
    /// (`admitted`) or invited (`invited`) it.
    Community {
        /// `reply`, `mention`, `admitted` or `invited`.
        kind: String,
        /// The community (hex id).
        community: String,
        /// The post or comment (hex id; empty for admissions).
        item: String,
        /// Who wrote it (username; empty for admissions).
        by: String,
    },
    /// The account's settings were changed from another session; this node
    /// applied what it enforces itself (friend policy, read receipts).
    AccountSettingsChanged {
        /// The settings as they are now (`display_name`, `about`,
        /// `discoverable`, `friend_policy`, `read_receipts`).
        settings: serde_json::Value,
    },
    /// The account was deleted on the relay (from another session): this
    /// node is logged out. Local history stays.
    AccountDeleted,
    /// Someone asks to be friends.
    FriendRequest {
        /// Who.
        contact: ContactView,
    },
    /// A request we sent was accepted; the conversation exists.
    FriendAccepted {
        /// Who.
        contact: ContactView,
    },
    /// A request we sent was declined.
    FriendDeclined {
        /// Who.
        contact: ContactView,
    },
    /// The contact ended the friendship.
    FriendRemoved {
        /// Who.
        contact: ContactView,
    },
    /// An acceptance could not be completed (SPEC.md §7.4): the requester
    /// refused the Welcome. Both sides see this; either may request again.
    FriendFailed {
        /// Who.
        contact: ContactView,
        /// Why (ours, or the requester's words when it tells us).
        reason: String,
    },
    /// A contact's record changed (blocked, verified, new address…).
    ContactChanged {
        /// The contact.
        contact: ContactView,
    },
    /// The account key behind a username changed: compare safety numbers.
    IdentityChanged {
        /// The contact as it was.
        contact: ContactView,
        /// The new account key, hex.
        new_account: String,
    },
    /// A message was stored (incoming, or sent by us).
    Message {
        /// The message.
        message: MessageView,
    },
    /// A message was edited.
    MessageEdited {
        /// The message as it is now.
        message: MessageView,
    },
    /// A message was deleted for everyone.
    MessageDeleted {
        /// The conversation, hex.
        conversation: String,
        /// The message, hex.
        id: String,
    },
    /// An outgoing message changed state.
    MessageState {
        /// The conversation, hex.
        conversation: String,
        /// The message, hex.
        id: String,
        /// The new state.
        state: &'static str,
    },
    /// A message's reactions changed.
    Reactions {
        /// The message as it is now.
        message: MessageView,
    },
    /// A scheduled message was created, changed, sent, cancelled or failed.
    Scheduled {
        /// It as it is now.
        item: ScheduledView,
    },
    /// A live location moved, was stopped, or ended.
    LocationUpdated {
        /// The location's message as it is now.
        message: MessageView,
    },
    /// A poll's tally changed, or it was closed.
    PollUpdated {
        /// The poll's message as it is now.
        message: MessageView,
    },
    /// An invitation to a group arrived, or one we sent was answered.
    GroupInvitation {
        /// The invitation as it is now.
        invitation: InvitationView,
    },
    /// A leave-no-trace chat was offered, accepted or opened (X3).
    NoTrace {
        /// It as it stands.
        chat: crate::node::NoTraceView,
    },
    /// A leave-no-trace chat ended; nothing of it remains on this device.
    NoTraceEnded {
        /// Its id, hex.
        id: String,
        /// Why, in plain words.
        reason: String,
    },
    /// A chat was sealed, its password changed, or it was locked or
    /// unlocked on this device (SPEC.md §7.9).
    ChatSeal {
        /// The conversation, hex.
        conversation: String,
    },
    /// A group changed: joined, members, name, roles, bans, left, removed,
    /// deleted.
    GroupChanged {
        /// The group as it is now.
        group: GroupView,
    },
    /// A spreading message arrived, reached this node again with a lower
    /// hop, or was taken back by its author (SPEC.md §6.11).
    Spread {
        /// It as it stands.
        spread: SpreadView,
    },
    /// A friend started or stopped taking part in spreading messages.
    SpreadSettings {
        /// Whether this node takes part, and which friends do.
        settings: SpreadSettings,
    },
    /// Something failed in the background.
    Error {
        /// What kind of failure.
        kind: crate::node::NodeErrorKind,
        /// In plain words.
        message: String,
    },
}
