//! Size limits of the wire formats (SPEC.md §8). Every decoder checks the
//! limit of its message before parsing.

/// Largest MLS message (commit or Welcome) a sealed envelope may carry.
/// A Welcome carries the ratchet tree: about 200 bytes per member, so 8 MiB
/// fits groups of roughly 40,000 members. Files never travel in envelopes
/// (they use the blob path), so nothing legitimate is larger.
pub const MAX_PAYLOAD: usize = 8 * 1024 * 1024;

/// A device certificate: five 32-byte keys, two timestamps, a 64-byte name
/// and field tags come to under 300 bytes; 1 KiB leaves room for future fields.
pub const MAX_DEVICE_CERTIFICATE: usize = 1024;

/// A `Signed` wraps one certificate-sized or request-sized message.
pub const MAX_SIGNED: usize = 64 * 1024;

/// An avatar image on the relay (SPEC.md §9.1): a client reads no more.
pub const MAX_AVATAR_BYTES: usize = 256 * 1024;

/// A relay username: 3 to 32 of `a-z`, `0-9`, `_`, `.` (SPEC.md §9.2).
pub const MAX_USERNAME: usize = 32;
/// The shortest relay password (SPEC.md §9.2): the relay refuses shorter.
pub const MIN_PASSWORD: usize = 8;
/// The longest relay password, bytes (bounds the Argon2 input).
pub const MAX_PASSWORD: usize = 1024;

/// The largest device name, in bytes of UTF-8.
pub const MAX_DEVICE_NAME: usize = 64;

/// Keystore plaintext: five secrets and a certificate.
pub const MAX_KEYSTORE_SECRETS: usize = 4 * 1024;

/// Sealed content: the payload plus a certificate, a signature and ids.
pub const MAX_SEALED_CONTENT: usize = MAX_PAYLOAD + 4 * 1024;

/// A sealed envelope: padded sealed content (Padmé adds at most 12 %, SPEC.md
/// §5.4) plus the AEAD tag and framing.
pub const MAX_SEALED_ENVELOPE: usize = MAX_SEALED_CONTENT + MAX_SEALED_CONTENT / 8 + 1024;

/// The plaintext of one MLS application message. Text is at most 64 KiB;
/// receipts at most 256 ids; 80 KiB leaves room for headers.
pub const MAX_APP_ENVELOPE: usize = 80 * 1024;

/// Largest text body, in bytes of UTF-8.
pub const MAX_TEXT: usize = 64 * 1024;
/// Largest sealed text ciphertext (§7.9): a full text, its encoding (a tag
/// byte and a length of at most 3 bytes) and the 16-byte AEAD tag.
pub const MAX_SEALED_TEXT: usize = MAX_TEXT + 4 + 16;
/// Largest `ConditionalBody` (§6.10.5): a full text and a file's key,
/// name, type, size and hash with their encoding.
pub const MAX_CONDITIONAL_BODY: usize = MAX_TEXT + 4 + 512;

/// Largest reaction emoji, in bytes of UTF-8 (long ZWJ sequences fit).
pub const MAX_EMOJI: usize = 64;

/// Largest number of message ids in one receipt.
pub const MAX_RECEIPT_TARGETS: usize = 256;

/// Length of message ids and envelope ids.
pub const ID_LEN: usize = 16;

/// Largest libp2p PeerId in bytes (an identity multihash of an Ed25519 key is 38).
pub const MAX_PEER_ID: usize = 64;

/// Envelopes in one direct-delivery request.
pub const MAX_DIRECT_BATCH: usize = 64;

/// A direct-delivery request: at most one largest envelope's worth of bytes
/// in all (a batch of small ones, or one large one), plus framing.
pub const MAX_DIRECT_DELIVERY: usize = MAX_SEALED_ENVELOPE + 16 * MAX_DIRECT_BATCH;

/// A direct-delivery acknowledgement: one status per envelope (packed, one
/// byte each) plus framing.
pub const MAX_DIRECT_ACK: usize = MAX_DIRECT_BATCH + 16;

/// An encoded `FriendMessage`: a KeyPackage (a few hundred bytes; 16 KiB
/// leaves room for extensions) plus names and a note.
pub const MAX_FRIEND_MESSAGE: usize = 20 * 1024;

/// A KeyPackage inside a friend request.
pub const MAX_KEY_PACKAGE: usize = 16 * 1024;

/// The note in a friend request, bytes.
pub const MAX_FRIEND_NOTE: usize = 512;

/// A display name, bytes.
pub const MAX_DISPLAY_NAME: usize = 64;

/// The reason in a `FriendJoinFailed`, bytes: a sentence for a person or a
/// log, not a document.
pub const MAX_JOIN_FAILED_REASON: usize = 256;

/// An encoded `CardRequest` (empty).
pub const MAX_CARD_REQUEST: usize = 16;

/// An encoded `ContactCard`: a certificate and a name.
pub const MAX_CONTACT_CARD: usize = 2 * 1024;

