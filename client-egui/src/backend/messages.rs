//! What the UI asks of the node ([`Cmd`], [`Action`]) and what the node
//! tells the UI ([`Update`]).

use std::path::PathBuf;

use kovan_node::Event;

use super::communities::{CommunityCmd, CommunityUpdate};
use kovan_node::node::{
    ContactView, ConversationView, FileView, GroupChange, GroupView, InvitationView, InviteView,
    MessageView, ReceiptView, ScheduledView, SearchResult,
};

/// What the UI asks of the node.
#[derive(Debug, Clone)]
pub enum Cmd {
    /// Make a new identity and start.
    Create {
        /// The device's name.
        name: String,
        /// Seals the keystore.
        passphrase: String,
    },
    /// Open the keystore and start.
    Unlock {
        /// The passphrase.
        passphrase: String,
    },
    /// Stop the node and forget the keys in memory.
    Lock,
    /// Create an account on the relay.
    Register {
        /// Username.
        username: String,
        /// Password.
        password: String,
    },
    /// Log in to the relay.
    Login {
        /// Username.
        username: String,
        /// Password.
        password: String,
    },
    /// Search the relay directory and the LAN.
    Search(String),
    /// Ask someone to be friends.
    Request {
        /// A username, account or search target.
        who: String,
        /// A note for them.
        note: String,
    },
    /// Answer a friend request.
    Answer {
        /// Their account.
        account: String,
        /// Accept (else decline).
        accept: bool,
    },
    /// Re-read contacts and conversations.
    Refresh,
    /// Read a page of a conversation: the newest, or older than `before`.
    History {
        /// The conversation.
        conversation: String,
        /// A `seq` cursor: older than it.
        before: Option<i64>,
    },
    /// Mark a conversation read.
    MarkRead(String),
    /// This user is typing in a conversation (or stopped).
    Typing {
        /// The conversation.
        conversation: String,
        /// Typing now.
        active: bool,
    },
    /// Send and show typing indicators, or neither.
    SetTypingIndicators(bool),
    /// Keep what is typed in a conversation as its draft (empty: none).
    Draft {
        /// The conversation.
        conversation: String,
        /// The draft.
        text: String,
    },
    /// Search inside a conversation.
    SearchChat {
        /// The conversation.
        conversation: String,
        /// What to look for.
        query: String,
    },
    /// Send a text.
    Send {
        /// The conversation.
        conversation: String,
        /// The text (`:shortcodes:` expand).
        text: String,
        /// The message it replies to.
        reply_to: Option<String>,
    },
    /// Create a group.
    GroupCreate {
        /// Its name.
        name: String,
    },
    /// Invite a friend into a group.
    GroupInvite {
        /// The group.
        group: String,
        /// The friend.
        who: String,
    },
    /// Answer an invitation.
    GroupAnswer {
        /// The invitation.
        invitation: String,
        /// Join (else decline).
        accept: bool,
    },
    /// Send a file, an image or a voice note from a path.
    SendFile {
        /// The conversation.
        conversation: String,
        /// The file.
        path: PathBuf,
        /// As an image (metadata stripped, thumbnail).
        image: bool,
    },
    /// Send a recorded voice note.
    SendVoice {
        /// The conversation.
        conversation: String,
        /// Mono samples at 48 kHz.
        samples: Vec<f32>,
    },
    /// Share a location: a point, or live for a while.
    ShareLocation {
        /// The conversation.
        conversation: String,
        /// Degrees.
        lat: f64,
        /// Degrees.
        lon: f64,
        /// A place name.
        label: String,
        /// Live for this long (updates every 30 s), else a fixed point.
        live: Option<std::time::Duration>,
    },
    /// Move one of this device's live shares.
    LocationUpdate {
        /// The conversation.
        conversation: String,
        /// The share (its message).
        id: String,
        /// Degrees.
        lat: f64,
        /// Degrees.
        lon: f64,
    },
    /// End one of this device's live shares for everyone.
    LocationStop {
        /// The conversation.
        conversation: String,
        /// The share (its message).
        id: String,
    },
    /// Fetch a received file (above the automatic size, or again).
    FetchFile(String),
    /// Stop a transfer.
    CancelFile(String),
    /// Start a poll.
    PollCreate {
        /// The conversation.
        conversation: String,
        /// The question.
        question: String,
        /// Two to twelve options.
        options: Vec<String>,
        /// Several choices allowed.
        multiple: bool,
        /// A verifiable poll (signed ballots, SPEC.md §6.4.1).
        verifiable: bool,
        /// Its ballots sealed until the close (SPEC.md §6.4.3).
        sealed: bool,
        /// Its ballots anonymous (SPEC.md §6.4.2).
        anonymous: bool,
    },
    /// Open voting in an anonymous poll now (its creator).
    PollRing {
        /// The conversation.
        conversation: String,
        /// The poll message.
        poll: String,
    },
    /// Vote (an empty list withdraws).
    PollVote {
        /// The conversation.
        conversation: String,
        /// The poll message.
        poll: String,
        /// Option indexes.
        choices: Vec<u32>,
    },
    /// Close a poll (its creator).
    PollClose {
        /// The conversation.
        conversation: String,
        /// The poll message.
        poll: String,
    },
    /// Send a text sealed until its conditions hold.
    SendConditional {
        /// The conversation.
        conversation: String,
        /// The text.
        text: String,
        /// Its password and/or area, and a hint.
        locks: kovan_node::node::Locks,
        /// A file sealed with it (SPEC.md §6.10.5).
        file: Option<std::path::PathBuf>,
    },
    /// Agree to open a conditional message: release this account's share.
    ReleaseShare {
        /// The conversation.
        conversation: String,
        /// The message.
        message: String,
    },
    /// Check in on a dead man's switch this account sent.
    CheckIn {
        /// The conversation.
        conversation: String,
        /// The message.
        message: String,
    },
    /// Open a conditional message.
    OpenConditional {
        /// The conversation.
        conversation: String,
        /// The message.
        message: String,
        /// Its password, if it waits for one.
        password: Option<String>,
        /// Where this device is, if it waits for an area.
        here: Option<(f64, f64)>,
    },
    /// Send a text later.
    Schedule {
        /// The conversation.
        conversation: String,
        /// The text.
        text: String,
        /// When, ms since the Unix epoch.
        due_at: i64,
    },
    /// Cancel a scheduled message.
    ScheduleCancel(String),
    /// Change a scheduled text (and its time, if given).
    ScheduleEdit {
        /// The scheduled message.
        id: String,
        /// The new text.
        text: String,
        /// A new time, ms since the Unix epoch.
        due_at: Option<i64>,
    },
    /// Decode a received image for the full view.
    LoadImage {
        /// Its file id.
        file: String,
        /// Where it was saved.
        path: PathBuf,
    },
    /// One of the smaller actions; the state is re-read after it.
    Act(Action),
    /// Read the relay account's settings and sessions.
    LoadSettings,
    /// Fetch a user's avatar from the relay directory.
    Avatar(String),
    /// Use another relay (saved in `kovan.toml`): the node locks, and
    /// connects to it when unlocked again.
    SetRelay(Option<String>),
    /// Ask for a contact's safety number.
    SafetyNumber(String),
    /// Add or take back a reaction.
    React {
        /// The conversation.
        conversation: String,
        /// The message.
        message: String,
        /// One emoji.
        emoji: String,
        /// Take it back.
        remove: bool,
    },
    /// Who has one of this account's messages and who read it.
    Receipts {
        /// The conversation.
        conversation: String,
        /// The message.
        message: String,
    },
    /// Read this account's invite links.
    Invites,
    /// Make an invite link.
    InviteCreate {
        /// What to call it.
        label: String,
        /// It stops working after this long (ms).
        expires_in_ms: Option<i64>,
        /// It admits this many requests in all.
        max_uses: Option<u32>,
    },
    /// Revoke an invite link.
    InviteRevoke(String),
    /// Start a chat with a friend in a private mode (X2, X3).
    ChatNew {
        /// The friend's account.
        friend: String,
        /// Leave no trace (else direct only).
        no_trace: bool,
    },
    /// Create a direct-only group (X2).
    GroupCreateDirect {
        /// Its name.
        name: String,
    },
    /// Answer a leave-no-trace chat a friend offered.
    NoTraceAnswer {
        /// The chat.
        chat: String,
        /// Accept (else decline).
        accept: bool,
    },
    /// End a leave-no-trace chat.
    NoTraceEnd(String),
    /// Seal a chat with a password, or change it (X6).
    SealChat {
        /// The conversation.
        conversation: String,
        /// The password.
        password: zeroize::Zeroizing<String>,
    },
    /// Unlock a sealed chat on this device.
    UnlockChat {
        /// The conversation.
        conversation: String,
        /// The password.
        password: zeroize::Zeroizing<String>,
    },
    /// Lock a sealed chat now.
    LockChat(String),
    /// Something for the Communities tab.
    Community(CommunityCmd),
    /// Something for the Spreads tab.
    Spread(super::spreads::SpreadCmd),
    /// Something for the call window.
    Call(super::calls::CallCmd),
}

