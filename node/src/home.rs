//! Where a node keeps its files.
//!
//! One directory per identity (its *home*): by default the XDG data
//! directory (`$XDG_DATA_HOME/kovan`, usually `~/.local/share/kovan`), or
//! `--home DIR` / `KOVAN_HOME`. Several homes can be used side by side (tests
//! run many nodes in one process, each in its own home).

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The keystore file inside a home.
pub const KEYSTORE_FILE: &str = "keystore.kovan";
/// The database file inside a home.
pub const DATABASE_FILE: &str = "node.sqlite3";
/// The configuration file inside a home.
pub const CONFIG_FILE: &str = "kovan.toml";

/// A node's home directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// A home at `root` (not created yet).
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The default home: the XDG data directory for kovan.
    pub fn default_location() -> Result<Self> {
        directories::ProjectDirs::from("", "", "kovan")
            .map(|d| Self::at(d.data_dir()))
            .ok_or_else(|| Error::Invalid("cannot find a home directory; pass --home".into()))
    }

    /// Creates the directory (mode 0700) if needed, and makes everything
    /// already in it private to its user (see [`make_private`]).
    pub fn ensure(&self) -> Result<()> {
        private_dir(&self.root)?;
        let fixed = make_private(&self.root)?;
        if fixed > 0 {
            tracing::warn!(
                entries = fixed,
                home = %self.root.display(),
                "files in the home were readable by other users; made them private"
            );
        }
        Ok(())
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// The keystore path.
    pub fn keystore(&self) -> PathBuf {
        self.root.join(KEYSTORE_FILE)
    }
    /// The database path.
    pub fn database(&self) -> PathBuf {
        self.root.join(DATABASE_FILE)
    }
    /// The config path.
    pub fn config(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }
}

/// Mode of every directory a node or relay writes: its user only.
pub const PRIVATE_DIR: u32 = 0o700;
/// Mode of every file a node or relay writes: its user only.
pub const PRIVATE_FILE: u32 = 0o600;

/// Creates `path` and its missing parents, each mode 0700.
pub fn private_dir(path: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR)
        .create(path)
        .map_err(Error::io(format!("creating {}", path.display())))?;
    // An existing directory keeps its mode through create: set it.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(PRIVATE_DIR))
        .map_err(Error::io(format!("securing {}", path.display())))
}

/// Options that create a file mode 0600 (an existing file keeps its mode).
pub fn private_file() -> std::fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.mode(PRIVATE_FILE);
    o
}

/// The same for tokio.
pub fn private_file_async() -> tokio::fs::OpenOptions {
    let mut o = tokio::fs::OpenOptions::new();
    o.mode(PRIVATE_FILE);
    o
}

/// Writes `bytes` to a new private file at `path` (replacing one there).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    private_file().write(true).create(true).truncate(true).open(path)?.write_all(bytes)
}

/// Makes every entry under `root` private to its user: directories 0700,
/// files 0600 (group and other bits removed, nothing else changed).
/// Returns how many entries had to change. Symbolic links are not followed.
pub fn make_private(root: &Path) -> Result<usize> {
    use std::os::unix::fs::PermissionsExt;
    let mut fixed = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(format!("reading {}", dir.display()))(e)),
        };
        for entry in entries.flatten() {
            let Ok(meta) = std::fs::symlink_metadata(entry.path()) else { continue };
            if meta.file_type().is_symlink() {
                continue;
            }
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                let private = mode & !0o077;
                std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(private))
                    .map_err(Error::io(format!("securing {}", entry.path().display())))?;
                fixed += 1;
            }
            if meta.is_dir() {
                stack.push(entry.path());
            }
        }
    }
    Ok(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_home_left_readable_by_others_is_made_private_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path().join("home"));
        home.ensure().unwrap();
        let files = home.root().join("files").join("in");
        std::fs::create_dir_all(&files).unwrap();
        std::fs::set_permissions(&files, std::fs::Permissions::from_mode(0o755)).unwrap();
        let db = home.database();
        std::fs::write(&db, b"x").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(home.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
        home.ensure().unwrap();
        assert_eq!(mode(home.root()), 0o700);
        assert_eq!(mode(&files), 0o700);
        assert_eq!(mode(&home.root().join("files")), 0o700);
        assert_eq!(mode(&db), 0o600);
        // New files are private from the start.
        let new = home.root().join("new");
        write_private(&new, b"y").unwrap();
        assert_eq!(mode(&new), 0o600);
        private_dir(&home.root().join("a").join("b")).unwrap();
        assert_eq!(mode(&home.root().join("a")), 0o700);
    }
}
