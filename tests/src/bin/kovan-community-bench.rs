//! `kovan-community-bench`: communities at scale (SPEC.md §9.10). A
//! database is filled with generated communities, posts and comments (1 M
//! posts and 5 M comments by default, one post with a 10,000-comment
//! thread), a real `kovan-relay` process serves it, and the bench measures
//! over HTTP — next to the same query run as raw SQL on the same database
//! in the same run:
//!
//! - a community's first page of posts, p50/p99;
//! - the first page of the 10,000-comment thread, p50/p99;
//! - full-text search inside a community, p50/p99;
//! - posting under load: signed posts per second from concurrent writers,
//!   next to raw durable single-row inserts from as many connections.
//!
//! Each read is measured twice, the relay and the raw SQL on requests
//! drawn apart: first on a database not asked anything like it lately
//! ("first", its pages read from the disk), then after `--warmup` requests
//! of the same kind ("steady", a relay in use).
//!
//! ```text
//! cargo build --release -p kovan-relay -p kovan-tests
//! target/release/kovan-community-bench --backend sqlite,postgres
//! target/release/kovan-community-bench --posts 100000 --comments 500000 --json
//! ```

use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use clap::Parser;
use kovan_crypto::community::sign_action;
use kovan_relay::services::communities::search;
use kovan_spec::wire::{self, community_action::Body};
use kovan_tests::relay_proc::{
    BenchDb, BenchIdentity, RelayProc, identity, ms, percentile, register,
};
use rand_chacha::ChaCha8Rng;
use rand_core::{OsRng, RngCore, SeedableRng};
use serde_json::{Value, json};
use sqlx::{AnyPool, Row as _};

/// Communities at scale.
#[derive(Debug, Parser)]
#[command(name = "kovan-community-bench", version, about)]
struct Args {
    /// Backends, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backend: Vec<String>,
    /// PostgreSQL server (a fresh database is created and dropped).
    #[arg(
        long,
        default_value = "postgres://postgres@127.0.0.1:5432/postgres",
        env = "KOVAN_TEST_POSTGRES"
    )]
    postgres: String,
    /// The relay binary. Default: `kovan-relay` next to this program.
    #[arg(long)]
    relay_bin: Option<std::path::PathBuf>,
    /// Posts generated.
    #[arg(long, default_value_t = 1_000_000)]
    posts: u64,
    /// Comments generated (the big thread's included).
    #[arg(long, default_value_t = 5_000_000)]
    comments: u64,
    /// Communities the posts spread over.
    #[arg(long, default_value_t = 100)]
    communities: u64,
    /// Comments of the one big thread.
    #[arg(long, default_value_t = 10_000)]
    thread: u64,
    /// Requests per read measurement.
    #[arg(long, default_value_t = 300)]
    reps: usize,
    /// Requests of each read made between the first-touch pass and the
    /// steady pass.
    #[arg(long, default_value_t = 1000)]
    warmup: usize,
    /// Concurrent writers in the posting test.
    #[arg(long, default_value_t = 8)]
    writers: usize,
    /// Seconds of the posting test.
    #[arg(long, default_value_t = 10)]
    load_secs: u64,
    /// Keep the filled database and print its URL (for `--database`).
    #[arg(long)]
    keep: bool,
    /// Measure a database kept by an earlier `--keep` run instead of
    /// filling a new one (one backend at a time).
    #[arg(long, conflicts_with = "keep")]
    database: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn progress(args: &Args, msg: &str) {
    if !args.json {
        eprintln!("… {msg}");
    }
}

/// Words posts are made of: common Turkish and English words, then
/// generated ones, so that some words are frequent and most are rare.
fn vocabulary() -> Vec<String> {
    let mut v: Vec<String> = [
        "arılar",
        "kovan",
        "bal",
        "çiçek",
        "yaz",
        "kış",
        "güneş",
        "yağmur",
        "şehir",
        "köy",
        "deniz",
        "dağ",
        "orman",
        "kitap",
        "müzik",
        "yazılım",
        "bees",
        "hive",
        "honey",
        "flower",
        "summer",
        "winter",
        "river",
        "music",
        "software",
        "garden",
        "market",
        "city",
        "village",
        "forest",
    ]
    .iter()
    .map(|w| (*w).to_owned())
    .collect();
    let syll =
        ["ka", "le", "mi", "ro", "su", "ta", "ne", "bi", "do", "ya", "ze", "gü", "şa", "çe", "ır"];
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    while v.len() < 4000 {
        let n = 2 + below(&mut rng, 3);
        v.push((0..n).map(|_| syll[below(&mut rng, syll.len() as u64) as usize]).collect());
    }
    v
}

