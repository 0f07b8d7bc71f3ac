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
//! second each way.
//!
//! ```text
//! cargo run --release -p kovan-tests --bin kovan-call-bench -- --bursts 100
//! ```

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use kovan_crypto::keystore::KdfParams;
use kovan_node::call::devices::{FRAME, rms};
use kovan_node::call::{AudioSink, AudioSource, Discard, Silence};
use kovan_node::home::Home;
use kovan_node::identity::Identity;
use kovan_node::{CallDevices, CallState, Event, Node, NodeHandle, NodeOptions};
use kovan_relay::{Relay, RelayConfig};
use serde_json::json;
use tokio::sync::broadcast;

#[derive(Debug, Parser)]
#[command(about = "1:1 call latency and CPU between two kovan nodes, with a raw Opus baseline")]
struct Args {
    /// Tone bursts timed (one every 500 ms).
    #[arg(long, default_value_t = 100)]
    bursts: usize,
    /// Seconds of steady call for the CPU figure.
    #[arg(long, default_value_t = 10)]
    cpu_secs: u64,
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
    times.sort();
    Ok(times[n / 2])
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
    a.h.hang_up(None).await?;

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
    }
    relay.shutdown(Duration::from_secs(2)).await;
    Ok(())
}
