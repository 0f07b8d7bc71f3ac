//! The relay session on the core thread: the session kept sealed in the
//! database per relay, the mailbox push stream and its cursor, batched
//! acks, KeyPackage top-ups; and the account operations a handle runs
//! against the relay (register, log in and out, settings, sessions,
//! password, avatar, deleting the account).

use std::time::Duration;

use kovan_spec::wire;
use libp2p::{Multiaddr, PeerId};
use rand_core::OsRng;
use tokio::sync::{oneshot, watch};
use zeroize::Zeroizing;

use super::{Core, Input, internal};
use crate::control::s;
use crate::node::views::Event;
use crate::node::{Job, NodeError, NodeHandle, NodeResult};
use crate::relay_client::{PushEvent, RelayClient, Session};
use serde_json::json;

/// KeyPackages kept on the relay.
pub(super) const KEY_PACKAGE_TARGET: usize = 20;

pub(super) struct RelayLink {
    pub(super) client: RelayClient,
    pub(super) session: Option<Session>,
    pub(super) username: Option<String>,
    pub(super) connected: bool,
    pub(super) stop: Option<watch::Sender<bool>>,
    /// The relay's libp2p address with its `/p2p/` (for circuit addresses).
    pub(super) circuit_base: Option<Multiaddr>,
    pub(super) acks: Vec<i64>,
    /// A mailbox item could not be stored (disk full, I/O error): the
    /// cursor stays before it and the stream restarts from there after
    /// `resync_wait`, doubling while it keeps failing.
    pub(super) hole: bool,
    pub(super) resync_wait: Duration,
}

/// First wait before fetching a mailbox item again that could not be stored.
const FIRST_RESYNC: Duration = Duration::from_secs(1);

/// Longest such wait.
const MAX_RESYNC: Duration = Duration::from_secs(60);

impl RelayLink {
    pub(super) fn new(client: RelayClient) -> Self {
        Self {
            client,
            session: None,
            username: None,
            connected: false,
            stop: None,
            circuit_base: None,
            acks: Vec::new(),
            hole: false,
            resync_wait: FIRST_RESYNC,
        }
    }
}

impl Core {
    /// The settings key of `key` for the relay in use: a session, a
    /// username and a mailbox cursor belong to one relay (another relay's
    /// sequence numbers start anew, so its cursor would skip mail).
    pub(super) fn relay_key(&self, key: &str) -> String {
        match &self.relay {
            Some(r) => format!("{key}@{}", r.client.base()),
            None => key.to_owned(),
        }
    }

    pub(super) fn load_session(&mut self) -> NodeResult<()> {
        if self.relay.is_none() {
            return Ok(());
        }
        // Databases from before keys were per relay: what they hold
        // belongs to the relay they run with.
        if self.db.setting("relay_session")?.is_some() || self.db.setting("relay_cursor")?.is_some()
        {
            let keys: Vec<(&str, String)> = ["relay_session", "relay_username", "relay_cursor"]
                .into_iter()
                .map(|k| (k, self.relay_key(k)))
                .collect();
            self.db.atomic(|| -> crate::Result<()> {
                for (old, new) in &keys {
                    if let Some(v) = self.db.setting(old)? {
                        self.db.set_setting(new, &v)?;
                        self.db.remove_setting(old)?;
                    }
                }
                Ok(())
            })?;
        }
        let (session_key, username_key) =
            (self.relay_key("relay_session"), self.relay_key("relay_username"));
        let Some(relay) = &mut self.relay else { return Ok(()) };
        let Some(sealed) = self.db.setting(&session_key)? else { return Ok(()) };
        let plain = self
            .field
            .open(b"settings/relay_session", &sealed)
            .map_err(|e| NodeError::Local(crate::Error::Invalid(e.to_string())))?;
        if let Ok(session) = serde_json::from_slice::<Session>(&plain) {
            relay.session = Some(session);
        }
        relay.username =
            self.db.setting(&username_key)?.map(|u| String::from_utf8_lossy(&u).into_owned());
        Ok(())
    }