struct Words {
    words: Vec<String>,
    /// Each word's index text (its forms).
    forms: Vec<String>,
}

impl Words {
    fn new() -> Self {
        let words = vocabulary();
        let forms = words.iter().map(|w| search::index_text(w)).collect();
        Self { words, forms }
    }
    /// A word, Zipf-like: low indexes far more often.
    fn pick(&self, rng: &mut impl RngCore) -> usize {
        let x = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        ((x * x * x) * self.words.len() as f64) as usize % self.words.len()
    }
    /// `n` words of text and their index text.
    fn text(&self, rng: &mut impl RngCore, n: usize) -> (String, String) {
        let (mut text, mut index) = (String::new(), String::new());
        for _ in 0..n {
            let i = self.pick(rng);
            text.push_str(&self.words[i]);
            text.push(' ');
            index.push_str(&self.forms[i]);
            index.push(' ');
        }
        (text, index)
    }
}

/// A number below `n` (`n` > 0).
fn below(rng: &mut impl RngCore, n: u64) -> u64 {
    rng.next_u64() % n
}

fn community_id(k: u64) -> String {
    format!("c{k:031x}")
}
fn post_id(i: u64) -> String {
    format!("a{i:031x}")
}
fn comment_id(i: u64) -> String {
    format!("b{i:031x}")
}

struct Row {
    id: String,
    community: String,
    post: String,
    is_post: bool,
    author: i64,
    depth: i64,
    path: String,
    tbs: Vec<u8>,
    created: i64,
    search: String,
    /// Its number in its community (the relay's `seq`).
    seq: i64,
}

const COLS: usize = 14;

