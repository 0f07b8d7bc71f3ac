//! Parsing arbitrary bytes as a keystore. Inputs whose header would trigger
//! a real Argon2id derivation are rejected by the checksum first unless the
//! fuzzer also forges it, so this explores the parser, not the KDF.
#![no_main]

use kovan_crypto::keystore;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = keystore::open(data, b"fuzz");
});
