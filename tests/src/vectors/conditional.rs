//! §6.10 conditional messages: a text sealed under a password and an area,
//! and a members lock's shares (§6.10.3).

use kovan_crypto::conditional as cond;
use kovan_spec::{encode, wire};
use serde_json::json;
use zeroize::Zeroizing;

use super::{VectorFile, file, seed};

/// The vector's `Conditional` (also an `app-envelope.json` case) and its file.
pub(super) fn conditional_vectors() -> anyhow::Result<(wire::Conditional, VectorFile)> {
    let (password, salt, costs) = ("mavi kapı", [0x5a; 16], [64 * 1024, 3, 4]);
    let key_part = [0xa7; 32];
    let conditions = vec![
        wire::Condition {
            kind: Some(wire::condition::Kind::Password(wire::PasswordLock {
                salt: salt.to_vec(),
                memory_kib: costs[0],
                passes: costs[1],
                lanes: costs[2],
            })),
        },
        wire::Condition {
            kind: Some(wire::condition::Kind::Area(wire::AreaLock {
                lat_e7: 410_082_000,
                lon_e7: 289_784_000,
                radius_m: 500,
                key_part: key_part.to_vec(),
            })),
        },
    ];
    let encoded: Vec<Vec<u8>> = conditions.iter().map(encode).collect();
    let part = cond::password_part(password, &salt, costs)?;
    let key = cond::content_key(&[part.clone(), Zeroizing::new(key_part)]);
    let body = encode(&wire::ConditionalBody { text: "kasanın şifresi 4721".into(), file: None });
    let nonce = [0x4e; 24];
    let ciphertext = cond::seal_with(&key, &nonce, &encoded, &body);
    let c = wire::Conditional {
        conditions,
        nonce: nonce.to_vec(),
        ciphertext: ciphertext.clone(),
        hint: "doğum günün".into(),
        file: None,
    };
    let out = file(
        "conditional.json",
        json!({
            "description": "SPEC.md §6.10: a text sealed until a password (Argon2id) and an area (key part in the clear) both hold; content key = HKDF-SHA256(salt 'kovan/v1/conditional', parts in order, info 'content key'); XChaCha20-Poly1305 with associated data 'kovan/v1/conditional' || SHA-256(u32be(len) || condition, for each)",
            "password": password,
            "password_part": hex::encode(part.as_ref()),
            "area_key_part": hex::encode(key_part),
            "conditions": encoded.iter().map(hex::encode).collect::<Vec<_>>(),
            "associated_data": hex::encode(cond::associated_data(&encoded)),
            "content_key": hex::encode(key.as_ref()),
            "nonce": hex::encode(nonce),
            "body": hex::encode(&body),
            "ciphertext": hex::encode(&ciphertext),
            "encoding": hex::encode(encode(&c)),
            "members": members()?,
            "file": sealed_file(password, &salt, costs)?,
            "relays": relays()?,
        }),
    );
    Ok((c, out))
}

/// §6.10.5: a file sealed until a password: its bytes sealed under an inner
/// key (§7.7.2) and announced as "sealed"; the key, name, type, size and
/// hash in the body.
fn sealed_file(
    password: &str,
    salt: &[u8; 16],
    costs: [u32; 3],
) -> anyhow::Result<serde_json::Value> {
    use kovan_crypto::file::{FileKey, open_chunk, seal_chunk};
    use sha2::{Digest as _, Sha256};
    let plaintext = "Vasiyetimdir: bahçedeki zeytin ağaçları kardeşimindir.\n".repeat(3);
    let inner_key = FileKey::from_slice(&[0x6b; 32])?;
    let mut sealed = plaintext.as_bytes().to_vec();
    seal_chunk(&inner_key, 0, true, &mut sealed);
    let offer = wire::FileRef {
        file_id: vec![0xf6; 16],
        name: kovan_spec::validate::SEALED_FILE_NAME.into(),
        mime: kovan_spec::validate::SEALED_FILE_MIME.into(),
        size: sealed.len() as u64,
        sha256: Sha256::digest(&sealed).to_vec(),
        key: vec![0x6c; 32],
        chunk_size: kovan_spec::limits::FILE_CHUNK_SIZE,
        ..Default::default()
    };
    let body = encode(&wire::ConditionalBody {
        text: "ekte".into(),
        file: Some(wire::SealedFileKey {
            key: inner_key.as_bytes().to_vec(),
            name: "vasiyet.txt".into(),
            mime: "text/plain".into(),
            size: plaintext.len() as u64,
            sha256: Sha256::digest(plaintext.as_bytes()).to_vec(),
        }),
    });
    let condition = wire::Condition {
        kind: Some(wire::condition::Kind::Password(wire::PasswordLock {
            salt: salt.to_vec(),
            memory_kib: costs[0],
            passes: costs[1],
            lanes: costs[2],
        })),
    };
    let encoded = vec![encode(&condition)];
    let key = cond::content_key(&[cond::password_part(password, salt, costs)?]);
    let nonce = [0x4f; 24];
    let ciphertext = cond::seal_with(&key, &nonce, &encoded, &body);
    let c = wire::Conditional {
        conditions: vec![condition],
        nonce: nonce.to_vec(),
        ciphertext: ciphertext.clone(),
        hint: String::new(),
        file: Some(offer.clone()),
    };
    // What a receiver does: the message checks, the body opens and fits the
    // announcement, and the inner key opens the bytes.
    let spec = kovan_spec::validate::conditional(c.clone()).map_err(anyhow::Error::msg)?;
    let opened = cond::open(&key, &spec.nonce, &spec.encoded, &spec.ciphertext)?;
    let checked = kovan_spec::validate::conditional_body(&opened, spec.file.as_ref())
        .map_err(anyhow::Error::msg)?;
    let sealed_file = checked.file.ok_or_else(|| anyhow::anyhow!("the body names the file"))?;
    let mut back = sealed.clone();
    open_chunk(&FileKey::from_slice(&sealed_file.key)?, 0, true, &mut back)?;
    anyhow::ensure!(back == plaintext.as_bytes(), "the inner key opens the file");
    Ok(json!({
        "description": "SPEC.md §6.10.5: a conditional file; its bytes are sealed under an inner key as a file is (§7.7.2) and announced as a file named 'sealed' of type application/octet-stream; the body carries the text, the inner key and the file's name, type, size and SHA-256; here under a password lock (the same password, salt and costs as above)",
        "plaintext": hex::encode(plaintext.as_bytes()),
        "inner_key": hex::encode(inner_key.as_bytes()),
        "sealed_bytes": hex::encode(&sealed),
        "announcement": hex::encode(encode(&offer)),
        "content_key": hex::encode(key.as_ref()),
        "body": hex::encode(&body),
        "encoding": hex::encode(encode(&c)),
    }))
}

