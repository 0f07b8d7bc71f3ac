//! Polls: `poll create`, `vote`, `close`.

use clap::Subcommand;
use serde_json::{Value, json};

use crate::output::message_line;
use crate::{Context, remote};

/// Polls: create one, vote, close it.
#[derive(Debug, Subcommand)]
pub enum Poll {
    /// Start a poll in a chat or group.
    Create {
        /// A contact or conversation id.
        to: String,
        /// The question.
        question: String,
        /// The options (2 to 12), in order.
        #[arg(long = "option", value_name = "TEXT", required = true)]
        options: Vec<String>,
        /// Let members choose several options.
        #[arg(long)]
        multiple: bool,
    },
    /// Vote (again, to change your vote; with no --choice, withdraw it).
    Vote {
        /// A contact or conversation id.
        with: String,
        /// The poll's message id.
        poll: String,
        /// An option number, from 0 (repeat for several).
        #[arg(long = "choice", value_name = "N")]
        choices: Vec<u32>,
    },
    /// Close a poll you created: the tally becomes final for everyone.
    Close {
        /// A contact or conversation id.
        with: String,
        /// The poll's message id.
        poll: String,
    },
}

impl Poll {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let (method, params) = match self {
            Poll::Create { to, question, options, multiple } => (
                "poll_create",
                json!({ "to": to, "question": question, "options": options, "multiple": multiple }),
            ),
            Poll::Vote { with, poll, choices } => {
                ("poll_vote", json!({ "with": with, "poll": poll, "choices": choices }))
            }
            Poll::Close { with, poll } => ("poll_close", json!({ "with": with, "poll": poll })),
        };
        remote::run(ctx, method, params, |v| {
            println!("{}", message_line(v));
            println!("{}", poll_lines(&v["poll"]));
        })
    }
}

/// A poll's options with their counts, one per line.
fn poll_lines(p: &Value) -> String {
    let mine: Vec<u64> =
        p["mine"].as_array().into_iter().flatten().filter_map(|c| c.as_u64()).collect();
    let mut out = Vec::new();
    for (i, o) in p["options"].as_array().into_iter().flatten().enumerate() {
        out.push(format!(
            "  {}{i}. {} — {}",
            if mine.contains(&(i as u64)) { "*" } else { " " },
            o["text"].as_str().unwrap_or(""),
            o["votes"]
        ));
    }
    let state = if p["closed"].as_bool() == Some(true) { "closed" } else { "open" };
    out.push(format!("  {} voter(s), {state}", p["voters"]));
    out.join("\n")
}
