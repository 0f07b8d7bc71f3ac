//! What the node shows: plain, serialisable views of contacts,
//! conversations, messages and events (ids in hex).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use kovan_crypto::identity::DeviceCertificate;
use kovan_spec::wire;
use libp2p::PeerId;
use serde::Serialize;

use super::{NodeError, NodeResult};
use crate::contacts::{ContactRow, FriendState};
use crate::history::{ConversationRow, PollVotes, ReactionCount, State, StoredMessage};
use kovan_spec::validate::{Content, Media};

mod events;
mod polls;
mod spreads;

pub use events::Event;
pub use polls::{
    Agree, AnonymousPollView, Area, ConditionalFileView, ConditionalView, Locks, MembersView,
    PollCheckView, PollFindingView, PollOptionView, PollView, RelaysView, Trustees,
};
pub use spreads::{SpreadSettings, SpreadView};

/// A contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactView {
    /// Account key, hex.
    pub account: String,
    /// Short form of the account key.
    pub short_id: String,
    /// Username on the relay.
    pub username: Option<String>,
    /// Display name (as the contact claims it).
    pub display_name: String,
    /// Friendship state.
    pub state: FriendState,
    /// Blocked by us.
    pub blocked: bool,
    /// We compared safety numbers.
    pub verified: bool,
    /// The account key behind this username changed: compare again.
    pub identity_changed: bool,
    /// The contact's device.
    pub peer_id: Option<String>,
    /// The 1:1 conversation, hex.
    pub conversation: Option<String>,
    /// An incoming request's note.
    pub note: String,
    /// Presence: a connection to their device is open now.
    pub online: bool,
    /// When their device was last connected or delivered something
    /// directly (ms since the Unix epoch; since this node started).
    pub last_seen: Option<i64>,
}

impl From<&ContactRow> for ContactView {
    fn from(c: &ContactRow) -> Self {
        let account = hex::encode(c.account);
        Self {
            short_id: account[..16].to_owned(),
            account,
            username: c.username.clone(),
            display_name: c.display_name.clone(),
            state: c.state,
            blocked: c.blocked,
            verified: c.verified,
            identity_changed: c.identity_changed,
            peer_id: c.peer_id.clone(),
            conversation: c.conversation_id.as_ref().map(hex::encode),
            note: c.request_note.clone(),
            online: false,
            last_seen: None,
        }
    }
}

impl ContactView {
    /// How to call this contact in text.
    pub fn name(&self) -> String {
        match (&self.username, self.display_name.is_empty()) {
            (Some(u), true) => u.clone(),
            (Some(u), false) => format!("{} (@{u})", self.display_name),
            (None, false) => self.display_name.clone(),
            (None, true) => self.short_id.clone(),
        }
    }
}

/// A group member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberView {
    /// Account key, hex.
    pub account: String,
    /// The member's device (PeerId).
    pub peer_id: String,
    /// Name: the contact's, else the device certificate's label, else the
    /// short account id.
    pub name: String,
    /// Admin of the group.
    pub admin: bool,
    /// Muted by us (local).
    pub muted: bool,
    /// This device.
    pub me: bool,
}

/// A recipient's receipts for one of our messages (I1, "message info").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceiptView {
    /// The recipient's account key, hex.
    pub account: String,
    /// Their name as shown.
    pub name: String,
    /// How far the message got with them: `sent`, `delivered` or `seen`.
    pub state: &'static str,
    /// When their device had it (ms since the epoch), if it did.
    pub delivered_at: Option<i64>,
    /// When they read it (ms since the epoch), if they did.
    pub seen_at: Option<i64>,
}

