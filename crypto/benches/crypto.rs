//! Criterion benches for kovan-crypto.
//!
//! `cargo bench -p kovan-crypto` measures, in one run:
//! - `aead/raw`: raw ChaCha20-Poly1305 encryption (the baseline);
//! - `envelope/seal` and `envelope/open`: sealed envelopes of the same sizes
//!   (ECDH + HKDF + Ed25519 + padding + AEAD + certificate check);
//! - `keystore/unlock`: Argon2id at RFC 9106 parameters plus decryption;
//! - `ballot/ed25519-*`: a verifiable poll's signed ballot (the baseline)
//!   and `ballot/ring-*/N`: an anonymous ballot over a ring of N keys.
//!
//! - `spread/verify/H` and `spread/pass-on`: checking a spreading message
//!   of hop limit 8 at hop H (its signature and `8 − H` steps of the hop
//!   chain) and making the next hop, against `ballot/ed25519-verify`.
//!
//! Report envelope throughput as a ratio of `aead/raw`, and ring ballots
//! and spreads as a ratio of `ballot/ed25519-*`, from the same run.

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

fn ballots(c: &mut Criterion) {
    use kovan_crypto::{poll, ring_ballot};
    let (poll_id, binding) = ([1u8; 16], [2u8; 32]);
    let account = AccountKey::generate(&mut ChaCha20Rng::seed_from_u64(7));
    let mut g = c.benchmark_group("ballot");
    let sig = poll::sign_ballot(&account, &poll_id, &binding, &[1]);
    let signed = kovan_spec::validate::SignedBallot {
        account: *account.id().as_bytes(),
        choices: vec![1],
        signature: sig,
        commitment: None,
    };
    g.bench_function("ed25519-sign", |b| {
        b.iter(|| poll::sign_ballot(&account, &poll_id, &binding, &[1]))
    });
    g.bench_function("ed25519-verify", |b| {
        b.iter(|| assert!(poll::ballot_signed(&poll_id, &binding, &signed)))
    });
    for n in [10usize, 100, 1000] {
        let mut keys: Vec<(ring_ballot::BallotSecret, [u8; 32])> = (0..n as u64)
            .map(|i| {
                let a = AccountKey::generate(&mut ChaCha20Rng::seed_from_u64(100 + i));
                ring_ballot::ballot_key(&a, &poll_id, &binding)
            })
            .collect();
        keys.sort_by_key(|(_, k)| *k);
        let ring: Vec<[u8; 32]> = keys.iter().map(|(_, k)| *k).collect();
        let me = &keys[n / 2].0;
        let sign = || {
            ring_ballot::sign_ring_ballot::<rand_core::OsRng>(me, &ring, &poll_id, &binding, &[1])
                .unwrap()
        };
        let ballot = sign();
        println!("ballot/ring/{n}: {} bytes (an Ed25519 ballot signature: 64)", ballot.size());
        g.bench_with_input(BenchmarkId::new("ring-sign", n), &n, |b, _| b.iter(sign));
        g.bench_with_input(BenchmarkId::new("ring-verify", n), &n, |b, _| {
            b.iter(|| assert!(ring_ballot::ring_ballot_valid(&ring, &poll_id, &binding, &ballot)))
        });
    }
    g.finish();
}

fn spreads(c: &mut Criterion) {
    use kovan_crypto::spread;
    use kovan_spec::validate::spread as structure;
    let author = AccountKey::generate(&mut ChaCha20Rng::seed_from_u64(9));
    let text = "Kayıp kedi: Tekir, en son Moda'da görüldü. Görenler lütfen haber versin.";
    // The spread at each hop, 1..=8.
    let mut wires = vec![spread::author_with(&author, &[5; 32], [6; 16], text, 8, NOW).unwrap()];
    while let Some(next) = wires
        .last()
        .and_then(|w| spread::verify(structure(w.clone()).ok()?).ok())
        .and_then(|s| spread::pass_on(&s))
    {
        wires.push(next);
    }
    assert_eq!(wires.len(), 8);
    let mut g = c.benchmark_group("spread");
    for hop in [1usize, 8] {
        let w = &wires[hop - 1];
        g.bench_with_input(BenchmarkId::new("verify", hop), &hop, |b, _| {
            b.iter(|| assert!(spread::verify(structure(w.clone()).unwrap()).is_ok()))
        });
    }
    let first = spread::verify(structure(wires[0].clone()).unwrap()).unwrap();
    g.bench_function("pass-on", |b| b.iter(|| spread::pass_on(&first).unwrap()));
    g.finish();
}

criterion_group!(benches, aead_and_envelopes, keystore_unlock, ballots, spreads);
criterion_main!(benches);
