//! Fixed-window rate limits keyed by IP address or account.
//!
//! Small on purpose: it must support *peeking* (is this account already
//! locked out?) separately from *recording* (a login failed), which token
//! bucket crates do not. Memory is bounded: at most [`MAX_KEYS`] keys are
//! tracked; past that, expired windows are dropped first and, if that is not
//! enough, the whole table is reset (failing open for a moment rather than
//! letting an attacker grow the relay's memory).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{ApiError, ApiResult};

/// Most keys one limiter tracks.
pub const MAX_KEYS: usize = 100_000;

/// A fixed-window limiter: at most `limit` events per `window` per key.
#[derive(Debug)]
pub struct Limiter<K> {
    limit: u32,
    window: Duration,
    table: Mutex<HashMap<K, (Instant, u32)>>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// A limiter of `limit` events per `window`.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self { limit, window, table: Mutex::new(HashMap::new()) }
    }

    fn with_table<R>(&self, f: impl FnOnce(&mut HashMap<K, (Instant, u32)>) -> R) -> R {
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut t)
    }

    /// Whether `key` has used up its window, without counting an event.
    pub fn is_limited(&self, key: &K) -> bool {
        let now = Instant::now();
        self.with_table(|t| {
            t.get(key).is_some_and(|(start, n)| {
                now.duration_since(*start) < self.window && *n >= self.limit
            })
        })
    }

    /// Counts an event; returns false if it is over the limit.
    pub fn check(&self, key: &K) -> bool {
        let now = Instant::now();
        let window = self.window;
        self.with_table(|t| {
            if t.len() >= MAX_KEYS && !t.contains_key(key) {
                t.retain(|_, (start, _)| now.duration_since(*start) < window);
                if t.len() >= MAX_KEYS {
                    t.clear();
                }
            }
            let e = t.entry(key.clone()).or_insert((now, 0));
            if now.duration_since(e.0) >= window {
                *e = (now, 0);
            }
            e.1 = e.1.saturating_add(1);
            e.1 <= self.limit
        })
    }

    /// Seconds until `key`'s window ends (at least 1): what `Retry-After`
    /// tells a caller that is over the limit.
    pub fn retry_after(&self, key: &K) -> u64 {
        let now = Instant::now();
        let left = self.with_table(|t| {
            t.get(key).map(|(start, _)| self.window.saturating_sub(now.duration_since(*start)))
        });
        left.unwrap_or(self.window).as_secs_f64().ceil().max(1.0) as u64
    }

    /// Counts an event, or refuses it with 429 and `Retry-After`.
    pub fn allow(&self, key: &K) -> ApiResult<()> {
        if self.check(key) { Ok(()) } else { Err(ApiError::rate_limited(self.retry_after(key))) }
    }

    /// Refuses with 429 if `key` has used up its window, without counting.
    pub fn refuse_if_limited(&self, key: &K) -> ApiResult<()> {
        if self.is_limited(key) {
            Err(ApiError::rate_limited(self.retry_after(key)))
        } else {
            Ok(())
        }
    }

    /// Forgets a key (e.g. after a successful login).
    pub fn reset(&self, key: &K) {
        self.with_table(|t| {
            t.remove(key);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_and_resets() {
        let l = Limiter::new(2, Duration::from_secs(60));
        assert!(l.check(&"a"));
        assert!(l.check(&"a"));
        assert!(l.is_limited(&"a"));
        assert!(!l.check(&"a"));
        assert!(l.check(&"b"));
        let wait = l.retry_after(&"a");
        assert!((59..=60).contains(&wait), "{wait}");
        assert_eq!(l.allow(&"a").unwrap_err().retry_after, Some(wait));
        l.reset(&"a");
        assert!(!l.is_limited(&"a"));
    }
}