/// One of this account's invite links (A5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InviteView {
    /// Its id, hex (to revoke it).
    pub id: String,
    /// The link to share.
    pub link: String,
    /// What the user called it.
    pub label: String,
    /// When it was made (ms since the epoch).
    pub created_at: i64,
    /// When it stops working (ms), if ever.
    pub expires_at: Option<i64>,
    /// How many requests it admits in all, if limited.
    pub max_uses: Option<u32>,
    /// How many requests came through it.
    pub used: u32,
    /// `live`, `expired`, `used_up` or `revoked`.
    pub state: &'static str,
}

impl InviteView {
    pub(crate) fn new(row: &crate::invites::InviteRow, link: String, now: i64) -> Self {
        let state = if row.revoked {
            "revoked"
        } else if row.expires_at.is_some_and(|e| now >= e) {
            "expired"
        } else if row.max_uses.is_some_and(|m| row.used >= m) {
            "used_up"
        } else {
            "live"
        };
        Self {
            id: hex::encode(row.id),
            link,
            label: row.label.clone(),
            created_at: row.created_at,
            expires_at: row.expires_at,
            max_uses: row.max_uses,
            used: row.used,
            state,
        }
    }
}

/// A group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupView {
    /// The group (conversation) id, hex.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// `member`, `left`, `removed` or `dissolved`.
    pub state: String,
    /// MLS epoch.
    pub epoch: u64,
    /// We are an admin.
    pub admin: bool,
    /// Members who are not admins may invite.
    pub members_invite: bool,
    /// Members, in leaf order.
    pub members: Vec<MemberView>,
    /// Banned accounts, hex.
    pub banned: Vec<String>,
    /// `normal` or `direct_only` (SPEC.md §7.8).
    pub mode: &'static str,
    /// A chat between two accounts, shown as a chat with the other.
    pub pair: bool,
}

/// A group invitation, sent or received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvitationView {
    /// Its id, hex.
    pub id: String,
    /// The group, hex.
    pub group: String,
    /// The group's name when invited.
    pub group_name: String,
    /// Members when invited.
    pub members: u32,
    /// Received (true) or sent.
    pub incoming: bool,
    /// The other side's account, hex.
    pub account: String,
    /// The other side's name.
    pub name: String,
    /// `pending`, `accepted`, `declined`, `joined`, `refused`.
    pub state: String,
    /// The group's mode, as the invitation says: `normal` or
    /// `direct_only` (SPEC.md §7.8).
    pub mode: &'static str,
    /// A chat between two accounts (an invitation to chat, not a group).
    pub pair: bool,
}

/// A conversation in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConversationView {
    /// The conversation id, hex.
    pub id: String,
    /// `direct` or `group`.
    pub kind: &'static str,
    /// The group's name, or the contact's.
    pub title: String,
    /// The other side of a 1:1 conversation.
    pub contact: Option<ContactView>,
    /// Last activity, ms.
    pub last_activity: i64,
    /// Read-only.
    pub closed: bool,
    /// Unread incoming messages.
    pub unread: i64,
    /// The MLS epoch (advances with every commit: members, keys).
    pub epoch: Option<u64>,
    /// `normal` or `direct_only` (SPEC.md §7.8).
    pub mode: &'static str,
    /// Messages of this direct-only conversation wait for a direct
    /// connection to a member's device.
    pub waiting_direct: bool,
    /// Sealed with a password (SPEC.md §7.9).
    pub sealed: bool,
    /// Sealed and locked on this device: its history needs the password.
    pub locked: bool,
    /// The newest message, for the chat list's preview (none while the
    /// chat is locked or empty).
    pub last: Option<Box<MessageView>>,
    /// What was typed here and not sent (never for a sealed chat).
    pub draft: Option<String>,
}

impl ConversationView {
    /// A leave-no-trace chat in the list (mode `no_trace`).
    pub(crate) fn no_trace(chat: &super::NoTraceView) -> Self {
        Self {
            id: chat.id.clone(),
            kind: "direct",
            title: chat.contact.name(),
            contact: Some(chat.contact.clone()),
            last_activity: 0,
            closed: false,
            unread: 0,
            epoch: None,
            mode: "no_trace",
            waiting_direct: chat.state != super::NoTraceState::Open,
            sealed: false,
            locked: false,
            last: None,
            draft: None,
        }
    }

