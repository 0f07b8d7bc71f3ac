//! File encryption (SPEC.md §7.7).
//!
//! Every file gets a fresh random 32-byte key. Its plaintext is cut into
//! chunks of [`CHUNK_SIZE`] bytes (the last one may be shorter, and an empty
//! file is one empty chunk), and each chunk is sealed on its own with
//! ChaCha20-Poly1305 under the nonce `u64be(index) ‖ u8(final) ‖ 0x000000`
//! and the associated data [`CHUNK_AD`]. The index in the nonce detects
//! reordering; the final flag detects truncation (no chunk flagged final)
//! and extension (anything after it). The ciphertext of chunk `i` starts at
//! byte `i × (CHUNK_SIZE + 16)`, so a transfer resumes at any chunk
//! boundary. The key and the plaintext's SHA-256 travel inside the MLS
//! message that announces the file; the relay and the network see only the
//! ciphertext and its length.
//!
//! [`ChunkSealer`] and [`ChunkOpener`] are the streaming state machines: they
//! hold at most one chunk, so memory stays flat whatever the file size.

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use crate::ErrorKind;

/// Plaintext bytes per chunk.
pub const CHUNK_SIZE: usize = 64 * 1024;
/// Authentication tag per chunk.
pub const TAG_LEN: usize = 16;
/// Ciphertext bytes per full chunk.
pub const SEALED_CHUNK: usize = CHUNK_SIZE + TAG_LEN;
/// Associated data of every chunk: a file chunk never opens as anything else.
pub const CHUNK_AD: &[u8] = b"kovan/v1/file-chunk";

/// A file's key. Zeroized on drop; never printed.
#[derive(Clone)]
pub struct FileKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileKey(..)")
    }
}

impl FileKey {
    /// A fresh random key: one per file, never reused.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(k.as_mut());
        Self(k)
    }
    /// From the 32 bytes carried in a file message.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, FileError> {
        let k: [u8; 32] = bytes.try_into().map_err(|_| FileError::BadKey)?;
        Ok(Self(Zeroizing::new(k)))
    }
    /// The key's bytes, to put in the file message.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(self.0.as_ref()))
    }
}

/// Why a file failed to decrypt.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileError {
    /// The key is not 32 bytes.
    #[error("the file key is not 32 bytes")]
    BadKey,
    /// A chunk failed authentication: altered, reordered, or the key is wrong.
    #[error("chunk {0} failed authentication (altered, reordered, or the wrong key)")]
    Tampered(u64),
    /// The ciphertext ended before the final chunk.
    #[error("the file is truncated: it ended before its final chunk")]
    Truncated,
    /// Bytes follow the final chunk.
    #[error("the file is longer than announced: data follows its final chunk")]
    Extended,
    /// The decrypted content does not have the announced SHA-256.
    #[error("the file's content does not match the announced hash")]
    HashMismatch,
    /// A resume offset that is not a chunk boundary of this file.
    #[error("offset {0} is not a chunk boundary of this file")]
    BadOffset(u64),
}

impl FileError {
    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            FileError::BadKey | FileError::BadOffset(_) => ErrorKind::InvalidInput,
            _ => ErrorKind::Untrusted,
        }
    }
}

/// How many chunks a file of `size` bytes has (an empty file has one).
pub fn chunk_count(size: u64) -> u64 {
    size.div_ceil(CHUNK_SIZE as u64).max(1)
}

/// The ciphertext length of a file of `size` plaintext bytes.
pub fn sealed_len(size: u64) -> u64 {
    size.saturating_add(chunk_count(size).saturating_mul(TAG_LEN as u64))
}

/// Where chunk `index` starts in the ciphertext.
pub fn sealed_offset(index: u64) -> u64 {
    index.saturating_mul(SEALED_CHUNK as u64)
}

fn nonce(index: u64, last: bool) -> Nonce {
    let mut n = [0u8; 12];
    n[..8].copy_from_slice(&index.to_be_bytes());
    n[8] = u8::from(last);
    Nonce::from(n)
}

/// Seals chunk `index` of a file in place (`buf` holds the plaintext and
/// gets the tag appended).
pub fn seal_chunk(key: &FileKey, index: u64, last: bool, buf: &mut Vec<u8>) {
    // Encryption into a Vec cannot fail for chunk-sized inputs.
    let _ = key.cipher().encrypt_in_place(&nonce(index, last), CHUNK_AD, buf);
}

