//! §6.4.1 verifiable polls: the binding's exporter context, signed ballots
//! and a close with a void double vote, by three fixed account keys; §6.4.3
//! sealed ballots: commitments, their close and reveals.

use kovan_crypto::context::{self, SigContext};
use kovan_crypto::identity::AccountKey;
use kovan_crypto::poll;
use kovan_spec::wire;
use serde_json::{Value, json};

use super::{VectorFile, file, seed};

/// The poll's message id in the `app-envelope.json` cases.
pub(super) const POLL_ID: [u8; 16] = [0x11; 16];

/// What the application-envelope cases reuse.
pub(super) struct PollVectors {
    pub poll: wire::VerifiablePoll,
    pub vote: wire::Vote,
    pub close: wire::PollClose,
    pub sealed_vote: wire::Vote,
    pub sealed_close: wire::PollClose,
    pub reveal: wire::BallotReveal,
    pub file: VectorFile,
}

pub(super) fn poll_vectors() -> PollVectors {
    let mut keys: Vec<AccountKey> =
        [0x61, 0x62, 0x63].iter().map(|&b| AccountKey::from_seed(&seed(b))).collect();
    keys.sort_by_key(|k| *k.id().as_bytes());
    let voters: Vec<[u8; 32]> = keys.iter().map(|k| *k.id().as_bytes()).collect();
    let (nonce, epoch) = ([0x4e; 16], 5u64);
    let ctx = poll::binding_context(&nonce, epoch, &voters);
    // What MLS-Exporter("kovan/v1/poll", ctx, 32) gave in the group (the
    // exporter itself is RFC 9420's).
    let binding = [0xb1; 32];
    let ballot = |k: &AccountKey, choices: &[u32]| {
        let data = poll::ballot_data(&POLL_ID, &binding, choices);
        let sig = poll::sign_ballot(k, &POLL_ID, &binding, choices);
        let j = json!({
            "account": hex::encode(k.id().as_bytes()),
            "choices": choices,
            "ballot_data": hex::encode(&data),
            "signing_input": hex::encode(context::signing_input(SigContext::PollBallot, &data)),
            "signature": hex::encode(sig),
        });
        let w = wire::PollBallot {
            account: k.id().as_bytes().to_vec(),
            choices: choices.to_vec(),
            signature: sig.to_vec(),
            commitment: Vec::new(),
        };
        (j, w)
    };
    let (a, b, c) = (&keys[0], &keys[1], &keys[2]);
    let counted = [ballot(a, &[1]), ballot(b, &[0])];
    let mut void = vec![ballot(c, &[0]), ballot(c, &[1])];
    void.sort_by(|x, y| x.1.choices.cmp(&y.1.choices));
    let vote = wire::Vote {
        poll: POLL_ID.to_vec(),
        choices: counted[0].1.choices.clone(),
        signature: counted[0].1.signature.clone(),
        commitment: Vec::new(),
    };
    let close = wire::PollClose {
        poll: POLL_ID.to_vec(),
        ballots: counted.iter().map(|(_, w)| w.clone()).collect(),
        void: void.iter().map(|(_, w)| w.clone()).collect(),
        ..Default::default()
    };
    let jsons =
        |v: &[(Value, wire::PollBallot)]| v.iter().map(|(j, _)| j.clone()).collect::<Vec<_>>();
    let sealed = sealed_vectors(&keys, &binding);
    let seeds: Vec<String> = [0x61u8, 0x62, 0x63].iter().map(|&b| hex::encode(seed(b))).collect();
    let out = file(
        "poll.json",
        json!({
            "description": "SPEC.md §6.4.1: a verifiable poll's binding context, ballots signed by three accounts (the third voted twice) and the close that counts two and voids the third's pair; the tally is [1, 1]",
            "poll": hex::encode(POLL_ID),
            "options": 2,
            "multiple": false,
            "nonce": hex::encode(nonce),
            "epoch": epoch,
            "voter_seeds": seeds,
            "voters": voters.iter().map(hex::encode).collect::<Vec<_>>(),
            "exporter_label": poll::BINDING_LABEL,
            "binding_context": hex::encode(ctx),
            "binding": hex::encode(binding),
            "counted": jsons(&counted),
            "void": jsons(&void),
            "tally": [1, 1],
            "sealed": sealed.json,
        }),
    );
    let poll = wire::VerifiablePoll {
        epoch,
        nonce: nonce.to_vec(),
        voters: voters.iter().map(|v| v.to_vec()).collect(),
        binding: binding.to_vec(),
        sealed: false,
        anonymous: false,
    };
    PollVectors {
        poll,
        vote,
        close,
        sealed_vote: sealed.vote,
        sealed_close: sealed.close,
        reveal: sealed.reveal,
        file: out,
    }
}