    pub(super) fn start_relay(&mut self) {
        let cursor = self
            .db
            .setting(&self.relay_key("relay_cursor"))
            .ok()
            .flatten()
            .and_then(|v| v.try_into().ok())
            .map(i64::from_be_bytes)
            .unwrap_or(0);
        let Some(relay) = &mut self.relay else { return };
        // The relay's libp2p side: circuit reservation and DHT bootstrap.
        if relay.circuit_base.is_none() {
            let client = relay.client.clone();
            let net = self.net.clone();
            let input = self.input.clone();
            self.rt.spawn(async move {
                let Ok(info) = client.info().await else { return };
                let Some(peer) = info["peer_id"].as_str().and_then(|p| p.parse::<PeerId>().ok())
                else {
                    return;
                };
                let addrs: Vec<Multiaddr> = info["multiaddrs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a.as_str()?.parse().ok())
                    .collect();
                let Some(base) = addrs
                    .iter()
                    .find(|a| a.iter().any(|p| matches!(p, libp2p::multiaddr::Protocol::Tcp(_))))
                    .or(addrs.first())
                    .cloned()
                else {
                    return;
                };
                let _ = net.use_relay(peer, addrs).await;
                let base =
                    crate::net::without_p2p(&base).with(libp2p::multiaddr::Protocol::P2p(peer));
                let job: Job = Box::new(move |core: &mut Core| {
                    if let Some(r) = &mut core.relay {
                        r.circuit_base = Some(base);
                    }
                    core.pump();
                });
                let _ = input.send(Input::Job(job)).await;
            });
        }
        let Some(session) = relay.session.clone() else { return };
        if relay.stop.is_some() {
            return;
        }
        let (stop_tx, stop_rx) = watch::channel(false);
        relay.stop = Some(stop_tx);
        let mut events = relay.client.push(session.token.clone(), cursor, stop_rx);
        let input = self.input.clone();
        self.rt.spawn(async move {
            while let Some(ev) = events.recv().await {
                if input.send(Input::Push(ev)).await.is_err() {
                    break;
                }
            }
        });
        self.top_up_key_packages(None);
    }

    /// Restarts the mailbox stream from the stored cursor (after an item
    /// could not be stored).
    pub(super) fn resync_mailbox(&mut self) {
        let Some(r) = &mut self.relay else { return };
        if let Some(stop) = r.stop.take() {
            let _ = stop.send(true);
        }
        r.hole = false;
        self.flush_acks();
        self.start_relay();
    }

    pub(super) fn logged_in(&mut self, username: String, session: Session) -> NodeResult<()> {
        let plain = Zeroizing::new(serde_json::to_vec(&session).map_err(internal)?);
        let sealed = self.field.seal(&mut OsRng, b"settings/relay_session", &plain);
        self.db.set_setting(&self.relay_key("relay_session"), &sealed)?;
        self.db.set_setting(&self.relay_key("relay_username"), username.as_bytes())?;
        let Some(relay) = &mut self.relay else { return Err(NodeError::NoRelay) };
        if let Some(stop) = relay.stop.take() {
            let _ = stop.send(true);
        }
        relay.session = Some(session);
        relay.username = Some(username);
        self.start_relay();
        self.remember_relay();
        Ok(())
    }

    /// A relay this device signed in to becomes the home's relay: the
    /// next start uses it without `--relay` (its config file says so).
    fn remember_relay(&self) {
        let Some(url) = &self.options.relay_url else { return };
        let home = &self.options.home;
        match crate::config::NodeConfig::load(home) {
            Ok(c) if c.relay_url.as_deref() == Some(url.as_str()) => {}
            _ => {
                if let Err(e) = crate::config::NodeConfig::save_relay_url(home, Some(url)) {
                    tracing::warn!(error = %e, "could not remember the relay in kovan.toml");
                }
            }
        }
    }

    pub(super) fn logged_out(&mut self) -> NodeResult<()> {
        self.db.remove_setting(&self.relay_key("relay_session"))?;
        if let Some(relay) = &mut self.relay {
            relay.session = None;
            relay.connected = false;
            if let Some(stop) = relay.stop.take() {
                let _ = stop.send(true);
            }
        }
        Ok(())
    }

    pub(super) fn session_token(&mut self) -> NodeResult<Option<String>> {
        let relay = self.relay.as_ref().ok_or(NodeError::NoRelay)?;
        Ok(relay.session.as_ref().map(|s| s.token.clone()))
    }

    /// The relay client and the session's token, for a task that calls
    /// the relay; None without a session.
    fn session_client(&self) -> Option<(RelayClient, String)> {
        let relay = self.relay.as_ref()?;
        let session = relay.session.as_ref()?;
        Some((relay.client.clone(), session.token.clone()))
    }

    pub(super) fn top_up_key_packages(&mut self, remaining: Option<i64>) {
        let Some((client, token)) = self.session_client() else { return };
        let input = self.input.clone();
        // Ask the relay how many it has (unless it just said), then make
        // the missing ones here and upload them from a task.
        self.rt.spawn(async move {
            let (have, last_resort) = match remaining {
                Some(n) => (n, true),
                None => match client.key_package_count(&token).await {
                    Ok(v) => v,
                    Err(_) => return,
                },
            };
            let want = KEY_PACKAGE_TARGET.saturating_sub(have.max(0) as usize);
            if want == 0 && last_resort {
                return;
            }
            let (tx, rx) = oneshot::channel();
            let job: Job = Box::new(move |core: &mut Core| {
                let mut kps = Vec::new();
                for _ in 0..want {
                    if let Ok(k) = core.new_key_package(false) {
                        kps.push(k);
                    }
                }
                let lr = if last_resort { None } else { core.new_key_package(true).ok() };
                let _ = tx.send((kps, lr));
            });
            if input.send(Input::Job(job)).await.is_err() {
                return;
            }
            let Ok((kps, lr)) = rx.await else { return };
            if let Err(e) = client.upload_key_packages(&token, &kps, lr.as_deref()).await {
                tracing::warn!(error = %e, "uploading key packages failed");
            }
        });
    }

    pub(super) fn on_push(&mut self, ev: PushEvent) {
        match ev {
            PushEvent::Connected => {
                if let Some(r) = &mut self.relay {
                    r.connected = true;
                }
                self.emit(Event::RelayConnected);
                // Settings changed while the socket was down came with no
                // event: read them.
                self.refresh_settings();
            }
            PushEvent::Disconnected { retry_in } => {
                if let Some(r) = &mut self.relay {
                    r.connected = false;
                }
                self.emit(Event::RelayDisconnected { retry_in_ms: retry_in.as_millis() as u64 });
            }
            PushEvent::Item(item) => {
                // After a hole, later items wait for the stream to start
                // again from the hole: order is kept.
                if self.relay.as_ref().is_some_and(|r| r.hole) {
                    return;
                }
                let status = self.on_envelope(&item.envelope);
                let cursor_key = self.relay_key("relay_cursor");
                let Some(r) = &mut self.relay else { return };
                if status != wire::AckStatus::Retry {
                    r.acks.push(item.seq);
                    r.resync_wait = FIRST_RESYNC;
                    let _ = self.db.set_setting(&cursor_key, &item.seq.to_be_bytes());
                } else {
                    // Not stored: the relay keeps it (unacknowledged), but
                    // this stream has passed it. The cursor stays before it
                    // and the stream starts again from there.
                    r.hole = true;
                    let wait = r.resync_wait;
                    r.resync_wait = (wait * 2).min(MAX_RESYNC);
                    let input = self.input.clone();
                    self.spawn(async move {
                        tokio::time::sleep(wait).await;
                        let job: Job = Box::new(|core: &mut Core| core.resync_mailbox());
                        let _ = input.send(Input::Job(job)).await;
                    });
                }
            }
            PushEvent::KeyPackagesLow(n) => self.top_up_key_packages(Some(n)),
            PushEvent::NewLogin { session_id, device_peer_id, user_agent, new_device } => {
                self.emit(Event::AccountLogin {
                    session_id,
                    device_peer_id,
                    user_agent,
                    new_device,
                });
            }
            PushEvent::SettingsChanged(settings) => {
                if let Err(e) = self.apply_settings(&settings) {
                    tracing::warn!(error = %e, "applying the account's settings failed");
                }
                self.emit(Event::AccountSettingsChanged { settings });
            }
            PushEvent::AccountDeleted => {
                let _ = self.logged_out();
                self.emit(Event::AccountDeleted);
            }
            PushEvent::Community { kind, community, item, by } => {
                self.emit(Event::Community { kind, community, item, by });
            }
            PushEvent::SessionEnded => {
                let _ = self.logged_out();
                self.emit(Event::RelaySessionEnded);
            }
        }
    }

    /// Applies the account's settings that this node enforces itself: the
    /// friend-request policy and read receipts (SPEC.md §9.6, A5).
    pub(super) fn apply_settings(&mut self, settings: &serde_json::Value) -> NodeResult<()> {
        if let Some(policy) = settings["friend_policy"].as_str() {
            self.set_friend_policy(policy)?;
        }
        if let Some(on) = settings["read_receipts"].as_bool()
            && on != self.read_receipts
        {
            self.set_read_receipts(on)?;
        }
        Ok(())
    }

    /// Reads the account's settings from the relay and applies them.
    fn refresh_settings(&mut self) {
        let Some((client, token)) = self.session_client() else { return };
        let input = self.input.clone();
        self.rt.spawn(async move {
            let Ok(account) = client.account(&token).await else { return };
            let settings = account["settings"].clone();
            let job: Job = Box::new(move |core: &mut Core| {
                if let Err(e) = core.apply_settings(&settings) {
                    tracing::warn!(error = %e, "applying the account's settings failed");
                }
            });
            let _ = input.send(Input::Job(job)).await;
        });
    }

    pub(super) fn flush_acks(&mut self) {
        let Some(relay) = &mut self.relay else { return };
        if relay.acks.is_empty() {
            return;
        }
        let Some(session) = &relay.session else { return };
        let seqs = std::mem::take(&mut relay.acks);
        let client = relay.client.clone();
        let token = session.token.clone();
        // An ack that fails is harmless: the items come again and are
        // recognised by their envelope ids.
        self.rt.spawn(async move {
            for chunk in seqs.chunks(500) {
                if let Err(e) = client.ack(&token, chunk).await {
                    tracing::debug!(error = %e, "mailbox ack failed");
                }
            }
        });
    }
}

/// Account operations on the relay: register, log in and out, settings, sessions, password, avatar, deleting the account.
impl NodeHandle {
    pub(super) fn relay(&self) -> NodeResult<&RelayClient> {
        self.inner.relay.as_ref().ok_or(NodeError::NoRelay)
    }

