//! Every vector in `spec/vectors/` checked by this second implementation:
//! its own decoders and crypto (from SPEC.md's text) for kovan's formats,
//! and mls-rs for the MLS messages openmls made.

use std::time::Duration;

use kovan_conformance::identity::{self, Device};
use kovan_conformance::mls::{self, CIPHER_SUITE, KovanIdentity};
use kovan_conformance::{chat_seal, envelope, file, keystore, wire};
use mls_rs::group::ReceivedMessage;
use mls_rs::mls_rs_codec::{MlsDecode as _, MlsEncode as _};
use mls_rs::time::MlsTime;
use mls_rs::{CryptoProvider as _, MlsMessage};
use mls_rs_core::key_package::KeyPackageData;
use prost::Message as _;
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/../spec/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn h(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap_or_else(|| panic!("not hex: {v}"))).unwrap()
}

fn k32(v: &Value) -> [u8; 32] {
    h(v).try_into().unwrap()
}

fn device(f: &Value, cert: &Value, now: u64) -> Device {
    let s = ["account_seed", "p2p_seed", "mls_seed", "signing_seed", "envelope_secret"];
    Device::from_secrets(s.map(|k| k32(&f[k])), &h(cert), now).unwrap()
}

#[test]
fn signature_contexts_and_certificates() {
    let v = load("signature-contexts.json");
    let key = ed25519_dalek::SigningKey::from_bytes(&k32(&v["seed"]));
    assert_eq!(hex::encode(key.verifying_key().to_bytes()), v["public_key"]);
    for c in v["cases"].as_array().unwrap() {
        let label = c["label"].as_str().unwrap();
        assert_eq!(identity::signing_input(label, &h(&v["data"])), h(&c["signing_input"]));
        assert_eq!(identity::sign(&key, label, &h(&v["data"])).to_vec(), h(&c["signature"]));
    }

    let v = load("device-certificate.json");
    let now = v["not_before"].as_u64().unwrap();
    let cert = identity::verify_certificate(&h(&v["certificate"]), now).unwrap();
    assert_eq!(hex::encode(cert.account()), v["account_key"]);
    assert_eq!(cert.peer_id(), v["peer_id"].as_str().unwrap(), "§2.4 string form");
    assert_eq!(identity::peer_id_bytes(&cert.p2p()), h(&v["peer_id_bytes"]), "§2.4 bytes");
    assert_eq!(cert.tbs.encode_to_vec(), h(&v["tbs"]), "the tbs re-encodes to the same bytes");
    assert_eq!(cert.tbs.device_name, v["device_name"]);
    assert!(
        identity::verify_certificate(&h(&v["certificate"]), v["not_after"].as_u64().unwrap() + 1)
            .is_err()
    );
    let d = device(&v["inputs"], &v["certificate"], now);
    assert_eq!(hex::encode(d.cert.tbs.p2p_key), v["device_public_keys"]["p2p"]);
}

#[test]
fn safety_numbers() {
    use sha2::{Digest as _, Sha512};
    let v = load("safety-number.json");
    let fp = |k: &[u8]| {
        let mut hh = Sha512::digest([b"kovan/v1/safety-number".as_slice(), k].concat()).to_vec();
        for _ in 0..5200 {
            hh = Sha512::digest([hh.as_slice(), k].concat()).to_vec();
        }
        hh[..30].to_vec()
    };
    let digits = |fp: &[u8]| {
        fp.chunks(5)
            .map(|c| format!("{:05}", c.iter().fold(0u64, |a, b| a << 8 | *b as u64) % 100_000))
            .collect::<String>()
    };
    let (a, b) = (fp(&h(&v["account_a"])), fp(&h(&v["account_b"])));
    assert_eq!(a, h(&v["fingerprint_a"]));
    assert_eq!(b, h(&v["fingerprint_b"]));
    let (da, db) = (digits(&a), digits(&b));
    let (lo, hi) = if da <= db { (&a, &b) } else { (&b, &a) };
    assert_eq!(format!("{}{}", digits(lo), digits(hi)), v["digits"].as_str().unwrap());
    assert_eq!([&[1u8][..], lo, hi].concat(), h(&v["qr"]));
}

