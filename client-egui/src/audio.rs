//! Recording and playing voice notes through the system's sound devices
//! (cpal: ALSA on Linux, which PulseAudio and PipeWire serve). Each
//! recording or playback owns a thread that owns its stream; the UI only
//! reads atomics and polls a channel, so it never waits on a device.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cpal::Sample;
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use kovan_node::voice::{self, RATE};

/// The longest recording: a voice note is capped at an hour by the spec;
/// the desktop stops at ten minutes (about 110 MiB of samples in memory).
pub const MAX_RECORDING: Duration = Duration::from_secs(10 * 60);

/// Why a device could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// No microphone or speaker is set up.
    #[error("no {0} device is set up on this computer")]
    NoDevice(&'static str),
    /// The device refused.
    #[error("the {0} device failed: {1}")]
    Device(&'static str, String),
    /// The note could not be read.
    #[error("{0}")]
    Voice(#[from] voice::VoiceError),
}

/// The devices chosen in Settings (`None`: the system's default), read
/// each time one is opened: by a recording, a playback, a call or the
/// ringer.
static CHOSEN: Mutex<Chosen> = Mutex::new(Chosen { input: None, output: None });

/// Which microphone and speaker to use, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chosen {
    /// The input device's name.
    pub input: Option<String>,
    /// The output device's name.
    pub output: Option<String>,
}

/// Uses these devices from the next recording, playback or call on.
pub fn choose(chosen: Chosen) {
    if let Ok(mut c) = CHOSEN.lock() {
        *c = chosen;
    }
}

fn chosen() -> Chosen {
    CHOSEN.lock().map(|c| c.clone()).unwrap_or_default()
}

/// A microphone's side or a speaker's.
#[derive(Debug, Clone, Copy)]
enum Way {
    Input,
    Output,
}

impl Way {
    /// The word errors and logs use.
    fn name(self) -> &'static str {
        match self {
            Way::Input => "input",
            Way::Output => "output",
        }
    }

    /// The devices this way there are.
    fn devices(self, host: &cpal::Host) -> Vec<cpal::Device> {
        match self {
            Way::Input => host.input_devices().map(Iterator::collect),
            Way::Output => host.output_devices().map(Iterator::collect),
        }
        .unwrap_or_default()
    }

    /// The system's default device this way.
    fn default_device(self, host: &cpal::Host) -> Option<cpal::Device> {
        match self {
            Way::Input => host.default_input_device(),
            Way::Output => host.default_output_device(),
        }
    }

    /// The name chosen in Settings.
    fn chosen(self) -> Option<String> {
        let c = chosen();
        match self {
            Way::Input => c.input,
            Way::Output => c.output,
        }
    }

    /// The chosen device, else (none chosen, or the chosen one gone:
    /// unplugged, which is logged) the default one.
    fn device(self) -> Result<cpal::Device, AudioError> {
        let host = cpal::default_host();
        if let Some(name) = self.chosen() {
            let found =
                self.devices(&host).into_iter().find(|d| d.name().ok().as_ref() == Some(&name));
            match found {
                Some(d) => return Ok(d),
                None => tracing::warn!(
                    device = %name,
                    "the chosen {} device is gone; using the default",
                    self.name()
                ),
            }
        }
        self.default_device(&host).ok_or(AudioError::NoDevice(self.name()))
    }

    /// The names of the devices this way.
    fn names(self, host: &cpal::Host) -> Vec<String> {
        let mut names: Vec<String> =
            self.devices(host).iter().filter_map(|d| d.name().ok()).collect();
        names.dedup();
        names
    }
}

/// The input and output devices there are, by name (this asks the sound
/// system, which can take a moment: call it off the UI thread).
pub fn device_names() -> (Vec<String>, Vec<String>) {
    let host = cpal::default_host();
    (Way::Input.names(&host), Way::Output.names(&host))
}

/// The chosen input device, else the default one.
pub(crate) fn input_device() -> Result<cpal::Device, AudioError> {
    Way::Input.device()
}

/// The chosen output device, else the default one.
pub(crate) fn output_device() -> Result<cpal::Device, AudioError> {
    Way::Output.device()
}

/// The name of the input device a recording or a call opens now.
pub fn input_name() -> Option<String> {
    input_device().ok().and_then(|d| d.name().ok())
}

/// The name of the system's default input device.
pub fn default_input_name() -> Option<String> {
    Way::Input.default_device(&cpal::default_host()).and_then(|d| d.name().ok())
}

