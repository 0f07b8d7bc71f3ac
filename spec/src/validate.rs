//! Structural validation that the protobuf schema cannot express: exact id
//! lengths, string sizes, list counts, versions. Decoding plus validation is
//! what a receiver does with every application envelope.

use crate::wire::{self, app_envelope::Content as WireContent};
use crate::{Bounded, DecodeError, decode, limits};

/// A 16-byte message id.
pub type MessageId = [u8; limits::ID_LEN];

/// The content of an application envelope after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Content {
    /// A text message.
    Text {
        /// The body.
        body: String,
    },
    /// Add or remove a reaction.
    Reaction {
        /// The message reacted to.
        target: MessageId,
        /// The emoji.
        emoji: String,
        /// Whether this removes an earlier reaction.
        remove: bool,
    },
    /// Replace the body of an earlier text message by the same sender.
    Edit {
        /// The edited message.
        target: MessageId,
        /// The new body.
        body: String,
    },
    /// Delete an earlier message by the same sender, for everyone.
    Delete {
        /// The deleted message.
        target: MessageId,
    },
    /// Delivery or read receipts.
    Receipt {
        /// Delivered or seen.
        kind: ReceiptKind,
        /// The messages this receipt is about.
        targets: Vec<MessageId>,
    },
    /// A file, fetched and decrypted outside MLS (SPEC.md §7.7).
    File(FileOffer),
    /// A poll (§6.4).
    Poll(PollSpec),
    /// A member's choices in a poll (empty: withdrawn).
    Vote {
        /// The poll's message id.
        poll: MessageId,
        /// Option indexes, strictly increasing.
        choices: Vec<u32>,
    },
    /// The creator closes a poll with the ballots it counted.
    PollClose {
        /// The poll's message id.
        poll: MessageId,
        /// One ballot per account, accounts strictly increasing.
        ballots: Vec<([u8; 32], Vec<u32>)>,
    },
    /// A shared location (§6.5).
    Location(Place),
    /// A new position for a live share.
    LocationUpdate {
        /// The `Location` message.
        target: MessageId,
        /// Where.
        point: Point,
    },
    /// The sharer ends a live share.
    LocationStop {
        /// The `Location` message.
        target: MessageId,
    },
    /// A text sealed a second time under the chat password (§7.9).
    Sealed(SealedText),
    /// An edit of a sealed text: the new text sealed, bound to the target.
    SealedEdit {
        /// The edited message.
        target: MessageId,
        /// The new text.
        sealed: SealedText,
    },
    /// A member seals the chat with a new password (§7.9).
    SealChange(SealChange),
    /// A known content type whose fields break its rules (SPEC.md §6.3):
    /// kept and shown as "unsupported message", never acted on.
    Invalid {
        /// What is wrong with it.
        reason: String,
    },
    /// A content type this implementation does not know (a newer sender, or
    /// an unknown receipt kind). Receivers store it and show "unsupported
    /// message" rather than dropping it (SPEC.md §6.3).
    Unknown,
}

/// A sealed text (SPEC.md §7.9): the fields' lengths checked; whether it
/// opens is for a device that has the chat key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedText {
    /// The chat key's id.
    pub key_id: [u8; 16],
    /// The nonce.
    pub nonce: [u8; 24],
    /// The encoded `Text` and the tag.
    pub ciphertext: Vec<u8>,
}

/// A new password for a chat (SPEC.md §7.9), validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealChange {
    /// The new key's id.
    pub key_id: [u8; 16],
    /// The Argon2id salt.
    pub salt: [u8; 16],
    /// Argon2id memory (KiB), passes and lanes.
    pub params: (u32, u32, u32),
    /// The key it replaces: its id, the nonce and the wrapped key.
    pub previous: Option<([u8; 16], [u8; 24], [u8; 48])>,
}

/// A file announced in a message (SPEC.md §7.7.1), validated.
#[derive(Clone, PartialEq, Eq)]
pub struct FileOffer {
    /// Names the transfer.
    pub file_id: MessageId,
    /// A file name safe to create (no separators or control characters).
    pub name: String,
    /// The media type (may be empty).
    pub mime: String,
    /// Plaintext size.
    pub size: u64,
    /// SHA-256 of the plaintext.
    pub sha256: [u8; 32],
    /// The file's key.
    pub key: [u8; 32],
    /// The relay holding the ciphertext, with the blob's id.
    pub blob: Option<(String, MessageId)>,
    /// The caption.
    pub caption: String,
    /// What kind of media it is, with its preview.
    pub media: Media,
}

