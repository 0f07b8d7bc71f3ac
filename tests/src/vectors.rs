//! The spec's test vectors (`spec/vectors/*.json`), generated from fixed
//! inputs. Every file lists its inputs and expected outputs in hex, so an
//! implementation in any language can check itself against them.

mod conditional;
mod decoded;
mod poll;
mod spread;

use ed25519_dalek::SigningKey;
use kovan_crypto::context::{self, SigContext};
use kovan_crypto::envelope::{self, PayloadKind, Sender};
use kovan_crypto::identity::{AccountKey, DeviceKeys};
use kovan_crypto::keystore::{self, KdfParams, KeystoreContents};
use kovan_crypto::safety::SafetyNumber;
use kovan_spec::{encode, wire};
use serde_json::{Value, json};
use sha2::Digest as _;
use x25519_dalek::StaticSecret;

/// A vector file: its name under `spec/vectors/` and its JSON text.
pub struct VectorFile {
    /// File name.
    pub name: &'static str,
    /// Pretty JSON, ending in a newline.
    pub text: String,
}

fn file(name: &'static str, v: Value) -> VectorFile {
    let mut text = serde_json::to_string_pretty(&v).unwrap_or_default();
    text.push('\n');
    VectorFile { name, text }
}

fn seed(byte: u8) -> [u8; 32] {
    let mut s = [byte; 32];
    s[0] = 0x4b; // 'K': fixed seeds are recognisable in dumps
    s
}

/// A short audio-only offer for the `call-offer` vector (SPEC.md §6.9): one
/// host candidate and the caller's DTLS fingerprint.
const CALL_OFFER_SDP: &str = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
a=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n\
a=ice-ufrag:kovn\r\na=ice-pwd:kovankovankovankovankovan\r\n\
a=fingerprint:sha-256 5A:3C:0F:91:22:7B:DE:10:44:8E:AF:61:09:B2:3E:C7:55:D0:18:6A:F3:29:4C:8B:E1:07:9D:2A:36:C4:70:BF\r\n\
a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n\
a=fmtp:111 minptime=10;useinbandfec=1\r\n\
a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\r\n";

/// A data link's offer for the `call-link` vector (SPEC.md §6.9.4): one
/// data-channel association, no media, one host candidate.
const CALL_LINK_SDP: &str = "v=0\r\no=- 2 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
a=group:BUNDLE 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
c=IN IP4 0.0.0.0\r\na=ice-ufrag:kovl\r\na=ice-pwd:kovankovankovankovanlink\r\n\
a=fingerprint:sha-256 5A:3C:0F:91:22:7B:DE:10:44:8E:AF:61:09:B2:3E:C7:55:D0:18:6A:F3:29:4C:8B:E1:07:9D:2A:36:C4:70:BF\r\n\
a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\n\
a=candidate:1 1 udp 2130706431 127.0.0.1 50001 typ host\r\n";

const NOT_BEFORE: u64 = 1_790_000_000;
const LIFETIME: u64 = 63_072_000;

struct Fixture {
    account: AccountKey,
    device: DeviceKeys,
    seeds: [[u8; 32]; 5],
}

fn fixture(base: u8) -> Fixture {
    let seeds = [seed(base), seed(base + 1), seed(base + 2), seed(base + 3), seed(base + 4)];
    Fixture {
        account: AccountKey::from_seed(&seeds[0]),
        device: DeviceKeys {
            p2p: SigningKey::from_bytes(&seeds[1]),
            mls: SigningKey::from_bytes(&seeds[2]),
            signing: SigningKey::from_bytes(&seeds[3]),
            envelope: StaticSecret::from(seeds[4]),
        },
        seeds,
    }
}

fn fixture_json(f: &Fixture) -> Value {
    json!({
        "account_seed": hex::encode(f.seeds[0]),
        "p2p_seed": hex::encode(f.seeds[1]),
        "mls_seed": hex::encode(f.seeds[2]),
        "signing_seed": hex::encode(f.seeds[3]),
        "envelope_secret": hex::encode(f.seeds[4]),
    })
}

