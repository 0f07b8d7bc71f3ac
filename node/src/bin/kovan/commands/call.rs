//! Calls (SPEC.md §6.9): `call`, `answer`, `reject`, `hangup`, `mute` and
//! `calls` (the log). The daemon holds the call; its audio comes from a
//! tone or a WAV file (or is silence), and what arrives can be recorded to
//! a WAV file.

use std::path::PathBuf;

use clap::Args;
use serde_json::{Value, json};

use crate::output::{call_line, list};
use crate::{Context, remote};

/// What the call sends and where what arrives goes.
#[derive(Debug, Args)]
struct Audio {
    /// Send a steady tone at this many Hz (20 to 20,000).
    #[arg(long, value_name = "HZ", conflicts_with = "wav")]
    tone: Option<f64>,
    /// Send this WAV file, looped (any rate; mixed to mono).
    #[arg(long, value_name = "FILE")]
    wav: Option<PathBuf>,
    /// Write what arrives to this WAV file when the call ends.
    #[arg(long, value_name = "FILE.wav")]
    record: Option<PathBuf>,
}

impl Audio {
    fn params(&self, mut p: Value) -> Value {
        if let Some(hz) = self.tone {
            p["tone"] = json!(hz);
        }
        // The daemon opens the files: paths it can find from anywhere.
        let absolute = |f: &PathBuf| std::path::absolute(f).unwrap_or_else(|_| f.clone());
        if let Some(w) = &self.wav {
            p["wav"] = json!(absolute(w));
        }
        if let Some(r) = &self.record {
            p["record"] = json!(absolute(r));
        }
        p
    }
}

/// Call a friend (voice; the daemon holds the call until one side hangs
/// up). Without --tone or --wav, silence is sent.
#[derive(Debug, Args)]
pub struct Call {
    /// The friend: a contact's name, account or conversation id.
    with: String,
    #[command(flatten)]
    audio: Audio,
}

impl Call {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let p = self.audio.params(json!({ "with": self.with }));
        remote::run(ctx, "call", p, |v| println!("{}", call_line(v)))
    }
}

/// Answer the call that rings.
#[derive(Debug, Args)]
pub struct Answer {
    /// The call's id (the one ringing if left out).
    call: Option<String>,
    #[command(flatten)]
    audio: Audio,
}

impl Answer {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let p = self.audio.params(json!({ "call": self.call }));
        remote::run(ctx, "call_answer", p, |v| println!("{}", call_line(v)))
    }
}

/// Decline the call that rings.
#[derive(Debug, Args)]
pub struct Reject {
    /// The call's id (the one ringing if left out).
    call: Option<String>,
}

impl Reject {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        remote::run(ctx, "call_reject", json!({ "call": self.call }), |_| println!("declined"))
    }
}

/// End the call (or decline it while it rings).
#[derive(Debug, Args)]
pub struct Hangup {
    /// The call's id (the current one if left out).
    call: Option<String>,
}

impl Hangup {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        remote::run(ctx, "call_hangup", json!({ "call": self.call }), |_| println!("hung up"))
    }
}

/// Mute your side of the call (silence is sent), or unmute with --off.
#[derive(Debug, Args)]
pub struct Mute {
    /// Unmute.
    #[arg(long)]
    off: bool,
}

impl Mute {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let p = json!({ "muted": !self.off });
        remote::run(ctx, "call_mute", p, |v| println!("{}", call_line(v)))
    }
}

/// The call running now, if any, and past calls, newest first.
#[derive(Debug, Args)]
pub struct Calls {
    /// How many past calls.
    #[arg(long, default_value_t = 20)]
    limit: u32,
}

impl Calls {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let current = remote::call(&ctx.home, "call_current", json!({}))?;
        let log = remote::call(&ctx.home, "calls", json!({ "limit": self.limit }))?;
        if ctx.json {
            println!("{}", json!({ "current": current, "log": log }));
            return Ok(());
        }
        if !current.is_null() {
            println!("now  {}", call_line(&current));
        }
        list(&log, "no calls yet", call_line);
        Ok(())
    }
}