    /// Registers `username` on the relay and logs this device in.
    pub async fn register(&self, username: &str, password: &str) -> NodeResult<()> {
        let session = self.relay()?.register(&self.inner.identity, username, password).await?;
        let name = username.to_ascii_lowercase();
        self.call(move |c| c.logged_in(name, session)).await?;
        self.cache_settings().await
    }

    /// Keeps the settings the node enforces itself (the friend-request
    /// policy) in its database.
    async fn cache_settings(&self) -> NodeResult<()> {
        let settings = self.settings().await?;
        let policy = settings["friend_policy"].as_str().unwrap_or("everyone").to_owned();
        self.call(move |c| c.set_friend_policy(&policy)).await
    }

    /// Logs this device in to the relay.
    pub async fn login(&self, username: &str, password: &str) -> NodeResult<()> {
        let session = self.relay()?.login(&self.inner.identity, username, password).await?;
        let name = username.to_ascii_lowercase();
        self.call(move |c| c.logged_in(name, session)).await?;
        self.cache_settings().await
    }

    /// Logs out: the relay revokes the session; the mailbox stops.
    pub async fn logout(&self) -> NodeResult<()> {
        let token = self.call(|c| c.session_token()).await?;
        if let Some(token) = token {
            // Forget locally even if the relay cannot be told.
            let res = self.relay()?.logout(&token).await;
            self.call(|c| c.logged_out()).await?;
            res?;
        }
        Ok(())
    }