    pub(crate) fn new(
        row: &ConversationRow,
        contact: Option<ContactView>,
        title: String,
        epoch: Option<u64>,
    ) -> Self {
        Self {
            epoch,
            id: hex::encode(&row.id),
            kind: if row.peer_account.is_some() { "direct" } else { "group" },
            title: contact.as_ref().map(|c| c.name()).unwrap_or(title),
            contact,
            last_activity: row.last_activity,
            closed: row.closed,
            unread: row.unread,
            mode: "normal",
            waiting_direct: false,
            sealed: false,
            locked: false,
            last: None,
            draft: None,
        }
    }
}

/// Reactions with one emoji.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReactionView {
    /// The emoji.
    pub emoji: String,
    /// How many reacted with it.
    pub count: i64,
    /// Whether we are among them.
    pub mine: bool,
    /// Who reacted (accounts, hex), in order of reacting.
    pub by: Vec<String>,
}

/// A message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageView {
    /// The conversation, hex.
    pub conversation: String,
    /// The message id, hex.
    pub id: String,
    /// Paging cursor (local order).
    pub seq: i64,
    /// Sender account, hex.
    pub sender: String,
    /// Sent by this account.
    pub outgoing: bool,
    /// Sender's clock, ms.
    pub sent_at: i64,
    /// `pending`, `sent`, `delivered`, `seen` (outgoing) or `received`.
    pub state: &'static str,
    /// `text`, `file`, `image`, `voice`, `poll`, `location`, `call` (a
    /// call's record, kept by each side: SPEC.md §6.9), `deleted`,
    /// `locked` (a sealed text this device cannot open now: the chat is
    /// locked), or `unsupported` (a newer content type, or one that breaks
    /// its type's rules).
    pub kind: &'static str,
    /// A text sealed under its chat's password (SPEC.md §7.9).
    pub sealed: bool,
    /// The text.
    pub text: Option<String>,
    /// Whether the text is only emoji (shown large).
    pub emoji_only: bool,
    /// The message replied to, hex.
    pub reply_to: Option<String>,
    /// Last edit, ms.
    pub edited_at: Option<i64>,
    /// Reactions per emoji.
    pub reactions: Vec<ReactionView>,
    /// The file, for `kind = "file"` (its transfer: [`FileView`]).
    pub file: Option<FileMeta>,
    /// The poll and its live tally, for `kind = "poll"`.
    pub poll: Option<PollView>,
    /// A conditional message: what it waits for (SPEC.md §6.10).
    pub conditional: Option<ConditionalView>,
    /// The place, for `kind = "location"`.
    pub location: Option<LocationView>,
    /// A call's record: how it ended and how long it lasted.
    pub call: Option<CallRecordView>,
}

/// A call as its record in the chat shows it (SPEC.md §6.9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallRecordView {
    /// `hangup`, `declined`, `busy`, `no_answer`, `failed`, `missed`,
    /// `answered_elsewhere`.
    pub reason: String,
    /// How long it lasted, if it was answered (ms).
    pub duration_ms: Option<i64>,
}

/// A shared location as it stands (SPEC.md §6.5).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocationView {
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Radius of uncertainty, metres (0: unknown).
    pub accuracy_m: u32,
    /// The place's name.
    pub label: String,
    /// A live share (else a fixed point).
    pub live: bool,
    /// When live sharing ends (the sharer's clock, ms).
    pub live_until: Option<i64>,
    /// When the sharer was at this position (ms).
    pub updated_at: i64,
    /// Still live now: not stopped, not past its end.
    pub active: bool,
    /// The sharer stopped it before its end.
    pub stopped: bool,
}

// Coordinates come from whole 10^-7 degrees, never NaN: equality is total.
impl Eq for LocationView {}

