//! Voice notes (I3, SPEC.md §6.7): Opus in an Ogg container (RFC 7845),
//! mono at 48 kHz, with a peak-level waveform for the preview.
//!
//! Sources are pluggable: the desktop client records from an input
//! device and hands over samples; the CLI and the tests read a WAV file or
//! generate a tone. Pure computation: no I/O beyond the readers and writers
//! it is given.

use std::io::{Read, Seek, Write};

use kovan_spec::limits::{MAX_VOICE_MS, MAX_WAVEFORM};
use ogg::{PacketReader, PacketWriteEndInfo, PacketWriter};

/// Opus's sample rate, Hz.
pub const RATE: u32 = 48_000;
/// One Opus frame: 20 ms.
const FRAME: usize = 960;
/// Speech at 32 kbit/s: clear voice, about 4 KiB per second.
const BITRATE: i32 = 32_000;
/// Peak levels in a waveform preview.
pub const WAVEFORM_LEVELS: usize = 64;
/// The longest note this device sends (a recorder stops here too); a
/// received note may last up to the protocol's hour.
pub const MAX_SEND_MS: u32 = 10 * 60 * 1000;
/// The tones `VoiceSource::Tone` makes: what people hear.
pub const TONE_HZ: std::ops::RangeInclusive<f32> = 20.0..=20_000.0;
/// The longest note, in samples.
const MAX_SAMPLES: u64 = MAX_VOICE_MS as u64 * (RATE as u64 / 1000);
/// The largest Opus packet (RFC 6716 §3.4: 120 ms at 510 kbit/s < 8 KiB).
const MAX_PACKET: usize = 8 * 1024;
/// The Ogg stream's serial number (one stream per file).
const SERIAL: u32 = 0x6b6f_7661; // "kova"

/// Why a voice note cannot be made or read.
#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    /// The input is not audio kovan reads.
    #[error("not a voice note kovan can read: {0}")]
    Unsupported(String),
    /// Longer than an hour, or empty.
    #[error("a voice note lasts 1 ms to 1 hour; this one is {0}")]
    Length(String),
    /// Longer than this device sends ([`MAX_SEND_MS`]).
    #[error("a voice note sent from here lasts up to 10 minutes; this one is {0} s")]
    TooLong(u64),
    /// The bytes are damaged.
    #[error("the voice note is damaged: {0}")]
    Corrupt(String),
    /// The codec failed.
    #[error("the Opus codec failed: {0}")]
    Codec(String),
}

/// An encoded note with what its message says about it.
#[derive(Debug, Clone)]
pub struct VoiceNote {
    /// The Ogg/Opus file.
    pub ogg: Vec<u8>,
    /// Length, ms.
    pub duration_ms: u32,
    /// Peak levels 0..=255 ([`WAVEFORM_LEVELS`] of them).
    pub waveform: Vec<u8>,
}

/// `seconds` of a sine tone at `hz`, at [`RATE`], at half of full scale.
pub fn tone(hz: f32, seconds: f32) -> Vec<f32> {
    let n = (seconds * RATE as f32) as usize;
    (0..n).map(|i| 0.5 * (2.0 * std::f32::consts::PI * hz * i as f32 / RATE as f32).sin()).collect()
}

/// Reads a WAV file (8/16/24/32-bit integer or 32-bit float, any rate,
/// any channel count) as mono samples at [`RATE`].
pub fn read_wav(r: impl Read) -> Result<Vec<f32>, VoiceError> {
    let mut wav =
        hound::WavReader::new(r).map_err(|e| VoiceError::Unsupported(format!("WAV: {e}")))?;
    let spec = wav.spec();
    let channels = usize::from(spec.channels.max(1));
    if spec.sample_rate == 0 || spec.sample_rate > 384_000 {
        return Err(VoiceError::Unsupported(format!("a rate of {} Hz", spec.sample_rate)));
    }
    let frames = u64::from(wav.duration());
    if frames * u64::from(RATE) / u64::from(spec.sample_rate) > MAX_SAMPLES {
        return Err(VoiceError::Length(format!("{} s", frames / u64::from(spec.sample_rate))));
    }
    let corrupt = |e: hound::Error| VoiceError::Corrupt(format!("WAV: {e}"));
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => {
            wav.samples::<f32>().collect::<Result<_, _>>().map_err(corrupt)?
        }
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            wav.samples::<i32>()
                .map(|s| s.map(|s| s as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(corrupt)?
        }
    };
    let mono: Vec<f32> =
        interleaved.chunks(channels).map(|c| c.iter().sum::<f32>() / channels as f32).collect();
    Ok(resample(&mono, spec.sample_rate))
}

/// Linear resampling to [`RATE`] (voice needs nothing finer).
pub fn resample(x: &[f32], from: u32) -> Vec<f32> {
    resample_between(x, from, RATE)
}

