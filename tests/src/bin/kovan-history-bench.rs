//! Lazy history (I4) at scale: a conversation of 10k, 100k and 1M
//! messages; how long opening the database, the first page and a jump to
//! the middle take, and the process's memory after them — next to the
//! same page read from a plain SQLite table of the same rows in clear, in
//! the same run.
//!
//! Each size is measured in a fresh child process, so its memory figure
//! is its own.
//!
//! `cargo run --release -p kovan-tests --bin kovan-history-bench -- --sizes 10000,100000,1000000`

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use kovan_crypto::storage::StorageKey;
use kovan_node::history::{History, NewMessage, State};
use kovan_node::store::Database;
use kovan_tests::proc::status_kib;
use rusqlite::params;
use serde_json::{Value, json};

#[derive(Debug, Parser)]
#[command(about = "Measures history paging over long conversations")]
struct Args {
    /// Conversation lengths, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
    sizes: Vec<u64>,
    /// Messages per page.
    #[arg(long, default_value_t = 50)]
    page: usize,
    /// Repetitions per timing (the median is reported).
    #[arg(long, default_value_t = 200)]
    reps: usize,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
    /// Internal: measure the database in this directory (a child run).
    #[arg(long, hide = true)]
    measure: Option<PathBuf>,
}

const CONV: &[u8] = b"history-bench-conversation";
const KEY: [u8; 32] = [7; 32];

fn id(i: u64) -> [u8; 16] {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&i.to_be_bytes());
    id
}

/// An encoded text envelope of about the size of a short chat message.
fn body(i: u64) -> Vec<u8> {
    let env = kovan_spec::wire::AppEnvelope {
        version: 1,
        message_id: id(i).to_vec(),
        sender_device: vec![1; 38],
        sequence: i + 1,
        timestamp_ms: 1_800_000_000_000 + i,
        reply_to: vec![],
        content: Some(kovan_spec::wire::app_envelope::Content::Text(kovan_spec::wire::Text {
            body: format!("message number {i}, a line of ordinary chat text"),
        })),
    };
    kovan_spec::encode(&env)
}

fn fill(dir: &Path, n: u64) -> Result<()> {
    let db = Database::open(&dir.join("node.sqlite3"))?;
    let key = StorageKey::from_bytes(KEY);
    let history = History::new(&db, &key);
    history.ensure_conversation(CONV, Some(&[1; 32]), 0)?;
    let raw = rusqlite::Connection::open(dir.join("raw.sqlite3"))?;
    raw.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE m (seq INTEGER PRIMARY KEY AUTOINCREMENT, conv BLOB, id BLOB, body BLOB,
                         UNIQUE (conv, id));
         CREATE INDEX m_page ON m (conv, seq);",
    )?;
    let started = Instant::now();
    let mut i = 0;
    while i < n {
        let end = (i + 10_000).min(n);
        db.atomic(|| -> kovan_node::Result<()> {
            for k in i..end {
                let b = body(k);
                history.insert(&NewMessage {
                    conversation_id: CONV,
                    message_id: id(k),
                    sender_account: &[1; 32],
                    sender_device: "12D3KooWHistoryBench",
                    sent_at: k as i64,
                    received_at: k as i64,
                    outgoing: k % 2 == 0,
                    state: State::Received,
                    body: &b,
                })?;
            }
            Ok(())
        })?;
        let tx = raw.unchecked_transaction()?;
        for k in i..end {
            tx.execute(
                "INSERT INTO m (conv, id, body) VALUES (?1, ?2, ?3)",
                params![CONV, id(k).as_slice(), body(k)],
            )?;
        }
        tx.commit()?;
        i = end;
        eprint!("\r  {n}: {i} messages written ({:.0?})", started.elapsed());
    }
    eprintln!();
    Ok(())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The child: open, first page, jump, memory.
