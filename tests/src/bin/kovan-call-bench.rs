//! `kovan-call-bench`: a 1:1 voice call between two real nodes on loopback
//! (real signaling through the MLS conversation, a real WebRTC connection,
//! Opus with FEC, the jitter buffer) — mouth-to-ear latency and CPU —
//! next to raw Opus measured in the same run.
//!
//! Mouth-to-ear: the caller's source plays 200 ms bursts of a 1 kHz tone
//! after 300 ms of silence; a burst starts at the first sample of a frame,
//! so its "mouth" time is when that frame was handed over minus the
//! frame's 20 ms (a microphone delivers a frame when its last sample is
//! in). Its "ear" time is when the callee's sink receives the first loud
//! frame (a speaker starts playing a frame when it gets it). The raw Opus
//! baseline is what a pipeline without network or buffers costs: the same
//! 20 ms of framing plus one encode and one decode.
//!
//! CPU: both ends (this one process) over a steady call, as a share of one
//! core, next to raw Opus encoding and decoding the same 50 frames a
//! second each way. Then the caller's camera comes on (the 640×480 test
//! pattern at 30 pictures a second) and the same is measured again, next
//! to raw VP8 making, encoding and decoding the same pictures at the bit
//! rate the call reached.
//!
//! ```text
//! cargo run --release -p kovan-tests --bin kovan-call-bench -- --bursts 100
//! ```

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use kovan_crypto::keystore::KdfParams;
use kovan_node::call::devices::{FRAME, rms};
use kovan_node::call::processing::{Processing, Stages};
use kovan_node::call::{AudioSink, AudioSource, Discard, Silence};
use kovan_node::home::Home;
use kovan_node::identity::Identity;
use kovan_node::{CallDevices, CallState, Event, Node, NodeHandle, NodeOptions};
use kovan_relay::{Relay, RelayConfig};
use serde_json::json;
use tokio::sync::broadcast;

#[derive(Debug, Parser)]
#[command(
    about = "1:1 call latency and CPU between two kovan nodes, with raw Opus and VP8 baselines"
)]
struct Args {
    /// Tone bursts timed (one every 500 ms).
    #[arg(long, default_value_t = 100)]
    bursts: usize,
    /// Seconds of steady call for the CPU figure.
    #[arg(long, default_value_t = 10)]
    cpu_secs: u64,
    /// Seconds of video call for its CPU figure.
    #[arg(long, default_value_t = 10)]
    video_secs: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// 300 ms of silence, then 200 ms of a 1 kHz tone, again and again; the
/// time each burst's first frame was handed over.
struct Bursts {
    frame: usize,
    phase: f64,
    onsets: Arc<Mutex<Vec<Instant>>>,
}

impl AudioSource for Bursts {
    fn read(&mut self, out: &mut [f32]) {
        let in_cycle = self.frame % 25;
        self.frame += 1;
        if in_cycle < 15 {
            out.fill(0.0);
            return;
        }
        if in_cycle == 15
            && let Ok(mut o) = self.onsets.lock()
        {
            o.push(Instant::now());
        }
        let step = std::f64::consts::TAU * 1000.0 / 48_000.0;
        for s in out {
            *s = 0.5 * self.phase.sin() as f32;
            self.phase = (self.phase + step) % std::f64::consts::TAU;
        }
    }
}

/// When each loud frame came after a quiet one.
struct Onsets {
    quiet: bool,
    heard: Arc<Mutex<Vec<Instant>>>,
}

impl AudioSink for Onsets {
    fn write(&mut self, frame: &[f32]) {
        let level = rms(frame);
        if self.quiet
            && level > 0.1
            && let Ok(mut h) = self.heard.lock()
        {
            h.push(Instant::now());
        }
        self.quiet = level < 0.05;
    }
}

struct Peer {
    h: NodeHandle,
    rx: broadcast::Receiver<Event>,
}

async fn node(dir: &std::path::Path, name: &str, relay: &str) -> anyhow::Result<Peer> {
    let home = Home::at(dir.join(name));
    let id = Identity::create_with_params(&home, b"bench", name, KdfParams::default())?;
    let mut opts = NodeOptions::loopback(home, name);
    opts.relay_url = Some(relay.to_owned());
    let h = Node::start(id, opts).await?;
    let rx = h.subscribe();
    Ok(Peer { h, rx })
}

async fn wait(
    rx: &mut broadcast::Receiver<Event>,
    want: impl Fn(&Event) -> bool,
) -> anyhow::Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match rx.recv().await {
                Ok(ev) if want(&ev) => return Ok(()),
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => return Err(anyhow::anyhow!("the node stopped: {e}")),
            }
        }
    })
    .await
    .map_err(|_| anyhow::anyhow!("timed out waiting for the other node"))?
}

fn active(e: &Event) -> bool {
    matches!(e, Event::Call { call } if call.state == CallState::Active)
}

