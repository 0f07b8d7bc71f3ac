//! What the relay benchmarks share: a `kovan-relay` process on a fresh
//! SQLite file or PostgreSQL database, accounts registered over HTTP, and
//! percentiles.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use kovan_crypto::context::SigContext;
use kovan_crypto::identity::{
    AccountKey, DeviceCertificate, DeviceKeys, registration_data, relay_device_proof,
};
use rand_core::OsRng;
use serde_json::{Value, json};
use sqlx::Connection;

/// A fresh database for a relay: its URL, and for PostgreSQL the admin URL
/// and name to drop it by.
pub struct BenchDb {
    /// The relay's `database` setting.
    pub url: String,
    pg: Option<(String, String)>,
    /// The directory of the SQLite file and the relay's data.
    pub dir: tempfile::TempDir,
}

impl BenchDb {
    /// A new SQLite file (`backend = "sqlite"`) or PostgreSQL database on
    /// the server at `postgres` (`"postgres"`).
    pub async fn create(backend: &str, postgres: &str) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        if backend != "postgres" {
            let url = format!("sqlite://{}/relay.sqlite3?mode=rwc", dir.path().display());
            return Ok(Self { url, pg: None, dir });
        }
        let mut b = [0u8; 8];
        rand_core::RngCore::fill_bytes(&mut OsRng, &mut b);
        let name = format!("kovan_bench_{}", hex::encode(b));
        let mut conn = sqlx::postgres::PgConnection::connect(postgres)
            .await
            .context("connecting to PostgreSQL")?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        let base = postgres.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap_or_default();
        Ok(Self { url: format!("{base}/{name}"), pg: Some((postgres.to_owned(), name)), dir })
    }

    /// An existing database at `url` (kept by an earlier run), with a fresh
    /// directory for the relay's data. Never dropped.
    pub fn existing(url: &str) -> anyhow::Result<Self> {
        Ok(Self { url: url.to_owned(), pg: None, dir: tempfile::tempdir()? })
    }

    /// Keeps the database: `drop_now` leaves it, and the SQLite file's
    /// directory stays. Returns the URL to reuse it by.
    pub fn keep(&mut self) -> String {
        self.pg = None;
        self.dir.disable_cleanup(true);
        self.url.clone()
    }

    /// Drops a PostgreSQL database (the SQLite file goes with the directory).
    pub async fn drop_now(&mut self) {
        if let Some((admin, name)) = self.pg.take()
            && let Ok(mut conn) = sqlx::postgres::PgConnection::connect(&admin).await
        {
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&mut conn).await;
        }
    }
}

/// A running `kovan-relay` process.
pub struct RelayProc {
    /// The process.
    pub child: Child,
    /// Its HTTP base URL.
    pub url: String,
    /// Its process id.
    pub pid: u32,
}

impl RelayProc {
    /// Starts `bin` (default: `kovan-relay` next to this program) on
    /// `db`, with `limits` (TOML lines of the `[limits]` table) added.
    pub fn start(bin: Option<&Path>, db: &BenchDb, limits: &str) -> anyhow::Result<Self> {
        let bin: PathBuf = match bin {
            Some(b) => b.to_owned(),
            None => std::env::current_exe()?.with_file_name("kovan-relay"),
        };
        anyhow::ensure!(
            bin.exists(),
            "{} not found: build it with `cargo build --release -p kovan-relay`",
            bin.display()
        );
        let config =
            format!("listen = \"127.0.0.1:0\"\ndatabase = \"{}\"\n[limits]\n{limits}\n", db.url);
        let config_path = db.dir.path().join("relay.toml");
        std::fs::write(&config_path, config)?;
        let mut child = Command::new(&bin)
            .args(["serve", "--config"])
            .arg(&config_path)
            .arg("--data-dir")
            .arg(db.dir.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut out = std::io::BufReader::new(stdout);
        let mut line = String::new();
        // Log lines (a warning about file modes, say) may come first.
        let url = loop {
            line.clear();
            if out.read_line(&mut line)? == 0 {
                let _ = child.kill();
                bail!("relay did not start");
            }
            if let Some(url) = line.trim().strip_prefix("kovan-relay listening on ") {
                break url.to_owned();
            }
        };
        // Keep draining its output so it never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let pid = child.id();
        Ok(Self { child, url, pid })
    }

    /// Its resident memory, KiB.
    pub fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
            })
            .unwrap_or(0)
    }

    /// Stops it.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An account's keys and one device.
pub struct BenchIdentity {
    /// The account key.
    pub account: AccountKey,
    /// The device's keys.
    pub device: DeviceKeys,
    /// Its certificate.
    pub cert: DeviceCertificate,
}

/// A fresh identity.
pub fn identity() -> anyhow::Result<BenchIdentity> {
    let account = AccountKey::generate(&mut OsRng);
    let device = DeviceKeys::generate(&mut OsRng);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let cert = account.certify(&device.public(), "bench", now - 10, 86_400)?;
    Ok(BenchIdentity { account, device, cert })
}

/// Registers `name` for `id` on the relay at `url` (whose PeerId is
/// `relay_peer`); the session token.
pub async fn register(
    http: &reqwest::Client,
    url: &str,
    relay_peer: &str,
    name: &str,
    id: &BenchIdentity,
) -> anyhow::Result<String> {
    let data = registration_data(name, id.account.id().as_bytes(), &id.cert, relay_peer);
    let body = json!({
        "username": name,
        "password": "load test password",
        "account_key": B64.encode(id.account.id().as_bytes()),
        "device_certificate": B64.encode(id.cert.encoded()),
        "signature": B64.encode(id.account.sign(SigContext::AccountRegistration, &data)),
        "device_signature": B64.encode(relay_device_proof(&id.device, &data)),
    });
    let resp = http.post(format!("{url}/v1/accounts")).json(&body).send().await?;
    anyhow::ensure!(resp.status().is_success(), "register {name}: {}", resp.status());
    let v: Value = resp.json().await?;
    Ok(v["token"].as_str().unwrap_or_default().to_owned())
}

/// The `p` quantile of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
