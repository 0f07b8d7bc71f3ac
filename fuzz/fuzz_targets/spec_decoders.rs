//! Every kovan-spec decoder on arbitrary bytes (and a community action's
//! signature check): errors, never panics.
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
});