/// A recording in progress.
pub struct Recorder {
    stop: Arc<AtomicBool>,
    level: Arc<AtomicU32>,
    started: Instant,
    done: mpsc::Receiver<Result<Vec<f32>, AudioError>>,
}

impl Recorder {
    /// Starts recording from the chosen input device (opened on the
    /// recorder's thread; a failure comes back from [`Self::poll`]).
    pub fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let level = Arc::new(AtomicU32::new(0));
        let (tx, done) = mpsc::sync_channel(1);
        let (s, l) = (stop.clone(), level.clone());
        let spawned = std::thread::Builder::new().name("kovan-record".into()).spawn(move || {
            let _ = tx.send(record(&s, &l));
        });
        if let Err(e) = spawned {
            let (tx, rx) = mpsc::sync_channel(1);
            let _ = tx.send(Err(AudioError::Device("input", e.to_string())));
            return Self { stop, level, started: Instant::now(), done: rx };
        }
        Self { stop, level, started: Instant::now(), done }
    }

    /// How long it has been recording.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The input's recent peak level, 0..=1.
    pub fn level(&self) -> f32 {
        f32::from_bits(self.level.load(Ordering::Relaxed))
    }

    /// Asks the recording to end; [`Self::poll`] then gives the samples.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// The recording (mono at 48 kHz) once it has ended, or its error.
    pub fn poll(&self) -> Option<Result<Vec<f32>, AudioError>> {
        self.done.try_recv().ok()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A device's interleaved samples mixed down to mono.
pub(crate) fn mono<T: Sample>(data: &[T], channels: usize) -> Vec<f32>
where
    f32: cpal::FromSample<T>,
{
    let channels = channels.max(1);
    data.chunks(channels)
        .map(|c| c.iter().map(|s| f32::from_sample(*s)).sum::<f32>() / channels as f32)
        .collect()
}

fn record(stop: &AtomicBool, level: &Arc<AtomicU32>) -> Result<Vec<f32>, AudioError> {
    let device = input_device()?;
    let config =
        device.default_input_config().map_err(|e| AudioError::Device("input", e.to_string()))?;
    let rate = config.sample_rate().0;
    let channels = usize::from(config.channels().max(1));
    let max = (MAX_RECORDING.as_secs() as usize) * rate as usize;
    let (tx, rx) = mpsc::sync_channel::<Vec<f32>>(256);
    let failed = Arc::new(AtomicBool::new(false));
    let stream = {
        let (level, failed) = (level.clone(), failed.clone());
        let cfg = config.config();
        let err = move |e: cpal::StreamError| {
            tracing::warn!(error = %e, "recording failed");
            failed.store(true, Ordering::Relaxed);
        };
        macro_rules! input {
            ($t:ty) => {{
                let (level, tx) = (level.clone(), tx.clone());
                device.build_input_stream::<$t, _, _>(
                    &cfg,
                    move |data: &[$t], _| {
                        let mono = mono(data, channels);
                        let peak = mono.iter().fold(0f32, |m, s| m.max(s.abs()));
                        level.store(peak.min(1.0).to_bits(), Ordering::Relaxed);
                        // A full queue drops a buffer rather than block the device.
                        let _ = tx.try_send(mono);
                    },
                    err,
                    None,
                )
            }};
        }
        match config.sample_format() {
            cpal::SampleFormat::F32 => input!(f32),
            cpal::SampleFormat::I16 => input!(i16),
            cpal::SampleFormat::U16 => input!(u16),
            cpal::SampleFormat::I32 => input!(i32),
            other => {
                return Err(AudioError::Device(
                    "input",
                    format!("sample format {other} is not supported"),
                ));
            }
        }
        .map_err(|e| AudioError::Device("input", e.to_string()))?
    };
    stream.play().map_err(|e| AudioError::Device("input", e.to_string()))?;
    drop(tx);
    let mut samples = Vec::new();
    while !stop.load(Ordering::Relaxed) && samples.len() < max {
        if failed.load(Ordering::Relaxed) {
            return Err(AudioError::Device("input", "the stream stopped".into()));
        }
        if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(50)) {
            samples.extend(chunk);
        }
    }
    drop(stream);
    while let Ok(chunk) = rx.try_recv() {
        samples.extend(chunk);
    }
    samples.truncate(max);
    Ok(voice::resample(&samples, rate))
}