/// What a file is, beyond its bytes (SPEC.md §6.6, §6.7).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Media {
    /// A plain file.
    #[default]
    None,
    /// An image.
    Image {
        /// Pixels.
        width: u32,
        /// Pixels.
        height: u32,
        /// A small JPEG (may be empty).
        thumbnail: Vec<u8>,
    },
    /// A voice note (Opus in Ogg).
    Voice {
        /// Length, ms.
        duration_ms: u32,
        /// Peak levels 0..=255, evenly spaced.
        waveform: Vec<u8>,
    },
}

/// The media types an image may have (§6.6).
pub const IMAGE_MIMES: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "image/gif"];

/// The media type of a voice note (§6.7).
pub const VOICE_MIME: &str = "audio/ogg";

fn media(f: &wire::FileRef) -> Result<Media, String> {
    match (&f.image, &f.voice) {
        (None, None) => Ok(Media::None),
        (Some(_), Some(_)) => Err("a file is an image or a voice note, not both".into()),
        (Some(i), None) => {
            if !IMAGE_MIMES.contains(&f.mime.as_str()) {
                return Err("an image's type must be image/jpeg, png, webp or gif".into());
            }
            let side = 1..=limits::MAX_IMAGE_SIDE;
            if !side.contains(&i.width) || !side.contains(&i.height) {
                return Err("an image's sides must be 1..=16384 pixels".into());
            }
            if i.thumbnail.len() > limits::MAX_THUMBNAIL {
                return Err("an image's thumbnail must be at most 16 KiB".into());
            }
            if !i.thumbnail.is_empty() && !i.thumbnail.starts_with(&[0xff, 0xd8, 0xff]) {
                return Err("an image's thumbnail must be a JPEG".into());
            }
            Ok(Media::Image { width: i.width, height: i.height, thumbnail: i.thumbnail.clone() })
        }
        (None, Some(v)) => {
            if f.mime != VOICE_MIME {
                return Err("a voice note's type must be audio/ogg".into());
            }
            if !(1..=limits::MAX_VOICE_MS).contains(&v.duration_ms) {
                return Err("a voice note lasts 1 ms to 1 hour".into());
            }
            if v.waveform.len() > limits::MAX_WAVEFORM {
                return Err("a voice note's waveform has at most 128 levels".into());
            }
            Ok(Media::Voice { duration_ms: v.duration_ms, waveform: v.waveform.clone() })
        }
    }
}

impl std::fmt::Debug for FileOffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileOffer")
            .field("file_id", &self.file_id)
            .field("name", &self.name)
            .field("mime", &self.mime)
            .field("size", &self.size)
            .field("blob", &self.blob)
            .field("media", &self.media)
            .finish_non_exhaustive()
    }
}

/// A position: degrees × 10^7 and an accuracy radius.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    /// Latitude × 10^7.
    pub lat_e7: i32,
    /// Longitude × 10^7.
    pub lon_e7: i32,
    /// Metres (0: unknown).
    pub accuracy_m: u32,
}

impl Point {
    /// Checks the ranges (§6.5).
    pub fn new(lat_e7: i32, lon_e7: i32, accuracy_m: u32) -> Result<Self, String> {
        if !(-900_000_000..=900_000_000).contains(&lat_e7)
            || !(-1_800_000_000..=1_800_000_000).contains(&lon_e7)
        {
            return Err("latitude must be within ±90° and longitude within ±180°".into());
        }
        if accuracy_m > limits::MAX_LOCATION_ACCURACY_M {
            return Err("accuracy must be at most 1,000 km".into());
        }
        Ok(Self { lat_e7, lon_e7, accuracy_m })
    }

    /// From degrees (rounded to 10^-7°, about a centimetre).
    pub fn from_degrees(lat: f64, lon: f64, accuracy_m: u32) -> Result<Self, String> {
        if !lat.is_finite() || !lon.is_finite() || lat.abs() > 90.0 || lon.abs() > 180.0 {
            return Err("latitude must be within ±90° and longitude within ±180°".into());
        }
        Self::new((lat * 1e7).round() as i32, (lon * 1e7).round() as i32, accuracy_m)
    }
}

