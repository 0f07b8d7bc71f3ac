//! What a call takes from the network before WebRTC's own parsers: the
//! fingerprint check of a signaled SDP, and the jitter buffer fed RTP
//! sequence numbers and Opus payloads of any shape. Errors, never panics.
#![no_main]

use kovan_node::call::audio::Jitter;
use kovan_node::call::devices::FRAME;
use kovan_node::call::peer::check_sdp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = check_sdp(&String::from_utf8_lossy(data));
    let Ok(mut jitter) = Jitter::new() else { return };
    let mut out = [0.0f32; FRAME];
    // Packets as [seq hi, seq lo, len, payload…], a playout tick after each.
    let mut rest = data;
    while rest.len() >= 3 {
        let seq = u16::from_be_bytes([rest[0], rest[1]]);
        let len = usize::from(rest[2]).min(rest.len() - 3);
        jitter.push(seq, &rest[3..3 + len]);
        jitter.play(&mut out);
        assert!(out.iter().all(|s| s.is_finite()));
        rest = &rest[3 + len..];
    }
});
