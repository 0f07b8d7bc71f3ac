//! Scheduled messages (made with `send --at`): `schedule list`, `edit`,
//! `cancel`; and how a time is written on the command line.

use anyhow::Context as _;
use clap::Subcommand;
use serde_json::json;

use crate::output::{self, scheduled_line};
use crate::{Context, remote};

/// Scheduled messages (made with `send --at`): list, edit, cancel.
#[derive(Debug, Subcommand)]
pub enum Schedule {
    /// Scheduled messages, soonest first (also sent, cancelled, failed).
    List {
        /// Only this contact's or group's.
        with: Option<String>,
    },
    /// Change a scheduled message's text or time before it goes.
    Edit {
        /// Its id (from `schedule list`).
        id: String,
        /// The new text.
        #[arg(long)]
        text: Option<String>,
        /// The new time ("+10m", "2026-12-31T23:59:00Z").
        #[arg(long, value_name = "WHEN")]
        at: Option<String>,
    },
    /// Cancel a scheduled message before it goes.
    Cancel {
        /// Its id.
        id: String,
    },
}

impl Schedule {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let (method, params) = match self {
            Schedule::List { with } => {
                return remote::run(ctx, "scheduled", json!({ "with": with }), |v| {
                    output::list(v, "nothing scheduled", scheduled_line)
                });
            }
            Schedule::Edit { id, text, at } => {
                let due = at.as_deref().map(when).transpose()?;
                let content = text.as_ref().map(|t| json!({ "type": "text", "text": t }));
                ("schedule_edit", json!({ "id": id, "content": content, "due_at": due }))
            }
            Schedule::Cancel { id } => ("schedule_cancel", json!({ "id": id })),
        };
        remote::run(ctx, method, params, |v| println!("{}", scheduled_line(v)))
    }
}

/// A time given on the command line: "+DURATION" from now, an RFC 3339
/// UTC time, or milliseconds since the Unix epoch. In ms since the epoch.
pub fn when(s: &str) -> anyhow::Result<i64> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('+') {
        let d = humantime::parse_duration(rest.trim())
            .with_context(|| format!("{s:?}: not a duration like +10m or +1d 2h"))?;
        return Ok(kovan_node::clock::system_now_ms().saturating_add(d.as_millis() as i64));
    }
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    let t = humantime::parse_rfc3339_weak(s)
        .with_context(|| format!("{s:?}: not a time like 2026-12-31T23:59:00Z or +10m"))?;
    let d = t.duration_since(std::time::UNIX_EPOCH).context("a time before 1970")?;
    Ok(d.as_millis() as i64)
}
