//! Starting relays and talking to them.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use kovan_crypto::context::SigContext;
use kovan_crypto::envelope::{self, PayloadKind, Sender};
use kovan_crypto::identity::{
    AccountKey, DeviceCertificate, DeviceKeys, registration_data, relay_device_proof,
};
use kovan_crypto::mls::{CIPHERSUITE, KovanProvider, MlsSigner, credential_with_key};
use kovan_relay::config::RelayConfig;
use kovan_relay::{Info, Relay};
use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::{Capabilities, ExtensionType, KeyPackage, KeyPackageBuilder, MlsMessageOut};
use rand_core::OsRng;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;

/// Which database a test relay uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server for tests (a database per relay is created in it).
pub fn pg_admin_url() -> String {
    std::env::var("KOVAN_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn pg_url_for(db: &str) -> String {
    let admin = pg_admin_url();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    format!("{base}/{db}")
}

async fn pg_exec(sql: String) {
    let mut conn = sqlx::postgres::PgConnection::connect(&pg_admin_url())
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {} is required: {e}", pg_admin_url()));
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.unwrap();
    conn.close().await.ok();
}

/// A PostgreSQL database of one test's own, dropped when the test ends
/// (also when it panics).
pub struct PgDatabase {
    name: Option<String>,
}

impl PgDatabase {
    pub async fn create() -> Self {
        let name = format!("kovan_test_{}", hex::encode(rand_bytes::<8>()));
        pg_exec(format!("CREATE DATABASE {name}")).await;
        Self { name: Some(name) }
    }

    pub fn url(&self) -> String {
        pg_url_for(self.name.as_deref().unwrap_or_default())
    }

    pub async fn drop_now(mut self) {
        if let Some(name) = self.name.take() {
            pg_exec(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Some(name) = self.name.take() {
            let _ = std::thread::spawn(move || {
                let rt =
                    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(pg_exec(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")));
            })
            .join();
        }
    }
}

/// Every wait in these tests is bounded.
pub const WAIT: Duration = Duration::from_secs(15);

/// A relay for one test, with its own data dir and database.
pub struct TestRelay {
    pub relay: Option<Relay>,
    pub url: String,
    pub http: reqwest::Client,
    pub info: Info,
    pub config: RelayConfig,
    pub dir: tempfile::TempDir,
    pg_db: Option<PgDatabase>,
}

pub fn fast_config() -> RelayConfig {
    RelayConfig { listen: "127.0.0.1:0".parse().unwrap(), ..Default::default() }
}

impl TestRelay {
    pub async fn start(db: Db) -> Self {
        Self::start_with(db, fast_config()).await
    }

    pub async fn start_with(db: Db, mut config: RelayConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        config.data_dir = Some(dir.path().to_path_buf());
        let pg_db = match db {
            Db::Sqlite => None,
            Db::Postgres => {
                let pg = PgDatabase::create().await;
                config.database = Some(pg.url());
                Some(pg)
            }
        };
        let mut t = Self {
            relay: None,
            url: String::new(),
            http: reqwest::Client::builder().timeout(WAIT).build().unwrap(),
            info: Info {
                software: String::new(),
                version: String::new(),
                protocol: 0,
                peer_id: String::new(),
                multiaddrs: vec![],
                limits: serde_json::from_value(json!({"max_envelope_bytes":0,"mailbox_max_items":0,"mailbox_max_bytes":0,"mailbox_ttl_secs":0,"max_avatar_bytes":0,"max_key_packages":0,"blob_max_bytes":0,"blob_quota_bytes":0,"blob_ttl_secs":0})).unwrap(),
            },
            config: config.clone(),
            dir,
            pg_db,

        };
        t.boot(config).await;
        t
    }

    async fn boot(&mut self, mut config: RelayConfig) {
        config.data_dir = Some(self.dir.path().to_path_buf());
        if let Some(pg) = &self.pg_db {
            config.database = Some(pg.url());
        }
        let relay = Relay::start(config.clone()).await.unwrap();
        self.url = relay.url();
        self.relay = Some(relay);
        self.config = config;
        self.info = self.get("/v1/info", None).await.1.pipe(|v| serde_json::from_value(v).unwrap());
    }

    /// Stops the relay gracefully and starts it again on the same data.
    pub async fn restart(&mut self) {
        let relay = self.relay.take().unwrap();
        let mut config = self.config.clone();
        config.listen = relay.addr;
        relay.shutdown(Duration::from_secs(10)).await;
        self.boot(config).await;
    }

    pub fn state(&self) -> &std::sync::Arc<kovan_relay::state::AppState> {
        &self.relay.as_ref().unwrap().state
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.relay.take() {
            r.shutdown(Duration::from_secs(10)).await;
        }
        if let Some(pg) = self.pg_db.take() {
            pg.drop_now().await;
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut req = self.http.get(format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, token, Some(body)).await
    }

    pub async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Vec<u8>,
        ct: &str,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .header("content-type", ct)
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// The status the relay answers to a request that declares a body of
    /// `len` bytes and sends none of it: a body over a route's limit is
    /// refused from its declared length alone, before any of it is read.
    /// (Sending such a body for real races the server's early answer: the
    /// client may see its write cut instead of the status.)
    pub async fn declared_length_status(&self, path: &str, token: Option<&str>, len: usize) -> u16 {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let addr = self.url.trim_start_matches("http://");
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let auth = token.map(|t| format!("authorization: Bearer {t}\r\n")).unwrap_or_default();
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/octet-stream\r\n\
             {auth}content-length: {len}\r\n\r\n"
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let mut buf = [0u8; 1024];
        while !answer.windows(2).any(|w| w == b"\r\n") {
            let n = tokio::time::timeout(WAIT, tcp.read(&mut buf)).await.unwrap().unwrap();
            assert!(n > 0, "the relay closed without answering");
            answer.extend_from_slice(&buf[..n]);
        }
        let line = String::from_utf8_lossy(&answer);
        line.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
    }

    /// Deletes `user`'s account (with its password).
    pub async fn delete_account(&self, user: &User) -> StatusCode {
        let body = json!({"password": user.password});
        self.send(reqwest::Method::DELETE, "/v1/account", Some(&user.token), Some(body)).await.0
    }

    /// Registers a fresh identity under `username`.
    pub async fn register(&self, username: &str) -> User {
        let user = User::new(username);
        let (status, body) =
            self.post("/v1/accounts", None, user.register_body(&self.info.peer_id)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        user.with_token(body["token"].as_str().unwrap())
    }

    /// Puts a sealed envelope with `payload` from `from` into `to`'s mailbox.
    pub async fn put_envelope(
        &self,
        from: &User,
        to: &User,
        payload: &[u8],
    ) -> (StatusCode, Value, Vec<u8>) {
        let bytes = from.seal_to(to, payload);
        let (s, v) = self
            .raw(
                reqwest::Method::POST,
                &format!("/v1/mailbox/{}", to.peer_id()),
                None,
                bytes.clone(),
                "application/octet-stream",
            )
            .await;
        (s, v, bytes)
    }
}

pub trait Pipe: Sized {
    fn pipe<R>(self, f: impl FnOnce(Self) -> R) -> R {
        f(self)
    }
}
impl<T> Pipe for T {}

pub fn rand_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand_core::RngCore::fill_bytes(&mut OsRng, &mut b);
    b
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// A user with an identity and (after registering) a session.
pub struct User {
    pub username: String,
    pub password: String,
    pub account: AccountKey,
    pub device: DeviceKeys,
    pub cert: DeviceCertificate,
    pub token: String,
}

impl User {
    pub fn new(username: &str) -> Self {
        let account = AccountKey::generate(&mut OsRng);
        let device = DeviceKeys::generate(&mut OsRng);
        let cert = account.certify(&device.public(), "test", now_secs() - 10, 3600).unwrap();
        Self {
            username: username.into(),
            password: "correct horse battery".into(),
            account,
            device,
            cert,
            token: String::new(),
        }
    }

    pub fn with_token(mut self, token: &str) -> Self {
        self.token = token.into();
        self
    }

    pub fn peer_id(&self) -> String {
        self.cert.peer_id().to_string()
    }

    fn proof_data(&self, cert: &DeviceCertificate, relay_peer_id: &str) -> Vec<u8> {
        let name = self.username.to_ascii_lowercase();
        registration_data(&name, self.account.id().as_bytes(), cert, relay_peer_id)
    }

    pub fn register_body(&self, relay_peer_id: &str) -> Value {
        let data = self.proof_data(&self.cert, relay_peer_id);
        let sig = self.account.sign(SigContext::AccountRegistration, &data);
        json!({
            "username": self.username,
            "password": self.password,
            "account_key": B64.encode(self.account.id().as_bytes()),
            "device_certificate": B64.encode(self.cert.encoded()),
            "signature": B64.encode(sig),
            "device_signature": B64.encode(relay_device_proof(&self.device, &data)),
            "user_agent": "kovan-tests",
        })
    }

    /// The proof of `device`'s p2p key for `cert` on this account (SPEC.md
    /// §9.2), base64.
    pub fn device_proof(
        &self,
        device: &DeviceKeys,
        cert: &DeviceCertificate,
        relay_peer_id: &str,
    ) -> String {
        B64.encode(relay_device_proof(device, &self.proof_data(cert, relay_peer_id)))
    }

    /// A login presenting `cert` (a device of this account, new or
    /// renewed), with `device`'s proof.
    pub fn cert_login_body(
        &self,
        relay_peer_id: &str,
        device: &DeviceKeys,
        cert: &DeviceCertificate,
    ) -> Value {
        json!({
            "username": self.username,
            "password": self.password,
            "device_certificate": B64.encode(cert.encoded()),
            "device_signature": self.device_proof(device, cert, relay_peer_id),
        })
    }

    /// A login of this device by its PeerId, with its proof.
    pub fn login_body(&self, relay_peer_id: &str) -> Value {
        json!({
            "username": self.username,
            "password": self.password,
            "device_peer_id": self.peer_id(),
            "device_signature": self.device_proof(&self.device, &self.cert, relay_peer_id),
        })
    }

    pub fn seal_to(&self, to: &User, payload: &[u8]) -> Vec<u8> {
        let sender = Sender { keys: &self.device, certificate: &self.cert };
        envelope::seal(
            &mut OsRng,
            &sender,
            &to.device.public().envelope,
            PayloadKind::MlsMessage,
            payload,
            1,
        )
        .unwrap()
        .bytes
    }

    pub fn open(&self, b64: &str) -> Vec<u8> {
        let bytes = B64.decode(b64).unwrap();
        envelope::open(&self.device.envelope, &bytes, now_secs()).unwrap().payload
    }

    /// A KeyPackage of this device as kovan makes it (SPEC.md §2.6),
    /// encoded as an MLSMessage.
    pub fn key_package(&self) -> String {
        self.key_package_from(KeyPackage::builder().leaf_node_capabilities(kovan_capabilities()))
    }

    /// A last-resort KeyPackage of this device.
    pub fn last_resort_key_package(&self) -> String {
        self.key_package_from(
            KeyPackage::builder()
                .leaf_node_capabilities(kovan_capabilities())
                .mark_as_last_resort(),
        )
    }

    /// A KeyPackage of this device from `builder` (to break the rules).
    pub fn key_package_from(&self, builder: KeyPackageBuilder) -> String {
        let provider: KovanProvider<openmls_memory_storage::MemoryStorage> =
            KovanProvider::default();
        let signer = MlsSigner::new(self.device.mls.clone());
        let kp = builder
            .build(CIPHERSUITE, &provider, &signer, credential_with_key(&self.cert))
            .unwrap()
            .key_package()
            .clone();
        B64.encode(MlsMessageOut::from(kp).tls_serialize_detached().unwrap())
    }
}

/// What every kovan leaf declares (SPEC.md §2.6).
pub fn kovan_capabilities() -> Capabilities {
    Capabilities::builder()
        .extensions(vec![
            ExtensionType::LastResort,
            ExtensionType::Unknown(kovan_crypto::mls::META_EXTENSION),
        ])
        .build()
}

/// Waits until `f` is true (polling), or panics after [`WAIT`].
pub async fn eventually<F: FnMut() -> bool>(what: &str, mut f: F) {
    let start = std::time::Instant::now();
    while !f() {
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
