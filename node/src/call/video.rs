//! Calls' video (SPEC.md §6.9.2): cameras and screens are
//! [`VideoSource`]s, what arrives goes to a [`VideoSink`]; VP8 frames are
//! put together from RTP packets by [`Assembler`], and [`Rate`] follows
//! the link: the bit rate and the picture size go down when the peer
//! reports loss and back up when it reports none.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use rtc::rtp::codec::vp8::Vp8Packet;
use rtc::rtp::packetizer::Depacketizer;

pub use kovan_vpx::I420;

/// Pictures a call sends (a camera, a screen, a test pattern).
pub trait VideoSource: Send {
    /// The next picture, or None when there is nothing to send now (a
    /// paused source). Asked at most [`FPS`] times a second.
    fn next(&mut self) -> Option<I420>;
}

/// Where the pictures that arrive go.
pub trait VideoSink: Send {
    /// A picture arrived and decoded.
    fn show(&mut self, picture: &I420);
}

/// Pictures per second a call sends at most.
pub const FPS: u32 = 30;

/// The most a frame may take (bytes) once put together: a VP8 keyframe of
/// 4096×4096 at high quality stays well under it.
pub const MAX_FRAME: usize = 4 * 1024 * 1024;

/// The latest picture that arrived, numbered, for a window to show (and
/// tests to read).
#[derive(Clone, Default)]
pub struct LatestPicture(Arc<Mutex<Option<(u64, I420)>>>);

impl std::fmt::Debug for LatestPicture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LatestPicture")
    }
}

impl LatestPicture {
    /// A new, empty one.
    pub fn new() -> Self {
        Self::default()
    }

    /// The latest picture and how many came before it (0 for the first).
    pub fn get(&self) -> Option<(u64, I420)> {
        self.0.lock().ok()?.clone()
    }

    /// The latest picture if newer than number `seen`.
    pub fn newer_than(&self, seen: Option<u64>) -> Option<(u64, I420)> {
        Self::newer(&*self.0.lock().ok()?, seen)
    }

    /// The same, but None at once when the picture is being replaced (for
    /// a window's thread, which must not wait).
    pub fn try_newer_than(&self, seen: Option<u64>) -> Option<(u64, I420)> {
        Self::newer(&*self.0.try_lock().ok()?, seen)
    }

    fn newer(held: &Option<(u64, I420)>, seen: Option<u64>) -> Option<(u64, I420)> {
        match (held, seen) {
            (Some((n, _)), Some(s)) if *n <= s => None,
            (got, _) => got.clone(),
        }
    }
}

impl VideoSink for LatestPicture {
    fn show(&mut self, picture: &I420) {
        if let Ok(mut held) = self.0.lock() {
            let n = held.as_ref().map_or(0, |(n, _)| n + 1);
            *held = Some((n, picture.clone()));
        }
    }
}

/// Nothing is shown.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unseen;

impl VideoSink for Unseen {
    fn show(&mut self, _: &I420) {}
}

/// A camera that can be switched on and off during a call: the call asks
/// it for pictures, the user (or a test) puts a source in or takes it out.
/// The last picture it gave is kept for a self view.
#[derive(Clone, Default)]
pub struct Camera(Arc<Mutex<Option<Box<dyn VideoSource>>>>, LatestPicture);

impl std::fmt::Debug for Camera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Camera(on: {})", self.is_on())
    }
}

impl Camera {
    /// Sends pictures from `source` (None: the camera is off).
    pub fn set(&self, source: Option<Box<dyn VideoSource>>) {
        if let Ok(mut s) = self.0.lock() {
            *s = source;
        }
    }

    /// The last picture sent, for showing it to its sender.
    pub fn own(&self) -> &LatestPicture {
        &self.1
    }

    /// Whether a source is in.
    pub fn is_on(&self) -> bool {
        self.0.lock().is_ok_and(|s| s.is_some())
    }

    /// The source's next picture.
    pub(crate) fn next(&self) -> Option<I420> {
        let picture = self.0.lock().ok()?.as_mut()?.next()?;
        let mut own = self.1.clone();
        own.show(&picture);
        Some(picture)
    }
}

