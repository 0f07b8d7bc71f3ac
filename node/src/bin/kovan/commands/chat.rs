//! Conversations and messages: `conversations`, `send`, `history`,
//! `react`, `edit`, `delete`, `read-receipts`, and `watch` (the node's
//! events as they happen).

use clap::Args;
use serde_json::{Value, json};

use crate::output::{
    self, contact_line, file_line, group_line, invitation_line, message_line, print_message,
};
use crate::{Context, remote};

/// List conversations.
#[derive(Debug, Args)]
pub struct Conversations;

impl Conversations {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        remote::run(ctx, "conversations", json!({}), |v| {
            let list = v.as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                println!("no conversations yet");
            }
            for c in list {
                let with = match c["contact"].as_object() {
                    Some(_) => contact_line(&c["contact"]).trim().to_owned(),
                    None => format!("{} (group)", c["title"].as_str().unwrap_or("")),
                };
                let mut marks = String::new();
                if c["mode"] == "direct_only" {
                    marks.push_str(" [direct only]");
                }
                if c["mode"] == "no_trace" {
                    marks.push_str(" [no trace: in memory only]");
                }
                match (c["sealed"].as_bool(), c["locked"].as_bool()) {
                    (Some(true), Some(true)) => marks.push_str(" [sealed, locked]"),
                    (Some(true), _) => marks.push_str(" [sealed, unlocked]"),
                    _ => {}
                }
                if c["waiting_direct"].as_bool() == Some(true) {
                    marks.push_str(" — waiting for a direct connection");
                }
                if c["closed"].as_bool() == Some(true) {
                    marks.push_str(" (closed)");
                }
                println!(
                    "{} unread {:<4} {with}{marks}",
                    c["id"].as_str().unwrap_or(""),
                    c["unread"]
                );
            }
        })
    }
}

/// Send a text message (":shortcodes:" become emoji).
#[derive(Debug, Args)]
pub struct SendText {
    /// A contact (username, name, account key) or conversation id.
    to: String,
    /// The text.
    text: String,
    /// Reply to this message id.
    #[arg(long)]
    reply_to: Option<String>,
    /// Send it later instead: "+10m", "+2h", "+1d 2h", or a UTC time
    /// such as "2026-12-31T23:59:00Z" (see `kovan schedule`).
    #[arg(
        long,
        value_name = "WHEN",
        conflicts_with_all = ["password", "area", "holders", "relays", "not_before", "dead_man"]
    )]
    at: Option<String>,
    #[command(flatten)]
    locks: super::conditional::SendLocks,
}

impl SendText {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let Self { to, text, reply_to, at, locks } = self;
        if locks.any() {
            return locks.send(ctx, to, text, None);
        }
        match at {
            None => remote::run(
                ctx,
                "send",
                json!({ "to": to, "text": text, "reply_to": reply_to }),
                print_message,
            ),
            Some(at) => remote::run(
                ctx,
                "schedule",
                json!({
                    "to": to,
                    "due_at": super::schedule::when(at)?,
                    "content": { "type": "text", "text": text, "reply_to": reply_to },
                }),
                |v| println!("{}", output::scheduled_line(v)),
            ),
        }
    }
}

/// Show a page of a conversation's history, newest first (and mark it read).
#[derive(Debug, Args)]
pub struct History {
    /// A contact or conversation id.
    with: String,
    /// Older messages: before this cursor (the command to see more is
    /// printed under each page).
    #[arg(long, conflicts_with_all = ["after", "around"], value_name = "CURSOR",
        allow_negative_numbers = true, value_parser = clap::value_parser!(i64).range(0..))]
    before: Option<i64>,
    /// Newer messages: after this cursor.
    #[arg(long, conflicts_with = "around", value_name = "CURSOR",
        allow_negative_numbers = true, value_parser = clap::value_parser!(i64).range(0..))]
    after: Option<i64>,
    /// The messages around this message id (jump to it).
    #[arg(long, value_name = "ID")]
    around: Option<String>,
    /// Page size, 1 to 500.
    #[arg(long, default_value_t = 20, allow_negative_numbers = true,
        value_parser = clap::value_parser!(u16).range(1..=500))]
    limit: u16,
    /// Do not mark the conversation read.
    #[arg(long)]
    no_mark_read: bool,
}

