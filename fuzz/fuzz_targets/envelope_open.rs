//! Opening arbitrary bytes with fixed keys: as a sealed envelope (a device
//! key), and as a sealed chat text or a wrapped previous chat key (a chat
//! key, SPEC.md §7.9).
#![no_main]

use std::sync::OnceLock;

use kovan_crypto::chat_seal::ChatKey;
use kovan_crypto::envelope;
use kovan_crypto::keystore::KdfParams;
use libfuzzer_sys::fuzz_target;
use x25519_dalek::StaticSecret;

fn chat_key() -> Option<&'static ChatKey> {
    static KEY: OnceLock<Option<ChatKey>> = OnceLock::new();
    KEY.get_or_init(|| {
        ChatKey::derive("fuzzing password", &[1; 16], KdfParams::default(), b"conversation").ok()
    })
    .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let key = StaticSecret::from([0x42; 32]);
    let _ = envelope::open(&key, data, 1_800_000_000);
    let (nonce, rest) = data.split_at(data.len().min(24));
    let Some(chat) = chat_key() else { return };
    let _ = chat.open_text(b"conversation", &[0; 16], nonce, rest);
    let (id, wrapped) = rest.split_at(rest.len().min(16));
    let _ = chat.unwrap_previous(b"conversation", id, nonce, wrapped);
});