/// This process's CPU time (user + system).
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command's closing parenthesis, from the state:
    // utime is the 12th, stime the 13th (clock ticks, 100 a second).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    let ticks = field(11) + field(12);
    Duration::from_millis(ticks * 10)
}

/// What a shared list holds now.
fn lock(m: &Mutex<Vec<Instant>>) -> anyhow::Result<Vec<Instant>> {
    m.lock().map(|v| v.clone()).map_err(|_| anyhow::anyhow!("a device thread panicked"))
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Raw Opus, as a call uses it: one frame encoded and decoded, per frame
/// (the median of `n`).
fn opus_baseline(n: usize) -> anyhow::Result<Duration> {
    let mut enc = kovan_node::call::audio::Encoder::new().map_err(anyhow::Error::msg)?;
    let mut dec = opus::Decoder::new(48_000, opus::Channels::Mono)?;
    let mut src = kovan_node::call::Tone::new(1000.0, 0.5);
    let (mut frame, mut out) = ([0.0f32; FRAME], [0.0f32; FRAME]);
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        src.read(&mut frame);
        let t = Instant::now();
        let p = enc.encode(&frame).map_err(anyhow::Error::msg)?;
        dec.decode_float(&p, &mut out, false)?;
        times.push(t.elapsed());
    }
    Ok(median(times))
}