/// A shared location, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Where.
    pub point: Point,
    /// A name for it.
    pub label: String,
    /// End of live sharing (sender's clock, ms); None for a fixed point.
    pub live_until_ms: Option<u64>,
}

fn place(l: wire::Location, timestamp_ms: u64) -> Result<Place, String> {
    let point = Point::new(l.lat_e7, l.lon_e7, l.accuracy_m)?;
    if l.label.len() > limits::MAX_LOCATION_LABEL {
        return Err("location label must be at most 256 bytes".into());
    }
    let live_until_ms = match l.live_until_ms {
        0 => None,
        t if t > timestamp_ms && t - timestamp_ms <= limits::MAX_LIVE_LOCATION_MS => Some(t),
        _ => return Err("live location must end within 24 h after it starts".into()),
    };
    Ok(Place { point, label: l.label, live_until_ms })
}

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
fn choices(c: Vec<u32>) -> Result<Vec<u32>, String> {
    if c.len() > limits::MAX_POLL_OPTIONS
        || c.iter().any(|&i| i as usize >= limits::MAX_POLL_OPTIONS)
        || c.windows(2).any(|w| w[0] >= w[1])
    {
        return Err("poll choices must be distinct option indexes below 12, in order".into());
    }
    Ok(c)
}

fn vote(v: wire::Vote) -> Result<Content, String> {
    let poll = v.poll.as_slice().try_into().map_err(|_| "vote poll must be 16 bytes")?;
    Ok(Content::Vote { poll, choices: choices(v.choices)? })
}

fn poll_close(c: wire::PollClose) -> Result<Content, String> {
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

/// Whether `name` can be used as a file name as it is: 1..=255 bytes, not
/// `.` or `..`, no path separators, NUL or other control characters.
pub fn is_safe_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= limits::MAX_FILE_NAME
        && name != "."
        && name != ".."
        && !name.chars().any(|c| c == '/' || c == '\\' || c.is_control())
}

/// A file message: a malformed file is refused (§6.3); a malformed image
/// or voice description (newer fields) keeps the message as unsupported.
fn file_content(f: wire::FileRef) -> Result<Content, DecodeError> {
    let media = media(&f);
    let offer = file_offer(f)?;
    Ok(match media {
        Ok(media) => Content::File(FileOffer { media, ..offer }),
        Err(reason) => Content::Invalid { reason },
    })
}

fn file_offer(f: wire::FileRef) -> Result<FileOffer, DecodeError> {
    if !is_safe_file_name(&f.name) {
        return Err(DecodeError::invalid(
            APP,
            "file name must be 1..=255 bytes without separators or control characters",
        ));
    }
    if f.chunk_size != limits::FILE_CHUNK_SIZE {
        return Err(DecodeError::invalid(APP, "file chunk_size must be 65536"));
    }
    if f.size > limits::MAX_FILE_SIZE {
        return Err(DecodeError::invalid(APP, "file size above the protocol's limit"));
    }
    let sha256 = f
        .sha256
        .as_slice()
        .try_into()
        .map_err(|_| DecodeError::invalid(APP, "file sha256 must be 32 bytes"))?;
    let key = account(APP, "file key", &f.key)?;
    let blob = match (f.relay.is_empty(), f.blob_id.is_empty()) {
        (true, true) => None,
        (false, false) => {
            if f.relay.len() > limits::MAX_FILE_RELAY_URL
                || !(f.relay.starts_with("https://") || f.relay.starts_with("http://"))
            {
                return Err(DecodeError::invalid(APP, "file relay must be an http(s) URL"));
            }
            Some((f.relay, id(APP, "blob_id", &f.blob_id)?))
        }
        _ => return Err(DecodeError::invalid(APP, "file relay and blob_id go together")),
    };
    Ok(FileOffer {
        file_id: id(APP, "file_id", &f.file_id)?,
        name: f.name,
        mime: text("mime", f.mime, limits::MAX_FILE_MIME)?,
        size: f.size,
        sha256,
        key,
        blob,
        caption: text("caption", f.caption, limits::MAX_FILE_CAPTION)?,
        media: Media::None,
    })
}

/// Receipt kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptKind {
    /// The recipient's device stored the message.
    Delivered,
    /// The recipient displayed the message.
    Seen,
}

/// A decoded and validated application envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedApp {
    /// The sender-chosen message id.
    pub message_id: MessageId,
    /// The sending device's PeerId bytes.
    pub sender_device: Vec<u8>,
    /// The per-sender sequence number.
    pub sequence: u64,
    /// Sender's clock, milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// The message replied to.
    pub reply_to: Option<MessageId>,
    /// What the message says.
    pub content: Content,
}