#[test]
fn keystore_opens_with_a_second_decoder() {
    let v = load("keystore.json");
    let secrets =
        keystore::open(&h(&v["keystore"]), v["passphrase"].as_str().unwrap().as_bytes()).unwrap();
    let d = &v["decoded"];
    assert_eq!(secrets.version, d["version"].as_u64().unwrap() as u32);
    for (got, want) in [
        (&secrets.account_secret, "account_secret"),
        (&secrets.p2p_secret, "p2p_secret"),
        (&secrets.mls_secret, "mls_secret"),
        (&secrets.signing_secret, "signing_secret"),
        (&secrets.envelope_secret, "envelope_secret"),
        (&secrets.device_certificate, "device_certificate"),
        (&secrets.storage_secret, "storage_secret"),
    ] {
        assert_eq!(got, &h(&d[want]), "{want}");
    }
    assert_eq!(
        keystore::open(&h(&v["keystore"]), b"wrong"),
        Err(kovan_conformance::Error("wrong passphrase".into()))
    );
    let mut bad = h(&v["keystore"]);
    bad[80] ^= 1;
    assert!(keystore::open(&bad, b"x").is_err(), "the checksum catches damage");
}

#[test]
fn sealed_envelopes_open_and_reseal_byte_for_byte() {
    let v = load("sealed-envelope.json");
    let ts = v["timestamp_ms"].as_u64().unwrap();
    let now = ts / 1000 + 1;
    let bob = device(&v["recipient"], &v["recipient_certificate"], now);
    let opened = envelope::open(&bob.envelope, &h(&v["envelope"]), now).unwrap();
    assert_eq!(opened.payload, h(&v["payload"]));
    assert_eq!(opened.kind.as_str_name(), v["kind"].as_str().unwrap());
    assert_eq!(opened.sender.bytes, h(&v["sender_certificate"]));
    assert_eq!(opened.envelope_id.to_vec(), h(&v["envelope_id"]));
    let alice = device(&v["sender"], &v["sender_certificate"], now);
    let fixed = (k32(&v["ephemeral_secret"]), h(&v["envelope_id"]).try_into().unwrap());
    let sealed = envelope::seal(
        &alice,
        &k32(&v["recipient_envelope_key"]),
        wire::PayloadKind::MlsMessage,
        &h(&v["payload"]),
        ts,
        Some(fixed),
    )
    .unwrap();
    assert_eq!(sealed, h(&v["envelope"]), "§5.1-5.3 reproduced");

    let d = load("direct-delivery.json");
    let req = wire::DirectDelivery::decode(h(&d["request"]).as_slice()).unwrap();
    assert_eq!(req.envelopes, vec![h(&v["envelope"])]);
    for a in d["acks"].as_array().unwrap() {
        let ack = wire::DirectAck::decode(h(&a["encoding"]).as_slice()).unwrap();
        let s = wire::AckStatus::try_from(ack.statuses[0]).unwrap();
        assert_eq!(s.as_str_name(), a["status"].as_str().unwrap());
    }

    let r = load("relay-registration.json");
    let cert = identity::verify_certificate(&h(&r["device_certificate"]), now).unwrap();
    let alice = Device { cert, ..alice };
    let data = alice
        .registration_data(r["username"].as_str().unwrap(), r["relay_peer_id"].as_str().unwrap());
    assert_eq!(data, h(&r["signed_data"]), "§9.2 encoding");
    assert!(identity::verify(
        &h(&r["account_key"]),
        identity::ACCOUNT_REGISTRATION,
        &data,
        &h(&r["signature"])
    ));
}

