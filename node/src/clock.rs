//! The clock that decides when scheduled work is due (scheduled messages,
//! the end of a live location). The system clock in use; a manual one in
//! tests, so "due while the node was off" or "expired overnight" is tested
//! by moving time, not by sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

/// Milliseconds since the Unix epoch by the system clock.
pub fn system_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Which clock a node's scheduler follows.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// A clock that moves only when told (tests).
    Manual(ManualClock),
}

impl Clock {
    /// Now, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::System => system_now_ms(),
            Clock::Manual(m) => m.now_ms(),
        }
    }

    /// For a manual clock: a receiver that changes whenever it is moved.
    pub fn changes(&self) -> Option<watch::Receiver<i64>> {
        match self {
            Clock::System => None,
            Clock::Manual(m) => Some(m.tx.subscribe()),
        }
    }
}

/// A clock that reads what it was last set to. Clones share the time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<AtomicI64>,
    tx: Arc<watch::Sender<i64>>,
}

impl ManualClock {
    /// A clock reading `now_ms`.
    pub fn new(now_ms: i64) -> Self {
        let (tx, _) = watch::channel(now_ms);
        Self { now: Arc::new(AtomicI64::new(now_ms)), tx: Arc::new(tx) }
    }

    /// The time it reads.
    pub fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }

    /// Moves it to `now_ms` (also backwards).
    pub fn set(&self, now_ms: i64) {
        self.now.store(now_ms, Ordering::SeqCst);
        self.tx.send_replace(now_ms);
    }

    /// Moves it forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.set(self.now_ms().saturating_add(by.as_millis() as i64));
    }
}
