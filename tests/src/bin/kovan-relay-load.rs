//! `kovan-relay-load`: measures a real `kovan-relay` process over loopback.
//!
//! It starts the relay binary as a child (SQLite in a temporary directory,
//! or a fresh PostgreSQL database), then measures:
//! 1. mailbox put → WebSocket push → ack: throughput and latency p50/p99,
//!    next to a raw loopback TCP round trip of the same size (the baseline);
//! 2. logins per second (Argon2id-bound);
//! 3. idle authenticated WebSockets: how many the relay holds and its
//!    resident memory per connection;
//! 4. a good client's put → push latency (p50/p99) alone and then while
//!    others flood the relay with bad requests (garbage bodies, wrong
//!    tokens, oversized uploads, WebSocket spam), in the same run.
//!
//! ```text
//! cargo build --release -p kovan-relay -p kovan-tests
//! target/release/kovan-relay-load --backend sqlite
//! target/release/kovan-relay-load --backend postgres --idle 10000 --json
//! ```

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use kovan_crypto::envelope::{self, PayloadKind, Sender};
use kovan_crypto::identity::{registration_data, relay_device_proof};
use kovan_tests::relay_proc::{
    BenchDb, BenchIdentity, RelayProc, identity, ms, percentile, register,
};
use rand_core::OsRng;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Load test for kovan-relay.
#[derive(Debug, Parser)]
#[command(name = "kovan-relay-load", version, about)]
struct Args {
    /// Database backend of the relay under test.
    #[arg(long, value_parser = ["sqlite", "postgres"], default_value = "sqlite")]
    backend: String,
    /// PostgreSQL server (a fresh database is created and dropped).
    #[arg(
        long,
        default_value = "postgres://postgres@127.0.0.1:5432/postgres",
        env = "KOVAN_TEST_POSTGRES"
    )]
    postgres: String,
    /// The relay binary. Default: `kovan-relay` next to this program.
    #[arg(long)]
    relay_bin: Option<PathBuf>,
    /// Envelopes for the put→push→ack test.
    #[arg(long, default_value_t = 5000)]
    messages: usize,
    /// Recipients (each with a WebSocket) and concurrent senders.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Envelope payload size in bytes (sealed and padded on top).
    #[arg(long, default_value_t = 200)]
    payload: usize,
    /// Seconds of the login test.
    #[arg(long, default_value_t = 5)]
    login_secs: u64,
    /// Idle WebSockets to open.
    #[arg(long, default_value_t = 10_000)]
    idle: usize,
    /// Round trips of the good client, alone and under the flood (0: no
    /// flood test).
    #[arg(long, default_value_t = 300)]
    flood_rounds: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn progress(args: &Args, msg: &str) {
    if !args.json {
        eprintln!("… {msg}");
    }
}

type Identity = BenchIdentity;

fn rand_id() -> [u8; 8] {
    let mut b = [0u8; 8];
    rand_core::RngCore::fill_bytes(&mut OsRng, &mut b);
    b
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws_connect(url: &str, token: &str) -> anyhow::Result<Ws> {
    let mut req = format!("{}/v1/ws", url.replace("http://", "ws://")).into_client_request()?;
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse()?);
    Ok(tokio_tungstenite::connect_async(req).await?.0)
}

/// One client doing `rounds` sequential put → push round trips to the
/// first recipient (its WebSocket); the latencies, sorted.
async fn good_client(
    http: &reqwest::Client,
    url: &str,
    recipients: &[(Identity, String)],
    sender: &Identity,
    rounds: usize,
) -> anyhow::Result<Vec<Duration>> {
    let (to, token) = recipients.first().context("no recipient")?;
    let mut ws = ws_connect(url, token).await?;
    let peer = to.cert.peer_id().to_string();
    let mut lat = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let s = Sender { keys: &sender.device, certificate: &sender.cert };
        let payload = format!("good client {i} {}", hex::encode(rand_id()));
        let e = envelope::seal(
            &mut OsRng,
            &s,
            &to.device.public().envelope,
            PayloadKind::MlsMessage,
            payload.as_bytes(),
            1,
        )?;
        let start = Instant::now();
        let resp = http.post(format!("{url}/v1/mailbox/{peer}")).body(e.bytes).send().await?;
        anyhow::ensure!(resp.status().is_success(), "good put refused: {}", resp.status());
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
                .await
                .context("no push within 30 s")?
                .context("socket closed")??;
            let Message::Text(t) = msg else { continue };
            let v: Value = serde_json::from_str(t.as_str())?;
            if let Some(seq) = v["seq"].as_i64() {
                lat.push(start.elapsed());
                ws.send(Message::Text(json!({"type": "ack", "seqs": [seq]}).to_string().into()))
                    .await?;
                break;
            }
        }
    }
    lat.sort();
    Ok(lat)
}

