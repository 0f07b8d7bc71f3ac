//! Structural validation that the protobuf schema cannot express: exact id
//! lengths, string sizes, list counts, versions. Decoding plus validation is
//! what a receiver does with every application envelope.

use crate::wire::{self, app_envelope::Content as WireContent};
use crate::{Bounded, DecodeError, decode, limits};

mod calls;
mod communities;
mod conditional;
mod files;
mod friends;
mod groups;
mod places;
mod polls;
mod seal;
mod spread;
mod trustee;

pub use calls::*;
pub use communities::*;
pub use conditional::*;
pub use files::*;
pub use friends::*;
pub use groups::*;
pub use places::*;
pub use polls::*;
pub use seal::*;
pub use spread::*;
pub use trustee::*;

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
        /// A verifiable poll's ballot signature (§6.4.1).
        signature: Option<[u8; 64]>,
        /// A sealed poll's commitment, with no choices (§6.4.3).
        commitment: Option<[u8; 32]>,
    },
    /// The creator closes a poll with the ballots it counted.
    PollClose {
        /// The poll's message id.
        poll: MessageId,
        /// One ballot per account, accounts strictly increasing.
        ballots: Vec<([u8; 32], Vec<u32>)>,
        /// A verifiable poll's: one signature per ballot; empty otherwise.
        signatures: Vec<[u8; 64]>,
        /// A sealed poll's: one commitment per ballot, whose choices are
        /// then empty (§6.4.3); empty otherwise.
        commitments: Vec<[u8; 32]>,
        /// A verifiable poll's void ballots (double votes), in order.
        void: Vec<SignedBallot>,
        /// An anonymous poll's counted ballots by key image, increasing
        /// (§6.4.2); `ballots` and `void` are then empty.
        anonymous: Vec<([u8; 32], Vec<u32>)>,
        /// An anonymous poll's double voters, by key image.
        void_images: Vec<[u8; 32]>,
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
    /// The sender is typing (`true`) or stopped (§6.8); never stored.
    Typing {
        /// Typing now.
        active: bool,
    },
    /// A call's offer, answer, candidate or end (§6.9); never stored.
    Call(CallSignal),
    /// A conditional message, still sealed (§6.10).
    Conditional(ConditionalSpec),
    /// The sender of a conditional message is still there (§6.10.4).
    CheckIn {
        /// The conditional message.
        target: MessageId,
    },
    /// A holder releases its share of a members lock (§6.10.3).
    ShareRelease {
        /// The conditional message.
        target: MessageId,
        /// x ‖ y.
        share: [u8; conditional::SHARE_LEN],
    },
    /// A spreading message passed in a 1:1 conversation (§6.11); its
    /// signature and hop chain are checked by `kovan-crypto`.
    Spread(Box<SpreadSpec>),
    /// Its author takes a spreading message back (§6.11).
    SpreadRetract(SpreadRetractSpec),
    /// The sender passes spreading messages on, or stopped (§6.11).
    SpreadOptIn {
        /// Opted in.
        enabled: bool,
    },
    /// A voter opens its sealed ballot after the close (§6.4.3).
    BallotReveal(Reveal),
    /// An account registers its ballot key for an anonymous poll (§6.4.2);
    /// the account is the MLS sender's.
    BallotKey {
        /// The poll's message id.
        poll: MessageId,
        /// The ballot key.
        key: [u8; 32],
        /// The account's signature.
        signature: [u8; 64],
    },
    /// A member says which ring of an anonymous poll it holds (§6.4.2).
    RingSeen {
        /// The poll's message id.
        poll: MessageId,
        /// The ring's digest.
        ring: [u8; 32],
    },
    /// The creator fixes an anonymous poll's ring (§6.4.2).
    PollRing {
        /// The poll's message id.
        poll: MessageId,
        /// The registrations, keys increasing.
        members: Vec<Registration>,
    },
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
        Some(WireContent::Typing(t)) => {
            if reply_to.is_some() {
                Content::Invalid { reason: "a typing signal replies to nothing".into() }
            } else {
                Content::Typing { active: t.active }
            }
        }
        Some(WireContent::Call(c)) => calls::call_signal(c, reply_to.is_some())
            .map_or_else(|reason| Content::Invalid { reason }, Content::Call),
        Some(WireContent::Conditional(c)) => {
            conditional(c).map_or_else(|reason| Content::Invalid { reason }, Content::Conditional)
        }
        Some(WireContent::CheckIn(c)) => match <MessageId>::try_from(c.target.as_slice()) {
            Ok(target) => Content::CheckIn { target },
            Err(_) => Content::Invalid { reason: "target must be 16 bytes".into() },
        },
        Some(WireContent::ShareRelease(r)) => match conditional::share_release(r) {
            Ok((target, share)) => Content::ShareRelease { target, share },
            Err(reason) => Content::Invalid { reason },
        },
        // Spreads travel on their own: they reply to nothing.
        Some(
            WireContent::Spread(_) | WireContent::SpreadRetract(_) | WireContent::SpreadOptIn(_),
        ) if reply_to.is_some() => {
            Content::Invalid { reason: "a spreading message replies to nothing".into() }
        }
        Some(WireContent::Spread(s)) => spread(s)
            .map_or_else(|reason| Content::Invalid { reason }, |s| Content::Spread(Box::new(s))),
        Some(WireContent::SpreadRetract(r)) => spread_retract(r)
            .map_or_else(|reason| Content::Invalid { reason }, Content::SpreadRetract),
        Some(WireContent::SpreadOptIn(o)) => Content::SpreadOptIn { enabled: o.enabled },
        Some(WireContent::BallotReveal(r)) => {
            ballot_reveal(r).unwrap_or_else(|reason| Content::Invalid { reason })
        }
        Some(WireContent::BallotKey(k)) => {
            ballot_key(k).unwrap_or_else(|reason| Content::Invalid { reason })
        }
        Some(WireContent::PollRing(r)) => {
            poll_ring(r).unwrap_or_else(|reason| Content::Invalid { reason })
        }
        Some(WireContent::RingSeen(r)) => {
            ring_seen(r).unwrap_or_else(|reason| Content::Invalid { reason })
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
    fn a_conditional_file_says_nothing_but_its_size_and_its_body_must_fit_it() {
        let sealed = |name: &str, size: u64| wire::FileRef {
            file_id: vec![1; 16],
            name: name.into(),
            mime: SEALED_FILE_MIME.into(),
            size,
            sha256: vec![2; 32],
            key: vec![3; 32],
            chunk_size: limits::FILE_CHUNK_SIZE,
            ..Default::default()
        };
        let message = |file: Option<wire::FileRef>| {
            conditional(wire::Conditional {
                conditions: vec![wire::Condition {
                    kind: Some(wire::condition::Kind::Area(wire::AreaLock {
                        lat_e7: 0,
                        lon_e7: 0,
                        radius_m: 100,
                        key_part: vec![4; 32],
                    })),
                }],
                nonce: vec![5; 24],
                ciphertext: vec![6; 40],
                hint: String::new(),
                file,
            })
        };
        let size = 70_000u64;
        assert_eq!(sealed_file_len(size), size + 32, "two chunks");
        assert_eq!(sealed_file_len(0), 16, "an empty file is one chunk");
        let spec = message(Some(sealed(SEALED_FILE_NAME, size + 32))).unwrap();
        assert!(message(Some(sealed("vasiyet.pdf", size + 32))).is_err(), "a name in the clear");
        let mut captioned = sealed(SEALED_FILE_NAME, size + 32);
        captioned.caption = "ek".into();
        assert!(message(Some(captioned)).is_err(), "a caption in the clear");
        let body = |text: &str, size: Option<u64>| {
            encode(&wire::ConditionalBody {
                text: text.into(),
                file: size.map(|size| wire::SealedFileKey {
                    key: vec![7; 32],
                    name: "vasiyet.pdf".into(),
                    mime: "application/pdf".into(),
                    size,
                    sha256: vec![8; 32],
                }),
            })
        };
        let offer = spec.file.as_ref();
        let opened = conditional_body(&body("", Some(size)), offer).unwrap();
        assert_eq!(opened.file.map(|f| (f.name, f.size)), Some(("vasiyet.pdf".into(), size)));
        assert!(conditional_body(&body("", Some(size + 1)), offer).is_err(), "another size");
        assert!(conditional_body(&body("x", None), offer).is_err(), "the file is missing");
        assert!(conditional_body(&body("x", Some(size)), None).is_err(), "a file not announced");
        assert!(conditional_body(&body("", None), None).is_err(), "no text and no file");
        assert_eq!(conditional_body(&body("metin", None), None).unwrap().text, "metin");
    }

    #[test]
    fn spread_contents_are_checked_and_reply_to_nothing() {
        use wire::app_envelope::Content as C;
        let core = encode(&wire::SpreadCore {
            id: vec![1; 16],
            author: vec![2; 32],
            text: "yayılsın".into(),
            hop_limit: 3,
            hop_anchor: vec![3; 32],
            created_ms: 5,
        });
        let spread = |hop: u32, core: Vec<u8>| {
            C::Spread(wire::Spread { core, signature: vec![4; 64], hop, hop_token: vec![5; 32] })
        };
        let content = |c, reply: bool| {
            let mut e = text_env("x");
            e.content = Some(c);
            if reply {
                e.reply_to = vec![9; 16];
            }
            validate_app_envelope(&encode(&e)).unwrap().content
        };
        assert!(
            matches!(content(spread(3, core.clone()), false), Content::Spread(s) if s.hop == 3)
        );
        assert!(matches!(content(spread(4, core.clone()), false), Content::Invalid { .. }));
        assert!(matches!(content(spread(0, core.clone()), false), Content::Invalid { .. }));
        assert!(matches!(content(spread(1, vec![0xff; 8]), false), Content::Invalid { .. }));
        assert!(matches!(content(spread(1, core), true), Content::Invalid { .. }));
        let retract = |id: usize| {
            C::SpreadRetract(wire::SpreadRetract {
                id: vec![1; id],
                author: vec![2; 32],
                retracted_ms: 6,
                signature: vec![4; 64],
            })
        };
        assert!(matches!(content(retract(16), false), Content::SpreadRetract(_)));
        assert!(matches!(content(retract(15), false), Content::Invalid { .. }));
        let opt_in = C::SpreadOptIn(wire::SpreadOptIn { enabled: true });
        assert!(matches!(content(opt_in.clone(), false), Content::SpreadOptIn { enabled: true }));
        assert!(matches!(content(opt_in, true), Content::Invalid { .. }));
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
            ..Default::default()
        };
        assert!(!invalid(C::Poll(poll(&["a", "b"]))));
        let checked = |voters: Vec<Vec<u8>>, nonce: usize| {
            let mut p = poll(&["a", "b"]);
            p.verifiable = Some(wire::VerifiablePoll {
                epoch: 3,
                nonce: vec![1; nonce],
                voters,
                binding: vec![2; 32],
                sealed: false,
                anonymous: false,
            });
            C::Poll(p)
        };
        assert!(!invalid(checked(vec![vec![1; 32], vec![2; 32]], 16)));
        assert!(invalid(checked(vec![vec![2; 32], vec![1; 32]], 16)), "voter order");
        assert!(invalid(checked(vec![vec![1; 32], vec![1; 32]], 16)), "a voter twice");
        assert!(invalid(checked(vec![], 16)), "nobody may vote");
        assert!(invalid(checked(vec![vec![1; 31]], 16)), "short account");
        assert!(invalid(checked(vec![vec![1; 32]], 15)), "short nonce");
        assert!(invalid(C::Poll(poll(&["a"]))));
        assert!(invalid(C::Poll(poll(&["a", "a"]))));
        assert!(invalid(C::Poll(poll(&["a", " "]))));
        assert!(invalid(C::Poll(poll(&["a"; 13]))));
        let vote = |choices: Vec<u32>| {
            C::Vote(wire::Vote { poll: vec![7; 16], choices, ..Default::default() })
        };
        let signed = |choices: Vec<u32>, len: usize| {
            C::Vote(wire::Vote {
                poll: vec![7; 16],
                choices,
                signature: vec![5; len],
                ..Default::default()
            })
        };
        let sealed = |choices: Vec<u32>, signature: usize, commitment: usize| {
            C::Vote(wire::Vote {
                poll: vec![7; 16],
                choices,
                signature: vec![5; signature],
                commitment: vec![6; commitment],
            })
        };
        assert!(!invalid(sealed(vec![], 64, 32)), "a sealed ballot");
        assert!(invalid(sealed(vec![1], 64, 32)), "a sealed ballot's choices in the clear");
        assert!(invalid(sealed(vec![], 0, 32)), "an unsigned sealed ballot");
        assert!(invalid(sealed(vec![], 64, 31)), "a short commitment");
        let reveal = |choices: Vec<u32>, opening: usize| {
            C::BallotReveal(wire::BallotReveal {
                poll: vec![7; 16],
                choices,
                opening: vec![8; opening],
            })
        };
        assert!(!invalid(reveal(vec![1], 32)));
        assert!(invalid(reveal(vec![], 32)), "a reveal chooses something");
        assert!(invalid(reveal(vec![1], 16)), "a short opening");
        assert!(!invalid(signed(vec![1], 64)));
        assert!(invalid(signed(vec![1], 63)), "short signature");
        assert!(invalid(signed(vec![], 64)), "a signed ballot withdraws nothing");
        assert!(!invalid(vote(vec![0, 3])));
        assert!(!invalid(vote(vec![])));
        assert!(invalid(vote(vec![3, 0])));
        assert!(invalid(vote(vec![1, 1])));
        assert!(invalid(vote(vec![12])));
        assert!(invalid(C::Vote(wire::Vote {
            poll: vec![7; 15],
            choices: vec![0],
            ..Default::default()
        })));
        let ballot = |a: u8, c: Vec<u32>| wire::PollBallot {
            account: vec![a; 32],
            choices: c,
            ..Default::default()
        };
        let close = |ballots| {
            C::PollClose(wire::PollClose { poll: vec![7; 16], ballots, ..Default::default() })
        };
        let sig = |mut b: wire::PollBallot| {
            b.signature = vec![9; 64];
            b
        };
        assert!(!invalid(close(vec![sig(ballot(1, vec![0])), sig(ballot(2, vec![1]))])));
        assert!(invalid(close(vec![sig(ballot(1, vec![0])), ballot(2, vec![1])])), "half signed");
        let voided =
            |void| C::PollClose(wire::PollClose { poll: vec![7; 16], void, ..Default::default() });
        assert!(!invalid(voided(vec![sig(ballot(1, vec![0])), sig(ballot(1, vec![1]))])));
        assert!(invalid(voided(vec![ballot(1, vec![0])])), "an unsigned void ballot");
        assert!(invalid(voided(vec![sig(ballot(1, vec![1])), sig(ballot(1, vec![0]))])), "order");
        assert!(!invalid(close(vec![ballot(1, vec![0]), ballot(2, vec![1])])));
        assert!(invalid(close(vec![ballot(2, vec![0]), ballot(1, vec![1])])), "order");
        assert!(invalid(close(vec![ballot(1, vec![0]), ballot(1, vec![1])])), "twice");
        assert!(invalid(close(vec![ballot(1, vec![])])), "empty ballot");
    }

    #[test]
    fn anonymous_polls_registrations_rings_and_closes_keep_their_shapes() {
        use wire::app_envelope::Content as C;
        let content = |c| {
            let mut e = text_env("x");
            e.content = Some(c);
            validate_app_envelope(&encode(&e)).unwrap().content
        };
        let invalid = |c| matches!(content(c), Content::Invalid { .. });
        let both = wire::Poll {
            question: "?".into(),
            options: vec!["a".into(), "b".into()],
            verifiable: Some(wire::VerifiablePoll {
                nonce: vec![1; 16],
                voters: vec![vec![1; 32]],
                binding: vec![2; 32],
                sealed: true,
                anonymous: true,
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(invalid(C::Poll(both)), "sealed and anonymous at once");
        let key = |poll: usize, account: usize| wire::BallotKey {
            poll: vec![7; poll],
            key: vec![3; 32],
            signature: vec![4; 64],
            account: vec![5; account],
        };
        assert!(matches!(content(C::BallotKey(key(16, 0))), Content::BallotKey { .. }));
        assert!(invalid(C::BallotKey(key(16, 32))), "names an account");
        assert!(invalid(C::BallotKey(key(15, 0))));
        let member = |account: u8, k: u8| wire::BallotKey {
            key: vec![k; 32],
            signature: vec![4; 64],
            account: vec![account; 32],
            ..Default::default()
        };
        let ring = |keys| C::PollRing(wire::PollRing { poll: vec![7; 16], keys });
        assert!(matches!(
            content(ring(vec![member(1, 1), member(2, 2), member(3, 3)])),
            Content::PollRing { members, .. } if members.len() == 3
        ));
        assert!(invalid(ring(vec![member(1, 1), member(2, 2)])), "a ring of two");
        assert!(invalid(ring(vec![member(1, 2), member(2, 1), member(3, 3)])), "out of order");
        assert!(invalid(ring(vec![member(1, 1), member(1, 2), member(3, 3)])), "an account twice");
        let mut named = member(2, 2);
        named.poll = vec![7; 16];
        assert!(invalid(ring(vec![member(1, 1), named, member(3, 3)])), "a member names a poll");
        let seen = |digest: usize| {
            C::RingSeen(wire::RingSeen { poll: vec![7; 16], ring: vec![8; digest] })
        };
        assert!(matches!(content(seen(32)), Content::RingSeen { ring, .. } if ring == [8; 32]));
        assert!(invalid(seen(31)));
        let count =
            |image: u8, choices: Vec<u32>| wire::RingCount { key_image: vec![image; 32], choices };
        let close = |anonymous, void_images| {
            C::PollClose(wire::PollClose {
                poll: vec![7; 16],
                anonymous,
                void_images,
                ..Default::default()
            })
        };
        assert!(!invalid(close(vec![count(1, vec![0]), count(2, vec![1])], vec![vec![3; 32]])));
        assert!(invalid(close(vec![count(2, vec![0]), count(1, vec![1])], vec![])), "order");
        assert!(invalid(close(vec![count(1, vec![])], vec![])), "an empty ballot");
        assert!(invalid(close(vec![], vec![vec![3; 31]])), "a short key image");
        let mixed = wire::PollClose {
            poll: vec![7; 16],
            ballots: vec![wire::PollBallot {
                account: vec![1; 32],
                choices: vec![0],
                ..Default::default()
            }],
            anonymous: vec![count(1, vec![0])],
            ..Default::default()
        };
        assert!(invalid(C::PollClose(mixed)), "accounts and key images in one close");
    }

    #[test]
    fn an_anonymous_ballot_payload_is_bounded_and_checked() {
        let ballot = |responses: usize, image: usize| {
            encode(&wire::AnonymousBallot {
                group_id: vec![1; 16],
                ballot: Some(wire::RingBallot {
                    poll: vec![2; 16],
                    choices: vec![1],
                    challenge: vec![3; 32],
                    responses: vec![vec![4; 32]; responses],
                    key_image: vec![5; image],
                }),
            })
        };
        let ok = validate_anonymous_ballot(&ballot(3, 32)).unwrap();
        assert_eq!((ok.responses.len(), ok.poll), (3, [2; 16]));
        assert!(validate_anonymous_ballot(&ballot(0, 32)).is_err(), "no responses");
        assert!(validate_anonymous_ballot(&ballot(3, 31)).is_err(), "a short key image");
        assert!(validate_anonymous_ballot(&ballot(1025, 32)).is_err(), "a ring over 1,024");
        assert!(validate_anonymous_ballot(&[0xff; 40]).is_err(), "not protobuf");
        let none = encode(&wire::AnonymousBallot { group_id: vec![1; 16], ballot: None });
        assert!(validate_anonymous_ballot(&none).is_err());
    }
}