/// Opens chunk `index` in place (`buf` holds the ciphertext with its tag and
/// keeps the plaintext).
pub fn open_chunk(
    key: &FileKey,
    index: u64,
    last: bool,
    buf: &mut Vec<u8>,
) -> Result<(), FileError> {
    key.cipher()
        .decrypt_in_place(&nonce(index, last), CHUNK_AD, buf)
        .map_err(|_| FileError::Tampered(index))
}

/// Encrypts a file of known size chunk by chunk.
#[derive(Debug)]
pub struct ChunkSealer {
    key: FileKey,
    size: u64,
    next: u64,
}

impl ChunkSealer {
    /// A sealer for a file of `size` plaintext bytes.
    pub fn new(key: FileKey, size: u64) -> Self {
        Self { key, size, next: 0 }
    }
    /// The plaintext length chunk `next` must have.
    pub fn next_len(&self) -> Option<usize> {
        let count = chunk_count(self.size);
        if self.next >= count {
            return None;
        }
        let start = self.next * CHUNK_SIZE as u64;
        Some((self.size - start).min(CHUNK_SIZE as u64) as usize)
    }
    /// Seals the next chunk in place; `buf` must be exactly [`Self::next_len`]
    /// bytes. Returns whether it was the final chunk.
    pub fn seal_next(&mut self, buf: &mut Vec<u8>) -> Result<bool, FileError> {
        match self.next_len() {
            Some(n) if n == buf.len() => {}
            _ => return Err(FileError::Extended),
        }
        let last = self.next + 1 == chunk_count(self.size);
        seal_chunk(&self.key, self.next, last, buf);
        self.next += 1;
        Ok(last)
    }
}

/// Decrypts a file's ciphertext as it arrives, from any chunk boundary.
/// Feed it bytes with [`Self::push`]; it returns plaintext chunk by chunk and
/// holds at most one chunk.
#[derive(Debug)]
pub struct ChunkOpener {
    key: FileKey,
    count: u64,
    size: u64,
    next: u64,
    buf: Vec<u8>,
}

impl ChunkOpener {
    /// An opener for a file of `size` plaintext bytes starting at ciphertext
    /// offset `offset` (a chunk boundary, or the end).
    pub fn new(key: FileKey, size: u64, offset: u64) -> Result<Self, FileError> {
        let count = chunk_count(size);
        if !offset.is_multiple_of(SEALED_CHUNK as u64) || offset / SEALED_CHUNK as u64 > count {
            return Err(FileError::BadOffset(offset));
        }
        Ok(Self {
            key,
            count,
            size,
            next: offset / SEALED_CHUNK as u64,
            buf: Vec::with_capacity(SEALED_CHUNK),
        })
    }

    /// Whether the final chunk has been opened.
    pub fn is_done(&self) -> bool {
        self.next >= self.count
    }

    /// The chunk to be opened next.
    pub fn next_chunk(&self) -> u64 {
        self.next
    }

    fn chunk_sealed_len(&self, index: u64) -> usize {
        let start = index * CHUNK_SIZE as u64;
        (self.size - start).min(CHUNK_SIZE as u64) as usize + TAG_LEN
    }