/// Actions whose result is the new state (re-read afterwards).
#[derive(Debug, Clone)]
pub enum Action {
    /// Change relay account settings (a JSON object of the changed keys).
    SaveSettings(serde_json::Value),
    /// End another session of this account.
    RevokeSession(String),
    /// Change the relay password.
    ChangePassword {
        /// The current one.
        old: String,
        /// The new one.
        new: String,
    },
    /// Log out of the relay.
    Logout,
    /// Delete the relay account.
    DeleteAccount {
        /// Confirms it.
        password: String,
    },
    /// End a friendship.
    Unfriend(String),
    /// Block (true) or unblock an account.
    Block(String, bool),
    /// Set this account's avatar from an image file, or remove it.
    SetAvatar(Option<PathBuf>),
    /// Mark a contact's safety number as compared.
    Verify(String),
    /// Mark a contact verified if the digits they sent match.
    VerifyDigits(String, String),
    /// Change a group (admins).
    Group(String, GroupChange),
    /// Leave a group.
    Leave(String),
    /// Hide (true) or show a member's messages in a group, on this device.
    Mute(String, String, bool),
    /// Edit one of this account's messages.
    Edit {
        /// The conversation.
        conversation: String,
        /// The message.
        message: String,
        /// The new text.
        text: String,
    },
    /// Delete one of this account's messages for everyone.
    Delete {
        /// The conversation.
        conversation: String,
        /// The message.
        message: String,
    },
}

