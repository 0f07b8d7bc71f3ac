//! Parsing and verifying arbitrary bytes as a device certificate.
#![no_main]

use kovan_crypto::identity::DeviceCertificate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = DeviceCertificate::verify(data, 1_800_000_000);
});
