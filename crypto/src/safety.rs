//! Safety numbers (SPEC.md §3).
//!
//! Two people verify each other by comparing one number, the same on both
//! devices: 60 digits in 12 groups of 5, made of each account's 30-digit
//! fingerprint with the smaller one first. A QR code carries the same
//! comparison in bytes.
//!
//! Fingerprint of an account key `K`:
//! `h0 = SHA-512("kovan/v1/safety-number" || K)`, then
//! `h(i+1) = SHA-512(h(i) || K)` for [`ITERATIONS`] rounds; the first 30 bytes
//! of the last hash, read as six 5-byte big-endian integers, each mod 100000,
//! give six groups of five digits. The iterations make finding a key with a
//! chosen fingerprint cost 2^112 hash calls times 5200 on average instead of
//! 2^112.

use sha2::{Digest, Sha512};

use crate::identity::AccountId;

/// Hash iterations per fingerprint (as in Signal's numeric fingerprints).
pub const ITERATIONS: usize = 5200;
/// Domain label of the fingerprint hash.
pub const LABEL: &[u8] = b"kovan/v1/safety-number";
/// Version byte of the QR form.
pub const QR_VERSION: u8 = 1;

/// The 30-byte fingerprint of one account key.
pub fn fingerprint(account: &AccountId) -> [u8; 30] {
    let key = account.as_bytes();
    let mut h = Sha512::new().chain_update(LABEL).chain_update(key).finalize();
    for _ in 0..ITERATIONS {
        h = Sha512::new().chain_update(h).chain_update(key).finalize();
    }
    let mut out = [0u8; 30];
    out.copy_from_slice(&h[..30]);
    out
}

/// 30 digits from a fingerprint.
pub fn fingerprint_digits(fp: &[u8; 30]) -> String {
    let mut s = String::with_capacity(30);
    for chunk in fp.chunks_exact(5) {
        let v = chunk.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)) % 100_000;
        s.push_str(&format!("{v:05}"));
    }
    s
}

/// The safety number shared by two accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyNumber {
    digits: String,
    qr: Vec<u8>,
}

impl SafetyNumber {
    /// Computes the number for `local` and `remote`; swapping them gives the
    /// same number.
    pub fn new(local: &AccountId, remote: &AccountId) -> Self {
        let a = fingerprint(local);
        let b = fingerprint(remote);
        let (lo, hi) =
            if fingerprint_digits(&a) <= fingerprint_digits(&b) { (a, b) } else { (b, a) };
        let digits = format!("{}{}", fingerprint_digits(&lo), fingerprint_digits(&hi));
        let mut qr = Vec::with_capacity(61);
        qr.push(QR_VERSION);
        qr.extend_from_slice(&lo);
        qr.extend_from_slice(&hi);
        Self { digits, qr }
    }
    /// The 60 digits, no separators.
    pub fn digits(&self) -> &str {
        &self.digits
    }
    /// The digits in 12 groups of five, as shown to people.
    pub fn display(&self) -> String {
        let groups: Vec<&str> = (0..12).map(|i| &self.digits[i * 5..i * 5 + 5]).collect();
        groups.join(" ")
    }
    /// The QR payload: version byte, then both fingerprints in the same
    /// order as the digits. 61 bytes.
    pub fn qr_bytes(&self) -> &[u8] {
        &self.qr
    }
    /// Whether a scanned QR payload matches this number (constant time).
    pub fn matches_qr(&self, scanned: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        scanned.len() == self.qr.len() && bool::from(self.qr.ct_eq(scanned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::AccountKey;

    #[test]
    fn both_sides_see_the_same_number() {
        let a = AccountKey::from_seed(&[1; 32]).id();
        let b = AccountKey::from_seed(&[2; 32]).id();
        let ab = SafetyNumber::new(&a, &b);
        let ba = SafetyNumber::new(&b, &a);
        assert_eq!(ab, ba);
        assert_eq!(ab.digits().len(), 60);
        assert!(ab.digits().bytes().all(|c| c.is_ascii_digit()));
        assert_eq!(ab.display().len(), 71);
        assert!(ab.matches_qr(ba.qr_bytes()));
    }

    #[test]
    fn a_different_key_gives_a_different_number() {
        let a = AccountKey::from_seed(&[1; 32]).id();
        let b = AccountKey::from_seed(&[2; 32]).id();
        let c = AccountKey::from_seed(&[3; 32]).id();
        let ab = SafetyNumber::new(&a, &b);
        let ac = SafetyNumber::new(&a, &c);
        assert_ne!(ab.digits(), ac.digits());
        assert!(!ab.matches_qr(ac.qr_bytes()));
        assert!(!ab.matches_qr(&ab.qr_bytes()[..60]));
    }
}