/// §6.10.3 and §6.10.4: a part split 2-of-3 among three holders of a
/// lock that its holders' nodes release not before 2027-01-01T00:00:00Z and
/// after a week of the sender's silence; each share sealed to a device and
/// bound to its message; the part again from shares 1 and 3.
fn members() -> anyhow::Result<serde_json::Value> {
    use x25519_dalek::{PublicKey, StaticSecret};
    let part = [0x3c; 32];
    let shares = cond::split(&mut super::poll::VectorRng::default(), &part, 2, 3)?;
    let accounts = [[0xb0; 32], [0xb1; 32], [0xb2; 32]];
    let pairs: Vec<([u8; 32], [u8; 32])> =
        accounts.iter().zip(&shares).map(|(a, s)| (*a, cond::commitment(s))).collect();
    let (release_at_ms, silence_ms) = (1_798_761_600_000u64, 7 * 86_400_000u64);
    let fields = cond::LockFields { threshold: 2, release_at_ms, silence_ms, holders: &pairs };
    let (group, message_id, sender) = (b"kovan vector group".as_slice(), [0x27; 16], [0xa0; 32]);
    let binding = cond::ShareBinding {
        conversation: group,
        message_id: &message_id,
        sender: &sender,
        lock_digest: fields.digest(),
    };
    let device = StaticSecret::from([0x44; 32]);
    let device_key = PublicKey::from(&device).to_bytes();
    let mut holders = Vec::new();
    let mut sealed_out = Vec::new();
    for (i, share) in shares.iter().enumerate() {
        let ephemeral = StaticSecret::from([0x45 + i as u8; 32]);
        let (eph, sealed) = cond::seal_share_with(&ephemeral, &device_key, share, &binding)?;
        let opened = cond::open_share(&device, &eph, &sealed, &pairs[i].1, &binding)?;
        anyhow::ensure!(*opened == **share, "a sealed share opens");
        sealed_out.push(json!({
            "ephemeral_secret": hex::encode(ephemeral.to_bytes()),
            "ephemeral_key": hex::encode(eph),
            "sealed": hex::encode(&sealed),
        }));
        holders.push(wire::ShareHolder {
            account: accounts[i].to_vec(),
            commitment: pairs[i].1.to_vec(),
            sealed: vec![wire::SealedShare {
                envelope_key: device_key.to_vec(),
                ephemeral: eph.to_vec(),
                ciphertext: sealed,
            }],
        });
    }
    let again = cond::combine(&[shares[0].clone(), shares[2].clone()])?;
    anyhow::ensure!(*again == part, "shares 1 and 3 give the part");
    let lock = wire::Condition {
        kind: Some(wire::condition::Kind::Members(wire::MembersLock {
            threshold: 2,
            holders,
            release_at_ms,
            silence_ms,
        })),
    };
    Ok(json!({
        "description": "SPEC.md §6.10.3-4: Shamir over GF(2^8) per byte, share = x || y (x = holder's place + 1); commitment = SHA-256('kovan/v1/conditional-share' || share); lock = SHA-256('kovan/v1/conditional-share' || '/lock' || threshold || u64be(release_at_ms) || u64be(silence_ms) || (account || commitment)*); binding = u32be(len(group)) || group || message id || sender || lock; a share sealed to a device: X25519 with a one-time key, HKDF-SHA256(salt 'kovan/v1/conditional-share', info E || D || commitment || binding, 44) -> ChaCha20-Poly1305 key || nonce, ad 'kovan/v1/conditional-share' || commitment || binding",
        "part": hex::encode(part),
        "threshold": 2,
        "release_at_ms": release_at_ms,
        "silence_ms": silence_ms,
        "accounts": accounts.iter().map(hex::encode).collect::<Vec<_>>(),
        "shares": shares.iter().map(|s| hex::encode(s.as_ref())).collect::<Vec<_>>(),
        "commitments": pairs.iter().map(|(_, c)| hex::encode(c)).collect::<Vec<_>>(),
        "lock_digest": hex::encode(fields.digest()),
        "group": hex::encode(group),
        "message_id": hex::encode(message_id),
        "sender": hex::encode(sender),
        "binding": hex::encode(binding.bytes()),
        "device_secret": hex::encode(device.to_bytes()),
        "device_key": hex::encode(device_key),
        "sealed_shares": sealed_out,
        "combined_from": [1, 3],
        "combined": hex::encode(again.as_ref()),
        "lock_encoding": hex::encode(encode(&lock)),
    }))
}