/// A scheduled message (I7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduledView {
    /// Its id, hex (for edit and cancel).
    pub id: String,
    /// The conversation, hex.
    pub conversation: String,
    /// When it is due, ms since the Unix epoch.
    pub due_at: i64,
    /// When it was composed, ms.
    pub created_at: i64,
    /// `scheduled`, `sent`, `cancelled` or `failed`.
    pub state: String,
    /// When it went, ms.
    pub sent_at: Option<i64>,
    /// It went more than a minute after its time (the node was off).
    pub late: bool,
    /// The message it became, hex.
    pub message: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// What it sends.
    pub content: crate::node::ScheduledContent,
}

/// A file as its message describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileMeta {
    /// The file's id, hex (see `files`).
    pub id: String,
    /// File name.
    pub name: String,
    /// Media type.
    pub mime: String,
    /// Size in bytes.
    pub size: u64,
    /// Caption.
    pub caption: String,
    /// For `kind = "image"`: its size and inline thumbnail.
    pub image: Option<ImageMeta>,
    /// For `kind = "voice"`: its length and waveform.
    pub voice: Option<VoiceMeta>,
}

/// An image as its message describes it (SPEC.md §6.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageMeta {
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// A small JPEG, base64 (empty: none); decode it with
    /// [`crate::media::decode_for_display`], it comes from a peer.
    pub thumbnail: String,
}

/// A voice note as its message describes it (SPEC.md §6.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoiceMeta {
    /// Length, ms.
    pub duration_ms: u32,
    /// Peak levels 0..=255, evenly spaced over the note.
    pub waveform: Vec<u8>,
}

/// A file transfer, sent or received (SPEC.md §7.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileView {
    /// The file's id, hex.
    pub id: String,
    /// The conversation, hex.
    pub conversation: String,
    /// The message that announced it, hex.
    pub message: String,
    /// Sent by this device.
    pub outgoing: bool,
    /// File name.
    pub name: String,
    /// Media type.
    pub mime: String,
    /// Size in bytes.
    pub size: u64,
    /// Received files: `offered` (not fetched: above the automatic limit),
    /// `downloading`, `waiting` (no source reachable; retrying),
    /// `complete`, `failed`, `cancelled`. Sent files: `ready`, `cancelled`.
    pub state: String,
    /// Sent files: the relay copy: `none` (not needed yet), `needed`,
    /// `uploading`, `done`, `failed`.
    pub upload: String,
    /// Bytes done: received files, plaintext stored; sent files, ciphertext
    /// uploaded.
    pub done: u64,
    /// Ciphertext bytes that crossed the network for it, all attempts.
    pub wire_bytes: u64,
    /// Where the last attempt started in the ciphertext (a resume starts
    /// above 0).
    pub resumed_from: u64,
    /// Received files: where the last attempt fetched it from: `call` (the
    /// running call with the sender, SPEC.md §6.9.1), `direct` (the
    /// sender's device), `relay` (the relay's copy); empty before any.
    pub via: String,
    /// Received and complete: where it is. Sent: the file that was picked.
    pub path: Option<String>,
    /// Why it failed, in words.
    pub error: Option<String>,
}

impl FileView {
    pub(crate) fn new(f: &crate::files::FileRow) -> Self {
        let path = if f.outgoing {
            f.source.clone()
        } else {
            (f.state == "complete").then(|| f.path.to_string_lossy().into_owned())
        };
        Self {
            id: hex::encode(f.file_id),
            conversation: hex::encode(&f.conversation_id),
            message: hex::encode(f.message_id),
            outgoing: f.outgoing,
            name: f.name.clone(),
            mime: f.mime.clone(),
            size: f.size,
            state: f.state.clone(),
            upload: f.upload.clone(),
            done: f.done,
            wire_bytes: f.wire_bytes,
            resumed_from: f.resumed_from,
            via: f.via.clone(),
            path,
            error: f.error.clone(),
        }
    }
}

