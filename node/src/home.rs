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

    /// Creates the directory (mode 0700 on Unix) if needed.
    pub fn ensure(&self) -> Result<()> {
        std::fs::create_dir_all(&self.root)
            .map_err(Error::io(format!("creating {}", self.root.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.root, std::fs::Permissions::from_mode(0o700))
                .map_err(Error::io(format!("securing {}", self.root.display())))?;
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