/// Tasks that flood the relay with bad requests until `stop`: garbage
/// mailbox bodies, wrong tokens, oversized uploads, and WebSockets that
/// send junk frames (each gets closed; they reconnect). Counts requests.
fn flood(
    url: &str,
    recipients: &[(Identity, String)],
    stop: Arc<std::sync::atomic::AtomicBool>,
    sent: Arc<std::sync::atomic::AtomicU64>,
) -> Vec<tokio::task::JoinHandle<()>> {
    use std::sync::atomic::Ordering::Relaxed;
    let peer = recipients.first().map(|(id, _)| id.cert.peer_id().to_string()).unwrap_or_default();
    let token = recipients.get(1).map(|(_, t)| t.clone()).unwrap_or_default();
    let http = reqwest::Client::new();
    let mut tasks = Vec::new();
    for kind in 0..16 {
        let (url, peer, token, http) = (url.to_owned(), peer.clone(), token.clone(), http.clone());
        let (stop, sent) = (stop.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            let mut junk = vec![0u8; 2048];
            let big = vec![0x55u8; 10 * 1024 * 1024];
            while !stop.load(Relaxed) {
                rand_core::RngCore::fill_bytes(&mut OsRng, &mut junk);
                let _ = match kind % 8 {
                    0..=3 => {
                        http.post(format!("{url}/v1/mailbox/{peer}"))
                            .body(junk.clone())
                            .send()
                            .await
                    }
                    4 | 5 => {
                        http.get(format!("{url}/v1/mailbox"))
                            .bearer_auth("not-a-token")
                            .send()
                            .await
                    }
                    6 => {
                        http.post(format!("{url}/v1/mailbox/{peer}")).body(big.clone()).send().await
                    }
                    _ => {
                        if let Ok(mut ws) = ws_connect(&url, &token).await {
                            for _ in 0..10 {
                                let _ = ws.send(Message::Text("junk".into())).await;
                            }
                        }
                        sent.fetch_add(1, Relaxed);
                        continue;
                    }
                };
                sent.fetch_add(1, Relaxed);
            }
        }));
    }
    tasks
}

