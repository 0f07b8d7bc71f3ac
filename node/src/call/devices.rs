//! The audio devices a call uses, behind two traits: a source fills 20 ms
//! frames (mono, 48 kHz, samples in −1..1) and a sink takes them. The
//! desktop puts a microphone and a speaker behind them; tests, benchmarks
//! and the CLI use the synthetic ones here (a tone, a WAV file, silence; a
//! recorder, a WAV writer, nothing).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::processing::Stages;
use crate::voice::{self, RATE};

/// Samples in one 20 ms frame at 48 kHz.
pub const FRAME: usize = (RATE / 50) as usize;

/// Where a call's outgoing audio comes from.
pub trait AudioSource: Send + 'static {
    /// Fills `frame` ([`FRAME`] samples) with the next 20 ms.
    fn read(&mut self, frame: &mut [f32]);
    /// What its audio goes through before it is sent: a microphone in a
    /// room hears the speaker, so it asks for echo cancellation and noise
    /// suppression ([`Stages::ALL`]); synthetic sources are sent as they
    /// are (`None`, the default).
    fn processing(&self) -> Option<Stages> {
        None
    }
}

/// Where a call's incoming audio goes.
pub trait AudioSink: Send + 'static {
    /// Takes the next 20 ms ([`FRAME`] samples).
    fn write(&mut self, frame: &[f32]);
    /// The call ended: nothing more comes (a file is finished here).
    fn finish(&mut self) {}
}

/// Silence.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silence;

impl AudioSource for Silence {
    fn read(&mut self, frame: &mut [f32]) {
        frame.fill(0.0);
    }
}

/// A steady sine tone.
#[derive(Debug, Clone, Copy)]
pub struct Tone {
    hz: f32,
    amplitude: f32,
    phase: f64,
}

impl Tone {
    /// A tone at `hz` with a peak of `amplitude` (0..=1).
    pub fn new(hz: f32, amplitude: f32) -> Self {
        Self { hz, amplitude: amplitude.clamp(0.0, 1.0), phase: 0.0 }
    }
}

impl AudioSource for Tone {
    fn read(&mut self, frame: &mut [f32]) {
        let step = std::f64::consts::TAU * f64::from(self.hz) / f64::from(RATE);
        for s in frame {
            *s = self.amplitude * self.phase.sin() as f32;
            self.phase = (self.phase + step) % std::f64::consts::TAU;
        }
    }
}

/// A WAV file, played in a loop (any rate and channel count; mixed to mono
/// at 48 kHz).
#[derive(Debug, Clone)]
pub struct WavLoop {
    samples: Vec<f32>,
    at: usize,
}

impl WavLoop {
    /// Reads `path`.
    pub fn open(path: &Path) -> Result<Self, String> {
        let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let samples = voice::read_wav(std::io::BufReader::new(file)).map_err(|e| e.to_string())?;
        if samples.is_empty() {
            return Err(format!("{} holds no sound", path.display()));
        }
        Ok(Self { samples, at: 0 })
    }
}

impl AudioSource for WavLoop {
    fn read(&mut self, frame: &mut [f32]) {
        for s in frame {
            *s = self.samples[self.at];
            self.at = (self.at + 1) % self.samples.len();
        }
    }
}

/// Keeps everything it is given in memory, shared with whoever holds a
/// clone (tests and benchmarks read it while the call runs).
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    samples: Arc<Mutex<Vec<f32>>>,
}

/// The most a [`Recorder`] keeps: ten minutes; later audio is dropped.
const RECORDER_MAX: usize = 10 * 60 * RATE as usize;

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// What arrived so far.
    pub fn samples(&self) -> Vec<f32> {
        self.samples.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl AudioSink for Recorder {
    fn write(&mut self, frame: &[f32]) {
        if let Ok(mut s) = self.samples.lock()
            && s.len() < RECORDER_MAX
        {
            s.extend_from_slice(frame);
        }
    }
}

/// Writes what arrives to a 16-bit mono WAV file when the call ends.
#[derive(Debug)]
pub struct WavFile {
    path: PathBuf,
    rec: Recorder,
}

impl WavFile {
    /// Records into `path` (written when the call ends).
    pub fn create(path: &Path) -> Result<Self, String> {
        // Fail now, not after the call, if the file cannot be made.
        std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Self { path: path.to_owned(), rec: Recorder::new() })
    }
}

impl AudioSink for WavFile {
    fn write(&mut self, frame: &[f32]) {
        self.rec.write(frame);
    }

    fn finish(&mut self) {
        // Written beside it and renamed: the file appears whole or not at
        // all (a reader never sees half a recording).
        let mut part = self.path.clone().into_os_string();
        part.push(".part");
        let part = PathBuf::from(part);
        let written = std::fs::File::create(&part)
            .map_err(|e| e.to_string())
            .and_then(|f| {
                let mut out = std::io::BufWriter::new(f);
                voice::write_wav(&mut out, &self.rec.samples()).map_err(|e| e.to_string())?;
                let f = out.into_inner().map_err(|e| e.to_string())?;
                f.sync_all().map_err(|e| e.to_string())
            })
            .and_then(|()| std::fs::rename(&part, &self.path).map_err(|e| e.to_string()))
            .inspect_err(|_| {
                let _ = std::fs::remove_file(&part);
            });
        if let Err(e) = written {
            tracing::warn!(path = %self.path.display(), error = %e, "the call's recording was not written");
        }
    }
}

/// Drops what arrives.
#[derive(Debug, Default, Clone, Copy)]
pub struct Discard;

impl AudioSink for Discard {
    fn write(&mut self, _: &[f32]) {}
}

/// The root-mean-square level of `frame`, 0..=1.
pub fn rms(frame: &[f32]) -> f32 {
    if frame.is_empty() {
        return 0.0;
    }
    (frame.iter().map(|s| s * s).sum::<f32>() / frame.len() as f32).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_source_keeps_its_pitch_and_level_across_frames() {
        let mut tone = Tone::new(440.0, 0.5);
        let mut all = Vec::new();
        let mut frame = [0.0; FRAME];
        for _ in 0..50 {
            tone.read(&mut frame);
            all.extend_from_slice(&frame);
        }
        let f = voice::tone_frequency(&all);
        assert!((f - 440.0).abs() < 2.0, "{f} Hz");
        // A sine's RMS is its peak over √2.
        assert!((rms(&all) - 0.5 / 2f32.sqrt()).abs() < 0.01, "{}", rms(&all));
    }
}