/// Linear resampling from one rate to another (a device's rate to
/// [`RATE`] and back).
pub fn resample_between(x: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to || x.is_empty() || from == 0 || to == 0 {
        return x.to_vec();
    }
    let n = (x.len() as u64 * u64::from(to) / u64::from(from)) as usize;
    let step = f64::from(from) / f64::from(to);
    (0..n)
        .map(|i| {
            let t = i as f64 * step;
            let k = t as usize;
            let f = (t - k as f64) as f32;
            let a = x[k.min(x.len() - 1)];
            let b = x[(k + 1).min(x.len() - 1)];
            a + (b - a) * f
        })
        .collect()
}

/// Peak levels over evenly spaced stretches of the note.
pub fn waveform(samples: &[f32], levels: usize) -> Vec<u8> {
    let levels = levels.min(MAX_WAVEFORM);
    if samples.is_empty() || levels == 0 {
        return Vec::new();
    }
    (0..levels)
        .map(|i| {
            let a = i * samples.len() / levels;
            let b = ((i + 1) * samples.len() / levels).max(a + 1).min(samples.len());
            let peak = samples[a..b].iter().fold(0f32, |m, s| m.max(s.abs()));
            (peak.min(1.0) * 255.0).round() as u8
        })
        .collect()
}

fn codec(e: opus::Error) -> VoiceError {
    VoiceError::Codec(e.to_string())
}

/// Encodes mono samples at [`RATE`] as Ogg/Opus.
pub fn encode(samples: &[f32]) -> Result<VoiceNote, VoiceError> {
    let duration_ms = samples.len() as u64 * 1000 / u64::from(RATE);
    if samples.is_empty() || samples.len() as u64 > MAX_SAMPLES || duration_ms == 0 {
        return Err(VoiceError::Length(format!("{duration_ms} ms")));
    }
    let mut enc =
        opus::Encoder::new(RATE, opus::Channels::Mono, opus::Application::Voip).map_err(codec)?;
    enc.set_bitrate(opus::Bitrate::Bits(BITRATE)).map_err(codec)?;
    let pre_skip = u16::try_from(enc.get_lookahead().map_err(codec)?).unwrap_or(312);
    let mut out = Vec::new();
    {
        let mut w = PacketWriter::new(&mut out);
        let mut head = b"OpusHead".to_vec();
        head.push(1); // version
        head.push(1); // channels
        head.extend(pre_skip.to_le_bytes());
        head.extend(RATE.to_le_bytes());
        head.extend(0i16.to_le_bytes()); // output gain
        head.push(0); // mapping family 0: mono or stereo
        let io = |e: std::io::Error| VoiceError::Codec(e.to_string());
        w.write_packet(head, SERIAL, PacketWriteEndInfo::EndPage, 0).map_err(io)?;
        let vendor = b"kovan";
        let mut tags = b"OpusTags".to_vec();
        tags.extend((vendor.len() as u32).to_le_bytes());
        tags.extend(vendor);
        tags.extend(0u32.to_le_bytes()); // no comments: nothing about the sender
        w.write_packet(tags, SERIAL, PacketWriteEndInfo::EndPage, 0).map_err(io)?;
        // The encoder's look-ahead delays the sound by `pre_skip` samples:
        // feed that much silence after the note so all of it comes out.
        let total = samples.len() + usize::from(pre_skip);
        let frames = total.div_ceil(FRAME);
        let mut pcm = [0f32; FRAME];
        let mut packet = [0u8; MAX_PACKET];
        for i in 0..frames {
            pcm.fill(0.0);
            let start = (i * FRAME).min(samples.len());
            let chunk = &samples[start..((i + 1) * FRAME).min(samples.len())];
            pcm[..chunk.len()].copy_from_slice(chunk);
            let n = enc.encode_float(&pcm, &mut packet).map_err(codec)?;
            let last = i + 1 == frames;
            // Granule positions count decoded samples, pre-skip included;
            // the last one ends the stream exactly at the last real sample
            // (RFC 7845 §4).
            let granule = if last { total as u64 } else { ((i + 1) * FRAME) as u64 };
            let end = if last {
                PacketWriteEndInfo::EndStream
            } else if (i + 1) % 50 == 0 {
                PacketWriteEndInfo::EndPage // a page a second
            } else {
                PacketWriteEndInfo::NormalPacket
            };
            w.write_packet(packet[..n].to_vec(), SERIAL, end, granule).map_err(io)?;
        }
    }
    Ok(VoiceNote {
        ogg: out,
        duration_ms: duration_ms as u32,
        waveform: waveform(samples, WAVEFORM_LEVELS),
    })
}

/// A decoded note.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// Mono samples at [`RATE`], pre-skip removed, cut at the end granule.
    pub samples: Vec<f32>,
    /// Length, ms.
    pub duration_ms: u32,
}

