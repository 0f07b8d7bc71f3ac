//! The spec's test vectors: the code reproduces them byte for byte, and the
//! vectors, read back from the files, verify and open as the spec says.

use kovan_crypto::context::SigContext;
use kovan_crypto::envelope::{self, PayloadKind};
use kovan_crypto::identity::DeviceCertificate;
use kovan_crypto::keystore;
use serde_json::Value;
use x25519_dalek::StaticSecret;

fn load(name: &str) -> Value {
    let path = format!("{}/../spec/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn h(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

#[test]
fn generated_vectors_match_the_committed_files() {
    for v in kovan_tests::vectors::generate().unwrap() {
        let path = format!("{}/../spec/vectors/{}", env!("CARGO_MANIFEST_DIR"), v.name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == v.text,
            "{} is stale: run `cargo run -p kovan-tests --bin kovan-vectors -- write`",
            v.name
        );
    }
}

#[test]
fn committed_vectors_verify_and_open() {
    let cert = load("device-certificate.json");
    let not_before = cert["not_before"].as_u64().unwrap();
    let parsed = DeviceCertificate::verify(&h(&cert["certificate"]), not_before).unwrap();
    assert_eq!(parsed.account().to_string(), cert["account_key"].as_str().unwrap());
    assert_eq!(parsed.peer_id().to_string(), cert["peer_id"].as_str().unwrap());

    let reg = load("relay-registration.json");
    let reg_cert = DeviceCertificate::parse(&h(&reg["device_certificate"])).unwrap();
    assert_eq!(reg_cert.keys().p2p.to_vec(), h(&reg["p2p_key"]));
    let data = h(&reg["signed_data"]);
    reg_cert
        .account()
        .verify(SigContext::AccountRegistration, &data, &h(&reg["signature"]))
        .unwrap();
    kovan_crypto::identity::verify_relay_device_proof(
        &reg_cert,
        &data,
        &h(&reg["device_signature"]),
    )
    .unwrap();

    let ks = load("keystore.json");
    let opened =
        keystore::open(&h(&ks["keystore"]), ks["passphrase"].as_str().unwrap().as_bytes()).unwrap();
    assert_eq!(opened.certificate.encoded(), h(&ks["certificate"]));

    let env = load("sealed-envelope.json");
    let secret: [u8; 32] = h(&env["recipient"]["envelope_secret"]).try_into().unwrap();
    let opened =
        envelope::open(&StaticSecret::from(secret), &h(&env["envelope"]), not_before + 1).unwrap();
    assert_eq!(opened.payload, h(&env["payload"]));
    assert_eq!(opened.kind, PayloadKind::MlsMessage);
    assert_eq!(opened.sender.encoded(), h(&env["sender_certificate"]));
    assert_eq!(opened.envelope_id.to_vec(), h(&env["envelope_id"]));

    let apps = load("app-envelope.json");
    for case in apps["cases"].as_array().unwrap() {
        let v = kovan_spec::validate_app_envelope(&h(&case["encoding"])).unwrap();
        assert_eq!(v.sequence, 7, "{}", case["name"]);
        // A malformed case is kept as unsupported content, not refused
        // (§6.3); every other case is valid.
        let invalid = matches!(v.content, kovan_spec::validate::Content::Invalid { .. });
        let name = case["name"].as_str().unwrap();
        assert_eq!(invalid, name.contains("malformed"), "{name}: {:?}", v.content);
    }

    let friends = load("friend-message.json");
    for case in friends["cases"].as_array().unwrap() {
        let v = kovan_spec::validate_friend_message(&h(&case["encoding"])).unwrap();
        assert_eq!(v.request_id, [0x44; 16], "{}", case["name"]);
    }
    let card: kovan_spec::wire::ContactCard = kovan_spec::decode(&h(&friends["card"])).unwrap();
    kovan_crypto::identity::DeviceCertificate::parse(&card.device_certificate).unwrap();

    let group = load("group.json");
    let meta = kovan_spec::validate_group_meta(&h(&group["meta"]["encoding"])).unwrap();
    assert_eq!(meta.name, "Kovan ekibi 🐝");
    assert_eq!((meta.admins.len(), meta.banned.len(), meta.members_invite), (1, 1, true));
    for case in group["cases"].as_array().unwrap() {
        let v = kovan_spec::validate_group_control(&h(&case["encoding"])).unwrap();
        assert_eq!(v.invitation_id, [0x77; 16], "{}", case["name"]);
    }
    let r = &group["rank"];
    let mut input = h(&r["exporter"]);
    input.extend_from_slice(&(r["leaf_index"].as_u64().unwrap() as u32).to_be_bytes());
    use sha2::Digest as _;
    assert_eq!(hex::encode(sha2::Sha256::digest(&input)), r["rank"].as_str().unwrap());
}

#[test]
fn poll_vectors_verify_and_a_changed_ballot_does_not() {
    use kovan_crypto::poll::{self, Close};
    use kovan_spec::validate::{PollSpec, SignedBallot, Verifiable};
    let v = load("poll.json");
    let arr = |x: &Value| -> [u8; 32] { h(x).try_into().unwrap() };
    let voters: Vec<[u8; 32]> = v["voters"].as_array().unwrap().iter().map(arr).collect();
    let nonce: [u8; 16] = h(&v["nonce"]).try_into().unwrap();
    let epoch = v["epoch"].as_u64().unwrap();
    assert_eq!(hex::encode(poll::binding_context(&nonce, epoch, &voters)), v["binding_context"]);
    let ballots = |key: &str| -> Vec<SignedBallot> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| SignedBallot {
                account: arr(&b["account"]),
                choices: b["choices"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_u64().unwrap() as u32)
                    .collect(),
                signature: h(&b["signature"]).try_into().unwrap(),
                commitment: None,
            })
            .collect()
    };
    let (counted, void) = (ballots("counted"), ballots("void"));
    let id: [u8; 16] = h(&v["poll"]).try_into().unwrap();
    let spec = PollSpec {
        question: "q".into(),
        options: vec!["a".into(), "b".into()],
        multiple: false,
        verifiable: None,
    };
    let vp = Verifiable {
        epoch,
        nonce,
        voters,
        binding: arr(&v["binding"]),
        sealed: false,
        anonymous: false,
    };
    let seen: Vec<SignedBallot> = counted.iter().chain(&void).cloned().collect();
    let audit = poll::audit(&id, &spec, &vp, &seen, Some(Close { ballots: &counted, void: &void }));
    assert!(audit.holds(), "{:?}", audit.findings);
    assert_eq!(serde_json::json!(audit.tally), v["tally"]);
    let mut changed = counted.clone();
    changed[0].choices = vec![0];
    let audit = poll::audit(&id, &spec, &vp, &seen, Some(Close { ballots: &changed, void: &void }));
    assert!(!audit.holds(), "a close with a changed ballot must not verify");

    // Sealed ballots (§6.4.3): each commitment from its preimage, signed;
    // the close holds; the reveals give the tally.
    let s = &v["sealed"];
    let vp = Verifiable { sealed: true, ..vp };
    let mut sealed = Vec::new();
    let mut reveals = Vec::new();
    for b in s["ballots"].as_array().unwrap() {
        let account = arr(&b["account"]);
        let choices: Vec<u32> =
            b["choices"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap() as u32).collect();
        let c = poll::commitment(&id, &vp.binding, &account, &arr(&b["opening"]), &choices);
        assert_eq!(hex::encode(c), b["commitment"]);
        sealed.push(SignedBallot {
            account,
            choices: Vec::new(),
            signature: h(&b["signature"]).try_into().unwrap(),
            commitment: Some(c),
        });
        if let Some(r) = b["reveal"].as_str() {
            let r = <kovan_spec::wire::BallotReveal as prost::Message>::decode(
                hex::decode(r).unwrap().as_slice(),
            )
            .unwrap();
            let reveal = kovan_spec::validate::Reveal {
                poll: id,
                choices: r.choices,
                opening: r.opening.try_into().unwrap(),
            };
            reveals.push((account, reveal));
        }
    }
    let close =
        <kovan_spec::wire::PollClose as prost::Message>::decode(h(&s["close"]).as_slice()).unwrap();
    assert_eq!(close.ballots.len(), sealed.len());
    let audit = poll::audit(&id, &spec, &vp, &sealed, Some(Close { ballots: &sealed, void: &[] }));
    assert!(audit.holds(), "{:?}", audit.findings);
    let (tally, hidden) = poll::revealed_tally(&id, &spec, &vp, &audit.counted, &reveals);
    assert_eq!(
        (serde_json::json!(tally), serde_json::json!(hidden)),
        (s["tally"].clone(), s["not_revealed"].clone())
    );
    let mut lying = reveals.clone();
    lying[0].1.choices = vec![0];
    assert_ne!(poll::revealed_tally(&id, &spec, &vp, &audit.counted, &lying).0, tally);
}

