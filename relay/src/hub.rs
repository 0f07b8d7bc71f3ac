//! In-memory fan-out from API handlers to open WebSockets.
//!
//! Each WebSocket registers a [`Subscription`]: a `Notify` that
//! wakes it to read its mailbox from the database (so a wake carries no
//! data and cannot grow memory: many puts collapse into one pending wake)
//! and a small bounded queue of control messages: events for the account
//! ([`Event`]: a new login, settings changed, the account deleted), key
//! packages running low, and orders to close (a revoked or expired session,
//! a socket replaced by a newer one of the same session).
//!
//! Events are not stored: a socket that is not open when one happens does
//! not get it (a client reads the current state when it reconnects).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, mpsc};

/// An event pushed to the sockets it concerns, as the `event` frame of
/// SPEC.md §9.6: `{"type":"event","topic":T,"kind":K,"at":MS,"data":{…}}`.
/// The shape is the same for every topic: `account` now, broadcasts and
/// communities later (with their own topic); clients skip topics and kinds
/// they do not know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// What it is about: `account`.
    pub topic: String,
    /// What happened, within the topic (`new_login`, `settings_changed`,
    /// `deleted`).
    pub kind: String,
    /// When, Unix ms.
    pub at: i64,
    /// The details, an object whose fields depend on the kind.
    pub data: serde_json::Value,
}

impl Event {
    /// An event of the `account` topic.
    pub fn account(kind: &str, data: serde_json::Value) -> Self {
        Self { topic: "account".into(), kind: kind.into(), at: crate::state::now_ms(), data }
    }
    /// An event of the `community` topic (`reply`, `mention`, `admitted`,
    /// `invited`; SPEC.md §9.10.4).
    pub fn community(kind: &str, data: serde_json::Value) -> Self {
        Self { topic: "community".into(), kind: kind.into(), at: crate::state::now_ms(), data }
    }
}

/// Control messages for one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// The session was revoked or expired: close now.
    Revoked,
    /// A newer socket of the same session took this one's place: close.
    Replaced,
    /// The device's ordinary key packages ran out; upload more.
    KeyPackagesLow {
        /// Ordinary packages left.
        remaining: i64,
    },
    /// An event for the account.
    Event(Arc<Event>),
    /// The account was deleted: send the event, then close.
    AccountDeleted(Arc<Event>),
}

/// Queue depth for control messages: they are rare; one that finds the
/// queue full is dropped (a client learns the state when it reconnects).
pub const CONTROL_QUEUE: usize = 8;

/// What a WebSocket task holds.
#[derive(Debug)]
pub struct Subscription {
    /// Connection id.
    pub id: u64,
    /// Woken when the mailbox may have new items.
    pub wake: Arc<Notify>,
    /// Control messages.
    pub control: mpsc::Receiver<Control>,
}

#[derive(Debug)]
struct Entry {
    id: u64,
    account: i64,
    device: String,
    session: String,
    wake: Arc<Notify>,
    control: mpsc::Sender<Control>,
}

/// The hub.
#[derive(Debug, Default)]
pub struct Hub {
    next: AtomicU64,
    conns: Mutex<HashMap<u64, Entry>>,
}

impl Hub {
    fn conns(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a connection of `session` (of `account`) for `device`. If
    /// the session then has more than `per_session` connections, the
    /// oldest ones are told to close ([`Control::Replaced`]).
    pub fn subscribe(
        &self,
        account: i64,
        device: &str,
        session: &str,
        per_session: usize,
    ) -> Subscription {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let wake = Arc::new(Notify::new());
        let (tx, rx) = mpsc::channel(CONTROL_QUEUE);
        let mut conns = self.conns();
        conns.insert(
            id,
            Entry {
                id,
                account,
                device: device.to_owned(),
                session: session.to_owned(),
                wake: wake.clone(),
                control: tx,
            },
        );
        let mut same: Vec<&Entry> = conns.values().filter(|e| e.session == session).collect();
        if same.len() > per_session {
            same.sort_by_key(|e| e.id);
            for e in &same[..same.len() - per_session] {
                // A full queue means the task is closing or stuck; it is
                // cut off by its send timeout then.
                let _ = e.control.try_send(Control::Replaced);
            }
        }
        Subscription { id, wake, control: rx }
    }

    /// Removes a connection.
    pub fn unsubscribe(&self, id: u64) {
        self.conns().remove(&id);
    }

    /// Number of open connections.
    pub fn len(&self) -> usize {
        self.conns().len()
    }

    /// Whether there are no connections.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Wakes the connections of a device.
    pub fn mailbox_changed(&self, device: &str) {
        for e in self.conns().values().filter(|e| e.device == device) {
            e.wake.notify_one();
        }
    }

    fn send(&self, pred: impl Fn(&Entry) -> bool, msg: Control) {
        for e in self.conns().values().filter(|e| pred(e)) {
            if e.control.try_send(msg.clone()).is_err() {
                tracing::debug!(conn = e.id, "control queue full");
            }
        }
    }

    /// Tells a device its key packages ran low.
    pub fn key_packages_low(&self, device: &str, remaining: i64) {
        self.send(|e| e.device == device, Control::KeyPackagesLow { remaining });
    }

    /// Closes the connections of these sessions.
    pub fn revoke_sessions(&self, sessions: &[String]) {
        self.send(|e| sessions.contains(&e.session), Control::Revoked);
    }

    /// Sends `event` to the account's connections, except those of the
    /// session that caused it.
    pub fn account_event(&self, account: i64, except_session: Option<&str>, event: Event) {
        let event = Arc::new(event);
        self.send(
            |e| e.account == account && Some(e.session.as_str()) != except_session,
            Control::Event(event.clone()),
        );
    }

    /// Tells every connection of a deleted account, which then close.
    pub fn account_deleted(&self, account: i64) {
        let event = Arc::new(Event::account("deleted", serde_json::json!({})));
        self.send(|e| e.account == account, Control::AccountDeleted(event.clone()));
    }
}
