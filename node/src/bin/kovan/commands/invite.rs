//! Invite links (A5): `invite create`, `list`, `revoke`. Someone who has
//! one of your links sends the request with `kovan friend request <LINK>`.

use clap::Subcommand;
use serde_json::{Value, json};

use crate::output::{self, time_ms};
use crate::{Context, remote};

/// Invite links: whoever has one may send you a friend request, even when
/// you take requests only through links (friend policy "link").
#[derive(Debug, Subcommand)]
pub enum Invite {
    /// Make a link to share.
    Create {
        /// What the link is for (shown to you only).
        #[arg(long, default_value = "")]
        label: String,
        /// How many requests it admits (default: any number).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        uses: Option<u32>,
        /// How long it works, e.g. 7d or 12h (default: until revoked).
        #[arg(long, value_name = "DURATION", value_parser = duration_ms)]
        expires: Option<i64>,
    },
    /// Your links, newest first, with their state.
    List,
    /// Stop a link from working.
    Revoke {
        /// The invite's id (from `kovan invite list`).
        id: String,
    },
}

/// A duration such as `7d` or `90m`, in milliseconds.
fn duration_ms(s: &str) -> Result<i64, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (try 7d, 12h or 30m)"))?;
    i64::try_from(d.as_millis()).map_err(|_| "that is too long".to_owned())
}

impl Invite {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            Invite::Create { label, uses, expires } => {
                let params = json!({ "label": label, "max_uses": uses, "expires_in_ms": expires });
                remote::run(ctx, "invite_create", params, |v| {
                    println!("{}", v["link"].as_str().unwrap_or(""));
                    println!("{}", invite_line(v));
                })
            }
            Invite::List => remote::run(ctx, "invites", json!({}), |v| {
                output::list(v, "no invite links (make one with `kovan invite create`)", |i| {
                    format!("{}\n    {}", invite_line(i), i["link"].as_str().unwrap_or(""))
                })
            }),
            Invite::Revoke { id } => remote::run(ctx, "invite_revoke", json!({ "id": id }), |v| {
                println!("{}", invite_line(v))
            }),
        }
    }
}

/// An invite in one line: id, state, uses, expiry, label.
fn invite_line(i: &Value) -> String {
    let uses = match i["max_uses"].as_u64() {
        Some(max) => format!("used {} of {max}", i["used"]),
        None => format!("used {}", i["used"]),
    };
    let expires = match time_ms(&i["expires_at"]) {
        Some(t) => format!(", until {t}"),
        None => String::new(),
    };
    let state = i["state"].as_str().unwrap_or("").replace('_', " ");
    format!(
        "{} {state} ({uses}{expires}) {}",
        i["id"].as_str().unwrap_or(""),
        i["label"].as_str().unwrap_or("")
    )
}
