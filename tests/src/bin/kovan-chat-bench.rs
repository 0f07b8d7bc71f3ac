//! `kovan-chat-bench`: 1:1 chat between two real nodes and a relay on
//! loopback — latency (direct, and through the mailbox) and sustained
//! messages per second — next to two baselines measured in the same run:
//! raw openmls (encrypt + decrypt of the same payload, in memory) and raw
//! SQLite (one durable insert per transaction, as the node commits).
//!
//! The same chat is then sealed with a password (SPEC.md §7.9): the time to
//! seal and unlock it, and sealed send calls and latency next to the
//! unsealed ones of the same run.
//!
//! With `--group N`, also a group of N members (direct delivery): the
//! time until every other member stored a message, the sender's fan-out
//! cost (one seal and one outbox row per member, SPEC.md §7.6.6) next to a
//! 1:1 send in the same run, and the time to add a member by commit.
//!
//! ```text
//! cargo run --release -p kovan-tests --bin kovan-chat-bench -- --messages 2000 --group 8
//! ```

use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use kovan_crypto::identity::{AccountKey, DeviceKeys};
use kovan_crypto::keystore::KdfParams;
use kovan_crypto::mls::{CIPHERSUITE, KovanProvider, MlsSigner, credential_with_key};
use kovan_node::home::Home;
use kovan_node::identity::{Identity, now_secs};
use kovan_node::{Event, Node, NodeHandle, NodeOptions};
use kovan_relay::{Relay, RelayConfig};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use rand_core::OsRng;
use serde_json::json;
use tokio::sync::broadcast;