// ---------------------------------------------------------------------
// The test pattern
// ---------------------------------------------------------------------

/// Blocks across the top band of the test pattern: two guards (white,
/// black), the frame number's 16 bits, a 6-bit check.
const BLOCKS: u32 = 24;

/// The colour bars of the test pattern, as (Y, U, V): white, yellow, cyan,
/// green, magenta, red, blue, black (BT.601 limited range).
pub const BARS: [(u8, u8, u8); 8] = [
    (235, 128, 128),
    (210, 16, 146),
    (170, 166, 16),
    (145, 54, 34),
    (106, 202, 222),
    (81, 90, 240),
    (41, 240, 110),
    (16, 128, 128),
];

fn check_bits(n: u32) -> u32 {
    n.wrapping_mul(37).wrapping_add(11) & 63
}

/// A synthetic camera: colour bars, with the picture's number written in
/// black and white blocks across the top (read back by
/// [`pattern_number`]), and a grey square that moves.
#[derive(Debug, Clone)]
pub struct TestPattern {
    /// The bars, drawn once.
    bars: I420,
    n: u32,
}

impl TestPattern {
    /// A pattern of `width × height` (even sides, at least 48 × 48).
    pub fn new(width: u32, height: u32) -> Result<Self, String> {
        if width < 48 || height < 48 {
            return Err("a test pattern is at least 48×48".into());
        }
        let mut bars = I420::black(width, height).map_err(|e| e.to_string())?;
        let (w, h) = (width as usize, height as usize);
        let (y, u, v) = bars.planes_mut();
        for row in h / 6..h {
            for col in 0..w {
                let (yy, uu, vv) = BARS[col * BARS.len() / w];
                y[row * w + col] = yy;
                if row % 2 == 0 && col % 2 == 0 {
                    let c = (row / 2) * (w / 2) + col / 2;
                    u[c] = uu;
                    v[c] = vv;
                }
            }
        }
        Ok(Self { bars, n: 0 })
    }

    /// Picture number `n`.
    pub fn picture(&self, n: u32) -> I420 {
        let mut p = self.bars.clone();
        let (w, h) = (p.width() as usize, p.height() as usize);
        let y = p.planes_mut().0;
        let bits: Vec<bool> = [true, false]
            .into_iter()
            .chain((0..16).rev().map(|b| n >> b & 1 == 1))
            .chain((0..6).rev().map(|b| check_bits(n) >> b & 1 == 1))
            .collect();
        for row in 0..h / 6 {
            for col in 0..w {
                y[row * w + col] = if bits[col * BLOCKS as usize / w] { 235 } else { 16 };
            }
        }
        // A square that moves across the lower part, in grey.
        // (Sides are at least 48, so the square fits below the band.)
        let side = (h / 6).min(w / 2).max(4) & !1;
        let x0 = (n as usize * 4) % (w - side);
        let y0 = h - side - 2;
        for row in y0..y0 + side {
            for col in x0..x0 + side {
                y[row * w + col] = 128;
            }
        }
        p
    }
}

impl VideoSource for TestPattern {
    fn next(&mut self) -> Option<I420> {
        let p = self.picture(self.n);
        self.n = self.n.wrapping_add(1) & 0xffff;
        Some(p)
    }
}

/// The number a test-pattern picture carries, when its top band reads
/// cleanly (guards and check bits right): what a receiver checks that a
/// picture is the one sent, whatever size it came at.
pub fn pattern_number(p: &I420) -> Option<u32> {
    let (w, h) = (p.width() as usize, p.height() as usize);
    let band = h / 6;
    let y = p.planes().0;
    let mut bits = Vec::with_capacity(BLOCKS as usize);
    for b in 0..BLOCKS as usize {
        // The middle of each block, away from edges the codec blurs.
        let (c0, c1) = (b * w / BLOCKS as usize, (b + 1) * w / BLOCKS as usize);
        let (c0, c1) = (c0 + (c1 - c0) / 4, c1 - (c1 - c0) / 4);
        let (r0, r1) = (band / 4, band - band / 4);
        let mut sum = 0u64;
        let mut count = 0u64;
        for row in r0..r1 {
            for col in c0..c1.max(c0 + 1) {
                sum += u64::from(y[row * w + col]);
                count += 1;
            }
        }
        let mean = sum / count.max(1);
        bits.push(mean > 125);
    }
    if !bits[0] || bits[1] {
        return None;
    }
    let n = bits[2..18].iter().fold(0u32, |a, &b| a << 1 | u32::from(b));
    let check = bits[18..24].iter().fold(0u32, |a, &b| a << 1 | u32::from(b));
    (check == check_bits(n)).then_some(n)
}

