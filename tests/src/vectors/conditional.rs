//! §6.10 conditional messages: a text sealed under a password and an area,
//! and a members lock's shares (§6.10.3).

use kovan_crypto::conditional as cond;
use kovan_spec::{encode, wire};
use serde_json::json;
use zeroize::Zeroizing;

use super::{VectorFile, file};

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
    let body = encode(&wire::ConditionalBody { text: "kasanın şifresi 4721".into() });
    let nonce = [0x4e; 24];
    let ciphertext = cond::seal_with(&key, &nonce, &encoded, &body);
    let c = wire::Conditional {
        conditions,
        nonce: nonce.to_vec(),
        ciphertext: ciphertext.clone(),
        hint: "doğum günün".into(),
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
        }),
    );
    Ok((c, out))
}

/// §6.10.3: a part split 2-of-3, the commitments, the first share sealed
/// to a device, and the part again from shares 1 and 3.
fn members() -> anyhow::Result<serde_json::Value> {
    use x25519_dalek::{PublicKey, StaticSecret};
    let part = [0x3c; 32];
    let shares = cond::split(&mut super::poll::VectorRng::default(), &part, 2, 3)?;
    let device = StaticSecret::from([0x44; 32]);
    let device_key = PublicKey::from(&device).to_bytes();
    let ephemeral = StaticSecret::from([0x45; 32]);
    let (eph, sealed) = cond::seal_share_with(&ephemeral, &device_key, &shares[0])?;
    let again = cond::combine(&[shares[0].clone(), shares[2].clone()])?;
    anyhow::ensure!(*again == part, "shares 1 and 3 give the part");
    let opened = cond::open_share(&device, &eph, &sealed, &cond::commitment(&shares[0]))?;
    anyhow::ensure!(*opened == *shares[0], "the sealed share opens");
    // A lock whose holders release by themselves (§6.10.4): not before
    // 2027-01-01T00:00:00Z, and after a week of the sender's silence.
    let holder = |i: usize, account: u8, sealed: Vec<wire::SealedShare>| wire::ShareHolder {
        account: vec![account; 32],
        commitment: cond::commitment(&shares[i]).to_vec(),
        sealed,
    };
    let first = wire::SealedShare {
        envelope_key: device_key.to_vec(),
        ephemeral: eph.to_vec(),
        ciphertext: sealed.clone(),
    };
    let timed = wire::Condition {
        kind: Some(wire::condition::Kind::Members(wire::MembersLock {
            threshold: 2,
            holders: vec![
                holder(0, 0xb0, vec![first.clone()]),
                holder(1, 0xb1, vec![first.clone()]),
                holder(2, 0xb2, vec![first]),
            ],
            release_at_ms: 1_798_761_600_000,
            silence_ms: 7 * 86_400_000,
        })),
    };
    Ok(json!({
        "description": "SPEC.md §6.10.3: Shamir over GF(2^8) per byte, share = x || y (x = holder's place + 1); commitment = SHA-256('kovan/v1/conditional-share' || share); a share sealed to a device: X25519 with a one-time key, HKDF-SHA256(salt 'kovan/v1/conditional-share', info E || D || commitment, 44) -> ChaCha20-Poly1305 key || nonce, ad 'kovan/v1/conditional-share' || commitment",
        "part": hex::encode(part),
        "threshold": 2,
        "shares": shares.iter().map(|s| hex::encode(s.as_ref())).collect::<Vec<_>>(),
        "commitments": shares.iter().map(|s| hex::encode(cond::commitment(s))).collect::<Vec<_>>(),
        "device_secret": hex::encode(device.to_bytes()),
        "device_key": hex::encode(device_key),
        "ephemeral_secret": hex::encode(ephemeral.to_bytes()),
        "ephemeral_key": hex::encode(eph),
        "sealed_first_share": hex::encode(&sealed),
        "combined_from": [1, 3],
        "combined": hex::encode(again.as_ref()),
        "timed_lock": {
            "release_at_ms": 1_798_761_600_000u64,
            "silence_ms": 7 * 86_400_000u64,
            "encoding": hex::encode(encode(&timed)),
        },
    }))
}
