//! Polls: `poll create`, `vote`, `close`, `verify`, `ring`.

use clap::Subcommand;
use serde_json::{Value, json};

use crate::output::{message_line, print_value};
use crate::{Context, remote};

/// Polls: create one, vote, close it, check a verifiable one.
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
        /// A verifiable poll: today's members are its voters, each casts
        /// one signed ballot, and every member can check the ballots and
        /// the tally (`kovan poll verify`).
        #[arg(long)]
        verifiable: bool,
        /// A verifiable poll whose ballots stay sealed until you close it:
        /// nobody, you included, sees a choice before; then every voter's
        /// app reveals its choices and the tally shows them.
        #[arg(long, conflicts_with = "anonymous")]
        sealed: bool,
        /// A verifiable poll whose ballots do not say who cast them (a
        /// group of 3 voters or more): each voter's app registers a ballot
        /// key, voting opens once all have (or you run `kovan poll ring`),
        /// and each ballot proves "one voter, once" without naming anyone.
        /// Ballots travel through relay mailboxes, so every voter needs a
        /// relay.
        #[arg(long)]
        anonymous: bool,
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
    /// Open voting in an anonymous poll you created now, with the voters
    /// registered so far (the others cannot vote in it).
    Ring {
        /// A contact or conversation id.
        with: String,
        /// The poll's message id.
        poll: String,
    },
    /// Check a verifiable poll: every ballot's signature and eligibility,
    /// and that the creator's close counts every ballot this device saw,
    /// unchanged. Exits with status 1 if the tally does not hold.
    Verify {
        /// A contact or conversation id.
        with: String,
        /// The poll's message id.
        poll: String,
    },
}

impl Poll {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let (method, params) = match self {
            Poll::Create { to, question, options, multiple, verifiable, sealed, anonymous } => (
                "poll_create",
                json!({ "to": to, "question": question, "options": options,
                        "multiple": multiple, "verifiable": verifiable, "sealed": sealed,
                        "anonymous": anonymous }),
            ),
            Poll::Ring { with, poll } => ("poll_ring", json!({ "with": with, "poll": poll })),
            Poll::Verify { with, poll } => {
                let v =
                    remote::call(&ctx.home, "poll_verify", json!({ "with": with, "poll": poll }))?;
                print_value(ctx.json, &v, |v| {
                    println!("{}", message_line(v));
                    println!("{}", poll_lines(&v["poll"]));
                });
                let check = &v["poll"]["verifiable"];
                if check.is_null() {
                    anyhow::bail!("this poll is not verifiable: its votes are not signed");
                }
                if check["verified"].as_bool() != Some(true) {
                    anyhow::bail!(
                        "the poll is not verified: its tally does not hold, or this device \
                         could not check its voters (see above)"
                    );
                }
                return Ok(());
            }
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
    let check = &p["verifiable"];
    if !check.is_null() {
        out.push(format!(
            "  verifiable: {} ballot(s) counted of {} eligible; {}; eligibility {}",
            p["voters"],
            check["eligible"],
            match (check["verified"].as_bool(), check["eligibility"].as_str()) {
                (Some(true), _) => "verified",
                (_, Some("unchecked")) => "NOT CHECKED on this device",
                _ => "DOES NOT HOLD",
            },
            check["eligibility"].as_str().unwrap_or("?"),
        ));
        if check["sealed"].as_bool() == Some(true) {
            out.push(if p["closed"].as_bool() == Some(true) {
                format!("  sealed ballots, revealed; {} not revealed yet", check["not_revealed"])
            } else {
                "  sealed ballots: the choices show once the poll is closed".to_owned()
            });
        }
        let anonymous = &check["anonymous"];
        if !anonymous.is_null() {
            out.push(match anonymous["ring"].as_u64() {
                None => format!(
                    "  anonymous: {} of {} voter(s) registered; voting opens when the creator \
                     publishes the ring",
                    anonymous["registered"], check["eligible"]
                ),
                Some(n) => format!(
                    "  anonymous: a ring of {n} voter(s); {}{}",
                    match (anonymous["voted"].as_bool(), anonymous["in_ring"].as_bool()) {
                        (Some(true), _) => "you have voted",
                        (_, Some(true)) => "you can vote",
                        _ => "you are not in the ring",
                    },
                    match anonymous["unconfirmed"].as_u64() {
                        Some(0) | None => String::new(),
                        Some(k) => format!(
                            " ({k} voter(s) have not yet confirmed they hold the same ring: \
                             voting is safest once all have)"
                        ),
                    }
                ),
            });
        }
        for f in check["findings"].as_array().into_iter().flatten() {
            let account = f["account"].as_str().unwrap_or("");
            out.push(format!(
                "    {}: {}",
                account.get(..16).unwrap_or(account),
                finding_text(f["finding"].as_str().unwrap_or(""))
            ));
        }
    }
    out.join("\n")
}

/// A finding of a poll's audit in plain words.
fn finding_text(finding: &str) -> &'static str {
    match finding {
        "bad_signature" => "a ballot whose signature does not verify (not counted)",
        "not_eligible" => "a ballot from someone who may not vote (not counted)",
        "unfit" => "a ballot with choices the poll does not offer (not counted)",
        "double_vote" => "voted twice: both ballots are void",
        "dropped" => "the close leaves out this member's ballot",
        "altered" => "the close counts a different ballot than this member sent",
        "bad_close" => "the close counts a ballot that is not valid",
        "bad_ring" => {
            "the ring holds a key that is not an eligible member's registration, or this member \
             holds another ring"
        }
        "left_out" => "the ring leaves out or changes this member's registration",
        "not_received" => "the close counts or voids a ballot this device never received",
        "registered_twice" => "registered two ballot keys (the ring holds one of them)",
        _ => "an unknown finding",
    }
}
