//! §6.10 conditional messages: a text sealed under a password and an area.

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
        }),
    );
    Ok((c, out))
}
