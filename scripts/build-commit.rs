//! The build script of the crates with a binary people run (`kovan`,
//! `kovan-relay`, `kovan-desktop`): it sets `KOVAN_VERSION`, which their
//! `--version` prints: `0.1.0 (commit 0123456789ab)`.
//!
//! The commit comes from the `KOVAN_COMMIT` environment variable when it is
//! set (a packager building from a source tarball who knows the commit),
//! else from git when the source is a git checkout of this workspace, else
//! it is `unknown` (a tarball without `.git`, or one unpacked inside some
//! other repository). A change that is not committed does not show: the
//! script reruns only when the commit moves, not on every edit.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-env-changed=KOVAN_COMMIT");
    let commit = match std::env::var("KOVAN_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_owned(),
        _ => from_git().unwrap_or_else(|| "unknown".to_owned()),
    };
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    println!("cargo::rustc-env=KOVAN_VERSION={version} (commit {commit})");
}

/// The short hash of `HEAD`, when the workspace is the top of a git work
/// tree; it also tells cargo to rerun the script when `HEAD` moves.
fn from_git() -> Option<String> {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    let workspace = manifest_dir.parent()?.canonicalize().ok()?;
    let top = git(&workspace, &["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != workspace {
        return None;
    }
    // HEAD, the branch it names, and packed-refs (where the branch lives
    // once git packs its refs). A path that does not exist would make cargo
    // rerun the script on every build, so only existing ones are named.
    let mut watched = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(branch) = git(&workspace, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) =
            git(&workspace, &["rev-parse", "--path-format=absolute", "--git-path", &name])
            && Path::new(&path).exists()
        {
            println!("cargo::rerun-if-changed={path}");
        }
    }
    git(&workspace, &["rev-parse", "--short=12", "HEAD"])
}

/// The trimmed output of `git args` run in `dir`, if it succeeded.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}