/// Whether the colour bars of a test-pattern picture are the colours
/// sent, each within `tolerance` in Y, U and V.
pub fn pattern_colours_match(p: &I420, tolerance: u8) -> bool {
    let (w, h) = (p.width() as usize, p.height() as usize);
    let (y, u, v) = p.planes();
    let row = h / 2;
    BARS.iter().enumerate().all(|(i, &(ey, eu, ev))| {
        let col = (2 * i + 1) * w / (2 * BARS.len());
        let c = (row / 2) * (w / 2) + col / 2;
        y[row * w + col].abs_diff(ey) <= tolerance
            && u[c].abs_diff(eu) <= tolerance
            && v[c].abs_diff(ev) <= tolerance
    })
}

// ---------------------------------------------------------------------
// Putting frames together
// ---------------------------------------------------------------------

/// Puts VP8 frames together from RTP packets: the packets of one
/// timestamp, from the one that starts the frame to the one with the
/// marker bit, with no sequence number missing, in whatever order they
/// came. A frame still missing packets when a newer one begins is dropped,
/// so is one lost whole (the next frame's first packet does not follow the
/// last one's), and after a drop only a keyframe is given out (a frame that
/// refers to a lost one would decode wrong).
#[derive(Debug, Default)]
pub struct Assembler {
    /// The frame being put together: its timestamp and its packets
    /// (sequence number, payload, starts the frame, has the marker).
    current: Option<(u32, Vec<Part>)>,
    /// The timestamp of the last frame given out or dropped.
    done: Option<u32>,
    /// Frames since the last drop are useless until a keyframe.
    need_key: bool,
    /// The last packet of the last whole frame: the next frame's first
    /// must follow it, or a whole frame was lost between them.
    last_seq: Option<u16>,
    /// Frames dropped (incomplete or waiting for a keyframe).
    pub dropped: u64,
}

#[derive(Debug)]
struct Part {
    seq: u16,
    data: Bytes,
    starts: bool,
    marker: bool,
}

/// Whether timestamp `a` comes after `b` (RTP timestamps wrap).
fn after(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 1 << 31
}

impl Assembler {
    /// A new assembler (its first frame must be a keyframe).
    pub fn new() -> Self {
        Self { need_key: true, ..Self::default() }
    }

    /// One packet; a whole frame when this packet completed one.
    pub fn push(
        &mut self,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload: &Bytes,
    ) -> Option<Vec<u8>> {
        if self.done.is_some_and(|d| !after(timestamp, d)) {
            return None; // late, or of a frame already given out
        }
        let mut depacketizer = Vp8Packet::default();
        let data = depacketizer.depacketize(payload).ok()?;
        let part = Part { seq, data, starts: depacketizer.s == 1 && depacketizer.pid == 0, marker };
        match &mut self.current {
            Some((ts, parts)) if *ts == timestamp => {
                if parts.len() >= 4096 || parts.iter().any(|p| p.seq == seq) {
                    return None;
                }
                parts.push(part);
            }
            Some((ts, _)) if after(*ts, timestamp) => return None, // older than the current one
            _ => {
                if self.current.is_some() {
                    // A newer frame began before the current one was whole.
                    self.drop_current();
                }
                self.current = Some((timestamp, vec![part]));
            }
        }
        self.take_whole()
    }

    fn drop_current(&mut self) {
        if let Some((ts, _)) = self.current.take() {
            self.done = Some(ts);
        }
        self.dropped += 1;
        self.need_key = true;
        self.last_seq = None;
    }