impl History {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let Self { with, before, after, around, limit, no_mark_read } = self;
        let params = json!({
            "with": with, "before": before, "after": after, "around": around,
            "limit": limit, "mark_read": !no_mark_read,
        });
        let limit = usize::from(*limit);
        remote::run(ctx, "history", params, |v| {
            // Oldest at the top, whichever way the page was read.
            let mut list = v.as_array().cloned().unwrap_or_default();
            list.sort_by_key(|m| m["seq"].as_i64());
            if list.is_empty() {
                println!("no messages here");
            }
            for m in &list {
                println!("{}", message_line(m));
            }
            if list.len() == limit
                && let Some(oldest) = list.first().and_then(|m| m["seq"].as_i64())
            {
                println!("older: kovan history {with} --before {oldest}");
            }
        })
    }
}

/// React to a message with an emoji (or ":shortcode:").
#[derive(Debug, Args)]
pub struct React {
    /// A contact or conversation id.
    with: String,
    /// The message id.
    message: String,
    /// The emoji.
    emoji: String,
    /// Take the reaction back.
    #[arg(long)]
    remove: bool,
}

impl React {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let Self { with, message, emoji, remove } = self;
        let params = json!({ "with": with, "message": message, "emoji": emoji, "remove": remove });
        remote::run(ctx, "react", params, print_message)
    }
}

/// Edit one of your messages, for everyone.
#[derive(Debug, Args)]
pub struct Edit {
    /// A contact or conversation id.
    with: String,
    /// The message id.
    message: String,
    /// The new text.
    text: String,
}

impl Edit {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let Self { with, message, text } = self;
        let params = json!({ "with": with, "message": message, "text": text });
        remote::run(ctx, "edit", params, print_message)
    }
}

/// Delete one of your messages, for everyone.
#[derive(Debug, Args)]
pub struct Delete {
    /// A contact or conversation id.
    with: String,
    /// The message id.
    message: String,
}

impl Delete {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let params = json!({ "with": self.with, "message": self.message });
        remote::run(ctx, "delete", params, |_| println!("Deleted for everyone."))
    }
}

/// Show who has one of your messages and who read it (in a group, every
/// other member; in a chat, your friend).
#[derive(Debug, Args)]
pub struct Receipts {
    /// A contact or conversation id.
    with: String,
    /// The message id.
    message: String,
}

impl Receipts {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let params = json!({ "with": self.with, "message": self.message });
        remote::run(ctx, "receipts", params, |v| {
            output::list(v, "nobody else is in this conversation", output::receipt_line)
        })
    }
}

/// Chats beside your usual one with a friend.
#[derive(Debug, clap::Subcommand)]
pub enum Chat {
    /// Start a chat with a friend in a private mode. --direct-only: its
    /// messages, files and receipts travel only directly between your
    /// devices, never through a relay (they wait while there is no direct
    /// connection); kept like any chat. --no-trace: it lives only in the
    /// memory of your two devices while a direct connection joins them;
    /// nothing of it is ever written to disk, and it ends for both when
    /// either ends it, closes the connection or stops. The friend accepts
    /// either first.
    New {
        /// The friend.
        with: String,
        /// Only directly, kept as history.
        #[arg(long, conflicts_with = "no_trace", required_unless_present = "no_trace")]
        direct_only: bool,
        /// Only directly, and never written to disk on either side.
        #[arg(long)]
        no_trace: bool,
    },
    /// Accept or decline a leave-no-trace chat a friend offered.
    Answer {
        /// The chat's id (from `kovan conversations` or `kovan watch`).
        chat: String,
        /// Accept it (otherwise it is declined).
        #[arg(long)]
        accept: bool,
    },
    /// End a leave-no-trace chat for both sides; nothing of it remains.
    End {
        /// The chat's id.
        chat: String,
    },
}