    pub(super) async fn token(&self) -> NodeResult<String> {
        self.call(|c| c.session_token()).await?.ok_or(NodeError::NotLoggedIn)
    }

    /// The account's settings on the relay.
    pub async fn settings(&self) -> NodeResult<serde_json::Value> {
        let token = self.token().await?;
        Ok(self.relay()?.account(&token).await?["settings"].clone())
    }

    /// Changes some of the account's settings on the relay (fields of
    /// `patch` replace the current ones: `display_name`, `about`,
    /// `discoverable`, `friend_policy`, `read_receipts`). Read receipts
    /// also apply to this node at once.
    pub async fn update_settings(
        &self,
        patch: &serde_json::Value,
    ) -> NodeResult<serde_json::Value> {
        let token = self.token().await?;
        let relay = self.relay()?;
        let mut settings = relay.account(&token).await?["settings"].clone();
        let (Some(cur), Some(p)) = (settings.as_object_mut(), patch.as_object()) else {
            return Err(NodeError::Invalid("settings must be an object".into()));
        };
        for (k, v) in p {
            if !cur.contains_key(k) {
                return Err(NodeError::Invalid(format!(
                    "unknown setting {}",
                    crate::node::views::shown(k)
                )));
            }
            cur.insert(k.clone(), v.clone());
        }
        let new = relay.put_settings(&token, &settings).await?;
        if let Some(on) = new["read_receipts"].as_bool() {
            self.set_read_receipts(on).await?;
        }
        let policy = new["friend_policy"].as_str().unwrap_or("everyone").to_owned();
        self.call(move |c| c.set_friend_policy(&policy)).await?;
        Ok(new)
    }

