//! `kovan-file-bench`: file transfer between two real nodes and a relay on
//! loopback (SPEC.md §7.7), next to a raw TCP copy of the same bytes over
//! loopback measured in the same run:
//!
//! - raw TCP: read the file, write it to a socket, write it to disk on the
//!   other side and sync (what a transfer must do at least);
//! - direct: `/kovan/file/1` from the sender's node (decrypt, hash, write,
//!   sync, rename);
//! - call: the same fetch over the data channel of a call the two nodes
//!   are in (SPEC.md §6.9.1; WebRTC's SCTP in DTLS over UDP), and the
//!   channel alone: the same number of bytes through a file channel
//!   between two bare call connections, with no file, crypto or disk;
//! - relay: the sender uploads the ciphertext to the relay's blob store; the
//!   receiver downloads it from there (the sender offline);
//! - memory: the process's peak resident memory while a larger file is
//!   sealed and sent directly (both nodes and the relay in this process),
//!   above the resident memory before it started.
//!
//! ```text
//! cargo run --release -p kovan-tests --bin kovan-file-bench -- --size-mib 256 --memory-mib 1024
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use kovan_crypto::keystore::KdfParams;
use kovan_node::home::Home;
use kovan_node::identity::Identity;
use kovan_node::{
    CallDevices, CallState, Event, FileOptions, FileView, Node, NodeHandle, NodeOptions,
};
use kovan_relay::{Relay, RelayConfig};
use kovan_tests::proc::status_kib;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::broadcast;

#[derive(Debug, Parser)]
#[command(
    about = "File transfer throughput (direct and via the relay) and memory, with a raw TCP baseline"
)]
struct Args {
    /// Size of the file for the throughput runs, MiB.
    #[arg(long, default_value_t = 256)]
    size_mib: u64,
    /// Size of the file for the memory run, MiB (0: no memory run).
    #[arg(long, default_value_t = 1024)]
    memory_mib: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

const MIB: u64 = 1024 * 1024;
const WAIT: Duration = Duration::from_secs(900);

struct Peer {
    h: NodeHandle,
    rx: broadcast::Receiver<Event>,
    home: PathBuf,
    name: String,
}

async fn boot(home: &Path, name: &str, relay: &str) -> anyhow::Result<Peer> {
    let h = Home::at(home);
    let id = Identity::unlock(&h, b"bench")?;
    let mut opts = NodeOptions::loopback(h, name);
    opts.relay_url = Some(relay.to_owned());
    // Nothing is fetched by itself: every transfer is timed from the ask.
    opts.files = FileOptions { auto_download_max: 0, max_size: 64 * 1024 * MIB };
    let node = Node::start(id, opts).await?;
    let rx = node.subscribe();
    Ok(Peer { h: node, rx, home: home.to_path_buf(), name: name.to_owned() })
}

async fn node(dir: &Path, name: &str, relay: &str) -> anyhow::Result<Peer> {
    let home = dir.join(name);
    Identity::create_with_params(&Home::at(&home), b"bench", name, KdfParams::default())?;
    boot(&home, name, relay).await
}

async fn wait<T>(
    rx: &mut broadcast::Receiver<Event>,
    what: &str,
    want: impl Fn(&Event) -> Option<T>,
) -> anyhow::Result<T> {
    tokio::time::timeout(WAIT, async {
        loop {
            match rx.recv().await {
                Ok(ev) => {
                    if let Some(t) = want(&ev) {
                        return Ok(t);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => bail!("{what}: {e}"),
            }
        }
    })
    .await
    .with_context(|| format!("timed out: {what}"))?
}

async fn file_state(
    p: &mut Peer,
    id: &str,
    done: impl Fn(&FileView) -> bool,
) -> anyhow::Result<FileView> {
    let f = wait(&mut p.rx, "a file event", |e| match e {
        Event::File { file } if file.id == id && (done(file) || file.state == "failed") => {
            Some(file.clone())
        }
        _ => None,
    })
    .await?;
    if f.state == "failed" || f.upload == "failed" {
        bail!("transfer failed: {:?}", f.error);
    }
    Ok(f)
}

async fn offered(p: &mut Peer) -> anyhow::Result<String> {
    wait(&mut p.rx, "a file message", |e| match e {
        Event::Message { message } if !message.outgoing => {
            message.file.as_ref().map(|f| f.id.clone())
        }
        _ => None,
    })
    .await
}

/// Waits for the next file offered to `p`, asks for it and waits until it
/// is complete and has the plaintext hash `want`, and came from `via`;
/// returns how long that took.
async fn fetch_timed(p: &mut Peer, want: &[u8; 32], via: &str) -> anyhow::Result<Duration> {
    let id = offered(p).await?;
    let t = Instant::now();
    p.h.fetch_file(&id).await?;
    let got = file_state(p, &id, |f| f.state == "complete").await?;
    let took = t.elapsed();
    if sha(Path::new(&got.path.context("no path")?))? != *want {
        bail!("the received copy differs");
    }
    if got.via != via {
        bail!("the file came from {:?}, not {via:?}", got.via);
    }
    Ok(took)
}

fn make_file(path: &Path, size: u64, seed: u64) -> anyhow::Result<()> {
    Ok(kovan_tests::data::pseudo_random_file(path, size, seed, None)?)
}

fn sha(path: &Path) -> anyhow::Result<[u8; 32]> {
    let mut h = Sha256::new();
    std::io::copy(&mut std::fs::File::open(path)?, &mut h)?;
    Ok(h.finalize().into())
}

/// The baseline: the file's bytes over a loopback TCP socket into a file
/// that is synced at the end.
async fn raw_tcp(src: &Path, dst: &Path) -> anyhow::Result<Duration> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let dst = dst.to_path_buf();
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await?;
        let mut out =
            tokio::io::BufWriter::with_capacity(1 << 20, tokio::fs::File::create(&dst).await?);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = sock.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n]).await?;
        }
        out.flush().await?;
        out.get_ref().sync_all().await?;
        anyhow::Ok(())
    });
    let start = Instant::now();
    let mut sock = tokio::net::TcpStream::connect(addr).await?;
    sock.set_nodelay(true)?;
    let mut file = tokio::fs::File::open(src).await?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        sock.write_all(&buf[..n]).await?;
    }
    sock.shutdown().await?;
    server.await??;
    Ok(start.elapsed())
}