    /// Takes ciphertext bytes; calls `out` with each chunk's plaintext as
    /// soon as the chunk is complete and authentic.
    pub fn push(
        &mut self,
        mut data: &[u8],
        mut out: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<(), OpenError> {
        while !data.is_empty() {
            if self.is_done() {
                return Err(FileError::Extended.into());
            }
            let want = self.chunk_sealed_len(self.next);
            let take = (want - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() == want {
                let last = self.next + 1 == self.count;
                open_chunk(&self.key, self.next, last, &mut self.buf)?;
                out(&self.buf)?;
                self.buf.clear();
                self.next += 1;
            }
        }
        Ok(())
    }

    /// Ends the stream: an error unless the final chunk was opened.
    pub fn finish(&self) -> Result<(), FileError> {
        if self.is_done() { Ok(()) } else { Err(FileError::Truncated) }
    }
}

/// A decryption failure or a failure of the sink the plaintext goes to.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The ciphertext is bad.
    #[error(transparent)]
    File(#[from] FileError),
    /// Writing the plaintext failed.
    #[error("writing the file failed: {0}")]
    Io(#[from] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn seal_all(key: &FileKey, plain: &[u8]) -> Vec<u8> {
        let mut s = ChunkSealer::new(key.clone(), plain.len() as u64);
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(n) = s.next_len() {
            let mut buf = plain[at..at + n].to_vec();
            s.seal_next(&mut buf).unwrap();
            out.extend_from_slice(&buf);
            at += n;
        }
        out
    }

    fn open_all(key: &FileKey, size: u64, ct: &[u8], step: usize) -> Result<Vec<u8>, FileError> {
        let mut o = ChunkOpener::new(key.clone(), size, 0)?;
        let mut plain = Vec::new();
        for part in ct.chunks(step.max(1)) {
            o.push(part, |p| {
                plain.extend_from_slice(p);
                Ok(())
            })
            .map_err(|e| match e {
                OpenError::File(f) => f,
                OpenError::Io(_) => unreachable!(),
            })?;
        }
        o.finish()?;
        Ok(plain)
    }

    fn sample(len: usize) -> (FileKey, Vec<u8>) {
        let mut rng = ChaCha20Rng::seed_from_u64(len as u64);
        let key = FileKey::generate(&mut rng);
        let plain: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        (key, plain)
    }

    #[test]
    fn round_trips_at_every_interesting_size() {
        for len in [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 17] {
            let (key, plain) = sample(len);
            let ct = seal_all(&key, &plain);
            assert_eq!(ct.len() as u64, sealed_len(len as u64), "len {len}");
            for step in [1000, SEALED_CHUNK, ct.len()] {
                assert_eq!(open_all(&key, len as u64, &ct, step).unwrap(), plain, "len {len}");
            }
        }
    }

    #[test]
    fn a_flipped_bit_a_wrong_key_reordering_truncation_and_extension_are_refused() {
        let (key, plain) = sample(3 * CHUNK_SIZE + 5);
        let ct = seal_all(&key, &plain);
        let size = plain.len() as u64;

        let mut flipped = ct.clone();
        flipped[SEALED_CHUNK + 7] ^= 1;
        assert_eq!(open_all(&key, size, &flipped, 4096), Err(FileError::Tampered(1)));

        let other = FileKey::generate(&mut ChaCha20Rng::seed_from_u64(99));
        assert_eq!(open_all(&other, size, &ct, 4096), Err(FileError::Tampered(0)));

        let mut swapped = ct.clone();
        swapped[..SEALED_CHUNK].copy_from_slice(&ct[SEALED_CHUNK..2 * SEALED_CHUNK]);
        swapped[SEALED_CHUNK..2 * SEALED_CHUNK].copy_from_slice(&ct[..SEALED_CHUNK]);
        assert_eq!(open_all(&key, size, &swapped, 4096), Err(FileError::Tampered(0)));

        // The final chunk dropped: everything before it opens, then the end
        // is missing.
        let cut = &ct[..3 * SEALED_CHUNK];
        assert_eq!(open_all(&key, size, cut, 4096), Err(FileError::Truncated));
        // A full-length file whose last full chunk claims to be final does
        // not exist: dropping chunks and claiming a shorter size fails at
        // the chunk that is not flagged final.
        assert_eq!(open_all(&key, 3 * CHUNK_SIZE as u64, cut, 4096), Err(FileError::Tampered(2)));

        let mut longer = ct.clone();
        longer.extend_from_slice(&[0u8; 20]);
        assert_eq!(open_all(&key, size, &longer, 4096), Err(FileError::Extended));
    }

    #[test]
    fn decryption_resumes_at_a_chunk_boundary_only() {
        let (key, plain) = sample(2 * CHUNK_SIZE + 100);
        let ct = seal_all(&key, &plain);
        let size = plain.len() as u64;
        let mut o = ChunkOpener::new(key.clone(), size, SEALED_CHUNK as u64).unwrap();
        let mut rest = Vec::new();
        o.push(&ct[SEALED_CHUNK..], |p| {
            rest.extend_from_slice(p);
            Ok(())
        })
        .unwrap();
        o.finish().unwrap();
        assert_eq!(rest, plain[CHUNK_SIZE..]);
        assert_eq!(
            ChunkOpener::new(key.clone(), size, 100).unwrap_err(),
            FileError::BadOffset(100)
        );
        assert!(ChunkOpener::new(key, size, 4 * SEALED_CHUNK as u64).is_err());
    }
}
