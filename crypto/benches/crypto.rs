//! Criterion benches for kovan-crypto.
//!
//! `cargo bench -p kovan-crypto` measures, in one run:
//! - `aead/raw`: raw ChaCha20-Poly1305 encryption (the baseline);
//! - `envelope/seal` and `envelope/open`: sealed envelopes of the same sizes
//!   (ECDH + HKDF + Ed25519 + padding + AEAD + certificate check);
//! - `keystore/unlock`: Argon2id at RFC 9106 parameters plus decryption.
//!
//! Report envelope throughput as a ratio of `aead/raw` from the same run.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kovan_crypto::envelope::{self, PayloadKind, Sender};
use kovan_crypto::identity::{AccountKey, DeviceCertificate, DeviceKeys};
use kovan_crypto::keystore::{self, KdfParams, KeystoreContents};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const NOW: u64 = 1_800_000_000;
const SIZES: [usize; 4] = [1024, 16 * 1024, 64 * 1024, 1024 * 1024];

fn device(seed: u64) -> (AccountKey, DeviceKeys, DeviceCertificate) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let account = AccountKey::generate(&mut rng);
    let keys = DeviceKeys::generate(&mut rng);
    let cert = account.certify(&keys.public(), "bench", NOW, 3600).unwrap();
    (account, keys, cert)
}

fn aead_and_envelopes(c: &mut Criterion) {
    let (_, alice, alice_cert) = device(1);
    let (_, bob, _) = device(2);
    let sender = Sender { keys: &alice, certificate: &alice_cert };
    let recipient = bob.public().envelope;
    let mut rng = ChaCha20Rng::seed_from_u64(3);

    let mut g = c.benchmark_group("aead");
    for size in SIZES {
        let msg = vec![7u8; size];
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&[1; 32]));
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("raw", size), &msg, |b, msg| {
            b.iter(|| cipher.encrypt(Nonce::from_slice(&[0; 12]), msg.as_slice()).unwrap())
        });
    }
    g.finish();

    let mut g = c.benchmark_group("envelope");
    for size in SIZES {
        let msg = vec![7u8; size];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("seal", size), &msg, |b, msg| {
            b.iter(|| {
                envelope::seal(&mut rng, &sender, &recipient, PayloadKind::MlsMessage, msg, 1)
                    .unwrap()
            })
        });
        let sealed =
            envelope::seal(&mut rng, &sender, &recipient, PayloadKind::MlsMessage, &msg, 1)
                .unwrap();
        g.bench_with_input(BenchmarkId::new("open", size), &sealed.bytes, |b, bytes| {
            b.iter(|| envelope::open(&bob.envelope, bytes, NOW).unwrap())
        });
    }
    g.finish();
}

fn keystore_unlock(c: &mut Criterion) {
    let (account, keys, certificate) = device(4);
    let storage = kovan_crypto::storage::StorageKey::from_bytes([9; 32]);
    let contents = KeystoreContents { account: Some(account), device: keys, certificate, storage };
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let bytes = keystore::seal(&contents, b"passphrase", KdfParams::default(), &mut rng).unwrap();
    let mut g = c.benchmark_group("keystore");
    g.sample_size(10);
    g.bench_function("unlock", |b| b.iter(|| keystore::open(&bytes, b"passphrase").unwrap()));
    g.finish();
}

criterion_group!(benches, aead_and_envelopes, keystore_unlock);
criterion_main!(benches);
