//! Calls (SPEC.md §6.9): `call`, `answer`, `reject`, `hangup`, `mute`,
//! `camera` and `calls` (the log). The daemon holds the call; its audio
//! comes from a tone or a WAV file (or is silence), and what arrives can be
//! recorded to a WAV file; its video comes from the daemon's camera or is
//! a test pattern.

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
    /// Send video from the camera (the first found, or --camera).
    #[arg(long)]
    video: bool,
    /// The camera device to send from (with --video).
    #[arg(long, value_name = "DEVICE", requires = "video")]
    camera: Option<PathBuf>,
    /// Send a test pattern as video (colour bars, the picture's number in
    /// blocks across the top), 640x480 unless a size is given.
    #[arg(long, value_name = "WxH", num_args = 0..=1, default_missing_value = "640x480")]
    test_pattern: Option<String>,
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
        if self.video {
            p["video"] = json!(true);
        }
        if let Some(c) = &self.camera {
            p["camera"] = json!(absolute(c));
        }
        if let Some(size) = &self.test_pattern {
            p["test_pattern"] = json!(size);
        }
        p
    }
}

/// Call a friend (voice, and video with --video or --test-pattern; the
/// daemon holds the call until one side hangs up). Without --tone or
/// --wav, silence is sent.
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

/// Turn your camera on or off in the current call.
#[derive(Debug, Args)]
pub struct Camera {
    /// Turn it off.
    #[arg(long, conflicts_with_all = ["device", "test_pattern"])]
    off: bool,
    /// The camera device (the first found if left out).
    #[arg(long, value_name = "DEVICE")]
    device: Option<PathBuf>,
    /// Send a test pattern instead of a camera, 640x480 unless a size is
    /// given.
    #[arg(
        long,
        value_name = "WxH",
        num_args = 0..=1,
        default_missing_value = "640x480",
        conflicts_with = "device"
    )]
    test_pattern: Option<String>,
}

impl Camera {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let mut p = json!({ "on": !self.off });
        if let Some(size) = &self.test_pattern {
            p["test_pattern"] = json!(size);
        }
        if let Some(d) = &self.device {
            p["camera"] = json!(std::path::absolute(d).unwrap_or_else(|_| d.clone()));
        }
        remote::run(ctx, "call_camera", p, |v| println!("{}", call_line(v)))
    }
}

/// Share your screen or one window in the current call (X11), list what
/// can be shared, or stop sharing.
#[derive(Debug, Args)]
pub struct ShareScreen {
    /// List the screen and the windows that can be shared, with their ids.
    #[arg(long, conflicts_with_all = ["off", "window", "test_pattern"])]
    list: bool,
    /// Stop sharing.
    #[arg(long, conflicts_with_all = ["window", "test_pattern"])]
    off: bool,
    /// The window to share (an id from --list; the whole screen if left
    /// out).
    #[arg(long, value_name = "ID", value_parser = parse_window)]
    window: Option<u32>,
    /// The X display (the daemon's DISPLAY if left out).
    #[arg(long, value_name = "DISPLAY")]
    display: Option<String>,
    /// Share a test pattern instead, 640x480 unless a size is given.
    #[arg(long, value_name = "WxH", num_args = 0..=1, default_missing_value = "640x480")]
    test_pattern: Option<String>,
}

/// A window id, decimal or 0x-hexadecimal (as X tools print them).
fn parse_window(s: &str) -> Result<u32, String> {
    let parsed = match s.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|_| format!("{s} is not a window id (like 0x1c00007)"))
}

impl ShareScreen {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        if self.list {
            let p = json!({ "display": self.display });
            return remote::run(ctx, "screens", p, |v| {
                list(v, "nothing to share", |s| match s["id"].as_u64() {
                    Some(0) => "0          the whole screen".to_owned(),
                    id => format!("{:#010x} {}", id.unwrap_or(0), s["name"].as_str().unwrap_or("")),
                })
            });
        }
        let mut p = json!({ "on": !self.off, "display": self.display, "window": self.window });
        if let Some(size) = &self.test_pattern {
            p["test_pattern"] = json!(size);
        }
        remote::run(ctx, "call_screen", p, |v| println!("{}", call_line(v)))
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