#[test]
fn ring_ballot_vectors_verify_and_an_altered_one_does_not() {
    use kovan_crypto::ring_ballot::{self as rb, RingBallot};
    let v = load("ring-ballot.json");
    let arr = |x: &Value| -> [u8; 32] { h(x).try_into().unwrap() };
    let poll: [u8; 16] = h(&v["poll"]).try_into().unwrap();
    let binding = arr(&v["binding"]);
    let ring: Vec<[u8; 32]> = v["ring"].as_array().unwrap().iter().map(arr).collect();
    for r in v["registrations"].as_array().unwrap() {
        let sig: [u8; 64] = h(&r["signature"]).try_into().unwrap();
        let (account, key) = (arr(&r["account"]), arr(&r["key"]));
        assert!(rb::registration_signed(&account, &poll, &binding, &key, &sig));
        assert!(ring.contains(&key));
    }
    let ballot = RingBallot {
        choices: vec![v["choices"][0].as_u64().unwrap() as u32],
        challenge: arr(&v["challenge"]),
        responses: v["responses"].as_array().unwrap().iter().map(arr).collect(),
        key_image: arr(&v["key_image"]),
    };
    assert!(rb::ring_ballot_valid(&ring, &poll, &binding, &ballot));
    // As it travels (sealed with no sender): the group, the poll and the
    // ballot, which still verifies.
    let sent = kovan_spec::validate::validate_anonymous_ballot(&h(&v["anonymous_ballot"])).unwrap();
    assert_eq!((sent.poll, sent.key_image), (poll, ballot.key_image));
    assert_eq!(sent.responses, ballot.responses);
    // The creator's ring holds the three signed registrations, and the
    // close counts the ballot by its key image.
    let app = |content| {
        kovan_spec::encode(&kovan_spec::wire::AppEnvelope {
            version: 1,
            message_id: vec![1; 16],
            sender_device: vec![1; 38],
            sequence: 1,
            content: Some(content),
            ..Default::default()
        })
    };
    use kovan_spec::validate::{Content, validate_app_envelope};
    use kovan_spec::wire;
    use prost::Message as _;
    use wire::app_envelope::Content as C;
    let ring_wire = wire::PollRing::decode(h(&v["poll_ring"]).as_slice()).unwrap();
    let published = app(C::PollRing(ring_wire));
    let Content::PollRing { members, .. } = validate_app_envelope(&published).unwrap().content
    else {
        panic!("not a ring");
    };
    assert_eq!(members.iter().map(|m| m.key).collect::<Vec<_>>(), ring);
    assert_eq!(rb::ring_digest(&ring), arr(&v["ring_digest"]), "what members say they hold");
    let closed = app(C::PollClose(wire::PollClose::decode(h(&v["close"]).as_slice()).unwrap()));
    let Content::PollClose { anonymous, .. } = validate_app_envelope(&closed).unwrap().content
    else {
        panic!("not a close");
    };
    assert_eq!(anonymous, vec![(ballot.key_image, ballot.choices.clone())]);
    let mut altered = ballot;
    altered.choices = vec![0];
    assert!(!rb::ring_ballot_valid(&ring, &poll, &binding, &altered));
}