#[test]
fn sealed_chats_open_with_their_passwords() {
    let v = load("chat-seal.json");
    let conv = h(&v["conversation_id"]);
    let a = &v["argon2id"];
    let params = ["memory_kib", "passes", "lanes"].map(|k| a[k].as_u64().unwrap() as u32);
    let keys: Vec<chat_seal::ChatKey> = v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let key = chat_seal::derive(
                k["password"].as_str().unwrap(),
                &h(&k["salt"]),
                (params[0], params[1], params[2]),
                &conv,
            )
            .unwrap();
            assert_eq!(key.id.to_vec(), h(&k["key_id"]), "§7.9 key id");
            key
        })
        .collect();
    let s = &v["sealed_text"];
    let plain = keys[0]
        .open_text(&conv, &h(&s["message_id"]), &h(&s["nonce"]), &h(&s["ciphertext"]))
        .unwrap();
    assert_eq!(plain, h(&s["plaintext"]));
    assert!(
        keys[1]
            .open_text(&conv, &h(&s["message_id"]), &h(&s["nonce"]), &h(&s["ciphertext"]))
            .is_err()
    );
    let c = &v["chain"];
    let old =
        keys[1].unwrap_previous(&conv, &keys[0].id, &h(&c["nonce"]), &h(&c["wrapped"])).unwrap();
    assert_eq!(old, keys[0].key, "the new password opens the old key");
    assert_eq!(chat_seal::key_id(&old, &conv).unwrap(), keys[0].id, "and it proves its id");
    // The envelopes: a sealed edit opens under the target's id.
    for e in v["envelopes"].as_array().unwrap() {
        let m = wire::AppEnvelope::decode(h(&e["encoding"]).as_slice()).unwrap();
        if let Some(wire::app_envelope::Content::SealedEdit(edit)) = m.content {
            let sealed = edit.sealed.unwrap();
            let plain =
                keys[0].open_text(&conv, &edit.target, &sealed.nonce, &sealed.ciphertext).unwrap();
            assert_eq!(plain, h(&v["edit_plaintext"]));
        }
    }
}

#[test]
fn application_friend_and_group_messages_decode_to_their_fields() {
    let v = load("app-envelope.json");
    for c in v["cases"].as_array().unwrap() {
        let m = wire::AppEnvelope::decode(h(&c["encoding"]).as_slice()).unwrap();
        let d = &c["decoded"];
        assert_eq!(m.version as u64, d["version"].as_u64().unwrap());
        assert_eq!(m.message_id, h(&d["message_id"]));
        assert_eq!(m.sender_device, h(&d["sender_device"]));
        assert_eq!(m.sequence, d["sequence"].as_u64().unwrap());
        assert_eq!(m.reply_to, h(&d["reply_to"]));
        let key = d["content"].as_object().unwrap().keys().next().unwrap().clone();
        use wire::app_envelope::Content as C;
        let name = match &m.content {
            Some(C::Text(t)) => {
                assert_eq!(t.body, d["content"]["text"]["body"].as_str().unwrap());
                "text"
            }
            Some(C::Reaction(_)) => "reaction",
            Some(C::Edit(_)) => "edit",
            Some(C::Delete(_)) => "delete",
            Some(C::Receipt(_)) => "receipt",
            Some(C::File(f)) => {
                assert_eq!(f.name, d["content"]["file"]["name"].as_str().unwrap());
                "file"
            }
            Some(C::Poll(_)) => "poll",
            Some(C::Vote(_)) => "vote",
            Some(C::PollClose(_)) => "poll_close",
            Some(C::Location(l)) => {
                assert_eq!(l.lat_e7 as i64, d["content"]["location"]["lat_e7"].as_i64().unwrap());
                "location"
            }
            Some(C::LocationUpdate(_)) => "location_update",
            Some(C::LocationStop(_)) => "location_stop",
            Some(C::Sealed(_)) => "sealed",
            Some(C::SealedEdit(_)) => "sealed_edit",
            Some(C::SealChange(_)) => "seal_change",
            Some(C::Typing(_)) => "typing",
            Some(C::Call(c)) => {
                assert_eq!(c.call_id, h(&d["content"]["call"]["call_id"]));
                "call"
            }
            Some(C::Conditional(x)) => {
                assert_eq!(x.hint, d["content"]["conditional"]["hint"].as_str().unwrap());
                "conditional"
            }
            Some(C::CheckIn(c)) => {
                assert_eq!(c.target, h(&d["content"]["check_in"]["target"]));
                "check_in"
            }
            Some(C::ShareRelease(r)) => {
                assert_eq!(r.share, h(&d["content"]["share_release"]["share"]));
                "share_release"
            }
            Some(C::Spread(s)) => {
                assert_eq!(s.hop as u64, d["content"]["spread"]["hop"].as_u64().unwrap());
                "spread"
            }
            Some(C::SpreadRetract(r)) => {
                assert_eq!(r.id, h(&d["content"]["spread_retract"]["id"]));
                "spread_retract"
            }
            Some(C::SpreadOptIn(o)) => {
                assert_eq!(o.enabled, d["content"]["spread_opt_in"]["enabled"].as_bool().unwrap());
                "spread_opt_in"
            }
            Some(C::BallotReveal(r)) => {
                assert_eq!(r.opening, h(&d["content"]["ballot_reveal"]["opening"]));
                "ballot_reveal"
            }
            Some(C::BallotKey(k)) => {
                assert_eq!(k.key, h(&d["content"]["ballot_key"]["key"]));
                "ballot_key"
            }
            Some(C::PollRing(r)) => {
                let keys = d["content"]["poll_ring"]["keys"].as_array().unwrap();
                assert_eq!(r.keys.len(), keys.len());
                for (k, want) in r.keys.iter().zip(keys) {
                    assert_eq!(k.account, h(&want["account"]));
                }
                "poll_ring"
            }
            Some(C::RingSeen(r)) => {
                assert_eq!(r.ring, h(&d["content"]["ring_seen"]["ring"]));
                "ring_seen"
            }
            None => "none",
        };
        assert_eq!(name, key, "{}", c["name"]);
    }
    let v = load("friend-message.json");
    for c in v["cases"].as_array().unwrap() {
        let m = wire::FriendMessage::decode(h(&c["encoding"]).as_slice()).unwrap();
        assert_eq!(m.request_id, h(&c["decoded"]["request_id"]));
        use wire::friend_message::Body as B;
        match (&m.body, c["name"].as_str().unwrap()) {
            (Some(B::Request(r)), _) => {
                let d = &c["decoded"]["body"]["request"];
                assert_eq!(r.display_name, d["display_name"].as_str().unwrap());
                assert_eq!(r.recipient_account, h(&d["recipient_account"]));
                assert_eq!(r.invite, h(&d["invite"]));
            }
            (Some(B::Decline(_)), "decline") | (Some(B::Remove(_)), "remove") => {}
            (Some(B::JoinFailed(f)), "join-failed") => {
                assert_eq!(
                    f.reason,
                    c["decoded"]["body"]["join_failed"]["reason"].as_str().unwrap()
                )
            }
            other => panic!("{other:?}"),
        }
    }
    let card = wire::ContactCard::decode(h(&v["card"]).as_slice()).unwrap();
    assert_eq!(card.display_name, v["card_decoded"]["display_name"].as_str().unwrap());

    let v = load("group.json");
    let meta = wire::GroupMeta::decode(h(&v["meta"]["encoding"]).as_slice()).unwrap();
    let d = &v["meta"]["decoded"];
    assert_eq!(meta.name, d["name"].as_str().unwrap());
    assert_eq!(meta.admins, d["admins"].as_array().unwrap().iter().map(h).collect::<Vec<_>>());
    assert_eq!(meta.members_invite, d["members_invite"].as_bool().unwrap());
    for c in v["cases"].as_array().unwrap() {
        let m = wire::GroupControl::decode(h(&c["encoding"]).as_slice()).unwrap();
        assert_eq!(m.invitation_id, h(&c["decoded"]["invitation_id"]));
    }
}