/// The sealed part of `poll.json`.
struct Sealed {
    json: Value,
    vote: wire::Vote,
    close: wire::PollClose,
    reveal: wire::BallotReveal,
}

/// §6.4.3: the same three accounts seal ballots in a sealed poll with the
/// same binding; the close counts all three; the first two reveal.
fn sealed_vectors(keys: &[AccountKey], binding: &[u8; 32]) -> Sealed {
    use kovan_spec::encode;
    let chosen: [&[u32]; 3] = [&[1], &[0], &[1]];
    let openings = [[0x0a; 32], [0x0b; 32], [0x0c; 32]];
    let mut ballots = Vec::new();
    let mut wires = Vec::new();
    let mut reveals = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let account = *k.id().as_bytes();
        let b = poll::sign_sealed_ballot(k, &POLL_ID, binding, &openings[i], chosen[i]);
        let c = b.commitment.unwrap_or_default();
        let data = poll::sealed_ballot_data(&POLL_ID, binding, &c);
        let reveal = wire::BallotReveal {
            poll: POLL_ID.to_vec(),
            choices: chosen[i].to_vec(),
            opening: openings[i].to_vec(),
        };
        ballots.push(json!({
            "account": hex::encode(account),
            "choices": chosen[i],
            "opening": hex::encode(openings[i]),
            "commitment": hex::encode(c),
            "ballot_data": hex::encode(&data),
            "signing_input": hex::encode(context::signing_input(SigContext::PollSealedBallot, &data)),
            "signature": hex::encode(b.signature),
            "reveal": (i < 2).then(|| hex::encode(encode(&reveal))),
        }));
        wires.push(wire::PollBallot {
            account: account.to_vec(),
            choices: Vec::new(),
            signature: b.signature.to_vec(),
            commitment: c.to_vec(),
        });
        reveals.push(reveal);
    }
    let vote = wire::Vote {
        poll: POLL_ID.to_vec(),
        choices: Vec::new(),
        signature: wires[0].signature.clone(),
        commitment: wires[0].commitment.clone(),
    };
    let close = wire::PollClose { poll: POLL_ID.to_vec(), ballots: wires, ..Default::default() };
    let json = json!({
        "description": "SPEC.md §6.4.3: the three accounts seal ballots (commitment = SHA-256('kovan/v1/poll-commitment' || 0x00 || poll || binding || account || opening || choices), signed under kovan/v1/poll-sealed-ballot over poll || binding || commitment); the close counts the three commitments; the first two reveal, so the tally is [1, 1] with one not revealed",
        "ballots": ballots,
        "close": hex::encode(encode(&close)),
        "tally": [1, 1],
        "not_revealed": 1,
    });
    Sealed { json, vote, close, reveal: reveals.swap_remove(0) }
}

/// The randomness of the ring-ballot vector: ChaCha20 from a fixed seed,
/// so the vector is the same on every run.
pub(super) struct VectorRng(rand_chacha::ChaCha20Rng);

impl Default for VectorRng {
    fn default() -> Self {
        use rand_core::SeedableRng as _;
        Self(rand_chacha::ChaCha20Rng::from_seed([0x52; 32]))
    }
}

impl rand_core::RngCore for VectorRng {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.0.try_fill_bytes(dest)
    }
}

impl rand_core::CryptoRng for VectorRng {}

