//! The relay's HTTP API (SPEC.md §9 and `relay-openapi.json`): what a
//! client needs to register, publish KeyPackages, find people and use
//! mailboxes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use crate::identity::{self, Device};
use crate::{Error, Result};

/// A relay, and this device's session on it.
#[derive(Debug, Clone)]
pub struct Relay {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Relay {
    /// A relay at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> Self {
        Self { http: reqwest::Client::new(), base: base.trim_end_matches('/').into(), token: None }
    }

    async fn call(&self, req: reqwest::RequestBuilder) -> Result<Value> {
        let req = match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let resp = req.send().await?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(Error(format!("relay: {status} {body}")));
        }
        Ok(body)
    }

    /// `GET /v1/info`.
    pub async fn info(&self) -> Result<Value> {
        self.call(self.http.get(format!("{}/v1/info", self.base))).await
    }

    /// §9.2: registers `username` for `device`'s account and keeps the
    /// session.
    pub async fn register(&mut self, device: &Device, username: &str) -> Result<()> {
        let relay_peer = self.info().await?["peer_id"].as_str().unwrap_or_default().to_owned();
        let name = username.to_ascii_lowercase();
        let data = device.registration_data(&name, &relay_peer);
        let sig = identity::sign(&device.account, identity::ACCOUNT_REGISTRATION, &data);
        // §9.2: the device proves its p2p key over the same bytes.
        let device_sig = identity::sign(&device.p2p, identity::RELAY_DEVICE, &data);
        let body = json!({
            "username": name,
            "password": "conformance password",
            "account_key": B64.encode(device.cert.account()),
            "device_certificate": B64.encode(&device.cert.bytes),
            "signature": B64.encode(sig),
            "device_signature": B64.encode(device_sig),
            "user_agent": "kovan-conformance",
        });
        let v = self.call(self.http.post(format!("{}/v1/accounts", self.base)).json(&body)).await?;
        self.token = v["token"].as_str().map(str::to_owned);
        self.token.as_ref().map(|_| ()).ok_or_else(|| Error("no session token".into()))
    }

    /// §9.4: uploads KeyPackages (MLSMessage bytes) and the last-resort
    /// one; returns the relay's count.
    pub async fn upload_key_packages(&self, kps: &[Vec<u8>], last_resort: &[u8]) -> Result<Value> {
        let body = json!({
            "key_packages": kps.iter().map(|k| B64.encode(k)).collect::<Vec<_>>(),
            "last_resort": B64.encode(last_resort),
        });
        self.call(self.http.post(format!("{}/v1/keypackages", self.base)).json(&body)).await
    }

    /// The directory profile of `username`.
    pub async fn user(&self, username: &str) -> Result<Value> {
        self.call(self.http.get(format!("{}/v1/users/{username}", self.base))).await
    }

    /// The certificate of `username`'s first device.
    pub async fn device_of(&self, username: &str, now: u64) -> Result<identity::Certificate> {
        let profile = self.user(username).await?;
        let b64 = profile["devices"][0]["certificate"].as_str().unwrap_or_default();
        identity::verify_certificate(&B64.decode(b64)?, now)
    }

    /// §9.5: puts a sealed envelope into the mailbox of `peer_id`.
    pub async fn put(&self, peer_id: &str, envelope: Vec<u8>) -> Result<()> {
        let req = self
            .http
            .post(format!("{}/v1/mailbox/{peer_id}", self.base))
            .header("content-type", "application/octet-stream")
            .body(envelope);
        let resp = req.send().await?;
        if !resp.status().is_success() {
            return Err(Error(format!("mailbox put: {}", resp.status())));
        }
        Ok(())
    }

    /// §9.5: this device's mailbox items after `after`: (seq, envelope).
    pub async fn fetch(&self, after: i64) -> Result<Vec<(i64, Vec<u8>)>> {
        let v = self.call(self.http.get(format!("{}/v1/mailbox?after={after}", self.base))).await?;
        let mut out = Vec::new();
        for item in v["items"].as_array().into_iter().flatten() {
            let seq = item["seq"].as_i64().ok_or("item without seq")?;
            out.push((seq, B64.decode(item["envelope"].as_str().unwrap_or_default())?));
        }
        Ok(out)
    }

    /// §9.5: deletes items.
    pub async fn ack(&self, seqs: &[i64]) -> Result<()> {
        let body = json!({ "seqs": seqs });
        self.call(self.http.post(format!("{}/v1/mailbox/ack", self.base)).json(&body)).await?;
        Ok(())
    }
}