/// A group's name (§7.6.1): UTF-8 bytes.
pub const MAX_GROUP_NAME: usize = 128;

/// A group's description (§7.6.1): UTF-8 bytes.
pub const MAX_GROUP_DESCRIPTION: usize = 1024;

/// Admins, and banned accounts, listed in a group's meta (§7.6.1): each.
pub const MAX_GROUP_ACCOUNTS: usize = 1024;

/// An encoded `GroupMeta`: name, description and two lists of 32-byte keys
/// with their framing.
pub const MAX_GROUP_META: usize = 2 * MAX_GROUP_ACCOUNTS * 34 + 2 * 1024;

/// An MLS group id (§7.6): kovan makes 16 random bytes; up to 64 accepted.
pub const MAX_GROUP_ID: usize = 64;

/// An encoded `GroupControl` (§7.6.2): at most a KeyPackage and a name.
pub const MAX_GROUP_CONTROL: usize = 20 * 1024;

/// A file's name (§7.7.1): UTF-8 bytes.
pub const MAX_FILE_NAME: usize = 255;

/// A file's media type: UTF-8 bytes.
pub const MAX_FILE_MIME: usize = 127;

/// A file's caption: UTF-8 bytes.
pub const MAX_FILE_CAPTION: usize = 4 * 1024;

/// A poll's question (§6.4): UTF-8 bytes.
pub const MAX_POLL_QUESTION: usize = 1024;

/// A poll's options: at least 2, at most this many.
pub const MAX_POLL_OPTIONS: usize = 12;

/// One poll option: UTF-8 bytes.
pub const MAX_POLL_OPTION: usize = 256;

/// Ballots listed when a poll is closed (one per voting account).
pub const MAX_POLL_BALLOTS: usize = 10_000;

/// Conditions of one conditional message (§6.10): a password, an area,
/// members who agree and relays that keep shares.
pub const MAX_CONDITIONS: usize = 4;
/// Relays of a relay lock (§6.10.6).
pub const MAX_TRUSTEES: usize = 8;
/// A trustee relay's base URL, bytes.
pub const MAX_TRUSTEE_URL: usize = 256;
/// Deposits one check-in or cancellation names (§6.10.6).
pub const MAX_TRUSTEE_IDS: usize = 64;
/// An encoded `TrusteeRequest`: 64 ids of 16 bytes and framing.
pub const MAX_TRUSTEE_REQUEST: usize = 64 * 18 + 128;
/// How far a trustee request's time may be from the relay's clock, ms.
pub const TRUSTEE_WINDOW_MS: u64 = 5 * 60_000;
/// How far ahead a deposit's release time may be, ms (10 years).
pub const TRUSTEE_MAX_AHEAD_MS: u64 = 3_653 * 86_400_000;
/// How long a relay keeps a due share, or a cancelled deposit's id, ms.
pub const TRUSTEE_KEEP_MS: u64 = 30 * 86_400_000;
/// Deposits not yet due one owner may leave with one relay.
pub const MAX_TRUSTEE_DEPOSITS: i64 = 1_000;
/// A conditional message's hint, shown while it is sealed.
pub const MAX_CONDITIONAL_HINT: usize = 256;
/// Holders of a members lock (§6.10.3).
pub const MAX_SHARE_HOLDERS: usize = 16;
/// Devices a holder's share is sealed to (§6.10.3).
pub const MAX_SHARE_DEVICES: usize = 8;
/// The latest time a message may name (ms since the Unix epoch): the end
/// of the year 9999.
pub const MAX_TIME_MS: u64 = 253_402_300_799_999;
/// A spreading message's text, bytes of UTF-8 (§6.11).
pub const MAX_SPREAD_TEXT: usize = 4096;
/// A spreading message's hop limit (§6.11).
pub const MAX_SPREAD_HOPS: usize = 8;
/// An encoded `SpreadCore`: the text and 128 bytes of fields and framing.
pub const MAX_SPREAD_CORE: usize = MAX_SPREAD_TEXT + 128;
/// An encoded `Spread`: its core, signature, hop and token.
pub const MAX_SPREAD: usize = MAX_SPREAD_CORE + 128;
/// An encoded `SpreadRetract`.
pub const MAX_SPREAD_RETRACT: usize = 160;
/// A dead man's switch's silence, milliseconds (§6.10.4): an hour to 366
/// days.
pub const MIN_SILENCE_MS: u64 = 3_600_000;
/// See [`MIN_SILENCE_MS`].
pub const MAX_SILENCE_MS: u64 = 366 * 86_400_000;
/// An area condition's radius, metres.
pub const MIN_AREA_RADIUS_M: u32 = 10;
/// See [`MIN_AREA_RADIUS_M`].
pub const MAX_AREA_RADIUS_M: u32 = 100_000;