    /// The current frame, if all its packets are in.
    fn take_whole(&mut self) -> Option<Vec<u8>> {
        let (_, parts) = self.current.as_ref()?;
        let first = parts.iter().find(|p| p.starts)?.seq;
        let last = parts.iter().find(|p| p.marker)?.seq;
        let count = usize::from(last.wrapping_sub(first)) + 1;
        if parts.len() < count {
            return None;
        }
        let (ts, mut parts) = self.current.take()?;
        self.done = Some(ts);
        // Sequence numbers wrap: order them from the frame's first.
        parts.sort_by_key(|p| p.seq.wrapping_sub(first));
        let whole = parts.len() == count
            && parts.iter().enumerate().all(|(i, p)| usize::from(p.seq.wrapping_sub(first)) == i);
        let size: usize = parts.iter().map(|p| p.data.len()).sum();
        if !whole || size > MAX_FRAME {
            self.dropped += 1;
            self.need_key = true;
            self.last_seq = None;
            return None;
        }
        // A frame lost whole between the last one and this (its packets
        // never came) spoils what refers to it, as a partial one does.
        if self.last_seq.is_some_and(|l| first != l.wrapping_add(1)) {
            self.dropped += 1;
            self.need_key = true;
        }
        self.last_seq = Some(last);
        let mut frame = Vec::with_capacity(size);
        for p in &parts {
            frame.extend_from_slice(&p.data);
        }
        // VP8's frame tag: bit 0 of the first byte is 0 for a keyframe.
        let key = frame.first().is_some_and(|b| b & 1 == 0);
        if self.need_key && !key {
            self.dropped += 1;
            return None;
        }
        self.need_key = false;
        Some(frame)
    }
}

// ---------------------------------------------------------------------
// Following the link
// ---------------------------------------------------------------------

/// The bit rate a call's video starts at (kbit/s).
pub const START_KBPS: u32 = 600;
/// The most it goes up to.
pub const MAX_KBPS: u32 = 1500;
/// The least it goes down to.
pub const MIN_KBPS: u32 = 80;

/// The sender's rate: multiplied by 0.7 when the peer's reports say more
/// than 10 % was lost, by 1.1 when under 2 %, held in between; the picture
/// is sent at full size from 400 kbit/s, at half size (each side) from
/// 150, at a quarter below.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    kbps: u32,
}

impl Default for Rate {
    fn default() -> Self {
        Self { kbps: START_KBPS }
    }
}

impl Rate {
    /// The rate now (kbit/s).
    pub fn kbps(&self) -> u32 {
        self.kbps
    }

    /// The peer reported this fraction of packets lost (0..=1).
    pub fn report(&mut self, fraction_lost: f64) -> u32 {
        let k = f64::from(self.kbps);
        let next = if fraction_lost > 0.10 {
            k * 0.7
        } else if fraction_lost < 0.02 {
            k * 1.1
        } else {
            k
        };
        self.kbps = (next as u32).clamp(MIN_KBPS, MAX_KBPS);
        self.kbps
    }

