//! What a call takes from the network before WebRTC's own parsers: the
//! fingerprint check of a signaled SDP, the jitter buffer fed RTP
//! sequence numbers and Opus payloads of any shape, and video: RTP packets
//! of any shape put together into VP8 frames, each decoded by libvpx and
//! read as a test pattern. Errors, never panics.
#![no_main]

use kovan_node::call::audio::Jitter;
use kovan_node::call::devices::FRAME;
use kovan_node::call::peer::check_sdp;
use kovan_node::call::video::{Assembler, pattern_number};
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
    // Video packets as [seq hi, seq lo, timestamp, marker, len, payload…].
    let (mut frames, mut decoder) = (Assembler::new(), kovan_vpx::Decoder::new().ok());
    let mut rest = data;
    while rest.len() >= 5 {
        let seq = u16::from_be_bytes([rest[0], rest[1]]);
        let len = usize::from(rest[4]).min(rest.len() - 5);
        let payload = bytes::Bytes::copy_from_slice(&rest[5..5 + len]);
        let whole = frames.push(seq, u32::from(rest[2]) * 3000, rest[3] & 1 == 1, &payload);
        if let (Some(frame), Some(d)) = (whole, decoder.as_mut())
            && let Ok(Some(picture)) = d.decode(&frame)
        {
            let _ = pattern_number(&picture);
        }
        rest = &rest[5 + len..];
    }
});