/// Generates every vector file.
pub fn generate() -> anyhow::Result<Vec<VectorFile>> {
    let mut out = Vec::new();

    // §2.1 signature contexts
    let key = SigningKey::from_bytes(&seed(1));
    let data = b"kovan test vector";
    let cases: Vec<Value> = SigContext::ALL
        .iter()
        .map(|c| {
            json!({
                "label": c.label(),
                "signing_input": hex::encode(context::signing_input(*c, data)),
                "signature": hex::encode(context::sign(&key, *c, data)),
            })
        })
        .collect();
    out.push(file(
        "signature-contexts.json",
        json!({
            "description": "SPEC.md §2.1: the same data signed under each context label",
            "seed": hex::encode(seed(1)),
            "public_key": hex::encode(key.verifying_key().to_bytes()),
            "data": hex::encode(data),
            "cases": cases,
        }),
    ));

    // §9.10 community actions: a post and a comment on it, signed by a
    // fixed account key; ids are SHA-256(tbs)[..16].
    let author = AccountKey::from_seed(&seed(2));
    let community = [0x0c; 16];
    let mut cases = Vec::new();
    let mut post_id = Vec::new();
    for (i, body) in [
        wire::community_action::Body::Post(wire::CommunityPost {
            community: community.to_vec(),
            title: "Arılar".into(),
            text: "Kaç kovanınız var?".into(),
            ..Default::default()
        }),
        wire::community_action::Body::Comment(wire::CommunityComment {
            community: community.to_vec(),
            post: vec![],
            parent: vec![],
            text: "Beş".into(),
        }),
    ]
    .into_iter()
    .enumerate()
    {
        let body = match body {
            wire::community_action::Body::Comment(mut c) => {
                c.post = post_id.clone();
                wire::community_action::Body::Comment(c)
            }
            b => b,
        };
        let action = wire::CommunityAction {
            version: 1,
            author: author.id().as_bytes().to_vec(),
            created_ms: 1_767_225_600_000 + i as u64,
            nonce: vec![i as u8 + 1; 16],
            body: Some(body),
        };
        let (tbs, sig, opened) = kovan_crypto::community::sign_action(&author, &action)?;
        if i == 0 {
            post_id = opened.id.to_vec();
        }
        cases.push(json!({
            "kind": opened.action.body.kind().name(),
            "label": SigContext::Community(opened.action.body.kind()).label(),
            "tbs": hex::encode(&tbs),
            "signature": hex::encode(sig),
            "id": hex::encode(opened.id),
        }));
    }
    out.push(file(
        "community-actions.json",
        json!({
            "description": "SPEC.md §9.10: community actions signed by an account key; id = SHA-256(tbs)[..16]",
            "account_seed": hex::encode(seed(2)),
            "account_key": author.id().to_string(),
            "cases": cases,
        }),
    ));

    // §2.3 device certificate
    let alice = fixture(0x10);
    let cert = alice.account.certify(&alice.device.public(), "laptop", NOT_BEFORE, LIFETIME)?;
    let signed: wire::Signed = kovan_spec::decode(cert.encoded())?;
    out.push(file(
        "device-certificate.json",
        json!({
            "description": "SPEC.md §2.3: a device certificate from fixed keys",
            "inputs": fixture_json(&alice),
            "device_name": "laptop",
            "not_before": NOT_BEFORE,
            "not_after": NOT_BEFORE + LIFETIME,
            "account_key": alice.account.id().to_string(),
            "device_public_keys": {
                "p2p": hex::encode(alice.device.public().p2p),
                "mls": hex::encode(alice.device.public().mls),
                "signing": hex::encode(alice.device.public().signing),
                "envelope": hex::encode(alice.device.public().envelope),
            },
            "peer_id": cert.peer_id().to_string(),
            "peer_id_bytes": hex::encode(cert.peer_id().to_bytes()),
            "tbs": hex::encode(&signed.tbs),
            "signature": hex::encode(&signed.signature),
            "certificate": hex::encode(cert.encoded()),
        }),
    ));

    // §3 safety number
    let bob = fixture(0x20);
    let sn = SafetyNumber::new(&alice.account.id(), &bob.account.id());
    out.push(file(
        "safety-number.json",
        json!({
            "description": "SPEC.md §3: the safety number of two account keys",
            "account_a": alice.account.id().to_string(),
            "account_b": bob.account.id().to_string(),
            "fingerprint_a": hex::encode(kovan_crypto::safety::fingerprint(&alice.account.id())),
            "fingerprint_b": hex::encode(kovan_crypto::safety::fingerprint(&bob.account.id())),
            "digits": sn.digits(),
            "display": sn.display(),
            "qr": hex::encode(sn.qr_bytes()),
        }),
    ));

    // §4 keystore
    let contents = KeystoreContents {
        account: Some(alice.account.clone()),
        device: alice.device.clone(),
        certificate: cert.clone(),
        storage: kovan_crypto::storage::StorageKey::from_bytes([0x53; 32]),
    };
    let salt = [0x5a; 16];
    let nonce = [0x4e; 12];
    let passphrase = "correct horse battery staple";
    let ks =
        keystore::seal_with(&contents, passphrase.as_bytes(), KdfParams::default(), salt, nonce)?;
    out.push(file(
        "keystore.json",
        json!({
            "description": "SPEC.md §4: the device-certificate fixture sealed in a keystore (Argon2id m=65536 t=3 p=4)",
            "inputs": fixture_json(&alice),
            "certificate": hex::encode(cert.encoded()),
            "storage_secret": hex::encode([0x53u8; 32]),
            "passphrase": passphrase,
            "salt": hex::encode(salt),
            "nonce": hex::encode(nonce),
            "kdf": { "id": 1, "m_kib": 65536, "t": 3, "p": 4 },
            "keystore": hex::encode(&ks),
            "decoded": {
                "version": 1,
                "account_secret": hex::encode(alice.seeds[0]),
                "p2p_secret": hex::encode(alice.seeds[1]),
                "mls_secret": hex::encode(alice.seeds[2]),
                "signing_secret": hex::encode(alice.seeds[3]),
                "envelope_secret": hex::encode(alice.seeds[4]),
                "device_certificate": hex::encode(cert.encoded()),
                "storage_secret": hex::encode([0x53u8; 32]),
            },
        }),
    ));

    // §5 sealed envelope, Alice → Bob
    let bob_cert = bob.account.certify(&bob.device.public(), "phone", NOT_BEFORE, LIFETIME)?;
    let eph_secret = [0x45; 32];
    let envelope_id = [0x49; 16];
    let payload = b"an MLS message would be here";
    let timestamp_ms = NOT_BEFORE * 1000 + 1;
    let sealed = envelope::seal_with(
        &StaticSecret::from(eph_secret),
        envelope_id,
        &Sender { keys: &alice.device, certificate: &cert },
        &bob.device.public().envelope,
        PayloadKind::MlsMessage,
        payload,
        timestamp_ms,
    )?;
    out.push(file(
        "sealed-envelope.json",
        json!({
            "description": "SPEC.md §5: Alice's device seals a payload to Bob's device",
            "sender": fixture_json(&alice),
            "sender_certificate": hex::encode(cert.encoded()),
            "recipient": fixture_json(&bob),
            "recipient_certificate": hex::encode(bob_cert.encoded()),
            "recipient_envelope_key": hex::encode(bob.device.public().envelope),
            "ephemeral_secret": hex::encode(eph_secret),
            "envelope_id": hex::encode(envelope_id),
            "kind": "PAYLOAD_KIND_MLS_MESSAGE",
            "payload": hex::encode(payload),
            "timestamp_ms": timestamp_ms,
            "envelope": hex::encode(&sealed.bytes),
        }),
    ));

    // §9.2 relay registration proof
    let relay_peer_id = "12D3KooWRdBjGWFXbrH7YCCvjRwa1ZSdcYUZ8V7vdz2gbJYDuq8m";
    let data = kovan_crypto::identity::registration_data(
        "alice",
        alice.account.id().as_bytes(),
        &cert,
        relay_peer_id,
    );
    out.push(file(
        "relay-registration.json",
        json!({
            "description": "SPEC.md §9.2: the account key's proof and the device's proof of its p2p key when registering `alice` on a relay (a login carries the same device proof)",
            "username": "alice",
            "account_key": alice.account.id().to_string(),
            "device_certificate": hex::encode(cert.encoded()),
            "p2p_key": hex::encode(alice.device.public().p2p),
            "relay_peer_id": relay_peer_id,
            "signed_data": hex::encode(&data),
            "signing_input": hex::encode(context::signing_input(SigContext::AccountRegistration, &data)),
            "signature": hex::encode(alice.account.sign(SigContext::AccountRegistration, &data)),
            "device_signing_input": hex::encode(context::signing_input(SigContext::RelayDevice, &data)),
            "device_signature": hex::encode(kovan_crypto::identity::relay_device_proof(&alice.device, &data)),
        }),
    ));

    // §6 application envelopes
    let base = |content| wire::AppEnvelope {
        version: 1,
        message_id: vec![0x11; 16],
        sender_device: cert.peer_id().to_bytes(),
        sequence: 7,
        timestamp_ms,
        reply_to: vec![],
        content: Some(content),
    };
    use wire::app_envelope::Content as C;
    let poll_vectors = poll::poll_vectors();
    let (spread_hop, spread_retract) = spread::spread_contents()?;
    let (conditional, conditional_file) = conditional::conditional_vectors()?;
    let mut with_reply = base(C::Text(wire::Text { body: "evet 👍".into() }));
    with_reply.reply_to = vec![0x22; 16];
    let apps = [
        ("text", base(C::Text(wire::Text { body: "merhaba dünya".into() }))),
        ("text-reply", with_reply),
        (
            "reaction",
            base(C::Reaction(wire::Reaction {
                target: vec![0x22; 16],
                emoji: "❤️".into(),
                remove: false,
            })),
        ),
        ("edit", base(C::Edit(wire::Edit { target: vec![0x22; 16], body: "düzeltildi".into() }))),
        ("delete", base(C::Delete(wire::Delete { target: vec![0x22; 16] }))),
        (
            "receipt-seen",
            base(C::Receipt(wire::Receipt {
                kind: wire::ReceiptKind::Seen as i32,
                targets: vec![vec![0x22; 16], vec![0x33; 16]],
            })),
        ),
        (
            "file",
            base(C::File(wire::FileRef {
                file_id: vec![0xf1; 16],
                name: "kovan.png".into(),
                mime: "image/png".into(),
                size: 70_000,
                sha256: vec![0xa5; 32],
                key: vec![0x0f; 32],
                chunk_size: kovan_spec::limits::FILE_CHUNK_SIZE,
                relay: "https://relay.example.org".into(),
                blob_id: vec![0xb1; 16],
                caption: "arı".into(),
                image: None,
                voice: None,
            })),
        ),
        (
            "image",
            base(C::File(wire::FileRef {
                file_id: vec![0xf2; 16],
                name: "deniz.jpg".into(),
                mime: "image/jpeg".into(),
                size: 180_000,
                sha256: vec![0xa6; 32],
                key: vec![0x1f; 32],
                chunk_size: kovan_spec::limits::FILE_CHUNK_SIZE,
                image: Some(wire::ImageInfo {
                    width: 1600,
                    height: 1200,
                    thumbnail: vec![0xff, 0xd8, 0xff, 0xdb, 0x00, 0x43, 0x00, 0xff, 0xd9],
                }),
                ..Default::default()
            })),
        ),
        (
            "image-malformed-zero-height",
            base(C::File(wire::FileRef {
                file_id: vec![0xf3; 16],
                name: "bos.png".into(),
                mime: "image/png".into(),
                size: 100,
                sha256: vec![0xa7; 32],
                key: vec![0x2f; 32],
                chunk_size: kovan_spec::limits::FILE_CHUNK_SIZE,
                image: Some(wire::ImageInfo { width: 10, height: 0, thumbnail: vec![] }),
                ..Default::default()
            })),
        ),
        (
            "voice",
            base(C::File(wire::FileRef {
                file_id: vec![0xf4; 16],
                name: "ses.ogg".into(),
                mime: "audio/ogg".into(),
                size: 12_000,
                sha256: vec![0xa8; 32],
                key: vec![0x3f; 32],
                chunk_size: kovan_spec::limits::FILE_CHUNK_SIZE,
                voice: Some(wire::VoiceInfo {
                    duration_ms: 3_250,
                    waveform: vec![0, 40, 200, 255, 120, 30, 0, 0],
                }),
                ..Default::default()
            })),
        ),
        (
            "voice-malformed-wrong-type",
            base(C::File(wire::FileRef {
                file_id: vec![0xf5; 16],
                name: "ses.mp3".into(),
                mime: "audio/mpeg".into(),
                size: 12_000,
                sha256: vec![0xa9; 32],
                key: vec![0x4f; 32],
                chunk_size: kovan_spec::limits::FILE_CHUNK_SIZE,
                voice: Some(wire::VoiceInfo { duration_ms: 3_250, waveform: vec![] }),
                ..Default::default()
            })),
        ),
        (
            "poll",
            base(C::Poll(wire::Poll {
                question: "Nereye gidelim?".into(),
                options: vec!["deniz".into(), "dağ".into(), "şehir".into()],
                multiple: false,
                verifiable: None,
            })),
        ),
        (
            "poll-verifiable",
            base(C::Poll(wire::Poll {
                question: "Başkan kim olsun?".into(),
                options: vec!["Ayşe".into(), "Mehmet".into()],
                multiple: false,
                verifiable: Some(poll_vectors.poll.clone()),
            })),
        ),
        (
            "vote",
            base(C::Vote(wire::Vote {
                poll: vec![0x22; 16],
                choices: vec![0, 2],
                signature: Vec::new(),
                commitment: Vec::new(),
            })),
        ),
        ("vote-signed", base(C::Vote(poll_vectors.vote.clone()))),
        ("vote-sealed", base(C::Vote(poll_vectors.sealed_vote.clone()))),
        ("ballot-reveal", base(C::BallotReveal(poll_vectors.reveal.clone()))),
        ("conditional", base(C::Conditional(conditional))),
        ("check-in", base(C::CheckIn(wire::CheckIn { target: vec![0x27; 16] }))),
        (
            "share-release",
            base(C::ShareRelease(wire::ShareRelease {
                target: vec![0x27; 16],
                share: [vec![2], vec![0x9d; 32]].concat(),
            })),
        ),
        ("poll-close-verifiable", base(C::PollClose(poll_vectors.close.clone()))),
        ("poll-close-sealed", base(C::PollClose(poll_vectors.sealed_close.clone()))),
        ("spread", base(C::Spread(spread_hop.clone()))),
        ("spread-retract", base(C::SpreadRetract(spread_retract.clone()))),
        ("spread-opt-in", base(C::SpreadOptIn(wire::SpreadOptIn { enabled: true }))),
        ("typing", base(C::Typing(wire::Typing { active: true }))),
        (
            "call-offer",
            base(C::Call(wire::CallSignal {
                call_id: vec![0x33; 16],
                kind: Some(wire::call_signal::Kind::Offer(wire::CallOffer {
                    sdp: CALL_OFFER_SDP.into(),
                    video: false,
                })),
            })),
        ),
        (
            "call-link",
            base(C::Call(wire::CallSignal {
                call_id: vec![0x34; 16],
                kind: Some(wire::call_signal::Kind::Link(wire::CallLink {
                    sdp: CALL_LINK_SDP.into(),
                })),
            })),
        ),
        (
            "call-end-busy",
            base(C::Call(wire::CallSignal {
                call_id: vec![0x33; 16],
                kind: Some(wire::call_signal::Kind::End(wire::CallEnd {
                    reason: wire::call_end::Reason::Busy as i32,
                })),
            })),
        ),
        (
            "poll-close",
            base(C::PollClose(wire::PollClose {
                poll: vec![0x22; 16],
                ballots: vec![
                    wire::PollBallot {
                        account: vec![0x01; 32],
                        choices: vec![0],
                        signature: Vec::new(),
                        commitment: Vec::new(),
                    },
                    wire::PollBallot {
                        account: vec![0x02; 32],
                        choices: vec![2],
                        signature: Vec::new(),
                        commitment: Vec::new(),
                    },
                ],
                ..Default::default()
            })),
        ),
        (
            "poll-anonymous",
            base(C::Poll(wire::Poll {
                question: "Önce ne?".into(),
                options: vec!["boya".into(), "asansör".into()],
                multiple: false,
                verifiable: Some(wire::VerifiablePoll {
                    anonymous: true,
                    voters: vec![vec![0x01; 32], vec![0x02; 32], vec![0x03; 32]],
                    ..poll_vectors.poll.clone()
                }),
            })),
        ),
        (
            "ballot-key",
            base(C::BallotKey(wire::BallotKey {
                poll: vec![0x22; 16],
                key: vec![0x5a; 32],
                signature: vec![0x5b; 64],
                account: Vec::new(),
            })),
        ),
        (
            "poll-ring",
            base(C::PollRing(wire::PollRing {
                poll: vec![0x22; 16],
                keys: [(0x01u8, 0x5a), (0x02, 0x5c), (0x03, 0x5e)]
                    .iter()
                    .map(|&(account, key)| wire::BallotKey {
                        poll: Vec::new(),
                        key: vec![key; 32],
                        signature: vec![0x5b; 64],
                        account: vec![account; 32],
                    })
                    .collect(),
            })),
        ),
        (
            "ring-seen",
            base(C::RingSeen(wire::RingSeen { poll: vec![0x22; 16], ring: vec![0x5f; 32] })),
        ),
        (
            "poll-close-anonymous",
            base(C::PollClose(wire::PollClose {
                poll: vec![0x22; 16],
                anonymous: vec![
                    wire::RingCount { key_image: vec![0x71; 32], choices: vec![0] },
                    wire::RingCount { key_image: vec![0x72; 32], choices: vec![1] },
                ],
                void_images: vec![vec![0x73; 32]],
                ..Default::default()
            })),
        ),
        (
            "location",
            base(C::Location(wire::Location {
                lat_e7: 410_082_000,
                lon_e7: 289_784_000,
                accuracy_m: 15,
                label: "Sultanahmet".into(),
                live_until_ms: 0,
            })),
        ),
        (
            "location-live",
            base(C::Location(wire::Location {
                lat_e7: -338_568_000,
                lon_e7: 1_512_153_000,
                accuracy_m: 5,
                label: String::new(),
                live_until_ms: timestamp_ms + 3_600_000,
            })),
        ),
        (
            "location-update",
            base(C::LocationUpdate(wire::LocationUpdate {
                target: vec![0x22; 16],
                lat_e7: -338_570_000,
                lon_e7: 1_512_150_000,
                accuracy_m: 5,
            })),
        ),
        ("location-stop", base(C::LocationStop(wire::LocationStop { target: vec![0x22; 16] }))),
        (
            "location-malformed-latitude",
            base(C::Location(wire::Location {
                lat_e7: 900_000_001,
                lon_e7: 0,
                accuracy_m: 0,
                label: String::new(),
                live_until_ms: 0,
            })),
        ),
        (
            "poll-malformed-one-option",
            base(C::Poll(wire::Poll {
                question: "tek?".into(),
                options: vec!["a".into()],
                multiple: false,
                verifiable: None,
            })),
        ),
    ];
    let cases: Vec<Value> = apps
        .iter()
        .map(|(name, m)| json!({ "name": name, "decoded": decoded::app(m), "encoding": hex::encode(encode(m)) }))
        .collect();
    out.push(file(
        "app-envelope.json",
        json!({
            "description": "SPEC.md §6: application envelopes of every content type",
            "cases": cases,
        }),
    ));

    // §7.9 password-sealed chats
    out.push(chat_seal(&base)?);
    out.push(poll_vectors.file);
    out.push(poll::ring_ballot_vectors()?);
    out.push(conditional_file);
    out.push(spread::spread_vectors()?);

    // §7.4 friend messages (the key package is opaque to the decoder; a
    // real one is 300-400 bytes)
    let friend =
        |body| wire::FriendMessage { version: 1, request_id: vec![0x44; 16], body: Some(body) };
    use wire::friend_message::Body as F;
    let friends = [
        (
            "request",
            friend(F::Request(wire::FriendRequest {
                key_package: vec![0x55; 48],
                display_name: "Ayşe".into(),
                note: "Selam, ben Ayşe".into(),
                recipient_account: cert.account().as_bytes().to_vec(),
                username: "ayse".into(),
                invite: Vec::new(),
            })),
        ),
        (
            "request-with-invite",
            friend(F::Request(wire::FriendRequest {
                key_package: vec![0x55; 48],
                display_name: "Ayşe".into(),
                note: String::new(),
                recipient_account: cert.account().as_bytes().to_vec(),
                username: "ayse".into(),
                invite: vec![0x66; 16],
            })),
        ),
        ("decline", friend(F::Decline(wire::FriendDecline {}))),
        ("remove", friend(F::Remove(wire::FriendRemove {}))),
        (
            "join-failed",
            friend(F::JoinFailed(wire::FriendJoinFailed {
                reason: "the Welcome has no ratchet_tree extension".into(),
            })),
        ),
    ];
    let cases: Vec<Value> = friends
        .iter()
        .map(|(name, m)| json!({ "name": name, "decoded": decoded::friend(m), "encoding": hex::encode(encode(m)) }))
        .collect();
    let card = wire::ContactCard {
        device_certificate: cert.encoded().to_vec(),
        display_name: "Ayşe".into(),
    };
    out.push(file(
        "friend-message.json",
        json!({
            "description": "SPEC.md §7.3-7.4: friend messages (payloads of PAYLOAD_KIND_FRIEND envelopes) and a contact card",
            "cases": cases,
            "card": hex::encode(encode(&card)),
            "card_decoded": { "device_certificate": hex::encode(&card.device_certificate), "display_name": card.display_name },
        }),
    ));

    // §7.6 groups: the meta extension (0xF0C0) and the control messages
    let meta = wire::GroupMeta {
        version: 1,
        name: "Kovan ekibi 🐝".into(),
        description: "Bal, kod ve kahve".into(),
        admins: vec![cert.account().as_bytes().to_vec()],
        banned: vec![vec![0x66; 32]],
        members_invite: true,
        dissolved: false,
        ..Default::default()
    };
    // §7.8: a chat between two accounts whose payload travels only directly.
    let direct_meta = wire::GroupMeta {
        version: 1,
        name: "Ayşe & Bora".into(),
        admins: vec![cert.account().as_bytes().to_vec(), vec![0x67; 32]],
        mode: wire::ConversationMode::DirectOnly as i32,
        pair: true,
        ..Default::default()
    };
    let control =
        |body| wire::GroupControl { version: 1, invitation_id: vec![0x77; 16], body: Some(body) };
    use wire::group_control::Body as G;
    let controls = [
        (
            "invite",
            control(G::Invite(wire::GroupInvite {
                group_id: vec![0x88; 16],
                group_name: "Kovan ekibi 🐝".into(),
                members: 4,
                recipient_account: cert.account().as_bytes().to_vec(),
                ..Default::default()
            })),
        ),
        (
            "invite-to-a-direct-only-chat",
            control(G::Invite(wire::GroupInvite {
                group_id: vec![0x89; 16],
                group_name: "Ayşe & Bora".into(),
                members: 1,
                recipient_account: cert.account().as_bytes().to_vec(),
                mode: wire::ConversationMode::DirectOnly as i32,
                pair: true,
            })),
        ),
        ("accept", control(G::Accept(wire::GroupInviteAccept { key_package: vec![0x55; 48] }))),
        ("decline", control(G::Decline(wire::GroupInviteDecline {}))),
    ];
    let cases: Vec<Value> = controls
        .iter()
        .map(|(name, m)| json!({ "name": name, "decoded": decoded::control(m), "encoding": hex::encode(encode(m)) }))
        .collect();
    out.push(file(
        "group.json",
        json!({
            "description": "SPEC.md §7.6: a GroupMeta (the GroupContext extension 0xF0C0) and GroupControl messages (payloads of PAYLOAD_KIND_GROUP envelopes); the commit rank is SHA-256(exporter || u32be(leaf)), see rank below",
            "meta": { "decoded": decoded::meta(&meta), "encoding": hex::encode(encode(&meta)) },
            "meta_of_a_direct_only_chat": {
                "decoded": decoded::meta(&direct_meta),
                "encoding": hex::encode(encode(&direct_meta)),
            },
            "cases": cases,
            "rank": {
                "exporter": hex::encode([0x99u8; 32]),
                "leaf_index": 3,
                "rank": hex::encode(sha2::Sha256::digest([&[0x99u8; 32][..], &3u32.to_be_bytes()].concat())),
            },
        }),
    ));

    // §2.5-2.6, §7.4.2, §7.6.1: real MLS messages
    let committed = || {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/vectors/mls.json");
        Ok(std::fs::read_to_string(path)?)
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    out.push(file(
        "mls.json",
        crate::mls_vectors::file(
            crate::mls_vectors::Inputs {
                alice: (&cert, alice.device.mls.clone()),
                bob: (&bob_cert, bob.device.mls.clone()),
                app: encode(&apps[0].1),
                meta: encode(&meta),
                not_before: crate::mls_vectors::KEY_PACKAGE_NOT_BEFORE,
            },
            now,
            committed,
        )?,
    ));

    // §7 node protocol messages
    let delivery = wire::DirectDelivery { envelopes: vec![sealed.bytes.clone()] };
    let acks: Vec<Value> = [wire::AckStatus::Accepted, wire::AckStatus::Rejected, wire::AckStatus::Retry]
        .iter()
        .map(|s| json!({ "status": s.as_str_name(), "encoding": hex::encode(encode(&wire::DirectAck { statuses: vec![*s as i32] })) }))
        .collect();
    out.push(file(
        "direct-delivery.json",
        json!({
            "description": "SPEC.md §7: /kovan/envelope/1 request (the sealed-envelope vector) and acknowledgements",
            "request": hex::encode(encode(&delivery)),
            "acks": acks,
        }),
    ));

    // §7.7 files: chunk encryption, and the /kovan/file/1 messages
    let key = kovan_crypto::file::FileKey::from_slice(&[0x0f; 32])?;
    let chunks: Vec<Value> = [(0u64, false, &b"ilk parca"[..]), (0, true, b""), (1, true, b"son"), (7, false, b"x")]
        .iter()
        .map(|(index, last, plain)| {
            let mut buf = plain.to_vec();
            kovan_crypto::file::seal_chunk(&key, *index, *last, &mut buf);
            json!({ "index": index, "final": last, "plaintext": hex::encode(plain), "sealed": hex::encode(buf) })
        })
        .collect();
    let fetch = wire::FileFetch { file_id: vec![0xf1; 16], offset: 65_552 };
    let reply = wire::FileFetchReply { status: wire::FileFetchStatus::Ok as i32, length: 4_464 };
    out.push(file(
        "file.json",
        json!({
            "description": "SPEC.md §7.7: file chunks sealed with ChaCha20-Poly1305 under nonce u64be(index) || u8(final) || 000000 and associated data 'kovan/v1/file-chunk'; a FileFetch for chunk 1 and its reply",
            "key": hex::encode([0x0f; 32]),
            "chunk_size": kovan_crypto::file::CHUNK_SIZE,
            "chunks": chunks,
            "fetch": hex::encode(encode(&fetch)),
            "fetch_reply": hex::encode(encode(&reply)),
        }),
    ));

    Ok(out)
}

/// §7.9: a chat key from a password, a sealed text and a sealed edit in
/// their application envelopes, and a password change that wraps the first
/// key under the second.
fn chat_seal(
    base: &dyn Fn(wire::app_envelope::Content) -> wire::AppEnvelope,
) -> anyhow::Result<VectorFile> {
    use kovan_crypto::chat_seal::ChatKey;
    use wire::app_envelope::Content as C;
    let conversation = [0x33u8; 32];
    let params = KdfParams::RFC9106_MEMORY_CONSTRAINED;
    let (first_password, first_salt) = ("kedi masada uyuyor", [0x53u8; 16]);
    let (second_password, second_salt) = ("köpek bahçede koşuyor", [0x54u8; 16]);
    let first = ChatKey::derive(first_password, &first_salt, params, &conversation)?;
    let second = ChatKey::derive(second_password, &second_salt, params, &conversation)?;
    // The message id of `base`.
    let message_id = [0x11u8; 16];
    let text = encode(&wire::Text { body: "Yarın saat üçte, kütüphanede.".into() });
    let nonce = [0x4eu8; 24];
    let ciphertext = first.seal_text_with(&nonce, &conversation, &message_id, &text);
    anyhow::ensure!(*first.open_text(&conversation, &message_id, &nonce, &ciphertext)? == *text);
    let sealed = wire::Sealed {
        key_id: first.id().to_vec(),
        nonce: nonce.to_vec(),
        ciphertext: ciphertext.clone(),
    };
    let edit_text = encode(&wire::Text { body: "Yarın saat dörtte.".into() });
    let edit_nonce = [0x4du8; 24];
    let edit = wire::Sealed {
        key_id: first.id().to_vec(),
        nonce: edit_nonce.to_vec(),
        ciphertext: first.seal_text_with(&edit_nonce, &conversation, &message_id, &edit_text),
    };
    let chain_nonce = [0x4fu8; 24];
    let wrapped = second.wrap_previous_with(&chain_nonce, &conversation, &first);
    let back = second.unwrap_previous(&conversation, &first.id(), &chain_nonce, &wrapped)?;
    anyhow::ensure!(back.id() == first.id());
    let change = |key: &ChatKey, salt: &[u8; 16], previous: Option<&[u8]>| wire::SealChange {
        key_id: key.id().to_vec(),
        salt: salt.to_vec(),
        memory_kib: params.m_kib,
        passes: params.t,
        lanes: params.p,
        previous_key_id: previous.map(|_| first.id().to_vec()).unwrap_or_default(),
        previous_nonce: previous.map(|_| chain_nonce.to_vec()).unwrap_or_default(),
        previous_key: previous.map(<[u8]>::to_vec).unwrap_or_default(),
    };
    let envelopes = [
        ("seal", base(C::SealChange(change(&first, &first_salt, None)))),
        ("sealed-text", base(C::Sealed(sealed))),
        (
            "sealed-edit",
            base(C::SealedEdit(wire::SealedEdit {
                target: message_id.to_vec(),
                sealed: Some(edit),
            })),
        ),
        ("new-password", base(C::SealChange(change(&second, &second_salt, Some(&wrapped))))),
    ];
    let cases: Vec<Value> = envelopes
        .iter()
        .map(|(name, m)| json!({ "name": name, "decoded": decoded::app(m), "encoding": hex::encode(encode(m)) }))
        .collect();
    Ok(file(
        "chat-seal.json",
        json!({
            "description": "SPEC.md §7.9: chat keys from passwords (Argon2id v1.3, then HKDF-SHA256 \
                            with the conversation id as salt), text sealed under them with \
                            XChaCha20-Poly1305, and a password change wrapping the first key",
            "conversation_id": hex::encode(conversation),
            "argon2id": {"memory_kib": params.m_kib, "passes": params.t, "lanes": params.p},
            "keys": [
                {"password": first_password, "salt": hex::encode(first_salt), "key_id": hex::encode(first.id())},
                {"password": second_password, "salt": hex::encode(second_salt), "key_id": hex::encode(second.id())},
            ],
            "sealed_text": {
                "message_id": hex::encode(message_id),
                "plaintext": hex::encode(&text),
                "associated_data": hex::encode(kovan_crypto::chat_seal::text_ad(&conversation, &message_id, &first.id())),
                "nonce": hex::encode(nonce),
                "ciphertext": hex::encode(&ciphertext),
            },
            "edit_plaintext": hex::encode(&edit_text),
            "chain": {
                "associated_data": hex::encode(kovan_crypto::chat_seal::chain_ad(&conversation, &second.id(), &first.id())),
                "nonce": hex::encode(chain_nonce),
                "wrapped": hex::encode(&wrapped),
            },
            "envelopes": cases,
        }),
    ))
}