    /// Deletes the account on the relay (its directory entry, devices,
    /// sessions, mailboxes) and logs out. Local history stays.
    pub async fn delete_account(&self, password: &str) -> NodeResult<()> {
        let token = self.token().await?;
        self.relay()?.delete_account(&token, password).await?;
        self.call(|c| c.logged_out()).await
    }

    /// The account's sessions on the relay (one per logged-in device or login).
    pub async fn sessions(&self) -> NodeResult<serde_json::Value> {
        let token = self.token().await?;
        Ok(self.relay()?.sessions(&token).await?)
    }

    /// Revokes a session by its id (see [`Self::sessions`]).
    pub async fn revoke_session(&self, id: &str) -> NodeResult<()> {
        let token = self.token().await?;
        Ok(self.relay()?.revoke_session(&token, id).await?)
    }

    /// Changes the relay password; the relay ends every other session.
    pub async fn change_password(&self, old: &str, new: &str) -> NodeResult<()> {
        let token = self.token().await?;
        Ok(self.relay()?.change_password(&token, old, new).await?)
    }

    /// Sets (or with `None` removes) the avatar shown in the directory.
    pub async fn set_avatar(&self, image: Option<Vec<u8>>) -> NodeResult<()> {
        let token = self.token().await?;
        Ok(self.relay()?.set_avatar(&token, image).await?)
    }

    /// A user's avatar from the relay directory (`None`: they have none).
    pub async fn avatar(&self, username: &str) -> NodeResult<Option<Vec<u8>>> {
        Ok(self.relay()?.avatar(username).await?)
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "register" => {
        node.register(s(p, "username")?, s(p, "password")?).await?;
        Ok(json!({"registered": s(p, "username")?}))
    }
    "login" => {
        node.login(s(p, "username")?, s(p, "password")?).await?;
        Ok(json!({"logged_in": s(p, "username")?}))
    }
    "logout" => {
        node.logout().await?;
        Ok(json!({"logged_out": true}))
    }
    "settings" => match p.get("set") {
        Some(patch) => node.update_settings(patch).await,
        None => node.settings().await,
    },
    "sessions" => node.sessions().await,
    "revoke_session" => {
        node.revoke_session(s(p, "id")?).await?;
        Ok(json!({"revoked": s(p, "id")?}))
    }
    "change_password" => {
        node.change_password(s(p, "old_password")?, s(p, "new_password")?).await?;
        Ok(json!({"changed": true}))
    }
    "avatar" => {
        let image = match p["image"].as_str() {
            Some(b64) => Some(
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64)
                    .map_err(|e| NodeError::Invalid(format!("image is not base64: {e}")))?,
            ),
            None => None,
        };
        let set = image.is_some();
        node.set_avatar(image).await?;
        Ok(json!({"avatar": set}))
    }
    "delete_account" => {
        node.delete_account(s(p, "password")?).await?;
        Ok(json!({"deleted": true}))
    }
});