impl Chat {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            Chat::New { with, no_trace: true, .. } => {
                remote::run(ctx, "chat_new", json!({ "with": with, "mode": "no_trace" }), |v| {
                    println!(
                        "{} — a leave-no-trace chat with {}, waiting for them to accept. \
                         Nothing of it is written to disk; it ends when either of you ends \
                         it or goes offline.",
                        v["id"].as_str().unwrap_or(""),
                        v["contact"]["display_name"].as_str().unwrap_or("")
                    )
                })
            }
            Chat::New { with, .. } => {
                remote::run(ctx, "chat_new", json!({ "with": with, "mode": "direct_only" }), |v| {
                    println!(
                        "{} — a direct-only chat; it starts when they accept. Write to it with \
                         `kovan send {} …`.",
                        output::group_line(v),
                        v["id"].as_str().unwrap_or("")
                    )
                })
            }
            Chat::Answer { chat, accept } => {
                let params = json!({ "chat": chat, "accept": accept });
                remote::run(ctx, "no_trace_answer", params, |v| {
                    if *accept {
                        println!(
                            "Accepted; write to it with `kovan send {} …`.",
                            v["id"].as_str().unwrap_or("")
                        )
                    } else {
                        println!("Declined.")
                    }
                })
            }
            Chat::End { chat } => remote::run(ctx, "no_trace_end", json!({ "chat": chat }), |_| {
                println!("Ended; nothing of it remains on this device.")
            }),
        }
    }
}

/// Turn read receipts on or off.
#[derive(Debug, Args)]
pub struct ReadReceipts {
    /// on or off.
    #[arg(value_parser = ["on", "off"])]
    state: String,
}

impl ReadReceipts {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        remote::run(ctx, "read_receipts", json!({ "on": self.state == "on" }), |_| {
            println!("Read receipts are {}.", self.state)
        })
    }
}

/// Print the node's events as they happen (JSON lines with --json).
#[derive(Debug, Args)]
pub struct Watch;

impl Watch {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        remote::watch(&ctx.home, |line| {
            if ctx.json {
                println!("{line}");
            } else if let Some(ev) = line.get("event") {
                println!("{}", describe_event(ev));
            }
        })
    }
}

/// An event in one line: its kind, then what it is about.
fn describe_event(ev: &Value) -> String {
    match ev["type"].as_str().unwrap_or("") {
        "message" => format!("message   {}", message_line(&ev["message"])),
        "message_state" => format!(
            "state     {} → {}",
            ev["id"].as_str().unwrap_or(""),
            ev["state"].as_str().unwrap_or("")
        ),
        "friend_request" => format!("request   {}", contact_line(&ev["contact"])),
        "friend_accepted" => format!("accepted  {}", contact_line(&ev["contact"])),
        "group_invitation" => format!("invite    {}", invitation_line(&ev["invitation"])),
        "group_changed" => format!("group     {}", group_line(&ev["group"])),
        "file" => format!("file      {}", file_line(&ev["file"])),
        "call" => format!("call      {}", crate::output::call_line(&ev["call"])),
        "no_trace" => format!(
            "no-trace  {} with {}: {}{}",
            ev["chat"]["id"].as_str().unwrap_or(""),
            ev["chat"]["contact"]["display_name"].as_str().unwrap_or(""),
            ev["chat"]["state"].as_str().unwrap_or(""),
            if ev["chat"]["state"] == "invited" {
                " (accept with `kovan chat answer ID --accept`)"
            } else {
                ""
            }
        ),
        "no_trace_ended" => format!(
            "no-trace  {} ended: {}",
            ev["id"].as_str().unwrap_or(""),
            ev["reason"].as_str().unwrap_or("")
        ),
        "chat_seal" => format!(
            "sealed    {} was sealed, or locked or unlocked here",
            ev["conversation"].as_str().unwrap_or("")
        ),
        "identity_changed" => {
            format!("WARNING   identity changed: {}", contact_line(&ev["contact"]))
        }
        "account_login" => format!(
            "login     a new session {} on device {} ({}); revoke it if it was not you",
            ev["session_id"].as_str().unwrap_or(""),
            ev["device_peer_id"].as_str().unwrap_or(""),
            ev["user_agent"].as_str().unwrap_or("")
        ),
        "account_settings_changed" => format!(
            "settings  changed on another device: friend policy {}, read receipts {}",
            ev["settings"]["friend_policy"].as_str().unwrap_or("?"),
            ev["settings"]["read_receipts"]
        ),
        "account_deleted" => "deleted   the account was deleted on the relay; logged out".into(),
        other => format!("{other:<9} {ev}"),
    }
}