/// The state's name.
pub fn state_name(s: State) -> &'static str {
    match s {
        State::Pending => "pending",
        State::Sent => "sent",
        State::Delivered => "delivered",
        State::Seen => "seen",
        State::Received => "received",
    }
}

impl MessageView {
    pub(crate) fn new(
        conversation: &[u8],
        m: &StoredMessage,
        reactions: &[ReactionCount],
        me: &[u8],
    ) -> Self {
        // Validated, not just decoded: content that breaks its type's rules
        // shows as unsupported, whoever sent it.
        let decoded = m.body.as_deref().and_then(|b| kovan_spec::validate_app_envelope(b).ok());
        let mut file = None;
        let mut poll = None;
        let mut location = None;
        let mut call = None;
        let mut conditional = None;
        let (kind, text, reply_to) = match (&m.body, decoded) {
            (None, _) => ("deleted", None, None),
            (Some(_), Some(env)) => {
                let reply = env.reply_to.map(hex::encode);
                match env.content {
                    Content::Text { body } => ("text", Some(body), reply),
                    Content::File(f) => {
                        let (kind, image, voice) = match f.media {
                            Media::None => ("file", None, None),
                            Media::Image { width, height, thumbnail } => (
                                "image",
                                Some(ImageMeta { width, height, thumbnail: B64.encode(thumbnail) }),
                                None,
                            ),
                            Media::Voice { duration_ms, waveform } => {
                                ("voice", None, Some(VoiceMeta { duration_ms, waveform }))
                            }
                        };
                        file = Some(FileMeta {
                            id: hex::encode(f.file_id),
                            name: f.name,
                            mime: f.mime,
                            size: f.size,
                            caption: f.caption,
                            image,
                            voice,
                        });
                        (kind, None, reply)
                    }
                    Content::Poll(p) => {
                        let question = p.question.clone();
                        poll = Some(PollView {
                            question: p.question,
                            multiple: p.multiple,
                            options: p
                                .options
                                .into_iter()
                                .map(|text| PollOptionView { text, votes: 0, by: Vec::new() })
                                .collect(),
                            voters: 0,
                            mine: Vec::new(),
                            closed: false,
                            verifiable: None,
                        });
                        ("poll", Some(question), reply)
                    }
                    Content::Location(p) => {
                        location = Some(LocationView {
                            lat: f64::from(p.point.lat_e7) / 1e7,
                            lon: f64::from(p.point.lon_e7) / 1e7,
                            accuracy_m: p.point.accuracy_m,
                            live: p.live_until_ms.is_some(),
                            live_until: p.live_until_ms.map(|t| t as i64),
                            updated_at: m.sent_at,
                            active: false,
                            stopped: false,
                            label: p.label,
                        });
                        ("location", None, reply)
                    }
                    // Opened, or marked locked, by the core (it has the keys).
                    Content::Sealed(_) => ("sealed", None, reply),
                    // Its text is filled in by the core once opened here.
                    Content::Conditional(c) => {
                        conditional = Some(ConditionalView::of(&c));
                        ("conditional", None, reply)
                    }
                    // Only a call's record is stored (the core fills in
                    // how it ended from the log).
                    Content::Call(kovan_spec::validate::CallSignal {
                        kind: kovan_spec::validate::CallSignalKind::End(r),
                        ..
                    }) => {
                        call = Some(CallRecordView { reason: r.name().into(), duration_ms: None });
                        ("call", None, None)
                    }
                    _ => ("unsupported", None, reply),
                }
            }
            (Some(_), None) => ("unsupported", None, None),
        };
        Self {
            conversation: hex::encode(conversation),
            id: hex::encode(m.message_id),
            seq: m.seq,
            sender: hex::encode(&m.sender_account),
            outgoing: m.outgoing,
            sent_at: m.sent_at,
            state: state_name(m.state),
            sealed: kind == "sealed",
            kind,
            emoji_only: text.as_deref().is_some_and(|t| crate::emoji::is_emoji_only(t, 5)),
            text,
            reply_to,
            edited_at: m.edited_at,
            reactions: reactions
                .iter()
                .map(|r| ReactionView {
                    emoji: r.emoji.clone(),
                    count: r.count,
                    mine: r.by.iter().any(|b| b == me),
                    by: r.by.iter().map(hex::encode).collect(),
                })
                .collect(),
            file,
            poll,
            location,
            call,
            conditional,
        }
    }

