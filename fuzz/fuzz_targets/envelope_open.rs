//! Opening arbitrary bytes as a sealed envelope with a fixed device key.
#![no_main]

use kovan_crypto::envelope;
use libfuzzer_sys::fuzz_target;
use x25519_dalek::StaticSecret;

fuzz_target!(|data: &[u8]| {
    let key = StaticSecret::from([0x42; 32]);
    let _ = envelope::open(&key, data, 1_800_000_000);
});