#[test]
fn file_chunks_open_with_a_second_decoder() {
    let v = load("file.json");
    let key = k32(&v["key"]);
    for c in v["chunks"].as_array().unwrap() {
        let (index, last) = (c["index"].as_u64().unwrap(), c["final"].as_bool().unwrap());
        assert_eq!(
            file::open_chunk(&key, index, last, &h(&c["sealed"])).unwrap(),
            h(&c["plaintext"])
        );
        assert!(file::open_chunk(&key, index, !last, &h(&c["sealed"])).is_err());
    }
    let fetch = wire::FileFetch::decode(h(&v["fetch"]).as_slice()).unwrap();
    assert_eq!(fetch.offset % 65_552, 0);
    let reply = wire::FileFetchReply::decode(h(&v["fetch_reply"]).as_slice()).unwrap();
    assert_eq!(reply.status, wire::FileFetchStatus::Ok as i32);
}

#[test]
fn mls_vectors_made_by_openmls_process_in_mls_rs() {
    let v = load("mls.json");
    let at =
        MlsTime::from_duration_since_epoch(Duration::from_secs(v["check_time"].as_u64().unwrap()));
    let now = v["check_time"].as_u64().unwrap();

    // KeyPackages (§2.6): every decoded field.
    for name in ["key_package", "key_package_last_resort"] {
        let c = &v[name];
        let d = &c["decoded"];
        let msg = MlsMessage::from_bytes(&h(&c["message"])).unwrap();
        assert_eq!(msg.cipher_suite(), Some(CIPHER_SUITE));
        let kp = msg.into_key_package().unwrap();
        assert_eq!(kp.hpke_init_key.as_ref(), h(&d["init_key"]).as_slice());
        // The leaf, read from the KeyPackage's encoding: version (2),
        // cipher_suite (2), init_key (a variable-length vector), leaf_node.
        let encoded = kp.mls_encode_to_vec().unwrap();
        let mut rest = &encoded[4..];
        let _init = mls_rs::crypto::HpkePublicKey::mls_decode(&mut rest).unwrap();
        let leaf = &mls_rs::group::LeafNode::mls_decode(&mut rest).unwrap();
        assert_eq!(leaf.public_key.as_ref(), h(&d["leaf_node"]["encryption_key"]).as_slice());
        let cert = mls::member_certificate(&leaf.signing_identity, now).unwrap();
        assert_eq!(cert.bytes, h(&d["leaf_node"]["credential"]["identity"]));
        assert_eq!(cert.bytes, h(&v["bob_certificate"]));
        let caps = &leaf.capabilities;
        let want = |k: &str| {
            d["leaf_node"]["capabilities"][k]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u16)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            caps.extensions.iter().map(|e| e.raw_value()).collect::<Vec<_>>(),
            want("extensions")
        );
        assert_eq!(
            caps.cipher_suites.iter().map(|c| u16::from(*c)).collect::<Vec<_>>(),
            want("cipher_suites")
        );
        assert_eq!(
            caps.credentials.iter().map(|c| c.raw_value()).collect::<Vec<_>>(),
            want("credentials")
        );
        for ext in [mls::LAST_RESORT, mls::META] {
            assert!(want("extensions").contains(&ext), "§2.6: {ext:#06x} declared");
        }
        let mls_rs::group::LeafNodeSource::KeyPackage(life) = &leaf.leaf_node_source else {
            panic!("not a KeyPackage leaf")
        };
        let lt = &d["leaf_node"]["lifetime"];
        assert_eq!(life.not_before.seconds_since_epoch(), lt["not_before"].as_u64().unwrap());
        assert_eq!(life.not_after.seconds_since_epoch(), lt["not_after"].as_u64().unwrap());
        assert!(
            life.not_after.seconds_since_epoch() - life.not_before.seconds_since_epoch()
                <= 90 * 86_400
        );
        let lr =
            kp.extensions.has_extension(mls_rs::extension::ExtensionType::new(mls::LAST_RESORT));
        assert_eq!(lr, d["last_resort"].as_bool().unwrap(), "{name}");
    }

    // Bob's device in mls-rs, holding both KeyPackages' private keys.
    let cert = identity::verify_certificate(&h(&v["bob_certificate"]), now).unwrap();
    let mls_key = ed25519_dalek::SigningKey::from_bytes(&k32(&v["bob_mls_seed"]));
    use mls_rs::identity::basic::BasicCredential;
    use mls_rs::identity::{Credential, SigningIdentity};
    let bob = mls_rs::Client::builder()
        .extension_types([
            mls_rs::extension::ExtensionType::new(mls::LAST_RESORT),
            mls_rs::extension::ExtensionType::new(mls::META),
        ])
        .crypto_provider(mls_rs_crypto_rustcrypto::RustCryptoProvider::default())
        .identity_provider(KovanIdentity)
        .mls_rules(mls::Rules::default())
        .signing_identity(
            SigningIdentity::new(
                Credential::Basic(BasicCredential::new(cert.bytes.clone())),
                mls_key.verifying_key().to_bytes().to_vec().into(),
            ),
            mls_key.to_keypair_bytes().to_vec().into(),
            CIPHER_SUITE,
        )
        .build();
    let cs = mls_rs_crypto_rustcrypto::RustCryptoProvider::default()
        .cipher_suite_provider(CIPHER_SUITE)
        .unwrap();
    for name in ["key_package", "key_package_last_resort"] {
        let c = &v[name];
        let msg = MlsMessage::from_bytes(&h(&c["message"])).unwrap();
        let id = msg.key_package_reference(&cs).unwrap().unwrap();
        let kp = msg.into_key_package().unwrap();
        bob.key_package_store().insert(
            id.to_vec(),
            KeyPackageData::new(
                kp.mls_encode_to_vec().unwrap(),
                h(&c["init_private_key"]).into(),
                h(&c["encryption_private_key"]).into(),
                kp.expiration().unwrap().seconds_since_epoch(),
            ),
        );
    }

    // The 1:1 Welcome (§7.4.2): the ratchet tree inline, two members, no
    // context extensions.
    let check_welcome = |name: &str| {
        let c = &v[name];
        let d = &c["decoded"];
        let msg = MlsMessage::from_bytes(&h(&c["message"])).unwrap();
        assert_eq!(msg.wire_format(), mls_rs::WireFormat::Welcome);
        let (group, _) = bob.join_group(None, &msg, Some(at)).unwrap();
        assert_eq!(group.group_id(), h(&d["group_id"]).as_slice());
        assert_eq!(group.current_epoch(), d["epoch"].as_u64().unwrap());
        let members: Vec<String> = group
            .roster()
            .members()
            .iter()
            .map(|m| hex::encode(mls::member_certificate(&m.signing_identity, now).unwrap().bytes))
            .collect();
        assert_eq!(serde_json::json!(members), d["members"]);
        group
    };
    let mut one = check_welcome("welcome_1to1");
    assert!(one.context().extensions.is_empty(), "§7.4.2: no context extensions");

    // The application message, then the two commits, in order.
    let app = &v["application"];
    let msg = MlsMessage::from_bytes(&h(&app["message"])).unwrap();
    assert_eq!(msg.wire_format(), mls_rs::WireFormat::PrivateMessage);
    assert_eq!(msg.epoch(), app["decoded"]["epoch"].as_u64());
    let ReceivedMessage::ApplicationMessage(m) =
        one.process_incoming_message_with_time(msg, at).unwrap()
    else {
        panic!("not an application message")
    };
    assert_eq!(m.data(), h(&app["decoded"]["plaintext"]).as_slice());
    assert_eq!(m.sender_index as u64, app["decoded"]["sender_leaf"].as_u64().unwrap());
    let text = wire::AppEnvelope::decode(m.data()).unwrap();
    assert!(matches!(text.content, Some(wire::app_envelope::Content::Text(_))));
    for (name, wf) in [
        ("commit", mls_rs::WireFormat::PrivateMessage),
        ("commit_public", mls_rs::WireFormat::PublicMessage),
    ] {
        let c = &v[name];
        let msg = MlsMessage::from_bytes(&h(&c["message"])).unwrap();
        assert_eq!(msg.wire_format(), wf, "{name}");
        assert_eq!(msg.epoch(), c["decoded"]["epoch"].as_u64());
        let got = one.process_incoming_message_with_time(msg, at).unwrap();
        assert!(matches!(got, ReceivedMessage::Commit(_)), "{name}");
        assert_eq!(one.current_epoch(), c["decoded"]["new_epoch"].as_u64().unwrap());
    }

    // The group Welcome (§7.6.1): the meta and required_capabilities.
    let group = check_welcome("welcome_group");
    let exts = &v["welcome_group"]["decoded"]["group_context_extensions"];
    let meta =
        group.context().extensions.get(mls_rs::extension::ExtensionType::new(mls::META)).unwrap();
    assert_eq!(meta.extension_data(), h(&exts[1]["extension_data"]).as_slice());
    let meta = wire::GroupMeta::decode(meta.extension_data()).unwrap();
    assert_eq!(meta.version, 1);
    assert!(
        group
            .context()
            .extensions
            .has_extension(mls_rs::extension::ExtensionType::REQUIRED_CAPABILITIES)
    );
}

#[test]
fn community_actions_verify_under_their_labels_and_ids_are_hashes() {
    use sha2::{Digest as _, Sha256};
    let v = load("community-actions.json");
    let key = ed25519_dalek::SigningKey::from_bytes(&k32(&v["account_seed"]));
    let public = key.verifying_key();
    assert_eq!(hex::encode(public.to_bytes()), v["account_key"]);
    for c in v["cases"].as_array().unwrap() {
        let label = c["label"].as_str().unwrap();
        assert_eq!(label, format!("kovan/v1/community-{}", c["kind"].as_str().unwrap()));
        let tbs = h(&c["tbs"]);
        let sig = ed25519_dalek::Signature::from_slice(&h(&c["signature"])).unwrap();
        public.verify_strict(&identity::signing_input(label, &tbs), &sig).unwrap();
        assert_eq!(Sha256::digest(&tbs)[..16].to_vec(), h(&c["id"]));
        let action = wire::CommunityAction::decode(tbs.as_slice()).unwrap();
        assert_eq!(action.author, public.to_bytes().to_vec());
    }
}