    /// A text of a leave-no-trace chat (held in memory only).
    pub(crate) fn ephemeral(
        chat: &[u8; 16],
        id: [u8; 16],
        sender: String,
        outgoing: bool,
        sent_at: i64,
        text: String,
    ) -> Self {
        Self {
            conversation: hex::encode(chat),
            id: hex::encode(id),
            seq: 0,
            sender,
            outgoing,
            sent_at,
            state: if outgoing { "sent" } else { "received" },
            kind: "text",
            sealed: false,
            emoji_only: crate::emoji::is_emoji_only(&text, 5),
            text: Some(text),
            reply_to: None,
            edited_at: None,
            reactions: Vec::new(),
            file: None,
            poll: None,
            location: None,
            call: None,
            conditional: None,
        }
    }

    /// A sealed text opened with its chat's key.
    pub(crate) fn opened(&mut self, text: String) {
        self.kind = "text";
        self.sealed = true;
        self.emoji_only = crate::emoji::is_emoji_only(&text, 5);
        self.text = Some(text);
    }

    /// Fills in a poll's tally (ballots for options it does not have are
    /// ignored).
    pub(crate) fn with_votes(mut self, votes: &PollVotes, me: &[u8]) -> Self {
        if let Some(p) = &mut self.poll {
            p.closed = votes.closed;
            p.voters = 0;
            for (voter, choices) in &votes.ballots {
                let valid = choices.iter().all(|&c| (c as usize) < p.options.len())
                    && (p.multiple || choices.len() == 1);
                if !valid {
                    continue;
                }
                p.voters += 1;
                for &c in choices {
                    let o = &mut p.options[c as usize];
                    o.votes += 1;
                    o.by.push(hex::encode(voter));
                }
                if voter == me {
                    p.mine.clone_from(choices);
                }
            }
        }
        self
    }
}

/// A person found by a search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchResult {
    /// `relay` or `lan`.
    pub source: &'static str,
    /// Username (relay results).
    pub username: Option<String>,
    /// Display name.
    pub display_name: String,
    /// Account key, hex.
    pub account: String,
    /// The device to befriend.
    pub peer_id: String,
    /// What to pass to `friend request`.
    pub target: String,
}

/// A kovan peer seen on the LAN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LanPeer {
    /// Its device.
    pub peer_id: String,
    /// Its account, hex, once its card was checked.
    pub account: Option<String>,
    /// The name it claims.
    pub display_name: String,
}

/// The node at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Account key, hex.
    pub account: String,
    /// This device.
    pub peer_id: String,
    /// Where it listens.
    pub listen: Vec<String>,
    /// The same with this device's `/p2p/<PeerId>`: what another device
    /// gives `kovan connect` (or a friend request) to reach this one.
    pub dial: Vec<String>,
    /// Connected peers.
    pub connected_peers: usize,
    /// The relay's URL.
    pub relay_url: Option<String>,
    /// Username, when logged in.
    pub username: Option<String>,
    /// Whether the relay's WebSocket is up.
    pub relay_connected: bool,
    /// Friends.
    pub friends: usize,
    /// Incoming friend requests.
    pub incoming_requests: usize,
    /// Envelopes waiting to be delivered.
    pub outbox: i64,
    /// Read receipts on.
    pub read_receipts: bool,
    /// The last time the database was found damaged and restored from its
    /// backup (SPEC.md §4.7), if ever.
    pub restored: Option<crate::backup::Restored>,
    /// That restore happened when this node started.
    pub restored_at_start: bool,
}