/// A voice note playing.
pub struct Player {
    stop: Arc<AtomicBool>,
    /// Samples (at 48 kHz) handed to the device so far.
    played: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
    done: mpsc::Receiver<Result<(), AudioError>>,
    finished: Option<Result<(), String>>,
}

impl Player {
    /// Decodes the Ogg/Opus note at `path` and plays it on the default
    /// output device, on the player's thread.
    pub fn start(path: std::path::PathBuf) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let played = Arc::new(AtomicU64::new(0));
        let total = Arc::new(AtomicU64::new(0));
        let (tx, done) = mpsc::sync_channel(1);
        let (s, p, t) = (stop.clone(), played.clone(), total.clone());
        let spawned = std::thread::Builder::new().name("kovan-play".into()).spawn(move || {
            let _ = tx.send(play(&path, &s, &p, &t));
        });
        let finished = spawned.err().map(|e| Err(e.to_string()));
        Self { stop, played, total, done, finished }
    }

    /// How far it has played, 0..=1.
    pub fn progress(&self) -> f32 {
        let total = self.total.load(Ordering::Relaxed);
        if total == 0 {
            return 0.0;
        }
        (self.played.load(Ordering::Relaxed) as f32 / total as f32).min(1.0)
    }

    /// Seconds played and in all.
    pub fn seconds(&self) -> (f32, f32) {
        let rate = RATE as f32;
        (
            self.played.load(Ordering::Relaxed) as f32 / rate,
            self.total.load(Ordering::Relaxed) as f32 / rate,
        )
    }

    /// Stops playing.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// `Some` once playing has ended: to the end, stopped, or failed.
    pub fn finished(&mut self) -> Option<&Result<(), String>> {
        if self.finished.is_none()
            && let Ok(r) = self.done.try_recv()
        {
            self.finished = Some(r.map_err(|e| e.to_string()));
        }
        self.finished.as_ref()
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        self.stop();
    }
}

fn play(
    path: &std::path::Path,
    stop: &AtomicBool,
    played: &Arc<AtomicU64>,
    total: &AtomicU64,
) -> Result<(), AudioError> {
    let file = std::fs::File::open(path)
        .map_err(|e| voice::VoiceError::Unsupported(format!("{}: {e}", path.display())))?;
    let note = voice::decode(std::io::BufReader::new(file))?;
    total.store(note.samples.len() as u64, Ordering::Relaxed);
    let device = output_device()?;
    let config =
        device.default_output_config().map_err(|e| AudioError::Device("output", e.to_string()))?;
    let rate = config.sample_rate().0;
    let channels = usize::from(config.channels().max(1));
    // The note at the device's rate; `played` counts in 48 kHz samples.
    let out: Arc<Vec<f32>> = Arc::new(voice::resample_between(&note.samples, RATE, rate));
    let ratio = f64::from(RATE) / f64::from(rate);
    let ended = Arc::new(AtomicBool::new(false));
    let failed = Arc::new(AtomicBool::new(false));
    let cfg = config.config();
    macro_rules! output {
        ($t:ty) => {{
            let (out, played, ended, failed) =
                (out.clone(), played.clone(), ended.clone(), failed.clone());
            let mut at = 0usize;
            device.build_output_stream::<$t, _, _>(
                &cfg,
                move |data: &mut [$t], _| {
                    for frame in data.chunks_mut(channels) {
                        let s = out.get(at).copied().unwrap_or(0.0);
                        for x in frame.iter_mut() {
                            *x = <$t>::from_sample(s);
                        }
                        at += 1;
                    }
                    let at48 = ((at.min(out.len())) as f64 * ratio) as u64;
                    played.store(at48, Ordering::Relaxed);
                    if at >= out.len() {
                        ended.store(true, Ordering::Relaxed);
                    }
                },
                move |e| {
                    tracing::warn!(error = %e, "playback failed");
                    failed.store(true, Ordering::Relaxed);
                },
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
            return Err(AudioError::Device(
                "output",
                format!("sample format {other} is not supported"),
            ));
        }
    }
    .map_err(|e| AudioError::Device("output", e.to_string()))?;
    stream.play().map_err(|e| AudioError::Device("output", e.to_string()))?;
    while !stop.load(Ordering::Relaxed) && !ended.load(Ordering::Relaxed) {
        if failed.load(Ordering::Relaxed) {
            return Err(AudioError::Device("output", "the stream stopped".into()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}