#[derive(Debug, Parser)]
#[command(about = "1:1 chat latency and throughput between two kovan nodes, with baselines")]
struct Args {
    /// Messages for the sustained-throughput run.
    #[arg(long, default_value_t = 2000)]
    messages: usize,
    /// Round trips for each latency run.
    #[arg(long, default_value_t = 300)]
    rounds: usize,
    /// Also measure a group with this many members (0: no group run).
    #[arg(long, default_value_t = 0)]
    group: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// A group of `n` nodes (the first is the admin and everyone's friend);
/// returns (fan-out latency per message sorted, send-call time per message,
/// add-member commit times, sustained group msgs/s).
async fn group_run(
    dir: &std::path::Path,
    relay: &str,
    n: usize,
    rounds: usize,
    messages: usize,
) -> anyhow::Result<(Vec<Duration>, Duration, Vec<Duration>, f64)> {
    let mut peers = Vec::new();
    for i in 0..n {
        let p = node(dir, &format!("grp{i}"), relay, true).await;
        p.h.register(&format!("grp{i}"), "bench password").await.context("register")?;
        peers.push(p);
    }
    let (admin, rest) = peers.split_first_mut().context("a group needs members")?;
    for (i, p) in rest.iter_mut().enumerate() {
        admin.h.friend_request(&format!("grp{}", i + 1), "").await.context("friend request")?;
        wait(&mut p.rx, |e| matches!(e, Event::FriendRequest { .. })).await;
        p.h.friend_accept(&admin.h.account_hex()).await.context("friend accept")?;
        wait(&mut admin.rx, |e| matches!(e, Event::FriendAccepted { .. })).await;
    }
    let gid = admin.h.group_create("bench", "", false).await.context("group create")?.id;
    let mut adds = Vec::new();
    for p in rest.iter_mut() {
        let t = Instant::now();
        admin.h.group_invite(&gid, &p.h.account_hex()).await.context("invite")?;
        wait(&mut p.rx, |e| matches!(e, Event::GroupInvitation { .. })).await;
        let inv = p.h.group_invitations().await?.into_iter().next().context("no invitation")?;
        p.h.group_answer(&inv.id, true).await.context("accept")?;
        wait(&mut p.rx, |e| matches!(e, Event::GroupChanged { .. })).await;
        adds.push(t.elapsed());
    }
    // Everyone at the final epoch before measuring.
    let epoch = admin.h.group(&gid).await?.epoch;
    for p in rest.iter() {
        while p.h.group(&gid).await.map(|g| g.epoch).unwrap_or(0) < epoch {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let mut lat = Vec::with_capacity(rounds);
    let mut call = Duration::ZERO;
    for _ in 0..rounds {
        let t = Instant::now();
        let m = admin.h.send_text(&gid, BODY, None).await?;
        call += t.elapsed();
        for p in rest.iter_mut() {
            wait(&mut p.rx, |e| matches!(e, Event::Message { message } if message.id == m.id))
                .await;
        }
        lat.push(t.elapsed());
    }
    lat.sort();
    let start = Instant::now();
    let mut last = String::new();
    for i in 0..messages {
        last = admin.h.send_text(&gid, &format!("{i} {BODY}"), None).await?.id;
    }
    for p in rest.iter_mut() {
        wait(&mut p.rx, |e| matches!(e, Event::Message { message } if message.id == last)).await;
    }
    let sustained = messages as f64 / start.elapsed().as_secs_f64();
    for p in peers {
        p.h.shutdown().await;
    }
    Ok((lat, call / rounds as u32, adds, sustained))
}

const BODY: &str = "a typical chat message of about sixty bytes, give or take.";

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Raw openmls: a two-member group in memory; encrypt + decrypt per second.
fn openmls_baseline(n: usize) -> f64 {
    type P = KovanProvider<openmls_memory_storage::MemoryStorage>;
    let now = now_secs();
    let make = || {
        let account = AccountKey::generate(&mut OsRng);
        let keys = DeviceKeys::generate(&mut OsRng);
        let cert = account.certify(&keys.public(), "bench", now - 10, 3600).unwrap();
        (P::default(), MlsSigner::new(keys.mls.clone()), cert)
    };
    let (pa, sa, ca) = make();
    let (pb, sb, cb) = make();
    let kp = KeyPackage::builder().build(CIPHERSUITE, &pb, &sb, credential_with_key(&cb)).unwrap();
    let config = MlsGroupCreateConfig::builder()
        .ciphersuite(CIPHERSUITE)
        .use_ratchet_tree_extension(true)
        .build();
    let mut ga = MlsGroup::new(&pa, &sa, &config, credential_with_key(&ca)).unwrap();
    let (_, welcome, _) = ga.add_members(&pa, &sa, &[kp.key_package().clone()]).unwrap();
    ga.merge_pending_commit(&pa).unwrap();
    let welcome =
        MlsMessageIn::tls_deserialize_exact(welcome.tls_serialize_detached().unwrap()).unwrap();
    let MlsMessageBodyIn::Welcome(w) = welcome.extract() else { panic!("not a welcome") };
    let mut gb = StagedWelcome::new_from_welcome(&pb, &MlsGroupJoinConfig::default(), w, None)
        .unwrap()
        .into_group(&pb)
        .unwrap();
    let start = Instant::now();
    for _ in 0..n {
        let out = ga.create_message(&pa, &sa, BODY.as_bytes()).unwrap();
        let bytes = out.tls_serialize_detached().unwrap();
        let msg = MlsMessageIn::tls_deserialize_exact(bytes).unwrap();
        let pm = msg.try_into_protocol_message().unwrap();
        gb.process_message(&pb, pm).unwrap();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Raw SQLite: durable single-row inserts per second (WAL, synchronous=FULL).
fn sqlite_baseline(dir: &std::path::Path, n: usize) -> f64 {
    let conn = rusqlite::Connection::open(dir.join("raw.sqlite3")).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE m (id INTEGER PRIMARY KEY, conv BLOB, mid BLOB, body BLOB, at INTEGER);",
    )
    .unwrap();
    let start = Instant::now();
    for i in 0..n {
        conn.execute(
            "INSERT INTO m (conv, mid, body, at) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![
                &[1u8; 16][..],
                &(i as u128).to_be_bytes()[..],
                BODY.as_bytes(),
                i as i64
            ],
        )
        .unwrap();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

struct Peer {
    h: NodeHandle,
    rx: broadcast::Receiver<Event>,
}

async fn node(dir: &std::path::Path, name: &str, relay: &str, direct: bool) -> Peer {
    let home = Home::at(dir.join(name));
    let id = Identity::create_with_params(&home, b"bench", name, KdfParams::default()).unwrap();
    let mut opts = NodeOptions::loopback(home, name);
    opts.relay_url = Some(relay.to_owned());
    opts.direct = direct;
    let h = Node::start(id, opts).await.unwrap();
    let rx = h.subscribe();
    Peer { h, rx }
}

async fn wait(rx: &mut broadcast::Receiver<Event>, want: impl Fn(&Event) -> bool) {
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match rx.recv().await {
                Ok(ev) if want(&ev) => return,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await
    .expect("timed out");
}

async fn pair(dir: &std::path::Path, relay: &str, tag: &str, direct: bool) -> (Peer, Peer) {
    let mut a = node(dir, &format!("a{tag}"), relay, direct).await;
    let mut b = node(dir, &format!("b{tag}"), relay, direct).await;
    a.h.register(&format!("a{tag}"), "bench password").await.unwrap();
    b.h.register(&format!("b{tag}"), "bench password").await.unwrap();
    a.h.friend_request(&format!("b{tag}"), "").await.unwrap();
    wait(&mut b.rx, |e| matches!(e, Event::FriendRequest { .. })).await;
    b.h.friend_accept(&a.h.account_hex()).await.unwrap();
    wait(&mut a.rx, |e| matches!(e, Event::FriendAccepted { .. })).await;
    // Warm up: connections, circuits, the first ratchet steps.
    for _ in 0..20 {
        let m = a.h.send_text(&b.h.account_hex(), BODY, None).await.unwrap();
        wait(&mut b.rx, |e| matches!(e, Event::Message { message } if message.id == m.id)).await;
    }
    (a, b)
}

/// Send one, wait until the other node has stored it; repeat.
async fn latency(a: &Peer, b: &mut Peer, rounds: usize) -> Vec<Duration> {
    let to = b.h.account_hex();
    let mut out = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        let m = a.h.send_text(&to, BODY, None).await.unwrap();
        wait(&mut b.rx, |e| matches!(e, Event::Message { message } if message.id == m.id)).await;
        out.push(t.elapsed());
    }
    out.sort();
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let args = Args::parse();
    let dir = tempfile::tempdir().unwrap();
    // Every node here shares 127.0.0.1: lift the per-IP put limit that
    // would otherwise throttle them all as one client.
    let limits =
        kovan_relay::config::Limits { puts_per_ip_per_second: 1_000_000, ..Default::default() };
    let relay = Relay::start(RelayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: Some(dir.path().join("relay")),
        limits,
        ..Default::default()
    })
    .await
    .unwrap();
    let url = relay.url();

    let raw_mls = tokio::task::block_in_place(|| openmls_baseline(args.messages));
    let raw_sqlite = tokio::task::block_in_place(|| sqlite_baseline(dir.path(), args.messages));

    let (a, mut b) = pair(dir.path(), &url, "direct", true).await;
    let direct = latency(&a, &mut b, args.rounds).await;

    // One send call (seal + outbox), 1:1, as the group's baseline.
    let to = b.h.account_hex();
    let t = Instant::now();
    for _ in 0..args.rounds {
        if let Err(e) = a.h.send_text(&to, BODY, None).await {
            eprintln!("kovan-chat-bench: sending failed: {e}");
            std::process::exit(1);
        }
    }
    let call_1to1 = t.elapsed() / args.rounds as u32;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Sustained: queue everything, then wait for the last to be stored.
    let start = Instant::now();
    let mut last = String::new();
    for i in 0..args.messages {
        last = a.h.send_text(&to, &format!("{i} {BODY}"), None).await.unwrap().id;
    }
    let queued = start.elapsed();
    wait(&mut b.rx, |e| matches!(e, Event::Message { message } if message.id == last)).await;
    let sustained = args.messages as f64 / start.elapsed().as_secs_f64();

    // The same chat sealed with a password (X6, SPEC.md §7.9): the time to
    // seal and to unlock (Argon2id at the chosen parameters), then send
    // calls and latency with the second seal, next to the unsealed ones.
    let sealed = async {
        let conv = a.h.conversations().await?.first().map(|c| c.id.clone()).unwrap_or_default();
        let t = Instant::now();
        a.h.seal(&conv, "a bench chat password").await?;
        let seal_time = t.elapsed();
        wait(&mut b.rx, |e| matches!(e, Event::ChatSeal { .. })).await;
        let t = Instant::now();
        b.h.unlock_chat(&conv, "a bench chat password").await?;
        let unlock_time = t.elapsed();
        let sealed_latency = latency(&a, &mut b, args.rounds).await;
        let t = Instant::now();
        for _ in 0..args.rounds {
            a.h.send_text(&to, BODY, None).await?;
        }
        Ok::<_, kovan_node::NodeError>((seal_time, unlock_time, sealed_latency, t))
    };
    let (seal_time, unlock_time, sealed_latency, t) = match sealed.await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kovan-chat-bench: the sealed chat run failed: {e}");
            std::process::exit(1);
        }
    };
    let call_sealed = t.elapsed() / args.rounds as u32;
    a.h.shutdown().await;
    b.h.shutdown().await;

    let (ma, mut mb) = pair(dir.path(), &url, "mailbox", false).await;
    let mailbox = latency(&ma, &mut mb, args.rounds).await;
    ma.h.shutdown().await;
    mb.h.shutdown().await;
    let group = if args.group >= 2 {
        let gm = (args.messages / args.group).max(50);
        match group_run(dir.path(), &url, args.group, args.rounds.min(100), gm).await {
            Ok(g) => Some(g),
            Err(e) => {
                eprintln!("kovan-chat-bench: the group run failed: {e:#}");
                std::process::exit(1);
            }
        }
    } else {
        None
    };
    relay.shutdown(Duration::from_secs(2)).await;

    let result = json!({
        "messages": args.messages,
        "rounds": args.rounds,
        "raw_openmls_encrypt_decrypt_per_s": raw_mls.round(),
        "raw_sqlite_durable_inserts_per_s": raw_sqlite.round(),
        "direct_latency_ms": { "p50": percentile(&direct, 0.5), "p99": percentile(&direct, 0.99) },
        "mailbox_latency_ms": { "p50": percentile(&mailbox, 0.5), "p99": percentile(&mailbox, 0.99) },
        "sustained_direct_msgs_per_s": sustained.round(),
        "send_call_rate_per_s": (args.messages as f64 / queued.as_secs_f64()).round(),
        "sustained_vs_raw_openmls": sustained / raw_mls,
        "sustained_vs_raw_sqlite": sustained / raw_sqlite,
        "send_call_1to1_ms": call_1to1.as_secs_f64() * 1000.0,
        "sealed": {
            "seal_ms": seal_time.as_secs_f64() * 1000.0,
            "unlock_ms": unlock_time.as_secs_f64() * 1000.0,
            "send_call_ms": call_sealed.as_secs_f64() * 1000.0,
            "send_call_vs_unsealed": call_sealed.as_secs_f64() / call_1to1.as_secs_f64(),
            "direct_latency_ms": { "p50": percentile(&sealed_latency, 0.5), "p99": percentile(&sealed_latency, 0.99) },
            "latency_p50_vs_unsealed": percentile(&sealed_latency, 0.5) / percentile(&direct, 0.5),
        },
    });
    let mut result = result;
    if let Some((lat, call, adds, gs)) = &group {
        let add_ms: Vec<f64> = adds.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        result["group"] = json!({
            "members": args.group,
            "all_members_latency_ms": { "p50": percentile(lat, 0.5), "p99": percentile(lat, 0.99) },
            "all_members_latency_vs_1to1_direct_p50": percentile(lat, 0.5) / percentile(&direct, 0.5),
            "send_call_ms": call.as_secs_f64() * 1000.0,
            "send_call_vs_1to1": call.as_secs_f64() / call_1to1.as_secs_f64(),
            "sustained_group_msgs_per_s": gs.round(),
            "deliveries_per_s": (gs * (args.group - 1) as f64).round(),
            "add_member_ms": { "first": add_ms.first(), "last": add_ms.last() },
        });
    }
    if args.json {
        println!("{result}");
    } else {
        println!("raw openmls encrypt+decrypt  {:>9.0} /s", raw_mls);
        println!("raw SQLite durable inserts   {:>9.0} /s", raw_sqlite);
        println!(
            "direct latency               p50 {:.2} ms  p99 {:.2} ms",
            percentile(&direct, 0.5),
            percentile(&direct, 0.99)
        );
        println!(
            "mailbox latency              p50 {:.2} ms  p99 {:.2} ms",
            percentile(&mailbox, 0.5),
            percentile(&mailbox, 0.99)
        );
        println!("sustained direct             {:>9.0} msgs/s", sustained);
        println!("  ÷ raw openmls              {:>9.3}", sustained / raw_mls);
        println!("  ÷ raw SQLite               {:>9.3}", sustained / raw_sqlite);
        println!("1:1 send call                {:>9.3} ms", call_1to1.as_secs_f64() * 1000.0);
        let sealed = &result["sealed"];
        println!(
            "password-sealed chat         seal {:.0} ms, unlock {:.0} ms (Argon2id 64 MiB, t=3, p=4)",
            sealed["seal_ms"].as_f64().unwrap_or(0.0),
            sealed["unlock_ms"].as_f64().unwrap_or(0.0)
        );
        println!(
            "  sealed send call           {:>9.3} ms  ({:.2}× unsealed)",
            sealed["send_call_ms"].as_f64().unwrap_or(0.0),
            sealed["send_call_vs_unsealed"].as_f64().unwrap_or(0.0)
        );
        println!(
            "  sealed direct latency      p50 {:.2} ms  ({:.2}× unsealed)",
            sealed["direct_latency_ms"]["p50"].as_f64().unwrap_or(0.0),
            sealed["latency_p50_vs_unsealed"].as_f64().unwrap_or(0.0)
        );
        if let Some(g) = result.get("group") {
            println!("group of {}:", args.group);
            println!(
                "  every member has it        p50 {:.2} ms  p99 {:.2} ms  ({:.2}× 1:1 direct p50)",
                g["all_members_latency_ms"]["p50"].as_f64().unwrap_or(0.0),
                g["all_members_latency_ms"]["p99"].as_f64().unwrap_or(0.0),
                g["all_members_latency_vs_1to1_direct_p50"].as_f64().unwrap_or(0.0)
            );
            println!(
                "  send call (fan-out)        {:>9.3} ms  ({:.2}× 1:1)",
                g["send_call_ms"].as_f64().unwrap_or(0.0),
                g["send_call_vs_1to1"].as_f64().unwrap_or(0.0)
            );
            println!(
                "  sustained                  {:>9} msgs/s = {} deliveries/s",
                g["sustained_group_msgs_per_s"], g["deliveries_per_s"]
            );
            println!(
                "  add a member (invite→joined) first {} ms, last {} ms",
                g["add_member_ms"]["first"], g["add_member_ms"]["last"]
            );
        }
    }
}
