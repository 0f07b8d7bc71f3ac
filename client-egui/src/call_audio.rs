//! A call's microphone and speaker: the input and output devices chosen
//! in Settings, else the system's defaults (cpal), behind the node's
//! `AudioSource` and `AudioSink`. Each owns a thread that owns its stream; the call's tasks and the device
//! callbacks meet in a short queue (at most 200 ms), so neither waits on
//! the other and a slow side drops audio instead of building up delay.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use cpal::Sample;
use cpal::traits::{DeviceTrait, StreamTrait};
use kovan_node::call::processing::Stages;
use kovan_node::call::{AudioSink, AudioSource};
use kovan_node::voice::{self, RATE};

use crate::audio::AudioError;

/// How loud the other side plays: an `f32`'s bits, 0..=2 (1: as sent).
/// The call window's slider sets it; the speaker reads it every buffer.
pub static VOLUME: AtomicU32 = AtomicU32::new(0x3f80_0000);

/// The most either queue holds, in 48 kHz samples: 200 ms.
const MAX_QUEUED: usize = RATE as usize / 5;

type Queue = Arc<Mutex<VecDeque<f32>>>;

fn push(q: &Queue, samples: impl IntoIterator<Item = f32>) {
    if let Ok(mut q) = q.lock() {
        q.extend(samples);
        let over = q.len().saturating_sub(MAX_QUEUED);
        q.drain(..over);
    }
}

/// Runs `open` on its own thread, which keeps the stream it returns until
/// `stop`; the first error (or success) comes back before this returns.
fn run_stream(
    name: &str,
    stop: Arc<AtomicBool>,
    open: impl FnOnce() -> Result<cpal::Stream, AudioError> + Send + 'static,
) -> Result<(), AudioError> {
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let stream = match open() {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            let _ = tx.send(Ok(()));
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
            }
            drop(stream);
        })
        .map_err(|e| AudioError::Device("audio", e.to_string()))?;
    rx.recv_timeout(Duration::from_secs(5))
        .map_err(|_| AudioError::Device("audio", "the device did not open".into()))?
}

/// The chosen input device.
pub struct Microphone {
    queue: Queue,
    stop: Arc<AtomicBool>,
}

impl Microphone {
    /// Opens the chosen input device.
    pub fn open() -> Result<Self, AudioError> {
        let queue: Queue = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let q = queue.clone();
        run_stream("kovan-call-mic", stop.clone(), move || {
            let device = crate::audio::input_device()?;
            let config = device
                .default_input_config()
                .map_err(|e| AudioError::Device("input", e.to_string()))?;
            let rate = config.sample_rate().0;
            let channels = usize::from(config.channels().max(1));
            let cfg = config.config();
            macro_rules! input {
                ($t:ty) => {{
                    let q = q.clone();
                    device.build_input_stream::<$t, _, _>(
                        &cfg,
                        move |data: &[$t], _| {
                            let mono = crate::audio::mono(data, channels);
                            push(&q, voice::resample_between(&mono, rate, RATE));
                        },
                        |e| tracing::warn!(error = %e, "the call's microphone failed"),
                        None,
                    )
                }};
            }
            let stream = match config.sample_format() {
                cpal::SampleFormat::F32 => input!(f32),
                cpal::SampleFormat::I16 => input!(i16),
                cpal::SampleFormat::U16 => input!(u16),
                cpal::SampleFormat::I32 => input!(i32),
                other => {
                    return Err(AudioError::Device("input", format!("sample format {other}")));
                }
            }
            .map_err(|e| AudioError::Device("input", e.to_string()))?;
            stream.play().map_err(|e| AudioError::Device("input", e.to_string()))?;
            Ok(stream)
        })?;
        Ok(Self { queue, stop })
    }
}

impl AudioSource for Microphone {
    fn read(&mut self, frame: &mut [f32]) {
        frame.fill(0.0);
        if let Ok(mut q) = self.queue.lock() {
            let n = frame.len().min(q.len());
            for (s, x) in frame.iter_mut().zip(q.drain(..n)) {
                *s = x;
            }
        }
    }

    /// A microphone hears the speaker and the room: echo cancellation,
    /// noise suppression and gain control.
    fn processing(&self) -> Option<Stages> {
        Some(Stages::ALL)
    }
}