#[test]
fn spread_vectors_verify_every_hop_and_a_lowered_hop_does_not() {
    use kovan_crypto::spread;
    use kovan_spec::validate::{spread as structure, spread_retract};
    let v = load("spread.json");
    let decode = |e: &Value| structure(kovan_spec::decode(&h(&e["encoding"])).unwrap()).unwrap();
    let hops: Vec<_> = v["hops"].as_array().unwrap().iter().map(decode).collect();
    let hops: Vec<_> = hops.into_iter().map(|s| spread::verify(s).unwrap()).collect();
    for (i, s) in hops.iter().enumerate() {
        assert_eq!(usize::from(s.hop), i + 1);
        assert_eq!(s.core.text, "Kayıp kedi: Tekir");
    }
    assert!(spread::pass_on(&hops[2]).is_none(), "the limit is three hops");
    let mut lowered = (*hops[2]).clone();
    lowered.hop = 2;
    assert!(spread::verify(lowered).is_err());
    let r = kovan_spec::decode(&h(&v["retraction"]["encoding"])).unwrap();
    assert!(spread::retract_signed(&spread_retract(r).unwrap()));
}

#[test]
fn file_chunk_vectors_open_and_altered_ones_do_not() {
    let v = load("file.json");
    let key = kovan_crypto::file::FileKey::from_slice(&h(&v["key"])).unwrap();
    for c in v["chunks"].as_array().unwrap() {
        let (index, last) = (c["index"].as_u64().unwrap(), c["final"].as_bool().unwrap());
        let mut buf = h(&c["sealed"]);
        kovan_crypto::file::open_chunk(&key, index, last, &mut buf).unwrap();
        assert_eq!(buf, h(&c["plaintext"]));
        // The same bytes under another index or final flag do not open.
        let mut moved = h(&c["sealed"]);
        assert!(kovan_crypto::file::open_chunk(&key, index + 1, last, &mut moved).is_err());
        let mut flipped = h(&c["sealed"]);
        assert!(kovan_crypto::file::open_chunk(&key, index, !last, &mut flipped).is_err());
    }
}