const APP: &str = <wire::AppEnvelope as Bounded>::NAME;

/// A KeyPackage carried in a kovan message: 1..=16 KiB (opaque here; the
/// node parses and checks it).
fn key_package(what: &'static str, kp: Vec<u8>) -> Result<Vec<u8>, DecodeError> {
    if kp.is_empty() || kp.len() > limits::MAX_KEY_PACKAGE {
        return Err(DecodeError::invalid(what, "key_package must be 1..=16384 bytes"));
    }
    Ok(kp)
}

/// A 32-byte account key.
fn account(what: &'static str, field: &str, bytes: &[u8]) -> Result<[u8; 32], DecodeError> {
    bytes.try_into().map_err(|_| DecodeError::invalid(what, format!("{field} must be 32 bytes")))
}

fn id(what: &'static str, field: &str, bytes: &[u8]) -> Result<MessageId, DecodeError> {
    bytes.try_into().map_err(|_| {
        DecodeError::invalid(
            what,
            format!("{field} must be {} bytes, got {}", limits::ID_LEN, bytes.len()),
        )
    })
}

fn text(field: &str, s: String, max: usize) -> Result<String, DecodeError> {
    if s.len() > max {
        return Err(DecodeError::invalid(APP, format!("{field} is {} bytes, max {max}", s.len())));
    }
    Ok(s)
}

/// Decodes and validates the plaintext of an MLS application message.
pub fn validate_app_envelope(bytes: &[u8]) -> Result<ValidatedApp, DecodeError> {
    let env: wire::AppEnvelope = decode(bytes)?;
    if env.version != 1 {
        return Err(DecodeError::UnsupportedVersion { what: APP, version: env.version });
    }
    if env.sender_device.is_empty() || env.sender_device.len() > limits::MAX_PEER_ID {
        return Err(DecodeError::invalid(APP, "sender_device must be 1..=64 bytes"));
    }
    if env.sequence == 0 {
        return Err(DecodeError::invalid(APP, "sequence starts at 1"));
    }
    let reply_to =
        if env.reply_to.is_empty() { None } else { Some(id(APP, "reply_to", &env.reply_to)?) };
    let content = match env.content {
        Some(WireContent::Text(t)) => {
            Content::Text { body: text("body", t.body, limits::MAX_TEXT)? }
        }
        Some(WireContent::Reaction(r)) => {
            if r.emoji.is_empty() {
                return Err(DecodeError::invalid(APP, "reaction emoji is empty"));
            }
            Content::Reaction {
                target: id(APP, "target", &r.target)?,
                emoji: text("emoji", r.emoji, limits::MAX_EMOJI)?,
                remove: r.remove,
            }
        }
        Some(WireContent::Edit(e)) => Content::Edit {
            target: id(APP, "target", &e.target)?,
            body: text("body", e.body, limits::MAX_TEXT)?,
        },
        Some(WireContent::Delete(d)) => Content::Delete { target: id(APP, "target", &d.target)? },
        Some(WireContent::Receipt(r)) => {
            if r.targets.is_empty() || r.targets.len() > limits::MAX_RECEIPT_TARGETS {
                return Err(DecodeError::invalid(APP, "receipt needs 1..=256 targets"));
            }
            let targets =
                r.targets.iter().map(|t| id(APP, "target", t)).collect::<Result<Vec<_>, _>>()?;
            match wire::ReceiptKind::try_from(r.kind) {
                Ok(wire::ReceiptKind::Delivered) => {
                    Content::Receipt { kind: ReceiptKind::Delivered, targets }
                }
                Ok(wire::ReceiptKind::Seen) => {
                    Content::Receipt { kind: ReceiptKind::Seen, targets }
                }
                _ => Content::Unknown,
            }
        }
        Some(WireContent::File(f)) => file_content(f)?,
        // Newer content types: a malformed one is kept as unsupported
        // rather than refusing the whole message (§6.3).
        Some(WireContent::Poll(p)) => {
            poll_spec(p).map_or_else(|reason| Content::Invalid { reason }, Content::Poll)
        }
        Some(WireContent::Vote(v)) => vote(v).unwrap_or_else(|reason| Content::Invalid { reason }),
        Some(WireContent::PollClose(c)) => {
            poll_close(c).unwrap_or_else(|reason| Content::Invalid { reason })
        }
        Some(WireContent::Location(l)) => place(l, env.timestamp_ms)
            .map_or_else(|reason| Content::Invalid { reason }, Content::Location),
        Some(WireContent::LocationUpdate(u)) => {
            let target: Result<MessageId, String> =
                u.target.as_slice().try_into().map_err(|_| "target must be 16 bytes".into());
            match (target, Point::new(u.lat_e7, u.lon_e7, u.accuracy_m)) {
                (Ok(target), Ok(point)) => Content::LocationUpdate { target, point },
                (Err(reason), _) | (_, Err(reason)) => Content::Invalid { reason },
            }
        }
        Some(WireContent::LocationStop(s)) => match s.target.as_slice().try_into() {
            Ok(target) => Content::LocationStop { target },
            Err(_) => Content::Invalid { reason: "target must be 16 bytes".into() },
        },
        Some(WireContent::Sealed(s)) => {
            sealed_text(s).map_or_else(|reason| Content::Invalid { reason }, Content::Sealed)
        }
        Some(WireContent::SealedEdit(e)) => {
            let target: Result<MessageId, String> =
                e.target.as_slice().try_into().map_err(|_| "target must be 16 bytes".into());
            let sealed = e.sealed.ok_or_else(|| "sealed edit without its text".to_string());
            match (target, sealed.and_then(sealed_text)) {
                (Ok(target), Ok(sealed)) => Content::SealedEdit { target, sealed },
                (Err(reason), _) | (_, Err(reason)) => Content::Invalid { reason },
            }
        }
        Some(WireContent::SealChange(c)) => {
            seal_change(c).map_or_else(|reason| Content::Invalid { reason }, Content::SealChange)
        }
        None => Content::Unknown,
    };
    Ok(ValidatedApp {
        message_id: id(APP, "message_id", &env.message_id)?,
        sender_device: env.sender_device,
        sequence: env.sequence,
        timestamp_ms: env.timestamp_ms,
        reply_to,
        content,
    })
}

