//! Files: `send-file`, `send-image`, `files` (list or show one),
//! `fetch-file` (with `--wait`, followed to its end) and `cancel-file`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use serde_json::{Value, json};

use crate::output::{self, file_line, print_message, progress};
use crate::{Context, remote};

/// What may go with anything sent as a file: a caption, and the message it
/// answers.
#[derive(Debug, Args)]
pub struct Extras {
    /// A caption shown with it.
    #[arg(long, default_value = "")]
    pub caption: String,
    /// Reply to this message id.
    #[arg(long)]
    pub reply_to: Option<String>,
}

/// Sends the file at `path` with `method` (send_file or send_image).
fn send(ctx: &Context, method: &str, to: &str, path: &Path, extras: &Extras) -> anyhow::Result<()> {
    // The daemon has its own working directory.
    let path = std::path::absolute(path).with_context(|| format!("{}", path.display()))?;
    let params = json!({
        "to": to, "path": path, "caption": extras.caption, "reply_to": extras.reply_to,
    });
    remote::run(ctx, method, params, print_message)
}

/// Send a file (encrypted; fetched directly or through the relay). With
/// --password, --area or --holders it is a conditional file: its bytes go
/// at once, sealed, and open only with the message (the caption is the
/// message's text, sealed with it).
#[derive(Debug, Args)]
pub struct SendFile {
    /// A contact, group or conversation id.
    to: String,
    /// The file.
    path: PathBuf,
    #[command(flatten)]
    extras: Extras,
    #[command(flatten)]
    locks: super::conditional::SendLocks,
}

impl SendFile {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        if self.locks.any() {
            if self.extras.reply_to.is_some() {
                anyhow::bail!("a conditional file cannot be a reply");
            }
            let path = std::path::absolute(&self.path)
                .with_context(|| format!("{}", self.path.display()))?;
            return self.locks.send(ctx, &self.to, &self.extras.caption, Some(&path));
        }
        send(ctx, "send_file", &self.to, &self.path, &self.extras)
    }
}

/// Send an image: JPEG, PNG, WebP or GIF, re-encoded so no metadata
/// (EXIF, GPS position, XMP) leaves the device, with a thumbnail that
/// shows before the full image arrives.
#[derive(Debug, Args)]
pub struct SendImage {
    /// A contact, group or conversation id.
    to: String,
    /// The image.
    path: PathBuf,
    #[command(flatten)]
    extras: Extras,
}

impl SendImage {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        send(ctx, "send_image", &self.to, &self.path, &self.extras)
    }
}

/// List files sent and received, or show one with its transfer state.
#[derive(Debug, Args)]
pub struct Files {
    /// A file id: show this one.
    id: Option<String>,
    /// Only this conversation's files.
    #[arg(long)]
    with: Option<String>,
    /// How many.
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

impl Files {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        match &self.id {
            Some(id) => remote::run(ctx, "file", json!({ "id": id }), print_file),
            None => {
                remote::run(ctx, "files", json!({ "with": self.with, "limit": self.limit }), |v| {
                    output::list(v, "no files yet", file_line)
                })
            }
        }
    }
}

/// Download a received file (one above the automatic size limit, or
/// again after a failure).
#[derive(Debug, Args)]
pub struct FetchFile {
    /// The file id (see `kovan files`).
    id: String,
    /// Wait until it is complete, showing progress.
    #[arg(long)]
    wait: bool,
}

impl FetchFile {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let params = json!({ "id": self.id, "wait": self.wait });
        if !self.wait {
            return remote::run(ctx, "fetch_file", params, print_file);
        }
        // Progress on stderr while it runs.
        let last = remote::fetch_file_and_wait(&ctx.home, params, |f| {
            if !ctx.json {
                eprint!("\r{:<12} {}", f["state"].as_str().unwrap_or(""), progress(f));
            }
        })?;
        if !ctx.json {
            eprintln!();
        }
        output::print_value(ctx.json, &last, print_file);
        anyhow::ensure!(last["state"] == "complete", "the download {}", last["state"]);
        Ok(())
    }
}

/// Cancel a file transfer (a sent file stops being offered).
#[derive(Debug, Args)]
pub struct CancelFile {
    /// The file id.
    id: String,
}

impl CancelFile {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        remote::run(ctx, "cancel_file", json!({ "id": self.id }), print_file)
    }
}

/// The text of an answer that is one file.
fn print_file(v: &Value) {
    println!("{}", file_line(v));
}