impl Drop for Microphone {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The chosen output device, at a volume the UI sets.
pub struct Speaker {
    queue: Queue,
    stop: Arc<AtomicBool>,
}

impl Speaker {
    /// Opens the chosen output device, at [`VOLUME`].
    pub fn open() -> Result<Self, AudioError> {
        let queue: Queue = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let q = queue.clone();
        run_stream("kovan-call-speaker", stop.clone(), move || {
            let device = crate::audio::output_device()?;
            let config = device
                .default_output_config()
                .map_err(|e| AudioError::Device("output", e.to_string()))?;
            // 48 kHz samples consumed per device sample.
            let step = f64::from(RATE) / f64::from(config.sample_rate().0);
            let channels = usize::from(config.channels().max(1));
            let cfg = config.config();
            macro_rules! output {
                ($t:ty) => {{
                    let q = q.clone();
                    let mut pos = 0.0f64;
                    device.build_output_stream::<$t, _, _>(
                        &cfg,
                        move |data: &mut [$t], _| {
                            let gain = f32::from_bits(VOLUME.load(Ordering::Relaxed));
                            let Ok(mut q) = q.lock() else { return };
                            for frame in data.chunks_mut(channels) {
                                let s = q.front().copied().unwrap_or(0.0) * gain;
                                for x in frame.iter_mut() {
                                    *x = <$t>::from_sample(s.clamp(-1.0, 1.0));
                                }
                                pos += step;
                                while pos >= 1.0 {
                                    pos -= 1.0;
                                    q.pop_front();
                                }
                            }
                        },
                        |e| tracing::warn!(error = %e, "the call's speaker failed"),
                        None,
                    )
                }};
            }
            let stream = match config.sample_format() {
                cpal::SampleFormat::F32 => output!(f32),
                cpal::SampleFormat::I16 => output!(i16),
                cpal::SampleFormat::U16 => output!(u16),
                cpal::SampleFormat::I32 => output!(i32),
                other => {
                    return Err(AudioError::Device("output", format!("sample format {other}")));
                }
            }
            .map_err(|e| AudioError::Device("output", e.to_string()))?;
            stream.play().map_err(|e| AudioError::Device("output", e.to_string()))?;
            Ok(stream)
        })?;
        Ok(Self { queue, stop })
    }
}

impl AudioSink for Speaker {
    fn write(&mut self, frame: &[f32]) {
        push(&self.queue, frame.iter().copied());
    }
}

impl Drop for Speaker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The ring of an incoming call on the default output device: 425 Hz, one
/// second on and three off, until dropped. Best effort: it opens the
/// device on its own thread (the UI never waits) and a device that cannot
/// be opened leaves only the window and the notification.
pub struct Ringer {
    stop: Arc<AtomicBool>,
}

impl Ringer {
    /// Starts ringing.
    pub fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let spawned = std::thread::Builder::new().name("kovan-ring".into()).spawn(move || {
            let speaker = match Speaker::open() {
                Ok(sp) => sp,
                Err(e) => {
                    tracing::info!(error = %e, "no ring sound");
                    return;
                }
            };
            ring(speaker, &s);
        });
        if let Err(e) = spawned {
            tracing::info!(error = %e, "no ring sound");
        }
        Self { stop }
    }
}

/// Feeds the ring's cadence to `speaker` in 20 ms frames until `stop`.
fn ring(mut speaker: Speaker, stop: &AtomicBool) {
    let frame = RATE as usize / 50;
    let step = std::f64::consts::TAU * 425.0 / f64::from(RATE);
    let (mut phase, mut n) = (0.0f64, 0usize);
    let mut buf = vec![0.0f32; frame];
    let start = std::time::Instant::now();
    while !stop.load(Ordering::Relaxed) {
        // Frames 0..50 of every 200 (four seconds) sound.
        let on = n % 200 < 50;
        for s in buf.iter_mut() {
            *s = if on { 0.3 * phase.sin() as f32 } else { 0.0 };
            phase = (phase + step) % std::f64::consts::TAU;
        }
        speaker.write(&buf);
        n += 1;
        // Keep to real time: frame `n` is due at n × 20 ms.
        let due = start + Duration::from_millis(20 * n as u64);
        if let Some(wait) = due.checked_duration_since(std::time::Instant::now()) {
            std::thread::sleep(wait);
        }
    }
}

impl Drop for Ringer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
