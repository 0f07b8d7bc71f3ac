//! Spreading messages: `spread send`, `list`, `retract`, `on`, `off`.

use clap::Subcommand;
use serde_json::{Value, json};

use crate::output::{list, shown, time_ms};
use crate::{Context, remote};

/// Spreading messages: a text you sign that friends who take part pass on
/// to theirs, at most a number of hops from you.
#[derive(Debug, Subcommand)]
pub enum Spread {
    /// Start one: it goes to every friend who takes part.
    Send {
        /// The text (at most 4,096 bytes).
        text: String,
        /// How many hops it may travel from you (1 to 8): 1 reaches only
        /// your friends.
        #[arg(long, default_value_t = 3, value_name = "N")]
        hops: u8,
    },
    /// The spreading messages this node holds, newest first. Listing them
    /// counts as seeing them: from then on this node passes them on to
    /// your friends who take part (use --unseen-stays to only look).
    List {
        /// Do not mark what is listed as seen.
        #[arg(long)]
        unseen_stays: bool,
    },
    /// Take back a spreading message you started: it is hidden wherever
    /// it went, as far as the nodes on its way are honest.
    Retract {
        /// Its id (or AUTHOR:ID).
        id: String,
    },
    /// Take part: receive spreading messages and pass them on once seen.
    On,
    /// Stop taking part; your friends are told.
    Off,
    /// Whether this node takes part.
    Status,
}

/// One spread, for people.
fn spread_line(s: &Value) -> String {
    let id = s["id"].as_str().unwrap_or("");
    let head = if s["mine"].as_bool() == Some(true) {
        format!("{id}  by you, up to {} hops, sent to {}", s["hop_limit"], s["passed_to"])
    } else {
        let from =
            s["from_name"].as_str().map(|n| format!(", from {}", shown(n))).unwrap_or_default();
        format!(
            "{id}  by {}, hop {} of {}{from}{}",
            shown(s["author_name"].as_str().unwrap_or("?")),
            s["hop"],
            s["hop_limit"],
            if s["seen"].as_bool() == Some(true) { "" } else { "  [new]" }
        )
    };
    let when = time_ms(&s["created_at"]).unwrap_or_default();
    let body = if s["retracted_at"].is_null() {
        shown(s["text"].as_str().unwrap_or(""))
    } else {
        "(taken back by its author)".to_owned()
    };
    format!("{head}  {when}\n  {body}")
}

impl Spread {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            Spread::Send { text, hops } => {
                let params = json!({ "text": text, "hop_limit": hops });
                remote::run(ctx, "spread", params, |v| println!("{}", spread_line(v)))
            }
            Spread::List { unseen_stays } => {
                let all = remote::call(&ctx.home, "spreads", json!({}))?;
                let new: Vec<String> = all
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|s| s["seen"].as_bool() == Some(false))
                    .filter_map(|s| {
                        Some(format!("{}:{}", s["author"].as_str()?, s["id"].as_str()?))
                    })
                    .collect();
                if !unseen_stays && !new.is_empty() {
                    remote::call(&ctx.home, "spreads_seen", json!({ "ids": new }))?;
                }
                crate::output::print_value(ctx.json, &all, |v| {
                    list(v, "no spreading messages", spread_line)
                });
                Ok(())
            }
            Spread::Retract { id } => {
                remote::run(ctx, "spread_retract", json!({ "id": id }), |v| {
                    println!("{}", spread_line(v))
                })
            }
            Spread::On | Spread::Off | Spread::Status => {
                let params = match self {
                    Spread::On => json!({ "enabled": true }),
                    Spread::Off => json!({ "enabled": false }),
                    _ => json!({}),
                };
                remote::run(ctx, "spread_opt_in", params, |v| {
                    let friends = v["friends"].as_array().map_or(0, Vec::len);
                    if v["enabled"].as_bool() == Some(true) {
                        println!("this node takes part in spreading messages");
                    } else {
                        println!("this node does not take part in spreading messages");
                    }
                    println!("{friends} friend(s) take part");
                })
            }
        }
    }
}
