//! Every kovan-spec decoder on arbitrary bytes (and a community action's
//! and a trustee request's signature check, an anonymous ballot's, a spreading message's
//! signature and hop chain, a conditional message's opened body): errors,
//! never panics.
#![no_main]

use kovan_spec::{decode, wire};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = decode::<wire::Signed>(data);
    let _ = decode::<wire::DeviceCertificateTbs>(data);
    let _ = decode::<wire::KeystoreSecrets>(data);
    let _ = decode::<wire::SealedEnvelope>(data);
    let _ = decode::<wire::SealedContent>(data);
    let _ = decode::<wire::DirectDelivery>(data);
    let _ = decode::<wire::DirectAck>(data);
    let _ = decode::<wire::FriendMessage>(data);
    let _ = decode::<wire::CardRequest>(data);
    let _ = decode::<wire::ContactCard>(data);
    let _ = decode::<wire::FileFetch>(data);
    let _ = decode::<wire::FileFetchReply>(data);
    let _ = decode::<wire::NoTraceFrame>(data);
    let _ = kovan_spec::validate_app_envelope(data);
    let _ = kovan_spec::validate::validate_sealed_text(data);
    let _ = kovan_spec::validate_friend_message(data);
    let _ = kovan_spec::validate_group_meta(data);
    let _ = kovan_spec::validate_group_control(data);
    let _ = kovan_spec::validate::validate_community_action(data);
    // A community action with the input's tail as its signature.
    let (tbs, sig) = data.split_at(data.len().saturating_sub(64));
    let _ = kovan_crypto::community::open_action(tbs, sig);
    // A trustee request (SPEC.md §6.10.6), checked as a relay does.
    let _ = kovan_spec::validate::validate_trustee_request(data);
    let _ = kovan_crypto::trustee::open_request(tbs, sig);
    // An anonymous ballot's payload (SPEC.md §6.4.2), as a member's node checks it.
    let _ = kovan_spec::validate::validate_anonymous_ballot(data);
    ring_ballot(data);
    spread(data);
    conditional_body(data);
});

/// A conditional message's opened body, with and without a file whose
/// sealed size comes from the input.
fn conditional_body(data: &[u8]) {
    use kovan_spec::validate::{FileOffer, Media, conditional_body};
    let _ = conditional_body(data, None);
    let size = data.iter().take(8).fold(0u64, |n, b| n << 8 | u64::from(*b));
    let offer = FileOffer {
        file_id: [1; 16],
        name: "sealed".into(),
        mime: "application/octet-stream".into(),
        size,
        sha256: [2; 32],
        key: [3; 32],
        blob: None,
        caption: String::new(),
        media: Media::None,
    };
    let _ = conditional_body(data, Some(&offer));
}

/// A spreading message and a retraction from the input, checked as a node
/// does: refused or verified (and passed on), never a panic.
fn spread(data: &[u8]) {
    use kovan_crypto::spread::{pass_on, retract_signed, verify};
    if let Ok(s) = decode::<wire::Spread>(data)
        && let Ok(s) = kovan_spec::validate::spread(s)
        && let Ok(s) = verify(s)
    {
        let _ = pass_on(&s);
    }
    if let Ok(r) = decode::<wire::SpreadRetract>(data)
        && let Ok(r) = kovan_spec::validate::spread_retract(r)
    {
        let _ = retract_signed(&r);
    }
}

/// A ring ballot cut from the input (a ring of up to 7 keys from its head,
/// then the challenge, the key image and the responses), checked: refused
/// or verified, never a panic.
fn ring_ballot(data: &[u8]) {
    use kovan_crypto::ring_ballot::{RingBallot, ring_ballot_valid};
    let n = data.first().map_or(0, |b| usize::from(b % 8));
    let mut chunks = data.chunks_exact(32).map(|c| <[u8; 32]>::try_from(c).unwrap_or([0; 32]));
    let ring: Vec<[u8; 32]> = chunks.by_ref().take(n).collect();
    let (Some(challenge), Some(key_image)) = (chunks.next(), chunks.next()) else { return };
    let b = RingBallot {
        choices: vec![u32::from(data.len() as u8 % 12)],
        challenge,
        responses: chunks.collect(),
        key_image,
    };
    let _ = ring_ballot_valid(&ring, &[1; 16], &[2; 32], &b);
}
