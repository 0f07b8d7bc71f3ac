//! What a real microphone's audio goes through before it is encoded:
//! WebRTC's audio processing (the `sonora` port: echo cancellation AEC3,
//! noise suppression, a high-pass filter and gain control). The canceller
//! is told what the speaker is about to play (the far end, "render") and
//! removes its echo from what the microphone hears ("capture"), so the
//! other side does not hear itself back from loudspeakers.
//!
//! Synthetic sources (tones, WAV files) are not processed: they carry no
//! echo, and noise suppression would take a steady tone for noise.

use std::sync::Mutex;

use sonora::config::{EchoCanceller, GainController2, HighPassFilter, NoiseSuppression};
use sonora::{AudioProcessing, Config, StreamConfig};

use crate::voice::RATE;

/// Samples in the 10 ms blocks the processing works in.
const BLOCK: usize = (RATE / 100) as usize;

/// A nominal delay between a frame handed to the speaker and its echo in
/// the microphone (two device queues of a few tens of milliseconds each).
/// AEC3 estimates the real one itself; this is where its search starts.
const NOMINAL_DELAY_MS: i32 = 60;

/// Which parts run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stages {
    /// Echo cancellation.
    pub echo: bool,
    /// Noise suppression, high-pass filter and gain control.
    pub cleanup: bool,
}

impl Stages {
    /// Everything, as for a microphone.
    pub const ALL: Stages = Stages { echo: true, cleanup: true };
}

/// One call's audio processing, shared by its sending and its playing task.
pub struct Processing {
    apm: Mutex<AudioProcessing>,
}

impl std::fmt::Debug for Processing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Processing").finish_non_exhaustive()
    }
}

impl Processing {
    /// Processing at 48 kHz mono with `stages`.
    pub fn new(stages: Stages) -> Self {
        let config = Config {
            echo_canceller: stages.echo.then(EchoCanceller::default),
            noise_suppression: stages.cleanup.then(NoiseSuppression::default),
            high_pass_filter: stages.cleanup.then(HighPassFilter::default),
            gain_controller2: stages.cleanup.then(GainController2::default),
            ..Default::default()
        };
        let mut apm = AudioProcessing::builder()
            .config(config)
            .capture_config(StreamConfig::new(RATE, 1))
            .render_config(StreamConfig::new(RATE, 1))
            .build();
        // Only a hint, kept for every block (clamping is the one error,
        // and cannot happen).
        let _ = apm.set_stream_delay_ms(NOMINAL_DELAY_MS);
        Self { apm: Mutex::new(apm) }
    }

    /// `frame` (any whole number of 10 ms blocks) is about to be played.
    pub fn render(&self, frame: &[f32]) {
        let Ok(mut apm) = self.apm.lock() else { return };
        let mut out = [0.0f32; BLOCK];
        for block in frame.chunks_exact(BLOCK) {
            if let Err(e) = apm.process_render_f32(&[block], &mut [&mut out]) {
                tracing::debug!(error = ?e, "audio processing refused a played block");
            }
        }
    }

    /// Cleans `frame` (any whole number of 10 ms blocks) from the
    /// microphone in place.
    pub fn capture(&self, frame: &mut [f32]) {
        let Ok(mut apm) = self.apm.lock() else { return };
        let mut out = [0.0f32; BLOCK];
        for block in frame.chunks_exact_mut(BLOCK) {
            match apm.process_capture_f32(&[block], &mut [&mut out]) {
                Ok(()) => block.copy_from_slice(&out),
                Err(e) => tracing::debug!(error = ?e, "audio processing refused a block"),
            }
        }
    }

    /// How much the echo is reduced now, in dB (once the canceller has
    /// measured it).
    pub fn echo_reduction_db(&self) -> Option<f64> {
        self.apm.lock().ok().and_then(|a| a.statistics().echo_return_loss_enhancement)
    }
}