/// §6.10.6: a part split 2-of-3 among three relays that release not
/// before 2027-01-01T00:00:00Z or after a week of silence; the relay lock;
/// the owner's signed deposit (of the first share), check-in and
/// cancellation.
fn relays() -> anyhow::Result<serde_json::Value> {
    use kovan_crypto::context::{self, SigContext};
    use kovan_crypto::identity::AccountKey;
    use kovan_spec::validate::TrusteeKind;
    use wire::trustee_request::Body;
    let part = [0x6b; 32];
    let shares = cond::split(&mut super::poll::VectorRng::default(), &part, 2, 3)?;
    let (release_at_ms, silence_ms) = (1_798_761_600_000u64, 7 * 86_400_000u64);
    let relays = ["https://relay-a.example", "https://relay-b.example:8480", "http://10.0.0.7"];
    let deposits = [[0xd1; 16], [0xd2; 16], [0xd3; 16]];
    let trustees: Vec<wire::RelayTrustee> = relays
        .iter()
        .zip(&deposits)
        .zip(&shares)
        .map(|((r, d), s)| wire::RelayTrustee {
            relay: (*r).into(),
            deposit: d.to_vec(),
            commitment: cond::commitment(s).to_vec(),
        })
        .collect();
    let lock = wire::Condition {
        kind: Some(wire::condition::Kind::Relays(wire::RelayLock {
            threshold: 2,
            trustees: trustees.clone(),
            release_at_ms,
            silence_ms,
        })),
    };
    let again = cond::combine(&[shares[1].clone(), shares[2].clone()])?;
    anyhow::ensure!(*again == part, "shares 2 and 3 give the part");
    let owner = AccountKey::from_seed(&seed(0x81));
    let created_ms = 1_790_000_000_000u64;
    let ids = || wire::TrusteeIds { deposits: vec![deposits[0].to_vec()] };
    let mut requests = serde_json::Map::new();
    for (name, kind, body) in [
        (
            "deposit",
            TrusteeKind::Deposit,
            Body::Deposit(wire::TrusteeDeposit {
                deposit: deposits[0].to_vec(),
                share: shares[0].to_vec(),
                release_at_ms,
                silence_ms,
            }),
        ),
        ("check_in", TrusteeKind::CheckIn, Body::CheckIn(ids())),
        ("cancel", TrusteeKind::Cancel, Body::Cancel(ids())),
    ] {
        let req = wire::TrusteeRequest {
            owner: owner.id().as_bytes().to_vec(),
            created_ms,
            body: Some(body),
        };
        let (bytes, sig) = kovan_crypto::trustee::sign_request(&owner, &req)?;
        kovan_crypto::trustee::open_request(&bytes, &sig)?;
        requests.insert(
            name.into(),
            json!({
                "request": hex::encode(&bytes),
                "signing_input": hex::encode(context::signing_input(SigContext::Trustee(kind), &bytes)),
                "signature": hex::encode(sig),
            }),
        );
    }
    Ok(json!({
        "description": "SPEC.md §6.10.6: the part split 2-of-3 as a members lock's (Shamir over GF(2^8), x = relay's place + 1), commitment = SHA-256('kovan/v1/conditional-share' || share); the RelayLock condition; TrusteeRequest encodings signed by the owner's account key under kovan/v1/trustee-deposit, -check-in and -cancel (§2.1)",
        "part": hex::encode(part),
        "shares": shares.iter().map(|s| hex::encode(s.as_ref())).collect::<Vec<_>>(),
        "commitments": trustees.iter().map(|t| hex::encode(&t.commitment)).collect::<Vec<_>>(),
        "combined_from": [2, 3],
        "lock_encoding": hex::encode(encode(&lock)),
        "owner_seed": hex::encode(seed(0x81)),
        "owner": hex::encode(owner.id().as_bytes()),
        "requests": requests,
    }))
}
