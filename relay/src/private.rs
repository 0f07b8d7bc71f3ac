//! The relay's data is private to the user it runs as (SPEC.md §4.6):
//! its data directory and blob directory are 0700, its SQLite database,
//! blobs and key 0600 — set when each is created, and anything looser
//! found at start is tightened.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode of the relay's directories.
pub const DIR_MODE: u32 = 0o700;
/// Mode of the relay's files.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) 0700, or makes an existing one so.
pub fn dir(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))
}

/// Options that create a file 0600.
pub fn file_options() -> std::fs::OpenOptions {
    let mut o = std::fs::OpenOptions::new();
    o.mode(FILE_MODE);
    o
}

/// The same for tokio (blob files).
pub fn file_options_async() -> tokio::fs::OpenOptions {
    let mut o = tokio::fs::OpenOptions::new();
    o.mode(FILE_MODE);
    o
}

/// For a `sqlite://PATH` database: creates its file 0600 before SQLite
/// does (its write-ahead log and shared memory take its mode).
pub fn database_file(url: &str) -> std::io::Result<()> {
    let Some(rest) = url.strip_prefix("sqlite://") else { return Ok(()) };
    let path = Path::new(rest.split('?').next().unwrap_or(rest));
    if path.as_os_str().is_empty() || rest.starts_with(":memory:") || path.exists() {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        dir(parent)?;
    }
    file_options().write(true).create_new(true).open(path).map(drop)
}

/// Removes group and other permissions from the entries of `dir` (not
/// its subdirectories' contents); returns how many changed.
pub fn tighten(dir: &Path) -> std::io::Result<usize> {
    let mut changed = 0;
    for entry in std::fs::read_dir(dir)?.flatten() {
        let Ok(meta) = std::fs::symlink_metadata(entry.path()) else { continue };
        let mode = meta.permissions().mode();
        if meta.file_type().is_symlink() || mode & 0o077 == 0 {
            continue;
        }
        std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode & !0o077))?;
        changed += 1;
    }
    Ok(changed)
}