/// Voters of a verifiable poll (§6.4.1): its close lists up to two signed
/// ballots per voter (≤ 120 bytes each), which must fit one
/// [`MAX_APP_ENVELOPE`].
pub const MAX_POLL_VOTERS: usize = 300;

/// Fewest registrations in an anonymous poll's ring (§6.4.2): with two,
/// each voter would know the other's choice from the tally.
pub const MIN_RING: usize = 3;

/// Keys in an anonymous poll's ring (§6.4.2): more than a poll has voters
/// today, so a ring ballot's size stays bounded if the voter limit grows.
pub const MAX_RING: usize = 1024;

/// An `AnonymousBallot` (§6.4.2): one 32-byte response per ring key with
/// its framing (34 bytes each), the challenge, key image, poll, choices and
/// group id.
pub const MAX_ANONYMOUS_BALLOT: usize = MAX_RING * 34 + 512;

/// A location's label (§6.5): UTF-8 bytes.
pub const MAX_LOCATION_LABEL: usize = 256;

/// A location's accuracy radius, metres.
pub const MAX_LOCATION_ACCURACY_M: u32 = 1_000_000;

/// The longest live location share, ms (24 h).
pub const MAX_LIVE_LOCATION_MS: u64 = 24 * 3600 * 1000;

/// An image's width or height (§6.6), pixels.
pub const MAX_IMAGE_SIDE: u32 = 16_384;

/// An image's inline thumbnail: bytes of JPEG.
pub const MAX_THUMBNAIL: usize = 16 * 1024;

/// An image thumbnail's longer side, pixels.
pub const MAX_THUMBNAIL_SIDE: u32 = 128;

/// The longest voice note (§6.7), ms (1 h).
pub const MAX_VOICE_MS: u32 = 3600 * 1000;

/// Peak levels in a voice note's waveform preview.
pub const MAX_WAVEFORM: usize = 128;

/// A relay base URL in a file message.
pub const MAX_FILE_RELAY_URL: usize = 512;

/// The plaintext chunk size of version-1 file encryption.
pub const FILE_CHUNK_SIZE: u32 = 64 * 1024;

/// The largest file the protocol describes (64 GiB); nodes and relays set
/// their own, lower limits (a node's default is 2 GiB).
pub const MAX_FILE_SIZE: u64 = 64 * 1024 * 1024 * 1024;

/// An encoded `FileFetch`: a 16-byte id and an offset.
pub const MAX_FILE_FETCH: usize = 64;

/// An encoded `FileFetchReply`: a status and a length.
pub const MAX_FILE_FETCH_REPLY: usize = 32;

/// Largest `/kovan/notrace/1` frame (§7.8.1): an application message of
/// at most [`MAX_APP_ENVELOPE`] and MLS's overhead, or a Welcome.
pub const MAX_NOTRACE_FRAME: usize = 96 * 1024;

/// Community names (§9.10): 3..=32 of `a-z0-9_-`, so they fit in a URL.
pub const MAX_COMMUNITY_NAME: usize = 32;
/// A community's topic: one line.
pub const MAX_COMMUNITY_TOPIC: usize = 256;
/// A community's description, and its rules.
pub const MAX_COMMUNITY_DESCRIPTION: usize = 4096;
/// Moderators besides the owner.
pub const MAX_COMMUNITY_MODERATORS: usize = 64;
/// A post's title.
pub const MAX_COMMUNITY_TITLE: usize = 300;
/// A post's text (Lemmy's and Reddit's limits are of this order).
pub const MAX_COMMUNITY_POST: usize = 40_000;
/// A comment's text.
pub const MAX_COMMUNITY_COMMENT: usize = 10_000;
/// A post's link.
pub const MAX_COMMUNITY_LINK: usize = 2048;
/// A report's reason and a moderator's note.
pub const MAX_COMMUNITY_NOTE: usize = 1000;
/// A join request's note.
pub const MAX_COMMUNITY_JOIN_NOTE: usize = 500;
/// Comment depth below a post: 1 for a comment on the post.
pub const MAX_COMMUNITY_DEPTH: usize = 32;
/// Files of one post.
pub const MAX_COMMUNITY_ATTACHMENTS: usize = 8;
/// A community action's encoding: the largest is a post (title, text,
/// link, two ids, 8 attachments of at most 440 bytes each) with 4 KiB of
/// room for the rest; the settings' 64 moderators and texts stay below it.
pub const MAX_COMMUNITY_ACTION: usize = MAX_COMMUNITY_TITLE
    + MAX_COMMUNITY_POST
    + MAX_COMMUNITY_LINK
    + MAX_COMMUNITY_ATTACHMENTS * 440
    + 4096;

/// Largest SDP offer or answer in a call signal, bytes of UTF-8 (SPEC.md
/// §6.9): an audio, a video, a screen and a data section with a dozen
/// candidates each come to about 6 KiB.
pub const MAX_SDP: usize = 16 * 1024;

/// Largest ICE candidate line or media id in a call signal, bytes.
pub const MAX_CANDIDATE: usize = 1024;