/// `bytes` through a file channel between two bare call connections on
/// loopback (what the data channel itself allows).
async fn channel_alone(bytes: u64) -> anyhow::Result<Duration> {
    use futures_util::{AsyncReadExt as _, AsyncWriteExt as _, StreamExt as _};
    use kovan_node::call::{CallMedia, Discard, MediaConfig, MediaEvent, Silence};
    let config = MediaConfig {
        udp: vec!["127.0.0.1:0".parse()?],
        ice_servers: Vec::new(),
        relay_only: false,
    };
    let e = |e: String| anyhow::anyhow!(e);
    let (atx, mut arx) = tokio::sync::mpsc::channel(8);
    let (btx, mut brx) = tokio::sync::mpsc::channel(8);
    let (a, offer) =
        CallMedia::offer(&config, Box::new(Silence), Box::new(Discard), atx).await.map_err(e)?;
    let (b, answer) = CallMedia::answer(&config, &offer, Box::new(Silence), Box::new(Discard), btx)
        .await
        .map_err(e)?;
    a.answered(&answer).await.map_err(e)?;
    for rx in [&mut arx, &mut brx] {
        while rx.recv().await.context("the connection ended")? != MediaEvent::Connected {}
    }
    let mut incoming = a.incoming_files().context("no channels")?;
    let server = tokio::spawn(async move {
        let mut ch = incoming.next().await.context("no channel came")?;
        let mut ask = [0u8; 1];
        ch.read_exact(&mut ask).await?;
        let block = vec![0x5au8; 64 * 1024];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            ch.write_all(&block[..n]).await?;
            left -= n as u64;
        }
        ch.close().await?;
        anyhow::Ok(())
    });
    let t = Instant::now();
    let mut ch = b.open_file_channel().await?;
    ch.write_all(b"?").await?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut got = 0u64;
    while got < bytes {
        let n = ch.read(&mut buf).await?;
        if n == 0 {
            bail!("the channel ended after {got} bytes");
        }
        got += n as u64;
    }
    let took = t.elapsed();
    server.await??;
    a.close().await;
    b.close().await;
    Ok(took)
}

