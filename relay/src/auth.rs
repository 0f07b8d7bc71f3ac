//! Passwords and session tokens.
//!
//! - Passwords: Argon2id with OWASP's recommended minimum (m = 19 MiB, t = 2,
//!   p = 1), PHC strings. Hashing runs on a few dedicated threads (not on
//!   tokio's blocking pool): a login flood then queues instead of taking
//!   `threads × 19 MiB` of memory, and the allocator keeps reusing the same
//!   few 19 MiB blocks instead of spreading them over hundreds of thread
//!   arenas (measured: 1.2 GiB resident after a login burst on the blocking
//!   pool).
//! - Unknown users are verified against a dummy hash made at start, so a
//!   login for a missing account costs the same time as a wrong password.
//! - Tokens: 32 random bytes, base64url; the relay stores only SHA-256 of a
//!   token, so a database leak yields no usable token.

use std::sync::Arc;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};
use zeroize::Zeroizing;

use crate::error::ApiError;

/// OWASP Password Storage Cheat Sheet: Argon2id, 19 MiB, 2 iterations, 1 lane.
pub const PASSWORD_PARAMS: (u32, u32, u32) = (19 * 1024, 2, 1);
/// Password length bounds (characters, as JSON Schema counts them): long
/// enough to matter, short enough (at most 4 KiB) that hashing cost does
/// not depend on attacker-chosen megabytes.
pub const PASSWORD_MIN: usize = 8;
/// Upper bound on password length.
pub const PASSWORD_MAX: usize = 1024;

type Job = Box<dyn FnOnce() + Send>;

/// Jobs waiting for a hashing thread; submitters wait (asynchronously) when
/// it is full.
pub const HASH_QUEUE: usize = 256;

/// Hashes and verifies passwords on dedicated threads, bounded.
#[derive(Clone)]
pub struct Passwords {
    jobs: mpsc::Sender<Job>,
    dummy: Arc<String>,
}

fn argon_with(params: Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn default_params() -> Params {
    let (m, t, p) = PASSWORD_PARAMS;
    // Constant, valid parameters.
    Params::new(m, t, p, Some(32)).unwrap_or_default()
}

std::thread_local! {
    /// The Argon2 working memory of a hashing thread, allocated once and
    /// reused (and wiped after every use).
    static MEMORY: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn hash_raw(params: &Params, password: &[u8], salt: &[u8], out: &mut [u8]) -> Result<(), ApiError> {
    MEMORY.with(|m| {
        let mut mem = m.borrow_mut();
        if mem.len() != params.block_count() {
            *mem = vec![Block::default(); params.block_count()];
        }
        let r = argon_with(params.clone()).hash_password_into_with_memory(
            password,
            salt,
            out,
            &mut mem[..],
        );
        mem.iter_mut().for_each(|b| *b = Block::default());
        r.map_err(ApiError::internal)
    })
}

fn hash_blocking(password: &[u8]) -> Result<String, ApiError> {
    let params = default_params();
    let mut raw_salt = [0u8; 16];
    OsRng.fill_bytes(&mut raw_salt);
    let salt = SaltString::encode_b64(&raw_salt).map_err(ApiError::internal)?;
    let mut out = Zeroizing::new([0u8; 32]);
    hash_raw(&params, password, &raw_salt, out.as_mut())?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(ApiError::internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(out.as_ref()).map_err(ApiError::internal)?),
    };
    Ok(phc.to_string())
}

fn verify_blocking(password: &[u8], phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else { return false };
    let (Ok(params), Some(salt), Some(expected)) = (Params::try_from(&hash), hash.salt, hash.hash)
    else {
        return false;
    };
    let mut raw_salt = [0u8; 64];
    let Ok(raw_salt) = salt.decode_b64(&mut raw_salt) else { return false };
    let mut out = Zeroizing::new(vec![0u8; expected.len()]);
    if hash_raw(&params, password, raw_salt, &mut out).is_err() {
        return false;
    }
    // `Output` compares in constant time.
    Output::new(&out).is_ok_and(|o| o == expected)
}

impl Passwords {
    /// Makes the dummy hash and starts `threads` hashing threads. They stop
    /// when the last `Passwords` clone is dropped.
    pub fn new(threads: usize) -> Result<Self, ApiError> {
        let dummy = hash_blocking(b"kovan dummy password for unknown users")?;
        let (tx, rx) = mpsc::channel::<Job>(HASH_QUEUE);
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("kovan-argon2-{i}"))
                .spawn(move || {
                    loop {
                        // Only one idle thread waits on the queue at a time;
                        // the others wait for the lock.
                        let job = match rx.lock() {
                            Ok(mut r) => r.blocking_recv(),
                            Err(_) => None,
                        };
                        match job {
                            Some(job) => job(),
                            None => break,
                        }
                    }
                })
                .map_err(ApiError::internal)?;
        }
        Ok(Self { jobs: tx, dummy: Arc::new(dummy) })
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        self.jobs.send(job).await.map_err(|_| ApiError::internal("hashing threads stopped"))?;
        rx.await.map_err(|_| ApiError::internal("hashing job lost"))
    }

    /// Checks the length rules.
    pub fn check_policy(password: &str) -> Result<(), ApiError> {
        let n = password.chars().count();
        if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&n) {
            return Err(ApiError::bad_request(
                "weak_password",
                format!("passwords are {PASSWORD_MIN} to {PASSWORD_MAX} characters long"),
            ));
        }
        Ok(())
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: &str) -> Result<String, ApiError> {
        let pw = Zeroizing::new(password.as_bytes().to_vec());
        self.run(move || hash_blocking(&pw)).await?
    }

    /// Verifies `password` against `hash`, or against the dummy hash when
    /// there is no account (the result is then always false).
    pub async fn verify(&self, password: &str, hash: Option<String>) -> Result<bool, ApiError> {
        let exists = hash.is_some();
        let hash = hash.unwrap_or_else(|| (*self.dummy).clone());
        let pw = Zeroizing::new(password.as_bytes().to_vec());
        let ok = self.run(move || verify_blocking(&pw, &hash)).await?;
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
    if !kovan_spec::validate::is_username(&lower) {
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
    fn password_hashes_are_phc_and_verify() {
        let h = hash_blocking(b"correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_blocking(b"correct horse", &h));
        assert!(!verify_blocking(b"correct horsf", &h));
        assert!(!verify_blocking(b"x", "not a hash"));
        // Interoperates with the argon2 crate's own PHC verification.
        use argon2::password_hash::PasswordVerifier;
        let parsed = PasswordHash::new(&h).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse", &parsed).is_ok());
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