async fn insert_rows(pool: &AnyPool, rows: &[Row]) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    for chunk in rows.chunks(500) {
        let mut sql = String::from(
            "INSERT INTO community_items (id, community_id, post_id, is_post, author_id, depth, path, \
             tbs, sig, likes, created_at, active_at, search_text, seq) VALUES ",
        );
        for (r, _) in chunk.iter().enumerate() {
            let b = r * COLS;
            let marks: Vec<String> = (1..=COLS).map(|c| format!("${}", b + c)).collect();
            sql.push_str(&format!("{}({})", if r == 0 { "" } else { "," }, marks.join(",")));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for r in chunk {
            q = q
                .bind(r.id.clone())
                .bind(r.community.clone())
                .bind(r.post.clone())
                .bind(i64::from(r.is_post))
                .bind(r.author)
                .bind(r.depth)
                .bind(r.path.clone())
                .bind(r.tbs.clone())
                .bind(vec![0u8; 64])
                .bind(r.created % 97)
                .bind(r.created)
                .bind(r.created)
                .bind(r.search.clone())
                .bind(r.seq);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The raw baseline of a post: the row and its search-index entry in one
/// durable transaction, as the relay writes them.
async fn raw_post(pool: &AnyPool, fts: bool, r: &Row) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    let n: i64 = sqlx::Row::try_get(
        &sqlx::query(
            "INSERT INTO community_items (id, community_id, post_id, is_post, author_id, depth, path, \
             tbs, sig, created_at, active_at, search_text) VALUES ($1, $2, $3, 1, $4, 0, '', $5, $6, $7, $8, $9) \
             RETURNING n",
        )
        .bind(r.id.clone())
        .bind(r.community.clone())
        .bind(r.post.clone())
        .bind(r.author)
        .bind(r.tbs.clone())
        .bind(vec![0u8; 64])
        .bind(r.created)
        .bind(r.created)
        .bind(r.search.clone())
        .fetch_one(&mut *tx)
        .await?,
        "n",
    )?;
    if fts {
        sqlx::query("INSERT INTO community_fts (rowid, body) VALUES ($1, $2)")
            .bind(n)
            .bind(search::fts5_body(&r.community, &r.search))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Fills the database: authors, communities, posts, comments, the index.
async fn fill(args: &Args, backend: &str, pool: &AnyPool, words: &Words) -> anyhow::Result<f64> {
    progress(
        args,
        &format!("{backend}: generating {} posts and {} comments", args.posts, args.comments),
    );
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let authors = 1000i64;
    let mut tx = pool.begin().await?;
    for a in 0..authors {
        sqlx::query("INSERT INTO accounts (username, account_key, password_hash, created_at) VALUES ($1, $2, 'x', 0)")
            .bind(format!("author{a}"))
            .bind({
                let mut k = [0u8; 32];
                rng.fill_bytes(&mut k);
                k.to_vec()
            })
            .execute(&mut *tx)
            .await?;
    }
    for k in 0..args.communities {
        sqlx::query(
            "INSERT INTO communities (id, name, owner_id, create_tbs, create_sig, visibility, post_policy, \
             topic, search_text, posts, created_at) VALUES ($1, $2, 1, $3, $4, 'public', 'members', $5, $6, $7, 0)",
        )
        .bind(community_id(k))
        .bind(format!("c{k}"))
        .bind(vec![1u8; 120])
        .bind(vec![0u8; 64])
        .bind(format!("topic {k}"))
        .bind(format!("c{k} topic {k}"))
        .bind((args.posts / args.communities) as i64)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    // PostgreSQL's full-text index is built after the rows, as the
    // migrations define it.
    let fts_index: Option<String> = if backend == "postgres" {
        let def: String =
            sqlx::query("SELECT pg_get_indexdef('community_items_fts'::regclass) AS def")
                .fetch_one(pool)
                .await?
                .try_get("def")?;
        sqlx::query("DROP INDEX community_items_fts").execute(pool).await?;
        Some(def)
    } else {
        None
    };
    let mut batch = Vec::with_capacity(20_000);
    let mut children = vec![0u32; args.posts as usize];
    let total = args.posts + args.comments;
    let mut done = 0u64;
    // Each community's item count, as the relay keeps it (`items`).
    let mut seqs = vec![0i64; args.communities as usize];
    let mut next = |community: u64| {
        seqs[community as usize] += 1;
        seqs[community as usize]
    };
    for i in 0..args.posts {
        let (title, ti) = words.text(&mut rng, 5);
        let (text, xi) = words.text(&mut rng, 20);
        batch.push(Row {
            id: post_id(i),
            community: community_id(i % args.communities),
            post: post_id(i),
            is_post: true,
            author: 1 + (i as i64 % authors),
            depth: 0,
            path: String::new(),
            tbs: format!("{title}\n{text}").into_bytes(),
            created: 1_800_000_000_000 + i as i64,
            search: format!("{ti}{xi}"),
            seq: next(i % args.communities),
        });
        if batch.len() == 20_000 {
            insert_rows(pool, &std::mem::take(&mut batch)).await?;
            done += 20_000;
            progress(args, &format!("{done} of {total} rows"));
        }
    }
    for c in 0..args.comments {
        // The big thread first (post 0: a tenth top-level, the rest one
        // level below them), then comments on random posts.
        let (post, depth, path) = if c < args.thread {
            let top = args.thread / 10;
            if c < top {
                (0, 1, format!("{c:08x}"))
            } else {
                let parent = c % top;
                (0, 2, format!("{parent:08x}{:08x}", c / top))
            }
        } else {
            let p = (1 + below(&mut rng, args.posts.max(2) - 1)) as usize % args.posts as usize;
            children[p] += 1;
            (p as u64, 1, format!("{:08x}", children[p]))
        };
        let (text, xi) = words.text(&mut rng, 12);
        batch.push(Row {
            id: comment_id(c),
            community: community_id(post % args.communities),
            post: post_id(post),
            is_post: false,
            author: 1 + (c as i64 % authors),
            depth,
            path,
            tbs: text.into_bytes(),
            created: 1_800_000_000_000 + (args.posts + c) as i64,
            search: xi,
            seq: next(post % args.communities),
        });
        if batch.len() == 20_000 {
            insert_rows(pool, &std::mem::take(&mut batch)).await?;
            done += 20_000;
            progress(args, &format!("{done} of {total} rows"));
        }
    }
    insert_rows(pool, &std::mem::take(&mut batch)).await?;
    for (k, items) in seqs.iter().enumerate() {
        sqlx::query("UPDATE communities SET items = $1 WHERE id = $2")
            .bind(*items)
            .bind(community_id(k as u64))
            .execute(pool)
            .await?;
    }
    progress(args, "building the search index");
    if let Some(def) = fts_index {
        sqlx::query(sqlx::AssertSqlSafe(def)).execute(pool).await?;
        sqlx::query("ANALYZE").execute(pool).await?;
    } else {
        sqlx::query(
            "INSERT INTO community_fts (rowid, body) SELECT n, substr(community_id, -8) || 'x' || \
             replace(search_text, ' ', ' ' || substr(community_id, -8) || 'x') FROM community_items",
        )
        .execute(pool)
        .await?;
        sqlx::query("ANALYZE").execute(pool).await?;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Sorted latencies of `reps` runs of `f`.
async fn timed<F, Fut>(reps: usize, mut f: F) -> anyhow::Result<Vec<Duration>>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut out = Vec::with_capacity(reps);
    for i in 0..reps {
        let t = Instant::now();
        f(i).await?;
        out.push(t.elapsed());
    }
    out.sort();
    Ok(out)
}

fn pair(kovan: &[Duration], raw: &[Duration]) -> Value {
    let (k50, k99, r50, r99) = (
        ms(percentile(kovan, 0.5)),
        ms(percentile(kovan, 0.99)),
        ms(percentile(raw, 0.5)),
        ms(percentile(raw, 0.99)),
    );
    json!({"p50_ms": k50, "p99_ms": k99, "raw_p50_ms": r50, "raw_p99_ms": r99, "ratio_p50": k50 / r50.max(1e-9)})
}

async fn get(http: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    let resp = http.get(url).send().await?;
    anyhow::ensure!(resp.status().is_success(), "{url}: {}", resp.status());
    Ok(resp.json().await?)
}

async fn act(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    id: &BenchIdentity,
    body: Body,
) -> anyhow::Result<()> {
    let mut nonce = [0u8; 16];
    OsRng.fill_bytes(&mut nonce);
    let action = wire::CommunityAction {
        version: 1,
        author: id.account.id().as_bytes().to_vec(),
        created_ms: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis()
            as u64,
        nonce: nonce.to_vec(),
        body: Some(body),
    };
    let (tbs, sig, _) = sign_action(&id.account, &action)?;
    let resp = http
        .post(format!("{url}/v1/communities/actions"))
        .bearer_auth(token)
        .json(&json!({"tbs": B64.encode(tbs), "signature": B64.encode(sig)}))
        .send()
        .await?;
    anyhow::ensure!(resp.status().is_success(), "action: {} {}", resp.status(), resp.text().await?);
    Ok(())
}

async fn run(args: &Args, backend: &str) -> anyhow::Result<Value> {
    let mut db = match &args.database {
        Some(url) => BenchDb::existing(url)?,
        None => BenchDb::create(backend, &args.postgres).await?,
    };
    let result = measure(args, backend, &db).await;
    if args.keep {
        eprintln!("kept the {backend} database: --database {}", db.keep());
    }
    db.drop_now().await;
    result
}

async fn measure(args: &Args, backend: &str, db: &BenchDb) -> anyhow::Result<Value> {
    let store = kovan_relay::db::SqlStore::connect(&db.url).await?;
    store.close().await;
    sqlx::any::install_default_drivers();
    // The raw queries run with the relay's PostgreSQL session settings.
    let postgres = backend == "postgres";
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(args.writers as u32 + 2)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if postgres {
                    sqlx::raw_sql(kovan_relay::db::PG_SESSION).execute(conn).await?;
                }
                Ok(())
            })
        })
        .connect(&db.url)
        .await?;
    let words = Words::new();
    let fill_secs =
        if args.database.is_some() { 0.0 } else { fill(args, backend, &pool, &words).await? };
    let limits = "community_writes_per_account_per_minute = 100000000\n\
                  community_reads_per_ip_per_minute = 100000000\nlogins_per_ip_per_minute = 100000000";
    let mut relay = RelayProc::start(args.relay_bin.as_deref(), db, limits)?;
    let out = measure_relay(args, backend, &pool, &words, &relay).await;
    relay.stop();
    pool.close().await;
    Ok(
        json!({"backend": backend, "posts": args.posts, "comments": args.comments, "fill_secs": fill_secs, "results": out?}),
    )
}

/// A read request: a community and, for search, a word.
struct Pick {
    community: u64,
    word: String,
}

#[derive(Debug, Clone, Copy)]
enum Read {
    Page,
    Thread,
    Search,
}

/// The reads measured: over HTTP from the relay, and the same SQL raw on
/// the same database.
struct Reads<'a> {
    http: &'a reqwest::Client,
    url: &'a str,
    pool: &'a AnyPool,
    backend: &'a str,
    /// Each community's newest PostgreSQL search bucket.
    buckets: Vec<i64>,
    /// Items found and searches made through the relay.
    found: std::sync::Mutex<(usize, usize)>,
}

impl Reads<'_> {
    async fn kovan(&self, read: Read, p: &Pick) -> anyhow::Result<()> {
        let url = self.url;
        match read {
            Read::Page => {
                get(self.http, &format!("{url}/v1/communities/c{}/posts?limit=25", p.community))
                    .await?;
            }
            Read::Thread => {
                let u = format!("{url}/v1/community-items/{}/comments?limit=50", post_id(0));
                let v = get(self.http, &u).await?;
                anyhow::ensure!(v["items"].as_array().map(Vec::len) == Some(50), "a short page");
            }
            Read::Search => {
                let u =
                    format!("{url}/v1/communities/c{}/search?q={}&limit=25", p.community, p.word);
                let v = get(self.http, &u).await?;
                let n = v["items"].as_array().map(Vec::len).unwrap_or(0);
                if let Ok(mut f) = self.found.lock() {
                    f.0 += n;
                    f.1 += 1;
                }
            }
        }
        Ok(())
    }

    async fn raw(&self, read: Read, p: &Pick) -> anyhow::Result<()> {
        let pool = self.pool;
        let cid = community_id(p.community);
        match read {
            Read::Page => {
                sqlx::query(
                    "SELECT i.n, i.id, i.tbs, i.sig, a.username FROM community_items i LEFT JOIN accounts a \
                     ON a.id = i.author_id WHERE i.community_id = $1 AND i.is_post = 1 ORDER BY i.n DESC LIMIT 25",
                )
                .bind(cid)
                .fetch_all(pool)
                .await?;
            }
            Read::Thread => {
                sqlx::query(
                    "SELECT i.n, i.id, i.tbs, i.sig, a.username FROM community_items i LEFT JOIN accounts a \
                     ON a.id = i.author_id WHERE i.post_id = $1 AND i.is_post = 0 AND i.path > '' ORDER BY i.path LIMIT 50",
                )
                .bind(post_id(0))
                .fetch_all(pool)
                .await?;
            }
            Read::Search => {
                let q = search::query_forms(&p.word);
                let top = self.buckets.get(p.community as usize).copied().unwrap_or(0);
                // The relay's search without HTTP, accounts and documents: the
                // newest window of matches, ranked, then the page's rows.
                let found = if self.backend == "postgres" {
                    sqlx::query(
                        "SELECT n, search_text FROM community_items WHERE community_id = $1 \
                         AND search_tsv @@ to_tsquery('simple', $2) ORDER BY n DESC LIMIT $3",
                    )
                    .persistent(false)
                    .bind(cid.clone())
                    .bind(search::tsquery(&cid, 0..=top, &q))
                } else {
                    sqlx::query(
                        "SELECT i.n, i.search_text FROM community_items i JOIN (SELECT rowid AS r \
                         FROM community_fts WHERE community_fts MATCH $1 ORDER BY rowid DESC LIMIT $2) m \
                         ON m.r = i.n",
                    )
                    .bind(search::fts5_query(&cid, &q))
                }
                .bind(search::WINDOW)
                .fetch_all(pool)
                .await?;
                let found: Vec<(i64, String)> = found
                    .iter()
                    .map(|r| Ok((r.try_get("n")?, r.try_get("search_text")?)))
                    .collect::<Result<_, sqlx::Error>>()?;
                let page: Vec<i64> = search::rank(found, &q).into_iter().take(25).collect();
                if !page.is_empty() {
                    let marks: Vec<String> = (1..=page.len()).map(|i| format!("${i}")).collect();
                    let sql = format!(
                        "SELECT n, id, tbs FROM community_items WHERE n IN ({})",
                        marks.join(", ")
                    );
                    let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for n in &page {
                        rows = rows.bind(*n);
                    }
                    rows.fetch_all(pool).await?;
                }
            }
        }
        Ok(())
    }
}

