//! What encrypting history at rest costs: inserting and paging messages with
//! per-field XChaCha20-Poly1305 (`History`) next to raw SQLite inserts and
//! reads of the same rows in clear, in the same run and the same database
//! settings (WAL, synchronous=FULL, one transaction per message).
//!
//! `cargo bench -p kovan-node --bench history`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kovan_crypto::storage::StorageKey;
use kovan_node::history::{History, NewMessage, State};
use kovan_node::store::Database;
use rusqlite::params;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(&dir.path().join("bench.sqlite3")).unwrap();
    let key = StorageKey::from_bytes([7; 32]);
    let history = History::new(&db, &key);
    let conv = b"bench-conversation".to_vec();
    history.ensure_conversation(&conv, Some(&[1; 32]), 0).unwrap();
    let body = vec![b'x'; 200];

    let raw = rusqlite::Connection::open(dir.path().join("raw.sqlite3")).unwrap();
    raw.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE m (seq INTEGER PRIMARY KEY AUTOINCREMENT, conv BLOB, id BLOB, body BLOB, UNIQUE (conv, id));
         CREATE INDEX m_page ON m (conv, seq);",
    )
    .unwrap();

    let mut g = c.benchmark_group("history");
    g.throughput(Throughput::Elements(1));
    let mut i: u64 = 0;
    g.bench_function("insert/raw_sqlite", |b| {
        b.iter(|| {
            i += 1;
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&i.to_be_bytes());
            raw.execute(
                "INSERT INTO m (conv, id, body) VALUES (?1, ?2, ?3)",
                params![conv, id.as_slice(), body],
            )
            .unwrap();
        })
    });
    let mut j: u64 = 0;
    g.bench_function("insert/encrypted_history", |b| {
        b.iter(|| {
            j += 1;
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&j.to_be_bytes());
            let m = NewMessage {
                conversation_id: &conv,
                message_id: id,
                sender_account: &[1; 32],
                sender_device: "12D3KooWBench",
                sent_at: j as i64,
                received_at: j as i64,
                outgoing: false,
                state: State::Received,
                body: &body,
            };
            history.insert(&m).unwrap().unwrap();
        })
    });
    g.throughput(Throughput::Elements(50));
    g.bench_function("page50/raw_sqlite", |b| {
        let mut stmt = raw
            .prepare("SELECT seq, id, body FROM m WHERE conv = ?1 ORDER BY seq DESC LIMIT 50")
            .unwrap();
        b.iter(|| {
            let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = stmt
                .query_map(params![conv], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert_eq!(rows.len(), 50);
        })
    });
    g.bench_function("page50/encrypted_history", |b| {
        b.iter(|| assert_eq!(history.page(&conv, None, 50).unwrap().len(), 50))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
