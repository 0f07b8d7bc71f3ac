//! A call's audio path around the network: Opus encoding of 20 ms frames
//! with in-band FEC, and on the receiving side a small jitter buffer that
//! reorders packets, recovers a lost frame from the next packet's FEC and
//! conceals the rest (Opus PLC).

use std::collections::BTreeMap;

use super::devices::FRAME;
use crate::voice::RATE;

/// Frames buffered before playout starts: one (20 ms), which loopback and
/// a quiet LAN keep up with; every packet that comes too late for its turn
/// adds one more, up to [`MAX_TARGET`].
const START_DEPTH: usize = 1;
/// The most frames the buffer aims to hold (100 ms).
const MAX_TARGET: usize = 5;
/// More than this (200 ms) queued: the oldest are dropped to keep latency.
const MAX_DEPTH: usize = 10;
/// Frames played without a packet before playout stops (1 s of silence
/// from the other side, or a network gap) and waits to refill.
const MAX_MISSES: u32 = 50;
/// Speech at 32 kbit/s, as in voice notes.
const BITRATE: i32 = 32_000;
/// The largest Opus packet (RFC 6716 §3.4).
pub const MAX_PACKET: usize = 1275 * 3;

/// Encodes 20 ms frames.
pub struct Encoder(opus::Encoder);

impl Encoder {
    /// Opus at 48 kHz mono for speech, with in-band FEC for 10 % loss.
    pub fn new() -> Result<Self, String> {
        let e = |e: opus::Error| format!("Opus: {e}");
        let mut enc =
            opus::Encoder::new(RATE, opus::Channels::Mono, opus::Application::Voip).map_err(e)?;
        enc.set_bitrate(opus::Bitrate::Bits(BITRATE)).map_err(e)?;
        enc.set_inband_fec(true).map_err(e)?;
        enc.set_packet_loss_perc(10).map_err(e)?;
        Ok(Self(enc))
    }

    /// One frame ([`FRAME`] samples) as an Opus packet.
    pub fn encode(&mut self, frame: &[f32]) -> Result<Vec<u8>, String> {
        self.0.encode_vec_float(frame, MAX_PACKET).map_err(|e| format!("Opus: {e}"))
    }
}

/// What one playout tick produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Played {
    /// Nothing yet (buffering, or stopped after a long gap).
    Nothing,
    /// A frame as sent.
    Frame,
    /// A lost frame recovered from the next packet's FEC.
    Recovered,
    /// A lost frame concealed.
    Concealed,
}

/// Reorders packets by RTP sequence number and plays them at 20 ms ticks.
pub struct Jitter {
    dec: opus::Decoder,
    /// Packets by extended sequence number.
    packets: BTreeMap<u64, Vec<u8>>,
    /// The next sequence number to play, once playing.
    next: Option<u64>,
    /// The highest extended sequence number seen (for unwrapping).
    highest: Option<u64>,
    misses: u32,
    /// Frames the buffer aims to hold ahead of playout.
    target: usize,
    /// Ticks to hold playout back (the buffer grows by that many frames).
    hold: usize,
    /// The last turn played without its packet.
    missed: Option<u64>,
}

impl Jitter {
    /// An empty buffer.
    pub fn new() -> Result<Self, String> {
        let dec =
            opus::Decoder::new(RATE, opus::Channels::Mono).map_err(|e| format!("Opus: {e}"))?;
        Ok(Self {
            dec,
            packets: BTreeMap::new(),
            next: None,
            highest: None,
            misses: 0,
            target: START_DEPTH,
            hold: 0,
            missed: None,
        })
    }

    /// Frames the buffer aims to hold now.
    pub fn target(&self) -> usize {
        self.target
    }

    /// `seq` extended to 64 bits near the highest seen.
    fn extend(&mut self, seq: u16) -> u64 {
        let Some(high) = self.highest else {
            // Start high enough that a wrap backwards stays positive.
            let ext = (1u64 << 32) + u64::from(seq);
            self.highest = Some(ext);
            return ext;
        };
        let base = high & !0xffff;
        let candidates = [base.wrapping_sub(0x1_0000), base, base + 0x1_0000];
        let ext = candidates
            .into_iter()
            .map(|b| b + u64::from(seq))
            .min_by_key(|c| c.abs_diff(high))
            .unwrap_or(high);
        self.highest = Some(high.max(ext));
        ext
    }

    /// A packet arrived (late ones, duplicates and oversized ones are
    /// dropped).
    pub fn push(&mut self, seq: u16, payload: &[u8]) {
        if payload.is_empty() || payload.len() > MAX_PACKET {
            return;
        }
        let ext = self.extend(seq);
        if self.next.is_some_and(|n| ext < n) {
            // Too late for its turn (it was concealed): hold playout back
            // one frame, so the packets after it are on time.
            if self.missed == Some(ext) && self.target < MAX_TARGET {
                self.target += 1;
                self.hold += 1;
            }
            return;
        }
        self.packets.insert(ext, payload.to_vec());
        while self.packets.len() > MAX_DEPTH {
            let oldest = self.packets.keys().next().copied();
            if let Some(k) = oldest {
                self.packets.remove(&k);
                if let Some(n) = self.next.as_mut() {
                    *n = (*n).max(k + 1);
                }
            }
        }
    }

