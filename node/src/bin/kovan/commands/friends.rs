//! People: `search`, `friend …` (requests, answers, removal, blocking),
//! `safety-number` and `verify`.

use anyhow::Context as _;
use clap::{Args, Subcommand};
use kovan_crypto::identity::AccountId;
use serde_json::{Value, json};

use crate::output::{self, contact_line};
use crate::{Context, remote};

/// Show the safety number to compare with a contact (works offline;
/// takes an account key in hex, or a contact when a daemon runs).
#[derive(Debug, Args)]
pub struct SafetyNumber {
    /// The contact's account key (64 hex digits) or name.
    account: String,
}

impl SafetyNumber {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let Ok(bytes) = hex::decode(self.account.trim()) else {
            // A contact's name: ask the daemon.
            return remote::run(ctx, "safety_number", json!({ "who": self.account }), |v| {
                println!("{}", v["safety_number"].as_str().unwrap_or(""))
            });
        };
        let other = AccountId::from_bytes(&bytes).context("not an account key")?;
        let id = ctx.unlock()?;
        let sn = id.safety_number(&other);
        let v = json!({ "digits": sn.digits(), "qr_hex": hex::encode(sn.qr_bytes()) });
        output::print_value(ctx.json, &v, |_| println!("{}", sn.display()));
        Ok(())
    }
}

/// Search the relay directory and the LAN.
#[derive(Debug, Args)]
pub struct Search {
    /// Part of a username or name ("" lists LAN peers).
    query: String,
}

impl Search {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        remote::run(ctx, "search", json!({ "query": self.query }), |v| {
            output::list(v, "nobody found", |r| {
                format!(
                    "{:<5} {:<20} {:<20} friend request target: {}",
                    r["source"].as_str().unwrap_or(""),
                    r["username"].as_str().unwrap_or("-"),
                    r["display_name"].as_str().unwrap_or(""),
                    r["target"].as_str().unwrap_or("")
                )
            })
        })
    }
}

/// Friends: requests, answers, removal, blocking.
#[derive(Debug, Subcommand)]
pub enum Friend {
    /// Ask someone to be friends: a username, a LAN PeerId from `search`,
    /// or an address ending in /p2p/<PeerId>.
    Request {
        /// Who: a username on the relay, a LAN peer's id, an address ending
        /// in /p2p/<id>, or an invite link (kovan:add?…) they shared.
        target: String,
        /// A note to send along.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Accept a friend request.
    Accept {
        /// Who.
        who: String,
    },
    /// Decline a friend request.
    Decline {
        /// Who.
        who: String,
    },
    /// End a friendship (the other side is told).
    Remove {
        /// Who.
        who: String,
    },
    /// Block an account: nothing from it is shown.
    Block {
        /// Who (a contact or account key).
        who: String,
    },
    /// Unblock an account.
    Unblock {
        /// Who.
        who: String,
    },
    /// List friends, requests and blocked accounts.
    List,
}

impl Friend {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let (method, params) = match self {
            Friend::Request { target, note } => {
                ("friend_request", json!({ "target": target, "note": note }))
            }
            Friend::Accept { who } => ("friend_accept", json!({ "who": who })),
            Friend::Decline { who } => ("friend_decline", json!({ "who": who })),
            Friend::Remove { who } => ("friend_remove", json!({ "who": who })),
            Friend::Block { who } => ("block", json!({ "who": who })),
            Friend::Unblock { who } => ("unblock", json!({ "who": who })),
            Friend::List => {
                return remote::run(ctx, "contacts", json!({}), |v| {
                    output::list(v, "no contacts yet", contact_line)
                });
            }
        };
        remote::run(ctx, method, params, print_contact)
    }
}

/// Mark a contact verified after comparing safety numbers.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("how").required(true).args(["digits", "compared"])))]
pub struct Verify {
    /// The contact.
    who: String,
    /// The 60 digits your contact read to you (they must match yours).
    #[arg(long)]
    digits: Option<String>,
    /// You compared `kovan safety-number WHO` with the contact's, in person
    /// or on a call, and they were the same.
    #[arg(long)]
    compared: bool,
}

impl Verify {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let params = json!({ "who": self.who, "digits": self.digits, "compared": self.compared });
        remote::run(ctx, "verify", params, print_contact)
    }
}

/// The text of an answer that is one contact.
fn print_contact(v: &Value) {
    println!("{}", contact_line(v));
}
