//! Test data: large files of pseudo-random bytes, written without holding
//! them in memory.

use std::io::Write as _;
use std::path::Path;

/// Writes `size` pseudo-random bytes (xorshift from `seed`) to `path`; if
/// `marker` is given it starts every MiB, so a test can look for plaintext.
pub fn pseudo_random_file(
    path: &Path,
    size: u64,
    seed: u64,
    marker: Option<&[u8]>,
) -> std::io::Result<()> {
    const MIB: usize = 1024 * 1024;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut x = seed | 1;
    let mut buf = vec![0u8; MIB];
    let mut left = size;
    while left > 0 {
        for b in buf.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b.copy_from_slice(&x.to_le_bytes()[..b.len()]);
        }
        if let Some(m) = marker {
            buf[..m.len()].copy_from_slice(m);
        }
        let n = left.min(MIB as u64) as usize;
        f.write_all(&buf[..n])?;
        left -= n as u64;
    }
    f.flush()
}