/// Decodes an Ogg/Opus note (from a peer: every size is bounded).
pub fn decode(r: impl Read + Seek) -> Result<Decoded, VoiceError> {
    let mut reader = PacketReader::new(r);
    let mut next = || reader.read_packet().map_err(|e| VoiceError::Corrupt(format!("Ogg: {e}")));
    let head = next()?.ok_or_else(|| VoiceError::Corrupt("empty".into()))?;
    let h = &head.data;
    if h.len() < 19 || &h[..8] != b"OpusHead" || h[8] != 1 {
        return Err(VoiceError::Unsupported("not an Opus stream".into()));
    }
    let channels = h[9];
    if channels != 1 {
        return Err(VoiceError::Unsupported(format!("{channels} channels; notes are mono")));
    }
    let pre_skip = usize::from(u16::from_le_bytes([h[10], h[11]]));
    let tags = next()?.ok_or_else(|| VoiceError::Corrupt("no OpusTags".into()))?;
    if !tags.data.starts_with(b"OpusTags") {
        return Err(VoiceError::Corrupt("no OpusTags".into()));
    }
    let mut dec = opus::Decoder::new(RATE, opus::Channels::Mono).map_err(codec)?;
    let mut samples = Vec::new();
    let mut pcm = vec![0f32; 5760]; // 120 ms, Opus's longest frame
    let mut end = None;
    while let Some(p) = next()? {
        if p.data.len() > MAX_PACKET {
            return Err(VoiceError::Corrupt("an oversized Opus packet".into()));
        }
        let n = dec
            .decode_float(&p.data, &mut pcm, false)
            .map_err(|e| VoiceError::Corrupt(format!("Opus: {e}")))?;
        if (samples.len() + n) as u64 > MAX_SAMPLES + pre_skip as u64 {
            return Err(VoiceError::Length("over an hour".into()));
        }
        samples.extend_from_slice(&pcm[..n]);
        if p.last_in_stream() {
            end = Some(p.absgp_page());
            break;
        }
    }
    let end = end.ok_or_else(|| VoiceError::Corrupt("cut short (no end of stream)".into()))?;
    let total = usize::try_from(end).unwrap_or(usize::MAX).min(samples.len());
    if total <= pre_skip {
        return Err(VoiceError::Length("0 ms".into()));
    }
    let samples = samples[pre_skip..total].to_vec();
    let duration_ms = (samples.len() as u64 * 1000 / u64::from(RATE)) as u32;
    Ok(Decoded { samples, duration_ms })
}

/// Writes mono samples at [`RATE`] as a 16-bit WAV.
pub fn write_wav(w: impl Write + Seek, samples: &[f32]) -> Result<(), VoiceError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let err = |e: hound::Error| VoiceError::Codec(format!("WAV: {e}"));
    let mut out = hound::WavWriter::new(w, spec).map_err(err)?;
    for s in samples {
        out.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16).map_err(err)?;
    }
    out.finalize().map_err(err)
}

/// The dominant frequency of a steady tone, Hz, from its zero crossings.
pub fn tone_frequency(samples: &[f32]) -> f32 {
    let crossings =
        samples.windows(2).filter(|w| (w[0] < 0.0 && w[1] >= 0.0) || (w[0] >= 0.0 && w[1] < 0.0));
    crossings.count() as f32 / 2.0 / (samples.len() as f32 / RATE as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn a_tone_survives_opus_with_its_length_and_pitch() {
        let _busy = crate::REAL_TIME.blocking_lock();
        let note = encode(&tone(440.0, 3.0)).unwrap();
        assert_eq!(note.duration_ms, 3000);
        assert_eq!(note.waveform.len(), WAVEFORM_LEVELS);
        assert!(note.waveform.iter().all(|&l| (100..=160).contains(&l)), "{:?}", note.waveform);
        assert!(note.ogg.len() < 20_000, "about 32 kbit/s: {} bytes", note.ogg.len());
        let back = decode(Cursor::new(&note.ogg)).unwrap();
        assert_eq!(back.duration_ms, 3000);
        assert_eq!(back.samples.len(), 3 * RATE as usize);
        let f = tone_frequency(&back.samples[RATE as usize / 10..]);
        assert!((f - 440.0).abs() < 5.0, "{f} Hz");
    }

    #[test]
    fn a_wav_at_another_rate_is_resampled_and_a_damaged_note_is_refused() {
        let _busy = crate::REAL_TIME.blocking_lock();
        let mut wav = Cursor::new(Vec::new());
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 44_100,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::new(&mut wav, spec).unwrap();
        for i in 0..44_100 {
            let s = (0.4
                * (2.0 * std::f32::consts::PI * 300.0 * i as f32 / 44_100.0).sin()
                * 32767.0) as i16;
            w.write_sample(s).unwrap();
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        let samples = read_wav(Cursor::new(wav.into_inner())).unwrap();
        assert_eq!(samples.len(), RATE as usize);
        assert!((tone_frequency(&samples) - 300.0).abs() < 3.0);
        let note = encode(&samples).unwrap();
        let cut = &note.ogg[..note.ogg.len() / 2];
        assert!(matches!(decode(Cursor::new(cut)), Err(VoiceError::Corrupt(_))));
        assert!(decode(Cursor::new(b"OggS garbage".to_vec())).is_err());
        assert!(read_wav(Cursor::new(b"RIFF nonsense".to_vec())).is_err());
        assert!(matches!(encode(&[]), Err(VoiceError::Length(_))));
    }
}