/// A sealed text's fields (§7.9): a key id, a nonce, and at most a full
/// text plus its encoding and tag.
fn sealed_text(s: wire::Sealed) -> Result<SealedText, String> {
    let key_id = s.key_id.as_slice().try_into().map_err(|_| "key_id must be 16 bytes")?;
    let nonce = s.nonce.as_slice().try_into().map_err(|_| "nonce must be 24 bytes")?;
    if s.ciphertext.len() < 16 || s.ciphertext.len() > limits::MAX_SEALED_TEXT {
        return Err("sealed text is empty or too long".into());
    }
    Ok(SealedText { key_id, nonce, ciphertext: s.ciphertext })
}

/// The text inside an opened sealed text (§7.9): an encoded `Text` whose
/// body follows the text rules.
pub fn validate_sealed_text(bytes: &[u8]) -> Result<String, DecodeError> {
    let t: wire::Text = decode(bytes)?;
    text("body", t.body, limits::MAX_TEXT)
}

/// A seal change's fields (§7.9). The Argon2id parameters are checked by
/// the device that derives with them.
fn seal_change(c: wire::SealChange) -> Result<SealChange, String> {
    let key_id = c.key_id.as_slice().try_into().map_err(|_| "key_id must be 16 bytes")?;
    let salt = c.salt.as_slice().try_into().map_err(|_| "salt must be 16 bytes")?;
    let previous = match (
        c.previous_key_id.is_empty() && c.previous_nonce.is_empty() && c.previous_key.is_empty(),
        <[u8; 16]>::try_from(c.previous_key_id.as_slice()),
        <[u8; 24]>::try_from(c.previous_nonce.as_slice()),
        <[u8; 48]>::try_from(c.previous_key.as_slice()),
    ) {
        (true, ..) => None,
        (false, Ok(id), Ok(nonce), Ok(key)) => Some((id, nonce, key)),
        _ => return Err("previous key must be 16, 24 and 48 bytes, or absent".into()),
    };
    Ok(SealChange { key_id, salt, params: (c.memory_kib, c.passes, c.lanes), previous })
}

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