fn measure(dir: &Path, page: usize, reps: usize) -> Result<Value> {
    let rss_start = status_kib("VmRSS:");
    let t = Instant::now();
    let db = Database::open(&dir.join("node.sqlite3"))?;
    let open = t.elapsed();
    let key = StorageKey::from_bytes(KEY);
    let history = History::new(&db, &key);
    let t = Instant::now();
    let first = history.page(CONV, None, page)?;
    let first_cold = t.elapsed();
    anyhow::ensure!(first.len() == page, "short first page");
    let n = rusqlite::Connection::open(dir.join("node.sqlite3"))?.query_row(
        "SELECT COUNT(*) FROM messages",
        [],
        |r| r.get::<_, i64>(0),
    )? as u64;
    let first_warm = median(
        (0..reps)
            .map(|_| {
                let t = Instant::now();
                let p = history.page(CONV, None, page);
                let d = t.elapsed();
                assert!(p.is_ok_and(|p| p.len() == page));
                d
            })
            .collect(),
    );
    // Jump to a message in the middle: find its cursor, read half a page
    // on each side (what "jump to message" does).
    let jump = |k: u64| -> Result<Duration> {
        let t = Instant::now();
        let seq = history.cursor_of(CONV, &id(k))?.context("no such message")?;
        let older = history.page(CONV, Some(seq + 1), page / 2 + 1)?;
        let newer = history.page_after(CONV, seq, page - page / 2 - 1)?;
        let d = t.elapsed();
        anyhow::ensure!(older.len() + newer.len() == page, "short jump page");
        Ok(d)
    };
    let jump_cold = jump(n / 2)?;
    let jump_warm = median((0..reps).map(|r| jump(n / 3 + r as u64)).collect::<Result<Vec<_>>>()?);

    let raw = rusqlite::Connection::open(dir.join("raw.sqlite3"))?;
    let mut stmt =
        raw.prepare("SELECT seq, id, body FROM m WHERE conv = ?1 ORDER BY seq DESC LIMIT ?2")?;
    let raw_first = median(
        (0..reps)
            .map(|_| {
                let t = Instant::now();
                let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = stmt
                    .query_map(params![CONV, page as i64], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })
                    .and_then(|r| r.collect())
                    .unwrap_or_default();
                let d = t.elapsed();
                assert_eq!(rows.len(), page);
                d
            })
            .collect(),
    );
    let bytes = std::fs::metadata(dir.join("node.sqlite3"))?.len();
    Ok(json!({
        "messages": n,
        "db_mib": bytes as f64 / (1024.0 * 1024.0),
        "open_ms": ms(open),
        "first_page_cold_ms": ms(first_cold),
        "first_page_ms": ms(first_warm),
        "raw_first_page_ms": ms(raw_first),
        "first_page_vs_raw": first_warm.as_secs_f64() / raw_first.as_secs_f64(),
        "jump_cold_ms": ms(jump_cold),
        "jump_ms": ms(jump_warm),
        "rss_start_kib": rss_start,
        "rss_after_kib": status_kib("VmRSS:"),
        "peak_rss_kib": status_kib("VmHWM:"),
    }))
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(dir) = &args.measure {
        println!("{}", measure(dir, args.page, args.reps)?);
        return Ok(());
    }
    let root = tempfile::tempdir()?;
    let exe = std::env::current_exe()?;
    let mut rows = Vec::new();
    for &n in &args.sizes {
        let dir = root.path().join(n.to_string());
        std::fs::create_dir_all(&dir)?;
        fill(&dir, n)?;
        let out = std::process::Command::new(&exe)
            .arg("--measure")
            .arg(&dir)
            .args(["--page", &args.page.to_string(), "--reps", &args.reps.to_string()])
            .output()?;
        anyhow::ensure!(out.status.success(), "child: {}", String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout)?;
        rows.push(v);
        std::fs::remove_dir_all(&dir)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "{:>9} {:>8} {:>9} {:>11} {:>9} {:>9} {:>8} {:>9} {:>9}",
        "messages",
        "db MiB",
        "open ms",
        "1st page ms",
        "raw ms",
        "ratio",
        "jump ms",
        "RSS KiB",
        "peak KiB"
    );
    for r in rows {
        println!(
            "{:>9} {:>8.0} {:>9.1} {:>11.3} {:>9.3} {:>8.1}× {:>8.3} {:>9} {:>9}",
            r["messages"],
            r["db_mib"].as_f64().unwrap_or(0.0),
            r["open_ms"].as_f64().unwrap_or(0.0),
            r["first_page_ms"].as_f64().unwrap_or(0.0),
            r["raw_first_page_ms"].as_f64().unwrap_or(0.0),
            r["first_page_vs_raw"].as_f64().unwrap_or(0.0),
            r["jump_ms"].as_f64().unwrap_or(0.0),
            r["rss_after_kib"],
            r["peak_rss_kib"],
        );
    }
    Ok(())
}