/// §6.4.2 anonymous ballots: three accounts' ballot keys and their
/// registrations for one poll, and a ring ballot by the second.
pub(super) fn ring_ballot_vectors() -> anyhow::Result<VectorFile> {
    use kovan_crypto::ring_ballot as rb;
    use kovan_spec::encode;
    let binding = [0xb1; 32];
    let accounts: Vec<AccountKey> =
        [0x61, 0x62, 0x63].iter().map(|&b| AccountKey::from_seed(&seed(b))).collect();
    let mut keys: Vec<(usize, rb::BallotSecret, [u8; 32])> = accounts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let (s, k) = rb::ballot_key(a, &POLL_ID, &binding);
            (i, s, k)
        })
        .collect();
    keys.sort_by_key(|(_, _, k)| *k);
    let ring: Vec<[u8; 32]> = keys.iter().map(|(_, _, k)| *k).collect();
    let registrations: Vec<Value> = keys
        .iter()
        .map(|(i, _, k)| {
            let sig = rb::sign_registration(&accounts[*i], &POLL_ID, &binding, k);
            let wire = wire::BallotKey {
                poll: POLL_ID.to_vec(),
                key: k.to_vec(),
                signature: sig.to_vec(),
                account: Vec::new(),
            };
            json!({
                "account_seed": hex::encode(seed([0x61, 0x62, 0x63][*i])),
                "account": hex::encode(accounts[*i].id().as_bytes()),
                "key": hex::encode(k),
                "signature": hex::encode(sig),
                "encoding": hex::encode(encode(&wire)),
            })
        })
        .collect();
    let signer = keys.iter().find(|(i, _, _)| *i == 1).map(|(_, s, _)| s.clone());
    let signer = signer.ok_or_else(|| anyhow::anyhow!("no second voter"))?;
    let choices = [1u32];
    let b = rb::sign_ring_ballot::<VectorRng>(&signer, &ring, &POLL_ID, &binding, &choices)?;
    let wire = wire::RingBallot {
        poll: POLL_ID.to_vec(),
        choices: b.choices.clone(),
        challenge: b.challenge.to_vec(),
        responses: b.responses.iter().map(|r| r.to_vec()).collect(),
        key_image: b.key_image.to_vec(),
    };
    // The creator's ring: the three registrations with their accounts, in
    // key order; the ballot as it travels; a close that counts it.
    let poll_ring = wire::PollRing {
        poll: POLL_ID.to_vec(),
        keys: keys
            .iter()
            .map(|(i, _, k)| wire::BallotKey {
                poll: Vec::new(),
                key: k.to_vec(),
                signature: rb::sign_registration(&accounts[*i], &POLL_ID, &binding, k).to_vec(),
                account: accounts[*i].id().as_bytes().to_vec(),
            })
            .collect(),
    };
    let anonymous_ballot =
        wire::AnonymousBallot { group_id: vec![0x47; 16], ballot: Some(wire.clone()) };
    let close = wire::PollClose {
        poll: POLL_ID.to_vec(),
        anonymous: vec![wire::RingCount {
            key_image: b.key_image.to_vec(),
            choices: b.choices.clone(),
        }],
        ..Default::default()
    };
    Ok(file(
        "ring-ballot.json",
        json!({
            "description": "SPEC.md §6.4.2: three accounts' ballot keys for one poll with their registrations, and the second account's anonymous ballot (bLSAG over the ring, SHA-512, message 'kovan/v1/anonymous-ballot' || 0x00 || poll || binding || choices); the signature's randomness is from a fixed seed, so only its validity, not its bytes, is what another implementation must reproduce",
            "poll": hex::encode(POLL_ID),
            "binding": hex::encode(binding),
            "registrations": registrations,
            "ring": ring.iter().map(hex::encode).collect::<Vec<_>>(),
            "message": hex::encode(rb::ring_message(&POLL_ID, &binding, &choices)),
            "choices": choices,
            "challenge": hex::encode(b.challenge),
            "responses": b.responses.iter().map(hex::encode).collect::<Vec<_>>(),
            "key_image": hex::encode(b.key_image),
            "encoding": hex::encode(encode(&wire)),
            "poll_ring": hex::encode(encode(&poll_ring)),
            "ring_digest": hex::encode(rb::ring_digest(&ring)),
            "anonymous_ballot": hex::encode(encode(&anonymous_ballot)),
            "close": hex::encode(encode(&close)),
        }),
    ))
}
