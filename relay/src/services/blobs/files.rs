//! Where a blob's bytes live: one file per blob, named by its id, in
//! `<data_dir>/blobs/`.

use std::path::{Path, PathBuf};

/// Where a blob's bytes are.
pub fn path_of(dir: &Path, id: &str) -> PathBuf {
    dir.join(id)
}

/// Removes a blob's bytes (best effort: a missing file is fine).
pub async fn remove_bytes(dir: &Path, id: &str) {
    if valid_id(id) {
        let _ = tokio::fs::remove_file(path_of(dir, id)).await;
    }
}

/// Whether `id` is a blob id (32 lower-case hex digits).
pub fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
