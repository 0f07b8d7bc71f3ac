//! Passwords and session tokens.
//!
//! - Passwords: Argon2id with OWASP's recommended minimum (m = 19 MiB, t = 2,
//!   p = 1), PHC strings. Hashing runs on the blocking pool behind a
//!   semaphore so that a login flood cannot take more than
//!   `MAX_CONCURRENT_HASHES × 19 MiB` of memory.
//! - Unknown users are verified against a dummy hash made at start, so a
//!   login for a missing account costs the same time as a wrong password.
//! - Tokens: 32 random bytes, base64url; the relay stores only SHA-256 of a
//!   token, so a database leak yields no usable token.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::error::ApiError;

/// OWASP Password Storage Cheat Sheet: Argon2id, 19 MiB, 2 iterations, 1 lane.
pub const PASSWORD_PARAMS: (u32, u32, u32) = (19 * 1024, 2, 1);
/// Password length bounds (bytes): long enough to matter, short enough that
/// hashing cost does not depend on attacker-chosen megabytes.
pub const PASSWORD_MIN: usize = 8;
/// Upper bound on password length.
pub const PASSWORD_MAX: usize = 1024;

/// Hashes and verifies passwords off the async threads, bounded.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    dummy: Arc<String>,
}

fn argon() -> Argon2<'static> {
    let (m, t, p) = PASSWORD_PARAMS;
    // Constant, valid parameters.
    let params = Params::new(m, t, p, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &[u8]) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    argon().hash_password(password, &salt).map(|h| h.to_string()).map_err(ApiError::internal)
}

impl Passwords {
    /// Makes the dummy hash; `max_concurrent` bounds simultaneous hashes.
    pub fn new(max_concurrent: usize) -> Result<Self, ApiError> {
        let dummy = hash_blocking(b"kovan dummy password for unknown users")?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            dummy: Arc::new(dummy),
        })
    }

    /// Checks the length rules.
    pub fn check_policy(password: &str) -> Result<(), ApiError> {
        if password.len() < PASSWORD_MIN || password.len() > PASSWORD_MAX {
            return Err(ApiError::bad_request(
                "weak_password",
                format!("passwords are {PASSWORD_MIN} to {PASSWORD_MAX} bytes long"),
            ));
        }
        Ok(())
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: &str) -> Result<String, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        let pw = Zeroizing::new(password.as_bytes().to_vec());
        tokio::task::spawn_blocking(move || hash_blocking(&pw)).await.map_err(ApiError::internal)?
    }

    /// Verifies `password` against `hash`, or against the dummy hash when
    /// there is no account (the result is then always false).
    pub async fn verify(&self, password: &str, hash: Option<String>) -> Result<bool, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        let exists = hash.is_some();
        let hash = hash.unwrap_or_else(|| (*self.dummy).clone());
        let pw = Zeroizing::new(password.as_bytes().to_vec());
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|h| argon().verify_password(&pw, &h).is_ok())
                .unwrap_or(false)
        })
        .await
        .map_err(ApiError::internal)?;
        Ok(ok && exists)
    }
}

/// A new session token and the hash to store.
pub fn new_token() -> (String, [u8; 32]) {
    let mut raw = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(raw.as_mut());
    let token = URL_SAFE_NO_PAD.encode(raw.as_ref());
    let hash = token_hash(&token);
    (token, hash)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A random public id (hex of 16 bytes), for sessions.
pub fn random_id() -> String {
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Username rule: 3–32 characters of `[a-z0-9_.]`, compared lower-case.
pub fn normalize_username(name: &str) -> Result<String, ApiError> {
    let lower = name.to_ascii_lowercase();
    let ok = (3..=32).contains(&lower.len())
        && lower
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
    if !ok {
        return Err(ApiError::bad_request(
            "invalid_username",
            "usernames are 3 to 32 characters of a-z, 0-9, '_' and '.'",
        ));
    }
    Ok(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(normalize_username("Alice.B_1").unwrap(), "alice.b_1");
        for bad in ["ab", "a b c", "ali-ce", "é·abc", &"x".repeat(33)] {
            assert!(normalize_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a), ha);
    }
}