    /// How much the picture is shrunk in each direction at this rate.
    pub fn shrink(&self) -> u32 {
        match self.kbps {
            400.. => 1,
            150..400 => 2,
            _ => 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kovan_vpx::{Decoder, Encoder, EncoderConfig};
    use rtc::rtp::codec::vp8::Vp8Payloader;
    use rtc::rtp::packetizer::Payloader;

    #[test]
    fn the_pattern_reads_back_after_vp8_and_at_half_size() {
        let _quiet = crate::REAL_TIME.blocking_lock();
        let mut pattern = TestPattern::new(640, 480).unwrap();
        let mut enc =
            Encoder::new(EncoderConfig { width: 640, height: 480, fps: 30, kbps: 600 }).unwrap();
        let mut dec = Decoder::new().unwrap();
        for n in 0..10 {
            let p = pattern.next().unwrap();
            assert_eq!(pattern_number(&p), Some(n));
            for f in enc.encode(&p, n == 0).unwrap() {
                let got = dec.decode(&f.data).unwrap().unwrap();
                assert_eq!(pattern_number(&got), Some(n));
                assert!(pattern_colours_match(&got, 24));
            }
            let small = p.shrunk(4).unwrap();
            assert_eq!((small.width(), small.height()), (160, 120));
            assert_eq!(pattern_number(&small), Some(n));
            assert!(pattern_colours_match(&small, 8));
        }
        // Any size it takes makes pictures, however narrow or tall.
        for (w, h) in [(48, 4096), (4096, 48), (48, 48)] {
            let p = TestPattern::new(w, h).unwrap().picture(7);
            assert_eq!((p.width(), p.height(), pattern_number(&p)), (w, h, Some(7)));
        }
        // Something else does not read as a pattern.
        assert_eq!(pattern_number(&I420::black(640, 480).unwrap()), None);
        assert!(!pattern_colours_match(&I420::black(640, 480).unwrap(), 24));
    }

    /// The RTP payloads of one frame, cut small (as a call cuts a large
    /// frame) so that every frame takes several.
    fn payloads(frame: &[u8]) -> Vec<Bytes> {
        let mut p = Vp8Payloader::default();
        p.payload(100, &Bytes::copy_from_slice(frame)).unwrap()
    }

    #[test]
    fn frames_are_put_together_and_a_gap_waits_for_a_keyframe() {
        let mut pattern = TestPattern::new(640, 480).unwrap();
        let mut enc =
            Encoder::new(EncoderConfig { width: 640, height: 480, fps: 30, kbps: 1500 }).unwrap();
        let mut asm = Assembler::new();
        let mut dec = Decoder::new().unwrap();
        let mut seq = 65_530u16; // wraps within the first frames
        let mut shown = Vec::new();
        for n in 0..16u32 {
            let key = n == 0 || n == 8 || n == 14;
            let frame = enc.encode(&pattern.next().unwrap(), key).unwrap().remove(0);
            let parts = payloads(&frame.data);
            let count = parts.len();
            assert!(count > 1, "frame {n} takes several packets");
            let last = count - 1;
            let mut packets: Vec<(u16, bool, Bytes)> = parts
                .into_iter()
                .enumerate()
                .map(|(i, p)| (seq.wrapping_add(i as u16), i == last, p))
                .collect();
            // Frame 4 loses its second packet, frame 10 all of them; frame
            // 2 arrives backwards.
            if n == 4 {
                packets.remove(1);
            }
            if n == 10 {
                packets.clear();
            }
            if n == 2 {
                packets.reverse();
            }
            for (s, marker, payload) in &packets {
                if let Some(whole) = asm.push(*s, n * 3000, *marker, payload) {
                    let p = dec.decode(&whole).unwrap().unwrap();
                    shown.push(pattern_number(&p).unwrap());
                }
            }
            seq = seq.wrapping_add(count as u16);
        }
        // 4 is lost; 5–7 refer to it and wait; 8 is a keyframe. 10 never
        // came: 11–13 wait for the keyframe 14.
        assert_eq!(shown, vec![0, 1, 2, 3, 8, 9, 14, 15]);
        assert_eq!(asm.dropped, 4 + 1 + 3);
        // Late and junk packets are ignored.
        assert_eq!(asm.push(1, 3000, true, &Bytes::from_static(&[0x10, 0, 0, 0, 0])), None);
        assert_eq!(asm.push(2, 99_000, true, &Bytes::from_static(&[1])), None);
    }

    #[test]
    fn the_rate_falls_on_loss_and_climbs_back() {
        let mut r = Rate::default();
        assert_eq!(r.shrink(), 1);
        for _ in 0..4 {
            r.report(0.2);
        }
        assert!(r.kbps() < 150 && r.shrink() == 4, "{r:?}");
        for _ in 0..10 {
            r.report(0.05);
        }
        assert!(r.kbps() < 150, "held between 2 and 10 %");
        for _ in 0..40 {
            r.report(0.0);
        }
        assert_eq!((r.kbps(), r.shrink()), (MAX_KBPS, 1));
        for _ in 0..40 {
            r.report(1.0);
        }
        assert_eq!(r.kbps(), MIN_KBPS);
    }
}
