//! In-memory fan-out from API handlers to open WebSockets.
//!
//! Each WebSocket registers a [`Connection`]: a `Notify` that wakes it to
//! read its mailbox from the database (so a wake carries no data and cannot
//! grow memory: many puts collapse into one pending wake) and a small
//! bounded queue of control events. Revoking a session closes its sockets.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, mpsc};

/// Control events for one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// The session was revoked or expired: close now.
    Revoked,
    /// The device's ordinary key packages ran out; upload more.
    KeyPackagesLow {
        /// Ordinary packages left.
        remaining: i64,
    },
}

/// Queue depth for control events: they are rare; a connection that lets
/// eight pile up is closed.
pub const CONTROL_QUEUE: usize = 8;

/// What a WebSocket task holds.
#[derive(Debug)]
pub struct Subscription {
    /// Connection id.
    pub id: u64,
    /// Woken when the mailbox may have new items.
    pub wake: Arc<Notify>,
    /// Control events.
    pub control: mpsc::Receiver<Control>,
}

#[derive(Debug)]
struct Entry {
    id: u64,
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

    /// Registers a connection of `session` for `device`.
    pub fn subscribe(&self, device: &str, session: &str) -> Subscription {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let wake = Arc::new(Notify::new());
        let (tx, rx) = mpsc::channel(CONTROL_QUEUE);
        self.conns().insert(
            id,
            Entry {
                id,
                device: device.to_owned(),
                session: session.to_owned(),
                wake: wake.clone(),
                control: tx,
            },
        );
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

    fn send(&self, pred: impl Fn(&Entry) -> bool, ev: Control) {
        for e in self.conns().values().filter(|e| pred(e)) {
            if e.control.try_send(ev.clone()).is_err() {
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

    /// Closes the connections of these devices (account deleted).
    pub fn revoke_devices(&self, devices: &[String]) {
        self.send(|e| devices.contains(&e.device), Control::Revoked);
    }
}