const FRIEND: &str = <wire::FriendMessage as Bounded>::NAME;

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
fn mode_from_wire(v: i32) -> Option<ConversationMode> {
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

const META: &str = <wire::GroupMeta as Bounded>::NAME;

fn accounts(field: &str, list: Vec<Vec<u8>>) -> Result<Vec<[u8; 32]>, DecodeError> {
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

const CONTROL: &str = <wire::GroupControl as Bounded>::NAME;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode;
    use proptest::prelude::*;

    fn text_env(body: &str) -> wire::AppEnvelope {
        wire::AppEnvelope {
            version: 1,
            message_id: vec![7; 16],
            sender_device: vec![1; 38],
            sequence: 1,
            timestamp_ms: 1_700_000_000_000,
            reply_to: vec![],
            content: Some(WireContent::Text(wire::Text { body: body.into() })),
        }
    }

    #[test]
    fn text_round_trips() {
        let v = validate_app_envelope(&encode(&text_env("merhaba 👋"))).unwrap();
        assert_eq!(v.content, Content::Text { body: "merhaba 👋".into() });
        assert_eq!(v.reply_to, None);
    }

    #[test]
    fn oversized_text_is_refused() {
        let big = "x".repeat(limits::MAX_TEXT + 1);
        let err = validate_app_envelope(&encode(&text_env(&big))).unwrap_err();
        assert!(matches!(err, DecodeError::Invalid { .. }), "{err}");
    }

    #[test]
    fn file_offers_are_checked_field_by_field() {
        let good = wire::FileRef {
            file_id: vec![1; 16],
            name: "rapor.pdf".into(),
            mime: "application/pdf".into(),
            size: 10,
            sha256: vec![2; 32],
            key: vec![3; 32],
            chunk_size: limits::FILE_CHUNK_SIZE,
            relay: "https://relay.example.org".into(),
            blob_id: vec![4; 16],
            caption: String::new(),
            image: None,
            voice: None,
        };
        let check = |f: wire::FileRef| {
            let mut env = text_env("");
            env.content = Some(WireContent::File(f));
            validate_app_envelope(&crate::encode(&env))
        };
        let v = check(good.clone()).unwrap();
        let Content::File(offer) = v.content else { panic!("not a file") };
        assert_eq!((offer.name.as_str(), offer.size), ("rapor.pdf", 10));
        assert!(!format!("{offer:?}").contains("3, 3, 3"), "the key is never printed");
        let bad: Vec<(&str, wire::FileRef)> = vec![
            ("path", wire::FileRef { name: "../../.bashrc".into(), ..good.clone() }),
            ("dotdot", wire::FileRef { name: "..".into(), ..good.clone() }),
            ("control", wire::FileRef { name: "a\nb".into(), ..good.clone() }),
            ("empty name", wire::FileRef { name: String::new(), ..good.clone() }),
            ("long name", wire::FileRef { name: "x".repeat(256), ..good.clone() }),
            ("short key", wire::FileRef { key: vec![3; 31], ..good.clone() }),
            ("short hash", wire::FileRef { sha256: vec![2; 31], ..good.clone() }),
            ("chunk size", wire::FileRef { chunk_size: 1024, ..good.clone() }),
            ("relay alone", wire::FileRef { blob_id: vec![], ..good.clone() }),
            ("not http", wire::FileRef { relay: "file:///etc".into(), ..good.clone() }),
            ("too big", wire::FileRef { size: limits::MAX_FILE_SIZE + 1, ..good.clone() }),
        ];
        for (what, f) in bad {
            assert!(check(f).is_err(), "{what} was accepted");
        }
    }

    #[test]
    fn image_and_voice_descriptions_are_checked_and_a_bad_one_is_unsupported() {
        let file = |mime: &str, image, voice| wire::FileRef {
            file_id: vec![1; 16],
            name: "a".into(),
            mime: mime.into(),
            size: 10,
            sha256: vec![2; 32],
            key: vec![3; 32],
            chunk_size: limits::FILE_CHUNK_SIZE,
            image,
            voice,
            ..Default::default()
        };
        let content = |f: wire::FileRef| {
            let mut env = text_env("");
            env.content = Some(WireContent::File(f));
            validate_app_envelope(&crate::encode(&env)).map(|v| v.content)
        };
        let img = |width, height, thumbnail: &[u8]| {
            Some(wire::ImageInfo { width, height, thumbnail: thumbnail.to_vec() })
        };
        let jpeg = [0xff, 0xd8, 0xff, 0xe0, 0, 0x10];
        let Ok(Content::File(offer)) = content(file("image/jpeg", img(640, 480, &jpeg), None))
        else {
            panic!("a good image was refused")
        };
        assert_eq!(offer.media, Media::Image { width: 640, height: 480, thumbnail: jpeg.to_vec() });
        let voice =
            |duration_ms, waveform: Vec<u8>| Some(wire::VoiceInfo { duration_ms, waveform });
        let Ok(Content::File(offer)) = content(file("audio/ogg", None, voice(1500, vec![9; 128])))
        else {
            panic!("a good voice note was refused")
        };
        assert!(matches!(offer.media, Media::Voice { duration_ms: 1500, .. }));
        let unsupported = [
            ("zero width", file("image/png", img(0, 1, &[]), None)),
            ("huge", file("image/png", img(16_385, 1, &[]), None)),
            ("not an image type", file("text/html", img(1, 1, &[]), None)),
            ("thumbnail not jpeg", file("image/png", img(1, 1, b"<svg>"), None)),
            ("thumbnail too big", file("image/png", img(1, 1, &[0xff; 16 * 1024 + 1]), None)),
            ("both", file("audio/ogg", img(1, 1, &[]), voice(1, vec![]))),
            ("voice type", file("audio/mpeg", None, voice(1, vec![]))),
            ("silent", file("audio/ogg", None, voice(0, vec![]))),
            ("too long", file("audio/ogg", None, voice(3_600_001, vec![]))),
            ("wide waveform", file("audio/ogg", None, voice(1, vec![0; 129]))),
        ];
        for (what, f) in unsupported {
            assert!(
                matches!(content(f), Ok(Content::Invalid { .. })),
                "{what} was not unsupported"
            );
        }
        // A bad file under a good description is still refused as a whole.
        let mut f = file("image/png", img(1, 1, &[]), None);
        f.name = "../x".into();
        assert!(content(f).is_err());
    }

    #[test]
    fn unknown_content_is_kept_as_unknown() {
        // Field 99 is not in the schema: a newer sender's content type.
        let mut env = text_env("");
        env.content = None;
        let mut bytes = encode(&env);
        bytes.extend_from_slice(&[0x9a, 0x06, 0x02, 0x08, 0x01]); // field 99, LEN 2
        let v = validate_app_envelope(&bytes).unwrap();
        assert_eq!(v.content, Content::Unknown);
    }

    #[test]
    fn wrong_version_and_bad_ids_are_refused() {
        let mut env = text_env("a");
        env.version = 2;
        assert!(matches!(
            validate_app_envelope(&encode(&env)),
            Err(DecodeError::UnsupportedVersion { version: 2, .. })
        ));
        let mut env = text_env("a");
        env.message_id = vec![1; 15];
        assert!(matches!(validate_app_envelope(&encode(&env)), Err(DecodeError::Invalid { .. })));
    }

    #[test]
    fn too_large_input_is_refused_before_parsing() {
        let bytes = vec![0u8; limits::MAX_APP_ENVELOPE + 1];
        assert!(matches!(validate_app_envelope(&bytes), Err(DecodeError::TooLarge { .. })));
    }

    fn all_decoders(bytes: &[u8]) {
        let _ = decode::<wire::Signed>(bytes);
        let _ = decode::<wire::DeviceCertificateTbs>(bytes);
        let _ = decode::<wire::KeystoreSecrets>(bytes);
        let _ = decode::<wire::SealedEnvelope>(bytes);
        let _ = decode::<wire::SealedContent>(bytes);
        let _ = decode::<wire::DirectDelivery>(bytes);
        let _ = decode::<wire::DirectAck>(bytes);
        let _ = validate_app_envelope(bytes);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn decoders_never_panic_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            all_decoders(&bytes);
        }

        #[test]
        fn decoders_never_panic_on_truncated_or_mutated_messages(
            body in ".{0,64}", cut in 0usize..200, flip in 0usize..200, bit in 0u8..8
        ) {
            let mut bytes = encode(&text_env(&body));
            if !bytes.is_empty() {
                let i = flip % bytes.len();
                bytes[i] ^= 1 << bit;
            }
            bytes.truncate(cut.min(bytes.len()));
            all_decoders(&bytes);
        }
    }

    #[test]
    fn friend_messages_are_validated() {
        let req = |kp: Vec<u8>, acct: Vec<u8>, note: &str| wire::FriendMessage {
            version: 1,
            request_id: vec![3; 16],
            body: Some(wire::friend_message::Body::Request(wire::FriendRequest {
                key_package: kp,
                display_name: "Ayşe".into(),
                note: note.into(),
                recipient_account: acct,
                username: String::new(),
                invite: Vec::new(),
            })),
        };
        let ok = validate_friend_message(&encode(&req(vec![1; 300], vec![9; 32], "hi"))).unwrap();
        assert!(matches!(ok.body, FriendBody::Request { ref note, .. } if note == "hi"));
        let named = |name: &str| {
            let mut m = req(vec![1; 10], vec![9; 32], "");
            if let Some(wire::friend_message::Body::Request(r)) = &mut m.body {
                r.username = name.into();
            }
            validate_friend_message(&encode(&m))
        };
        assert!(
            matches!(named("ayse.k").unwrap().body, FriendBody::Request { ref username, .. } if username == "ayse.k")
        );
        for bad in ["Ayse", "ay", "ayşe", &"a".repeat(33)] {
            assert!(named(bad).is_err(), "{bad:?}");
        }
        let invited = |token: Vec<u8>| {
            let mut m = req(vec![1; 10], vec![9; 32], "");
            if let Some(wire::friend_message::Body::Request(r)) = &mut m.body {
                r.invite = token;
            }
            validate_friend_message(&encode(&m))
        };
        assert!(
            matches!(invited(vec![7; 16]).unwrap().body, FriendBody::Request { invite: Some(t), .. } if t == [7; 16])
        );
        assert!(invited(vec![7; 15]).is_err() && invited(vec![7; 17]).is_err());
        assert!(validate_friend_message(&encode(&req(vec![], vec![9; 32], ""))).is_err());
        assert!(validate_friend_message(&encode(&req(vec![1; 10], vec![9; 31], ""))).is_err());
        let long = "n".repeat(limits::MAX_FRIEND_NOTE + 1);
        assert!(validate_friend_message(&encode(&req(vec![1; 10], vec![9; 32], &long))).is_err());
        let mut empty = req(vec![1], vec![9; 32], "");
        empty.body = None;
        assert!(validate_friend_message(&encode(&empty)).is_err());
        empty.version = 2;
        assert!(matches!(
            validate_friend_message(&encode(&empty)),
            Err(DecodeError::UnsupportedVersion { .. })
        ));
    }

    proptest! {
        #[test]
        fn friend_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = validate_friend_message(&bytes);
        }
    }

    #[test]
    fn poll_rules_make_content_invalid_not_the_message() {
        use wire::app_envelope::Content as C;
        let env = |content| {
            let mut e = text_env("x");
            e.content = Some(content);
            encode(&e)
        };
        let invalid =
            |c| matches!(validate_app_envelope(&env(c)).unwrap().content, Content::Invalid { .. });
        let poll = |options: &[&str]| wire::Poll {
            question: "q".into(),
            options: options.iter().map(|o| o.to_string()).collect(),
            multiple: false,
        };
        assert!(!invalid(C::Poll(poll(&["a", "b"]))));
        assert!(invalid(C::Poll(poll(&["a"]))));
        assert!(invalid(C::Poll(poll(&["a", "a"]))));
        assert!(invalid(C::Poll(poll(&["a", " "]))));
        assert!(invalid(C::Poll(poll(&["a"; 13]))));
        let vote = |choices: Vec<u32>| C::Vote(wire::Vote { poll: vec![7; 16], choices });
        assert!(!invalid(vote(vec![0, 3])));
        assert!(!invalid(vote(vec![])));
        assert!(invalid(vote(vec![3, 0])));
        assert!(invalid(vote(vec![1, 1])));
        assert!(invalid(vote(vec![12])));
        assert!(invalid(C::Vote(wire::Vote { poll: vec![7; 15], choices: vec![0] })));
        let ballot = |a: u8, c: Vec<u32>| wire::PollBallot { account: vec![a; 32], choices: c };
        let close = |ballots| C::PollClose(wire::PollClose { poll: vec![7; 16], ballots });
        assert!(!invalid(close(vec![ballot(1, vec![0]), ballot(2, vec![1])])));
        assert!(invalid(close(vec![ballot(2, vec![0]), ballot(1, vec![1])])), "order");
        assert!(invalid(close(vec![ballot(1, vec![0]), ballot(1, vec![1])])), "twice");
        assert!(invalid(close(vec![ballot(1, vec![])])), "empty ballot");
    }
}