/// Parses a 16-byte message id in hex.
pub fn parse_message_id(s: &str) -> NodeResult<[u8; 16]> {
    parse_id(s, "a message id")
}

/// Parses a 16-byte id (32 hex digits) of the kind `what` names ("an
/// invite id"), saying which kind it wanted when it is not one.
pub fn parse_id(s: &str, what: &str) -> NodeResult<[u8; 16]> {
    hex::decode(s.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| NodeError::Invalid(format!("{} is not {what} (32 hex digits)", shown(s))))
}

/// Something the user typed, quoted for an error message and cut to 48
/// characters (an error never echoes a huge argument back).
pub fn shown(s: &str) -> String {
    const MAX: usize = 48;
    let cut: String = s.chars().take(MAX).collect();
    if s.chars().count() > MAX { format!("{cut:?}…") } else { format!("{cut:?}") }
}

/// A relay profile as a search result, if its first device certificate
/// checks out and belongs to the profile's account.
pub fn search_result_from_profile(p: &serde_json::Value, now: u64) -> Option<SearchResult> {
    let account = B64.decode(p["account_key"].as_str()?).ok()?;
    let cert = B64.decode(p["devices"][0]["certificate"].as_str()?).ok()?;
    let cert = DeviceCertificate::verify(&cert, now).ok()?;
    if cert.account().as_bytes().as_slice() != account.as_slice() {
        return None;
    }
    let username = p["username"].as_str()?.to_owned();
    Some(SearchResult {
        source: "relay",
        display_name: p["display_name"].as_str().unwrap_or_default().to_owned(),
        account: hex::encode(&account),
        peer_id: cert.peer_id().to_string(),
        target: username.clone(),
        username: Some(username),
    })
}

/// Checks a contact card from `peer`: its certificate must verify and be
/// `peer`'s.
pub fn check_card(
    card: &wire::ContactCard,
    peer: PeerId,
    now: u64,
) -> Option<(DeviceCertificate, String)> {
    let cert = DeviceCertificate::verify(&card.device_certificate, now).ok()?;
    if cert.peer_id() != peer || card.display_name.len() > kovan_spec::limits::MAX_DISPLAY_NAME {
        return None;
    }
    Some((cert, card.display_name.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kovan_crypto::identity::{AccountKey, DeviceKeys};
    use rand_core::OsRng;

    fn profile(account: &AccountKey, cert: &DeviceCertificate) -> serde_json::Value {
        serde_json::json!({
            "username": "ayse",
            "display_name": "Ayşe",
            "account_key": B64.encode(account.id().as_bytes()),
            "devices": [{ "certificate": B64.encode(cert.encoded()) }],
        })
    }

    #[test]
    fn a_directory_profile_counts_only_if_its_certificate_is_its_accounts() {
        let now = 1_796_000_000;
        let (ayse, mallory) = (AccountKey::generate(&mut OsRng), AccountKey::generate(&mut OsRng));
        let device = DeviceKeys::generate(&mut OsRng);
        let cert = ayse.certify(&device.public(), "laptop", now, 86_400).unwrap();
        let found = search_result_from_profile(&profile(&ayse, &cert), now).unwrap();
        assert_eq!(found.account, hex::encode(ayse.id().as_bytes()));
        assert_eq!(found.username.as_deref(), Some("ayse"));
        // Ayşe's device under Mallory's account key: ignored.
        assert!(search_result_from_profile(&profile(&mallory, &cert), now).is_none());
        // An expired certificate, or none: ignored.
        assert!(search_result_from_profile(&profile(&ayse, &cert), now + 2 * 86_400).is_none());
        let mut bare = profile(&ayse, &cert);
        bare["devices"] = serde_json::json!([]);
        assert!(search_result_from_profile(&bare, now).is_none());
    }
}