/// Raw TCP request/response over loopback with `size` bytes each way.
async fn tcp_baseline(size: usize, rounds: usize) -> anyhow::Result<Vec<Duration>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        if let Ok((mut s, _)) = listener.accept().await {
            s.set_nodelay(true).ok();
            let mut buf = vec![0u8; size];
            while s.read_exact(&mut buf).await.is_ok() {
                if s.write_all(&buf).await.is_err() {
                    break;
                }
            }
        }
    });
    let mut c = tokio::net::TcpStream::connect(addr).await?;
    c.set_nodelay(true)?;
    let buf = vec![7u8; size];
    let mut back = vec![0u8; size];
    let mut lat = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        c.write_all(&buf).await?;
        c.read_exact(&mut back).await?;
        lat.push(t.elapsed());
    }
    drop(c);
    server.abort();
    lat.sort();
    Ok(lat)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let want_fds = (args.idle as u64) * 2 + 4096;
    let got = rlimit::increase_nofile_limit(want_fds).unwrap_or(0);
    anyhow::ensure!(
        got >= args.idle as u64 + 1024,
        "open-file limit {got} is too low for {} sockets",
        args.idle
    );

    progress(&args, &format!("starting kovan-relay ({})", args.backend));
    let mut db = BenchDb::create(&args.backend, &args.postgres).await?;
    let limits = "logins_per_ip_per_minute = 100000000\n\
         login_failures_per_account_per_minute = 100000000\nputs_per_ip_per_second = 100000000\n\
         lookups_per_ip_per_minute = 100000000\nmax_concurrent_hashes = 4\nmailbox_max_items = 1000000";
    let mut relay = RelayProc::start(args.relay_bin.as_deref(), &db, limits)?;
    let result = run(&args, &relay).await;
    relay.stop();
    db.drop_now().await;
    let report = result?;
    if args.json {
        println!("{report}");
    } else {
        let r = &report;
        println!("kovan-relay load test — backend {}", r["backend"].as_str().unwrap_or(""));
        println!(
            "put→push→ack: {} envelopes of {} B sealed, {:.0} msg/s, latency p50 {:.2} ms, p99 {:.2} ms",
            r["mailbox"]["messages"],
            r["mailbox"]["envelope_bytes"],
            r["mailbox"]["per_second"].as_f64().unwrap_or(0.0),
            r["mailbox"]["p50_ms"].as_f64().unwrap_or(0.0),
            r["mailbox"]["p99_ms"].as_f64().unwrap_or(0.0)
        );
        println!(
            "  baseline raw TCP round trip of the same size: p50 {:.3} ms (put→push p50 is {:.0}× that)",
            r["mailbox"]["tcp_p50_ms"].as_f64().unwrap_or(0.0),
            r["mailbox"]["ratio_p50_vs_tcp"].as_f64().unwrap_or(0.0)
        );
        println!(
            "logins: {:.1} per second (Argon2id m=19 MiB t=2, 4 at a time)",
            r["logins"]["per_second"].as_f64().unwrap_or(0.0)
        );
        println!(
            "relay RSS: {:.1} MiB at start, {:.1} MiB after the mailbox test, {:.1} MiB after the login test",
            r["rss_kib"]["start"].as_f64().unwrap_or(0.0) / 1024.0,
            r["rss_kib"]["after_mailbox"].as_f64().unwrap_or(0.0) / 1024.0,
            r["rss_kib"]["after_logins"].as_f64().unwrap_or(0.0) / 1024.0
        );
        println!(
            "idle WebSockets: {} held, relay RSS {:.1} MiB → {:.1} MiB, {:.1} KiB per connection",
            r["idle"]["connections"],
            r["idle"]["rss_before_kib"].as_f64().unwrap_or(0.0) / 1024.0,
            r["idle"]["rss_after_kib"].as_f64().unwrap_or(0.0) / 1024.0,
            r["idle"]["kib_per_connection"].as_f64().unwrap_or(0.0)
        );
        if !r["flood"].is_null() {
            let f = &r["flood"];
            println!(
                "good client put→push: alone p50 {:.2} ms p99 {:.2} ms; under a flood of {:.0} bad requests/s p50 {:.2} ms p99 {:.2} ms (relay RSS {:.1} MiB)",
                f["alone_p50_ms"].as_f64().unwrap_or(0.0),
                f["alone_p99_ms"].as_f64().unwrap_or(0.0),
                f["flood_requests_per_second"].as_f64().unwrap_or(0.0),
                f["flood_p50_ms"].as_f64().unwrap_or(0.0),
                f["flood_p99_ms"].as_f64().unwrap_or(0.0),
                f["rss_during_flood_kib"].as_f64().unwrap_or(0.0) / 1024.0
            );
        }
    }
    Ok(())
}