/// The middle of `times` (zero when there are none).
/// Raw VP8 for `n` pictures of the 640×480 test pattern at `kbps`: made,
/// encoded and decoded, without a network; the time per picture.
fn vp8_baseline(n: u32, kbps: u32) -> anyhow::Result<Duration> {
    use kovan_vpx::{Decoder, Encoder, EncoderConfig};
    let pattern = kovan_node::call::TestPattern::new(640, 480).map_err(anyhow::Error::msg)?;
    let mut enc = Encoder::new(EncoderConfig { width: 640, height: 480, fps: 30, kbps })?;
    let mut dec = Decoder::new()?;
    let t = Instant::now();
    for i in 0..n {
        for f in enc.encode(&pattern.picture(i), i % 90 == 0)? {
            std::hint::black_box(dec.decode(&f.data)?);
        }
    }
    Ok(t.elapsed() / n)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

/// A microphone's processing (echo cancellation, noise suppression, gain
/// control) of one 20 ms frame and the frame played beside it: the median
/// of `n`, after a second to settle.
fn processing_cost(n: usize) -> Duration {
    let p = Processing::new(Stages::ALL);
    let (mut far, mut near) =
        (kovan_node::call::Tone::new(700.0, 0.5), kovan_node::call::Tone::new(300.0, 0.3));
    let (mut played, mut frame) = ([0.0f32; FRAME], [0.0f32; FRAME]);
    let mut times = Vec::with_capacity(n);
    for i in 0..n + 50 {
        far.read(&mut played);
        near.read(&mut frame);
        let t = Instant::now();
        p.render(&played);
        p.capture(&mut frame);
        if i >= 50 {
            times.push(t.elapsed());
        }
    }
    median(times)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let relay = Relay::start(RelayConfig {
        listen: "127.0.0.1:0".parse()?,
        data_dir: Some(dir.path().join("relay")),
        ..Default::default()
    })
    .await?;
    let url = relay.url();
    let codec = tokio::task::block_in_place(|| opus_baseline(5_000))?;
    let processing = tokio::task::block_in_place(|| processing_cost(2_000));

    let mut a = node(dir.path(), "caller", &url).await?;
    let mut b = node(dir.path(), "callee", &url).await?;
    a.h.register("caller", "bench password").await?;
    b.h.register("callee", "bench password").await?;
    a.h.friend_request("callee", "").await?;
    wait(&mut b.rx, |e| matches!(e, Event::FriendRequest { .. })).await?;
    b.h.friend_accept(&a.h.account_hex()).await?;
    wait(&mut a.rx, |e| matches!(e, Event::FriendAccepted { .. })).await?;

    let (sent, heard) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
    let s = sent.clone();
    let caller = CallDevices::new(move || {
        let src = Bursts { frame: 0, phase: 0.0, onsets: s.clone() };
        Ok((Box::new(src) as Box<dyn AudioSource>, Box::new(Discard) as Box<dyn AudioSink>))
    });
    let h = heard.clone();
    let callee = CallDevices::new(move || {
        let sink = Onsets { quiet: true, heard: h.clone() };
        Ok((Box::new(Silence) as Box<dyn AudioSource>, Box::new(sink) as Box<dyn AudioSink>))
    });
    let t = Instant::now();
    a.h.call_friend(&b.h.account_hex(), caller).await?;
    wait(&mut b.rx, |e| matches!(e, Event::Call { call } if call.state == CallState::Ringing))
        .await?;
    let ring = t.elapsed();
    let t = Instant::now();
    b.h.answer_call(None, callee).await?;
    wait(&mut a.rx, active).await?;
    let connect = t.elapsed();

    // Bursts (and the CPU window runs over them too).
    let cpu0 = cpu();
    let t = Instant::now();
    let steady = Duration::from_millis(args.bursts as u64 * 500 + 1000)
        .max(Duration::from_secs(args.cpu_secs));
    tokio::time::sleep(steady).await;
    let cpu_share = (cpu() - cpu0).as_secs_f64() / t.elapsed().as_secs_f64();

    // Video: the caller's camera on; past its first seconds (the rate
    // climbing), the CPU of both ends and the pictures shown.
    let camera = kovan_node::call::TestPattern::new(640, 480).map_err(anyhow::Error::msg)?;
    a.h.set_camera(Some(Box::new(camera))).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let shown = |c: Option<kovan_node::CallView>| c.and_then(|c| c.video).map_or(0, |v| v.shown);
    let (cpu0, shown0, t) = (cpu(), shown(b.h.current_call().await?), Instant::now());
    tokio::time::sleep(Duration::from_secs(args.video_secs)).await;
    let video_cpu = (cpu() - cpu0).as_secs_f64() / t.elapsed().as_secs_f64();
    let fps = (shown(b.h.current_call().await?) - shown0) as f64 / t.elapsed().as_secs_f64();
    let video = a.h.current_call().await?.and_then(|c| c.video).unwrap_or_default();
    a.h.hang_up(None).await?;
    let vp8 = tokio::task::block_in_place(|| vp8_baseline(300, video.kbps))?;
    let raw_video = vp8.as_secs_f64() * 30.0;
    let video_only = video_cpu - cpu_share;

    let (sent, heard) = (lock(&sent)?, lock(&heard)?);
    // Pair each burst with the first onset heard after it was sent.
    let mut lat = Vec::new();
    let mut h = heard.iter().peekable();
    for s in &sent {
        while h.peek().is_some_and(|x| **x < *s) {
            h.next();
        }
        if let Some(x) = h.next() {
            lat.push(*x - *s + Duration::from_millis(20));
        }
    }
    // The first bursts fill the jitter buffer; time the steady ones.
    let mut steady_lat: Vec<Duration> = lat.iter().skip(2).copied().collect();
    steady_lat.sort();
    let base = Duration::from_millis(20) + codec;
    let raw_cpu = codec.as_secs_f64() * 2.0 * 50.0;
    let (p50, p99) = (percentile(&steady_lat, 0.5), percentile(&steady_lat, 0.99));
    let base_ms = base.as_secs_f64() * 1000.0;
    if args.json {
        println!(
            "{}",
            json!({
                "bursts_sent": sent.len(), "bursts_heard": lat.len(),
                "mouth_to_ear_p50_ms": p50, "mouth_to_ear_p99_ms": p99,
                "raw_opus_frame_ms": base_ms, "ratio_p50": p50 / base_ms,
                "cpu_share_of_a_core": cpu_share, "raw_opus_cpu_share": raw_cpu,
                "ring_ms": ring.as_secs_f64() * 1000.0, "connect_ms": connect.as_secs_f64() * 1000.0,
                "mic_processing_frame_ms": processing.as_secs_f64() * 1000.0,
                "mic_processing_vs_opus": processing.as_secs_f64() / codec.as_secs_f64(),
                "video_call_cpu_share": video_cpu, "video_only_cpu_share": video_only,
                "raw_vp8_cpu_share": raw_video, "video_ratio": video_only / raw_video,
                "video_fps_shown": fps, "video_kbps": video.kbps, "video_size": video.size_out,
            })
        );
    } else {
        println!(
            "call set-up: offer to ringing {:.1} ms, answer to connected {:.1} ms",
            ring.as_secs_f64() * 1000.0,
            connect.as_secs_f64() * 1000.0
        );
        println!(
            "mouth-to-ear ({} of {} bursts): p50 {p50:.1} ms, p99 {p99:.1} ms; raw Opus \
             (20 ms frame + encode + decode) {base_ms:.2} ms: {:.2}x at p50",
            lat.len(),
            sent.len(),
            p50 / base_ms
        );
        println!(
            "CPU, both ends of one call: {:.2} % of a core; raw Opus for the same frames {:.3} %",
            cpu_share * 100.0,
            raw_cpu * 100.0
        );
        println!(
            "video, 640x480 test pattern one way: both ends {:.1} % of a core ({:.1} % over the \
             voice call), {fps:.1} pictures shown a second at {} kbit/s; raw VP8 making, \
             encoding and decoding the same {:.1} %: {:.2}x",
            video_cpu * 100.0,
            video_only * 100.0,
            video.kbps,
            raw_video * 100.0,
            video_only / raw_video
        );
        println!(
            "a microphone's processing (echo, noise, gain) per 20 ms frame: {:.3} ms ({:.2} % \
             of a core), {:.2}x raw Opus's encode + decode of it",
            processing.as_secs_f64() * 1000.0,
            processing.as_secs_f64() * 50.0 * 100.0,
            processing.as_secs_f64() / codec.as_secs_f64()
        );
    }
    relay.shutdown(Duration::from_secs(2)).await;
    Ok(())
}