impl Action {
    pub(super) fn what(&self) -> &'static str {
        match self {
            Self::SaveSettings(_) => "saving settings",
            Self::RevokeSession(_) => "ending the session",
            Self::ChangePassword { .. } => "changing the password",
            Self::Logout => "logging out",
            Self::DeleteAccount { .. } => "deleting the account",
            Self::Unfriend(_) => "unfriending",
            Self::Block(_, true) => "blocking",
            Self::Block(_, false) => "unblocking",
            Self::Verify(_) | Self::VerifyDigits(..) => "marking verified",
            Self::SetAvatar(_) => "setting the avatar",
            Self::Group(..) => "changing the group",
            Self::Leave(_) => "leaving the group",
            Self::Mute(..) => "muting",
            Self::Edit { .. } => "editing",
            Self::Delete { .. } => "deleting the message",
        }
    }
}

/// What the node tells the UI.
#[derive(Debug, Clone)]
pub enum Update {
    /// Whether this home has an identity yet.
    HasIdentity(bool),
    /// The node runs.
    Started {
        /// This account, hex.
        account: String,
    },
    /// The node stopped (locked).
    Locked,
    /// Logged in or registered on the relay.
    SignedIn {
        /// The username.
        username: String,
    },
    /// Friends, requests, blocked accounts.
    Contacts(Vec<ContactView>),
    /// Chats and groups, most recent first.
    Conversations(Vec<ConversationView>),
    /// A page of history, newest first.
    History {
        /// The conversation.
        conversation: String,
        /// The messages.
        messages: Vec<MessageView>,
        /// Older than a cursor (else the newest page).
        older: bool,
    },
    /// Whether typing indicators are on.
    TypingIndicators(bool),
    /// Messages of a conversation that say what was searched for, newest
    /// first.
    ChatSearch {
        /// The conversation.
        conversation: String,
        /// What was searched for.
        query: String,
        /// The messages.
        hits: Vec<MessageView>,
    },
    /// Transfers as they stand (a loaded page's files).
    Files(Vec<FileView>),
    /// Search results.
    Found(Vec<SearchResult>),
    /// Groups this account is in.
    Groups(Vec<GroupView>),
    /// Group invitations, both ways.
    Invitations(Vec<InvitationView>),
    /// Scheduled messages.
    Scheduled(Vec<ScheduledView>),
    /// The relay account's settings and sessions.
    Settings {
        /// Display name, about, discoverable, friend policy, read receipts.
        settings: serde_json::Value,
        /// Sessions (id, device, created, last used, current).
        sessions: serde_json::Value,
    },
    /// Logged out of the relay (or the account was deleted).
    SignedOut,
    /// A contact's safety number.
    SafetyNumber {
        /// Their account.
        account: String,
        /// The digits to compare.
        digits: String,
    },
    /// A user's avatar, decoded and scaled for display (`None`: none).
    Avatar {
        /// The username.
        username: String,
        /// Width, height and RGBA pixels.
        image: Option<(u32, u32, Vec<u8>)>,
    },
    /// An image decoded for the full view (`None`: it could not be).
    FullImage {
        /// Its file id.
        file: String,
        /// Width, height and RGBA pixels (at most [`FULL_SIDE`] a side).
        image: Option<(u32, u32, Vec<u8>)>,
    },
    /// Who has one of this account's messages and who read it.
    Receipts {
        /// The message.
        message: String,
        /// One entry per recipient.
        receipts: Vec<ReceiptView>,
    },
    /// This account's invite links, newest first.
    Invites(Vec<InviteView>),
    /// Leave-no-trace chats this device holds now.
    NoTrace(Vec<kovan_node::NoTraceView>),
    /// A sealed chat was unlocked: its history is read afresh.
    ChatUnlocked(String),
    /// The relay changed; unlocking connects to it.
    RelayChanged(Option<String>),
    /// A message this device sent.
    Sent(Box<MessageView>),
    /// Something happened in the node.
    Event(Box<Event>),
    /// The database was damaged and its last backup restored at start.
    Restored(kovan_node::backup::Restored),
    /// The call as it is now (none: no call).
    Call(Option<Box<kovan_node::CallView>>),
    /// A call was started or answered: where the window finds the
    /// pictures it shows (the peer's, and this side's own).
    CallVideo {
        /// The peer's latest picture.
        seen: kovan_node::call::LatestPicture,
        /// This side's camera.
        camera: kovan_node::call::Camera,
        /// The peer's latest picture of a shared screen.
        seen_screen: kovan_node::call::LatestPicture,
    },
    /// An answer for the Communities tab.
    Community {
        /// What was done (its errors are stale now).
        what: &'static str,
        /// The answer.
        update: CommunityUpdate,
    },
    /// The Spreads tab's list and settings, after a command.
    Spreads {
        /// What was done (its errors are stale now).
        what: &'static str,
        /// The spreads this node holds, newest first.
        list: Vec<kovan_node::SpreadView>,
        /// Whether it takes part, and which friends do.
        settings: kovan_node::SpreadSettings,
    },
    /// A command failed (put into words on the UI thread, in its
    /// language).
    Error {
        /// What was being done.
        action: &'static str,
        /// What went wrong.
        problem: crate::errors::Problem,
    },
}