async fn run(args: &Args, relay: &RelayProc) -> anyhow::Result<Value> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(60))
        .build()?;
    let info: Value = http.get(format!("{}/v1/info", relay.url)).send().await?.json().await?;
    let relay_peer = info["peer_id"].as_str().unwrap_or_default().to_owned();
    let rss_start = relay.rss_kib();

    // --- 1. put → push → ack -------------------------------------------
    progress(args, &format!("registering {} recipients", args.concurrency));
    let mut recipients = Vec::new();
    for i in 0..args.concurrency {
        let id = identity()?;
        let token = register(&http, &relay.url, &relay_peer, &format!("rcpt{i}"), &id).await?;
        recipients.push((id, token));
    }
    let sender = identity()?;
    progress(args, &format!("sealing {} envelopes", args.messages));
    let payload = vec![0x42u8; args.payload];
    let mut envelopes = Vec::with_capacity(args.messages);
    for i in 0..args.messages {
        let (to, _) = &recipients[i % recipients.len()];
        let s = Sender { keys: &sender.device, certificate: &sender.cert };
        let e = envelope::seal(
            &mut OsRng,
            &s,
            &to.device.public().envelope,
            PayloadKind::MlsMessage,
            &payload,
            1,
        )?;
        envelopes.push((to.cert.peer_id().to_string(), e.bytes));
    }
    let envelope_bytes = envelopes.first().map(|(_, e)| e.len()).unwrap_or(0);
    let sent_at: Arc<Mutex<HashMap<[u8; 32], Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::new(Mutex::new(Vec::new()));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<()>(args.messages.max(1));
    let mut readers = tokio::task::JoinSet::new();
    for (_, token) in &recipients {
        let mut ws = ws_connect(&relay.url, token).await?;
        let (sent_at, latencies, done) = (sent_at.clone(), latencies.clone(), done_tx.clone());
        readers.spawn(async move {
            while let Some(Ok(msg)) = ws.next().await {
                let Message::Text(t) = msg else { continue };
                let Ok(v) = serde_json::from_str::<Value>(t.as_str()) else { continue };
                let (Some(seq), Some(env)) = (v["seq"].as_i64(), v["envelope"].as_str()) else {
                    continue;
                };
                let now = Instant::now();
                if let Ok(bytes) = B64.decode(env) {
                    let digest: [u8; 32] = Sha256::digest(&bytes).into();
                    let start = sent_at.lock().ok().and_then(|mut m| m.remove(&digest));
                    if let (Some(start), Ok(mut l)) = (start, latencies.lock()) {
                        l.push(now.duration_since(start));
                    }
                }
                let ack = json!({"type": "ack", "seqs": [seq]}).to_string();
                if ws.send(Message::Text(ack.into())).await.is_err() {
                    break;
                }
                let _ = done.try_send(());
            }
        });
    }
    progress(args, "put → push → ack");
    let started = Instant::now();
    let queue = Arc::new(Mutex::new(envelopes));
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency {
        let (queue, http, url, sent_at) =
            (queue.clone(), http.clone(), relay.url.clone(), sent_at.clone());
        senders.spawn(async move {
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some((peer, bytes)) = next else { break };
                let digest: [u8; 32] = Sha256::digest(&bytes).into();
                if let Ok(mut m) = sent_at.lock() {
                    m.insert(digest, Instant::now());
                }
                let resp = http.post(format!("{url}/v1/mailbox/{peer}")).body(bytes).send().await;
                if !resp.map(|r| r.status().is_success()).unwrap_or(false) {
                    eprintln!("put failed");
                }
            }
        });
    }
    while senders.join_next().await.is_some() {}
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut received = 0;
    while received < args.messages && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(10), done_rx.recv()).await {
            Ok(Some(())) => received += 1,
            _ => break,
        }
    }
    let elapsed = started.elapsed();
    readers.abort_all();
    anyhow::ensure!(
        received == args.messages,
        "only {received} of {} envelopes were pushed",
        args.messages
    );
    let mut lat = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    lat.sort();
    let tcp = tcp_baseline(envelope_bytes, 2000).await?;
    let (p50, p99, tcp50) = (percentile(&lat, 0.5), percentile(&lat, 0.99), percentile(&tcp, 0.5));
    let rss_after_mailbox = relay.rss_kib();

    // --- 2. logins -----------------------------------------------------
    progress(args, &format!("logging in for {} s", args.login_secs));
    let login_body = |i: usize| {
        let (id, _) = &recipients[i % recipients.len()];
        let name = format!("rcpt{}", i % recipients.len());
        let data = registration_data(&name, id.account.id().as_bytes(), &id.cert, &relay_peer);
        json!({"username": name, "password": "load test password",
               "device_peer_id": id.cert.peer_id().to_string(),
               "device_signature": B64.encode(relay_device_proof(&id.device, &data))})
    };
    let bodies: Vec<Value> = (0..recipients.len()).map(login_body).collect();
    let stop = Instant::now() + Duration::from_secs(args.login_secs);
    let mut logins = tokio::task::JoinSet::new();
    for w in 0..8 {
        let (http, url, bodies) = (http.clone(), relay.url.clone(), bodies.clone());
        logins.spawn(async move {
            let mut ok = 0u64;
            let mut i = w;
            while Instant::now() < stop {
                let r = http
                    .post(format!("{url}/v1/sessions"))
                    .json(&bodies[i % bodies.len()])
                    .send()
                    .await;
                if r.map(|r| r.status().is_success()).unwrap_or(false) {
                    ok += 1;
                }
                i += 1;
            }
            ok
        });
    }
    let login_start = Instant::now();
    let mut login_ok = 0;
    while let Some(r) = logins.join_next().await {
        login_ok += r.unwrap_or(0);
    }
    let login_rate = login_ok as f64 / login_start.elapsed().as_secs_f64();
    let rss_after_logins = relay.rss_kib();

    // --- 3. idle WebSockets ----------------------------------------------
    progress(args, &format!("opening {} idle WebSockets", args.idle));
    let tokens: Vec<String> = recipients.iter().map(|(_, t)| t.clone()).collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = relay.rss_kib();
    let mut idle = Vec::with_capacity(args.idle);
    let mut failures = 0usize;
    for chunk in (0..args.idle).collect::<Vec<_>>().chunks(200) {
        let opened = futures_util::future::join_all(
            chunk.iter().map(|i| ws_connect(&relay.url, &tokens[i % tokens.len()])),
        )
        .await;
        for ws in opened {
            match ws {
                Ok(ws) => idle.push(ws),
                Err(_) => failures += 1,
            }
        }
        if idle.len() % 2000 == 0 {
            progress(args, &format!("{} open", idle.len()));
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = relay.rss_kib();
    let held = idle.len();
    let per_conn =
        if held > 0 { (rss_after.saturating_sub(rss_before)) as f64 / held as f64 } else { 0.0 };
    drop(idle);

    // --- 4. a good client under a flood of bad requests -------------------
    let flood = if args.flood_rounds > 0 {
        progress(args, "a good client alone, then under a flood");
        let alone = good_client(&http, &relay.url, &recipients, &sender, args.flood_rounds).await?;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let flooders = flood(&relay.url, &recipients, stop.clone(), sent.clone());
        tokio::time::sleep(Duration::from_millis(500)).await;
        let t = Instant::now();
        let before = sent.load(std::sync::atomic::Ordering::Relaxed);
        let under = good_client(&http, &relay.url, &recipients, &sender, args.flood_rounds).await?;
        let rate = (sent.load(std::sync::atomic::Ordering::Relaxed) - before) as f64
            / t.elapsed().as_secs_f64();
        let rss_flood = relay.rss_kib();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for f in flooders {
            f.abort();
        }
        json!({
            "rounds": args.flood_rounds,
            "alone_p50_ms": ms(percentile(&alone, 0.5)),
            "alone_p99_ms": ms(percentile(&alone, 0.99)),
            "flood_p50_ms": ms(percentile(&under, 0.5)),
            "flood_p99_ms": ms(percentile(&under, 0.99)),
            "flood_requests_per_second": rate,
            "rss_during_flood_kib": rss_flood,
        })
    } else {
        Value::Null
    };

    Ok(json!({
        "backend": args.backend,
        "mailbox": {
            "messages": args.messages,
            "envelope_bytes": envelope_bytes,
            "seconds": elapsed.as_secs_f64(),
            "per_second": args.messages as f64 / elapsed.as_secs_f64(),
            "p50_ms": ms(p50),
            "p99_ms": ms(p99),
            "tcp_p50_ms": ms(tcp50),
            "ratio_p50_vs_tcp": ms(p50) / ms(tcp50).max(1e-9),
        },
        "logins": { "count": login_ok, "per_second": login_rate },
        "rss_kib": { "start": rss_start, "after_mailbox": rss_after_mailbox, "after_logins": rss_after_logins },
        "flood": flood,
        "idle": {
            "connections": held,
            "failures": failures,
            "rss_before_kib": rss_before,
            "rss_after_kib": rss_after,
            "kib_per_connection": per_conn,
        },
    }))
}