async fn measure_relay(
    args: &Args,
    backend: &str,
    pool: &AnyPool,
    words: &Words,
    relay: &RelayProc,
) -> anyhow::Result<Value> {
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
    let url = relay.url.as_str();
    let info = get(&http, &format!("{url}/v1/info")).await?;
    let relay_peer = info["peer_id"].as_str().context("no peer id")?.to_owned();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let c = args.communities;

    // Each community's newest bucket (PostgreSQL's raw query names them all).
    let mut buckets = Vec::new();
    for k in 0..c {
        let items: i64 = sqlx::query("SELECT items FROM communities WHERE id = $1")
            .bind(community_id(k))
            .fetch_one(pool)
            .await?
            .try_get("items")?;
        buckets.push(items / search::PG_BUCKET);
    }
    let reads = Reads { http: &http, url, pool, backend, buckets, found: Default::default() };
    let mut results = serde_json::Map::new();
    for (read, key, what) in [
        (Read::Page, "community_page", "a community's first page"),
        (Read::Thread, "thread_first_page", "the big thread's first page"),
        (Read::Search, "search", "search"),
    ] {
        // Every pass draws its own requests, the relay's and the raw
        // SQL's apart, so that neither reads pages the other has just
        // read: first what the database was not asked lately, then, after
        // `--warmup` requests like them, a relay in steady use.
        let mut pass = |n: usize| -> Vec<Pick> {
            (0..n)
                .map(|_| Pick {
                    community: below(&mut rng, c),
                    word: words.words[words.pick(&mut rng)].clone(),
                })
                .collect()
        };
        let (first, first_raw, warm, steady, steady_raw) =
            (pass(args.reps), pass(args.reps), pass(args.warmup), pass(args.reps), pass(args.reps));
        progress(args, &format!("{what}: {} requests, first touch", args.reps));
        let kovan = timed(args.reps, |i| reads.kovan(read, &first[i])).await?;
        let raw = timed(args.reps, |i| reads.raw(read, &first_raw[i])).await?;
        progress(args, &format!("{what}: {} warm-up requests", args.warmup));
        for (i, p) in warm.iter().enumerate() {
            if i % 2 == 0 {
                reads.kovan(read, p).await?;
            } else {
                reads.raw(read, p).await?;
            }
        }
        progress(args, &format!("{what}: {} requests, steady", args.reps));
        let kovan_steady = timed(args.reps, |i| reads.kovan(read, &steady[i])).await?;
        let raw_steady = timed(args.reps, |i| reads.raw(read, &steady_raw[i])).await?;
        results.insert(
            key.to_owned(),
            json!({"first": pair(&kovan, &raw), "steady": pair(&kovan_steady, &raw_steady)}),
        );
    }
    let (hits, searches) = reads.found.lock().map(|f| *f).unwrap_or((0, 0));

    progress(args, &format!("posting for {} s with {} writers", args.load_secs, args.writers));
    // Names unique to this run, so that a kept database can be measured again.
    let run = hex::encode(OsRng.next_u32().to_be_bytes());
    let mut writers = Vec::new();
    for w in 0..args.writers {
        let id = identity()?;
        let token = register(&http, url, &relay_peer, &format!("writer{w}{run}"), &id).await?;
        writers.push((id, token));
    }
    // The writers post into a community made the real way (the generated
    // ones have no signed create action).
    let (owner, owner_token) = &writers[0];
    let create = Body::Create(wire::CommunityCreate {
        name: format!("benchposts{run}"),
        settings: Some(wire::CommunitySettings {
            visibility: 1,
            post_policy: 1,
            ..Default::default()
        }),
    });
    act(&http, url, owner_token, owner, create).await?;
    let doc = get(&http, &format!("{url}/v1/communities/benchposts{run}")).await?;
    let cid = hex::decode(doc["id"].as_str().context("no id")?)?;
    for (id, token) in writers.iter().skip(1) {
        act(
            &http,
            url,
            token,
            id,
            Body::Membership(wire::CommunityMembership {
                community: cid.clone(),
                join: true,
                note: String::new(),
            }),
        )
        .await?;
    }
    let deadline = Instant::now() + Duration::from_secs(args.load_secs);
    let mut tasks = tokio::task::JoinSet::new();
    for (id, token) in writers {
        let (http, url, cid, words_text) =
            (http.clone(), url.to_owned(), cid.clone(), words.text(&mut rng, 20).0);
        tasks.spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                let body = Body::Post(wire::CommunityPost {
                    community: cid.clone(),
                    title: format!("post {n}"),
                    text: words_text.clone(),
                    ..Default::default()
                });
                act(&http, &url, &token, &id, body).await?;
                n += 1;
            }
            anyhow::Ok(n)
        });
    }
    let mut posted = 0;
    while let Some(r) = tasks.join_next().await {
        posted += r??;
    }
    let posts_per_sec = posted as f64 / args.load_secs as f64;
    let raw_deadline = Instant::now() + Duration::from_secs(args.load_secs);
    let mut raw_tasks = tokio::task::JoinSet::new();
    for w in 0..args.writers {
        let (pool, backend, run) = (pool.clone(), backend.to_owned(), run.clone());
        let (text, index) = words.text(&mut rng, 20);
        raw_tasks.spawn(async move {
            let mut n = 0u64;
            while Instant::now() < raw_deadline {
                let row = Row {
                    id: format!("d{run}{w:03x}{n:020x}"),
                    community: community_id(0),
                    post: format!("d{run}{w:03x}{n:020x}"),
                    is_post: true,
                    author: 1,
                    depth: 0,
                    path: String::new(),
                    tbs: text.clone().into_bytes(),
                    created: 1_900_000_000_000,
                    search: index.clone(),
                    seq: 0,
                };
                raw_post(&pool, backend == "sqlite", &row).await?;
                n += 1;
            }
            anyhow::Ok(n)
        });
    }
    let mut raw_posted = 0;
    while let Some(r) = raw_tasks.join_next().await {
        raw_posted += r??;
    }
    let raw_per_sec = raw_posted as f64 / args.load_secs as f64;
    results.insert("search_hits_per_query".to_owned(), json!(hits as f64 / searches.max(1) as f64));
    results.insert(
        "posting".to_owned(),
        json!({"posts_per_sec": posts_per_sec, "raw_inserts_per_sec": raw_per_sec, "ratio": posts_per_sec / raw_per_sec.max(1e-9)}),
    );
    Ok(Value::Object(results))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut all = Vec::new();
    for backend in &args.backend {
        all.push(run(&args, backend).await?);
    }
    if args.json {
        println!("{}", Value::Array(all));
        return Ok(());
    }
    for r in &all {
        println!(
            "kovan communities — {} — {} posts, {} comments (filled in {:.0} s)",
            r["backend"].as_str().unwrap_or(""),
            r["posts"],
            r["comments"],
            r["fill_secs"].as_f64().unwrap_or(0.0)
        );
        let x = &r["results"];
        for (name, key) in [
            ("community page", "community_page"),
            ("10k thread, first page", "thread_first_page"),
            ("search", "search"),
        ] {
            for pass in ["first", "steady"] {
                let m = &x[key][pass];
                println!(
                    "  {name:<24} {pass:<6} p50 {:>7.2} ms  p99 {:>7.2} ms   raw SQL p50 {:>6.2} ms p99 {:>6.2} ms   ratio p50 {:.1}×",
                    m["p50_ms"].as_f64().unwrap_or(0.0),
                    m["p99_ms"].as_f64().unwrap_or(0.0),
                    m["raw_p50_ms"].as_f64().unwrap_or(0.0),
                    m["raw_p99_ms"].as_f64().unwrap_or(0.0),
                    m["ratio_p50"].as_f64().unwrap_or(0.0)
                );
            }
        }
        let p = &x["posting"];
        println!(
            "  posting under load       {:.0} posts/s   raw durable inserts {:.0}/s   ratio {:.2}×",
            p["posts_per_sec"].as_f64().unwrap_or(0.0),
            p["raw_inserts_per_sec"].as_f64().unwrap_or(0.0),
            p["ratio"].as_f64().unwrap_or(0.0)
        );
    }
    Ok(())
}