fn mbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / MIB as f64 / d.as_secs_f64()
}

async fn befriend(a: &mut Peer, b: &mut Peer) -> anyhow::Result<()> {
    a.h.register(&a.name, "bench password").await?;
    b.h.register(&b.name, "bench password").await?;
    a.h.friend_request(&b.name, "").await?;
    wait(&mut b.rx, "request", |e| matches!(e, Event::FriendRequest { .. }).then_some(())).await?;
    b.h.friend_accept(&a.h.account_hex()).await?;
    wait(&mut a.rx, "accept", |e| matches!(e, Event::FriendAccepted { .. }).then_some(())).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let size = args.size_mib * MIB;
    let relay = Relay::start(RelayConfig {
        listen: "127.0.0.1:0".parse()?,
        data_dir: Some(dir.path().join("relay")),
        ..Default::default()
    })
    .await?;
    let url = relay.url();
    let log = |s: &str| {
        if !args.json {
            eprintln!("{s}");
        }
    };

    log(&format!("writing a {} MiB file", args.size_mib));
    let src = dir.path().join("payload.bin");
    make_file(&src, size, 42)?;
    let want = sha(&src)?;

    std::fs::File::open(&src)?.sync_all()?;
    // The baseline's best of three (a favourable baseline makes the ratio
    // conservative).
    log("raw TCP copy over loopback");
    let mut tcp = Duration::MAX;
    for _ in 0..3 {
        tcp = tcp.min(raw_tcp(&src, &dir.path().join("tcp-copy.bin")).await?);
        std::fs::remove_file(dir.path().join("tcp-copy.bin"))?;
    }

    let mut alice = node(dir.path(), "alice", &url).await?;
    let mut bob = node(dir.path(), "bob", &url).await?;
    befriend(&mut alice, &mut bob).await?;

    log("direct");
    let t = Instant::now();
    alice.h.send_file("bob", &src, "", None).await?;
    let seal = t.elapsed();
    let direct = fetch_timed(&mut bob, &want, "direct").await?;

    log("over a call's data channel");
    alice.h.call_friend(&bob.h.account_hex(), CallDevices::silent()).await?;
    let ringing = |e: &Event| {
        matches!(e, Event::Call { call } if call.state == CallState::Ringing).then_some(())
    };
    wait(&mut bob.rx, "ringing", ringing).await?;
    bob.h.answer_call(None, CallDevices::silent()).await?;
    let active = |e: &Event| {
        matches!(e, Event::Call { call } if call.state == CallState::Active).then_some(())
    };
    wait(&mut bob.rx, "the call", active).await?;
    alice.h.send_file("bob", &src, "", None).await?;
    let call = fetch_timed(&mut bob, &want, "call").await?;
    alice.h.hang_up(None).await?;
    let channel = channel_alone(kovan_crypto::file::sealed_len(size)).await?;

    log("through the relay");
    bob.h.shutdown().await;
    let t = Instant::now();
    let sent = alice.h.send_file("bob", &src, "", None).await?;
    let id = sent.file.context("no file")?.id;
    file_state(&mut alice, &id, |f| f.upload == "done").await?;
    let upload = t.elapsed();
    alice.h.shutdown().await;
    let mut bob = boot(&bob.home, "bob", &url).await?;
    let relay_down = fetch_timed(&mut bob, &want, "relay").await?;
    bob.h.shutdown().await;
    let alice_home = alice.home.clone();

    let mut memory = None;
    if args.memory_mib > 0 {
        log(&format!("memory: sealing and sending {} MiB directly", args.memory_mib));
        std::fs::remove_file(&src)?;
        let big = dir.path().join("big.bin");
        make_file(&big, args.memory_mib * MIB, 7)?;
        let big_sha = sha(&big)?;
        let alice = boot(&alice_home, "alice", &url).await?;
        let mut bob = boot(&bob.home, "bob", &url).await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        // Reset the peak to now (Linux: clear_refs 5).
        std::fs::write("/proc/self/clear_refs", "5").context("resetting the peak RSS")?;
        let before = status_kib("VmRSS:");
        alice.h.send_file("bob", &big, "", None).await?;
        fetch_timed(&mut bob, &big_sha, "direct").await?;
        let peak = status_kib("VmHWM:");
        memory = Some((before, peak));
        alice.h.shutdown().await;
        bob.h.shutdown().await;
    }
    relay.shutdown(Duration::from_secs(5)).await;

    let r = json!({
        "size_mib": args.size_mib,
        "raw_tcp_mib_s": mbps(size, tcp),
        "seal_mib_s": mbps(size, seal),
        "direct_mib_s": mbps(size, direct),
        "direct_vs_raw_tcp": tcp.as_secs_f64() / direct.as_secs_f64(),
        "call_mib_s": mbps(size, call),
        "call_vs_raw_tcp": tcp.as_secs_f64() / call.as_secs_f64(),
        "channel_alone_mib_s": mbps(size, channel),
        "call_vs_channel_alone": channel.as_secs_f64() / call.as_secs_f64(),
        "relay_upload_mib_s": mbps(size, upload),
        "relay_download_mib_s": mbps(size, relay_down),
        "relay_download_vs_raw_tcp": tcp.as_secs_f64() / relay_down.as_secs_f64(),
        "memory_mib": args.memory_mib,
        "rss_before_mib": memory.map(|m| m.0 as f64 / 1024.0),
        "peak_rss_mib": memory.map(|m| m.1 as f64 / 1024.0),
        "peak_growth_mib": memory.map(|m| m.1.saturating_sub(m.0) as f64 / 1024.0),
    });
    if args.json {
        println!("{r}");
    } else {
        println!("file of {} MiB, loopback, one process", args.size_mib);
        println!(
            "  raw TCP copy (best of 3; read, send, write, sync):{:8.1} MiB/s",
            mbps(size, tcp)
        );
        println!("  sealing on send (encrypt + hash + sync): {:7.1} MiB/s", mbps(size, seal));
        println!(
            "  direct /kovan/file/1:                   {:8.1} MiB/s  ({:.2}x raw TCP)",
            mbps(size, direct),
            tcp.as_secs_f64() / direct.as_secs_f64()
        );
        println!(
            "  over a call's data channel:             {:8.1} MiB/s  ({:.2}x raw TCP)",
            mbps(size, call),
            tcp.as_secs_f64() / call.as_secs_f64()
        );
        println!(
            "    the channel alone (no file, no crypto, no disk): {:6.1} MiB/s  (the file: {:.2}x it)",
            mbps(size, channel),
            channel.as_secs_f64() / call.as_secs_f64()
        );
        println!("  relay upload (send → blob complete):    {:8.1} MiB/s", mbps(size, upload));
        println!(
            "  relay download:                         {:8.1} MiB/s  ({:.2}x raw TCP)",
            mbps(size, relay_down),
            tcp.as_secs_f64() / relay_down.as_secs_f64()
        );
        if let Some((before, peak)) = memory {
            println!(
                "  {} MiB sealed and sent directly: RSS {:.1} MiB before, peak {:.1} MiB (+{:.1} MiB)",
                args.memory_mib,
                before as f64 / 1024.0,
                peak as f64 / 1024.0,
                peak.saturating_sub(before) as f64 / 1024.0
            );
        }
    }
    Ok(())
}