    /// The next 20 ms into `out` ([`FRAME`] samples; silence when
    /// nothing is played).
    pub fn play(&mut self, out: &mut [f32]) -> Played {
        out.fill(0.0);
        if self.hold > 0 && self.next.is_some() {
            self.hold -= 1;
            return self.conceal(out);
        }
        let next = match self.next {
            Some(n) => n,
            None if self.packets.len() >= self.target => {
                let first = *self.packets.keys().next().unwrap_or(&0);
                self.next = Some(first);
                self.misses = 0;
                first
            }
            None => return Played::Nothing,
        };
        self.next = Some(next + 1);
        let played = if let Some(p) = self.packets.remove(&next) {
            self.misses = 0;
            match self.dec.decode_float(&p, out, false) {
                Ok(_) => Played::Frame,
                Err(_) => self.conceal(out),
            }
        } else {
            self.misses += 1;
            self.missed = Some(next);
            if self.misses > MAX_MISSES {
                // The other side went quiet: wait for new packets.
                self.next = None;
                return Played::Nothing;
            }
            match self.packets.get(&(next + 1)) {
                Some(p) if self.dec.decode_float(p, out, true).is_ok() => Played::Recovered,
                _ => self.conceal(out),
            }
        };
        if out.len() > FRAME {
            out[FRAME..].fill(0.0);
        }
        played
    }

    fn conceal(&mut self, out: &mut [f32]) -> Played {
        if self.dec.decode_float(&[], out, false).is_err() {
            out.fill(0.0);
        }
        Played::Concealed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::devices::{AudioSource, Tone, rms};

    fn packets(n: usize) -> Vec<Vec<u8>> {
        let mut enc = Encoder::new().unwrap();
        let mut tone = Tone::new(440.0, 0.5);
        let mut frame = [0.0; FRAME];
        (0..n)
            .map(|_| {
                tone.read(&mut frame);
                enc.encode(&frame).unwrap()
            })
            .collect()
    }

    #[test]
    fn packets_out_of_order_and_across_the_wrap_play_in_order() {
        let p = packets(6);
        let mut j = Jitter::new().unwrap();
        let mut out = [0.0; FRAME];
        assert_eq!(j.play(&mut out), Played::Nothing);
        // 65534, 65535, 0, 1, 2, 3 arriving as 65535, 65534, 1, 0, 3, 2.
        let seqs = [65534u16, 65535, 0, 1, 2, 3];
        for pair in [(1, 0), (3, 2), (5, 4)] {
            j.push(seqs[pair.0], &p[pair.0]);
            j.push(seqs[pair.1], &p[pair.1]);
        }
        let played: Vec<Played> = (0..6).map(|_| j.play(&mut out)).collect();
        assert!(played.iter().all(|p| *p == Played::Frame), "{played:?}");
        assert!(rms(&out) > 0.2, "the tone plays: {}", rms(&out));
    }

    #[test]
    fn a_lost_packet_is_recovered_from_fec_and_two_are_concealed() {
        let p = packets(10);
        let mut j = Jitter::new().unwrap();
        let mut out = [0.0; FRAME];
        for (i, pkt) in p.iter().enumerate() {
            if i != 4 && i != 7 && i != 8 {
                j.push(i as u16, pkt);
            }
        }
        let played: Vec<Played> = (0..10).map(|_| j.play(&mut out)).collect();
        assert_eq!(played[4], Played::Recovered);
        assert_eq!(played[7], Played::Concealed);
        assert_eq!(played[8], Played::Recovered);
        assert_eq!(played.iter().filter(|p| **p == Played::Frame).count(), 7);
        // Old and duplicate packets are dropped.
        j.push(3, &p[3]);
        j.push(9, &p[9]);
        assert_eq!(j.play(&mut out), Played::Concealed);
    }

    #[test]
    fn a_packet_late_for_its_turn_makes_the_buffer_deeper() {
        let p = packets(8);
        let mut j = Jitter::new().unwrap();
        let mut out = [0.0; FRAME];
        // One packet ahead is enough to start.
        j.push(0, &p[0]);
        assert_eq!(j.play(&mut out), Played::Frame);
        j.push(1, &p[1]);
        assert_eq!(j.play(&mut out), Played::Frame);
        // Packet 2 misses its tick and comes just after.
        assert_eq!(j.play(&mut out), Played::Concealed);
        j.push(2, &p[2]);
        assert_eq!(j.target(), 2);
        j.push(3, &p[3]);
        // Playout waits a frame, then 3 plays with 4 behind it in time.
        assert_eq!(j.play(&mut out), Played::Concealed);
        j.push(4, &p[4]);
        assert_eq!(j.play(&mut out), Played::Frame);
        j.push(5, &p[5]);
        assert_eq!(j.play(&mut out), Played::Frame);
        assert_eq!(j.target(), 2);
    }
}
