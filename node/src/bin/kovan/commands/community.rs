//! Communities on the relay (SPEC.md §9.10): `community …` for the
//! communities themselves and their moderation; `post`, `comment`, `like`,
//! `repost`, `report`, `feed` and `thread` for what is in them. Every
//! write is signed with the account key; every post and comment shown was
//! checked, and one that failed says so instead of showing its text.

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::output::{list, time_ms};
use crate::{Context, remote};

/// Communities: find, create, join, leave, change, archive, delete, moderate.
#[derive(Debug, Subcommand)]
pub enum Community {
    /// Find communities by name, topic or description (all, without words).
    Search {
        /// Words to find.
        #[arg(default_value = "")]
        query: String,
    },
    /// The communities you are in, with their unread posts.
    List,
    /// One community: its settings, counts and your standing.
    Show {
        /// Its name.
        name: String,
    },
    /// Create a community; you own and moderate it.
    Create {
        /// 3–32 of a-z, 0-9, _ and -; never changes.
        name: String,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Replace a community's settings (the owner).
    Settings {
        /// Its name.
        name: String,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Join a community (a private one: ask to; a moderator admits you).
    Join {
        /// Its name.
        name: String,
        /// A note for the moderators.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Leave a community.
    Leave {
        /// Its name.
        name: String,
    },
    /// Make a community read-only (the owner).
    Archive {
        /// Its name.
        name: String,
    },
    /// Make an archived community writable again (the owner).
    Reopen {
        /// Its name.
        name: String,
    },
    /// Delete a community and everything in it (the owner).
    Delete {
        /// Its name.
        name: String,
    },
    /// A page of a community's posts.
    Posts {
        /// Its name.
        name: String,
        /// new, top or active.
        #[arg(long, default_value = "new")]
        sort: String,
        /// Posts to skip.
        #[arg(long, default_value_t = 0)]
        offset: i64,
    },
    /// Search a community's posts and comments.
    Find {
        /// Its name.
        name: String,
        /// Words to find (with or without diacritics, in other forms).
        query: String,
    },
    /// Edit your post or comment.
    Edit {
        /// The post's or comment's id.
        item: String,
        /// The new text.
        text: String,
        /// A post's new title (a post keeps its title without it).
        #[arg(long, default_value = "")]
        title: String,
    },
    /// Fetch a file of a post (checked against what its author signed).
    Fetch {
        /// The post's id.
        item: String,
        /// Which file, from 0.
        #[arg(long, default_value_t = 0)]
        index: usize,
        /// Where to save it (default: the home's files/community/POST/).
        #[arg(long)]
        to: Option<std::path::PathBuf>,
    },
    /// Every version of a post or comment.
    History {
        /// The post's or comment's id.
        item: String,
    },
    /// Delete your post or comment (a tombstone keeps the thread).
    Retract {
        /// The post's or comment's id.
        item: String,
    },
    /// A moderator's action: remove or dismiss (a post or comment id), ban,
    /// unban, admit, refuse, invite or approve_poster (a username).
    Mod {
        /// The community.
        name: String,
        /// remove, dismiss, ban, unban, admit, refuse, invite, approve_poster.
        action: String,
        /// A post or comment id, or a username.
        on: String,
        /// A note, shown in the moderation log.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Open reports (moderators).
    Reports {
        /// Its name.
        name: String,
    },
    /// Join requests (moderators).
    Requests {
        /// Its name.
        name: String,
    },
    /// The community's public moderation log.
    Log {
        /// Its name.
        name: String,
    },
}

/// A community's settings.
#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// One line on what it is about.
    #[arg(long, default_value = "")]
    topic: String,
    /// A longer description.
    #[arg(long, default_value = "")]
    description: String,
    /// The rules.
    #[arg(long, default_value = "")]
    rules: String,
    /// Members only; joining by request or invitation.
    #[arg(long)]
    private: bool,
    /// Who may post: members, approved or moderators.
    #[arg(long, default_value = "members")]
    post_policy: String,
    /// A moderator besides you (repeat for several).
    #[arg(long = "moderator", value_name = "USERNAME")]
    moderators: Vec<String>,
}

impl SettingsArgs {
    fn json(&self, name: &str) -> Value {
        json!({
            "name": name, "topic": self.topic, "description": self.description,
            "rules": self.rules, "private": self.private, "post_policy": self.post_policy,
            "moderators": self.moderators,
        })
    }
}

/// Text someone else wrote, safe for a terminal: control characters
/// (escape sequences included) become U+FFFD.
fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { '\u{fffd}' } else { c }).collect()
}

/// One line about a community.
fn community_line(c: &Value) -> String {
    let mut line = format!(
        "{} — {} ({} members, {} posts{}{})",
        clean(c["name"].as_str().unwrap_or("")),
        clean(c["topic"].as_str().unwrap_or("")),
        c["members"],
        c["posts"],
        if c["private"] == true { ", private" } else { "" },
        if c["archived"] == true { ", archived" } else { "" },
    );
    if let Some(n) = c["unread"].as_i64().filter(|n| *n > 0) {
        line.push_str(&format!(" · {n} new"));
    }
    if let Some(state) = c["my_state"].as_str().filter(|s| *s != "member") {
        line.push_str(&format!(" · {state}"));
    }
    line
}

/// A post or comment, indented by its depth; one that failed verification
/// says so and shows nothing of its content.
pub fn item_lines(i: &Value) -> String {
    let pad = "  ".repeat(i["depth"].as_u64().unwrap_or(0).min(16) as usize);
    let id = i["id"].as_str().unwrap_or("");
    let author = clean(i["author"].as_str().unwrap_or("(gone)"));
    if i["verified"] != true {
        let why = i["problem"].as_str().unwrap_or("unknown");
        return format!("{pad}[{id}] ✗ FAILED VERIFICATION ({author}): {why}");
    }
    if let Some(g) = i["gone"].as_str() {
        return format!("{pad}[{id}] ({g})");
    }
    let when =
        i["created_ms"].as_u64().map(Value::from).and_then(|v| time_ms(&v)).unwrap_or_default();
    let mut head = format!("{pad}[{id}] {author} {when}");
    if i["edited"] == true {
        head.push_str(" (edited)");
    }
    head.push_str(&format!(" ♥{}", i["likes"]));
    if i["liked"] == true {
        head.push('*');
    }
    let mut out = vec![head];
    if let Some(t) = i["title"].as_str().filter(|t| !t.is_empty()) {
        let comments = i["comments"].as_i64().unwrap_or(0);
        out.push(format!("{pad}  # {} ({comments} comments)", clean(t)));
    }
    for (key, label) in [("repost_of", "repost of"), ("quote_of", "quoting")] {
        if let Some(r) = i[key].as_str() {
            out.push(format!("{pad}  ↪ {label} {r}"));
        }
    }
    if let Some(l) = i["link"].as_str().filter(|l| !l.is_empty()) {
        out.push(format!("{pad}  {}", clean(l)));
    }
    for (n, a) in i["attachments"].as_array().into_iter().flatten().enumerate() {
        out.push(format!(
            "{pad}  📎 [{n}] {} ({})",
            clean(a["name"].as_str().unwrap_or("")),
            crate::output::size(a["size"].as_u64().unwrap_or(0))
        ));
    }
    for line in i["text"].as_str().unwrap_or("").lines() {
        out.push(format!("{pad}  {}", clean(line)));
    }
    out.join("\n")
}

fn entry_line(e: &Value) -> String {
    let about = e["item"].as_str().or(e["account_name"].as_str()).unwrap_or("");
    format!(
        "{} {} {} {}{}",
        clean(e["by"].as_str().unwrap_or("(gone)")),
        e["action"].as_str().unwrap_or("?"),
        clean(about),
        clean(e["note"].as_str().unwrap_or("")),
        if e["verified"] == true { "" } else { "  ✗ not signed by a moderator" },
    )
}

fn done(v: &Value) {
    match v["state"].as_str() {
        Some("pending") => println!("asked to join; a moderator will decide"),
        Some(s) => println!("{s}"),
        None => println!("done: {}", v["id"].as_str().unwrap_or("")),
    }
}

impl Community {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        use Community as C;
        let items = |v: &Value| list(v, "nothing here yet", item_lines);
        match self {
            C::Search { query } => remote::run(ctx, "community_list", json!({ "q": query }), |v| {
                list(v, "no community found", community_line)
            }),
            C::List => remote::run(ctx, "community_joined", json!({}), |v| {
                list(v, "you are in no community yet", community_line)
            }),
            C::Show { name } => remote::run(ctx, "community", json!({ "name": name }), |c| {
                println!("{}", community_line(c));
                for key in ["description", "rules"] {
                    if let Some(t) = c[key].as_str().filter(|t| !t.is_empty()) {
                        println!("{key}: {}", clean(t));
                    }
                }
                println!(
                    "owner: {}; who may post: {}",
                    clean(c["owner"].as_str().unwrap_or("")),
                    c["post_policy"]
                );
                let mods: Vec<String> = c["moderators"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m.as_str().map(clean))
                    .collect();
                if !mods.is_empty() {
                    println!("moderators: {}", mods.join(", "));
                }
            }),
            C::Create { name, settings } => {
                remote::run(ctx, "community_create", settings.json(name), done)
            }
            C::Settings { name, settings } => {
                remote::run(ctx, "community_settings", settings.json(name), done)
            }
            C::Join { name, note } => {
                remote::run(ctx, "community_join", json!({ "name": name, "note": note }), done)
            }
            C::Leave { name } => {
                remote::run(ctx, "community_join", json!({ "name": name, "join": false }), done)
            }
            C::Archive { name } => close(ctx, name, "archive"),
            C::Reopen { name } => close(ctx, name, "reopen"),
            C::Delete { name } => close(ctx, name, "delete"),
            C::Posts { name, sort, offset } => remote::run(
                ctx,
                "community_posts",
                json!({ "name": name, "sort": sort, "offset": offset }),
                items,
            ),
            C::Find { name, query } => {
                remote::run(ctx, "community_search", json!({ "name": name, "q": query }), items)
            }
            C::Edit { item, text, title } => remote::run(
                ctx,
                "community_edit",
                json!({ "item": item, "text": text, "title": title }),
                done,
            ),
            C::History { item } => {
                remote::run(ctx, "community_edits", json!({ "item": item }), |v| {
                    list(v, "never edited", |e| {
                        format!(
                            "{} {}",
                            clean(e["title"].as_str().unwrap_or("")),
                            clean(e["text"].as_str().unwrap_or(""))
                        )
                    })
                })
            }
            C::Fetch { item, index, to } => {
                let p = json!({ "item": item, "index": index, "dir": to.as_ref().map(|d| absolute(d)) });
                remote::run(ctx, "community_fetch", p, |v| {
                    println!("saved {}", v["path"].as_str().unwrap_or(""));
                })
            }
            C::Retract { item } => {
                remote::run(ctx, "community_delete", json!({ "item": item }), done)
            }
            C::Mod { name, action, on, note } => remote::run(
                ctx,
                "community_moderate",
                json!({ "name": name, "action": action, "on": on, "note": note }),
                done,
            ),
            C::Reports { name } => {
                remote::run(ctx, "community_reports", json!({ "name": name }), |v| {
                    list(v, "no open reports", entry_line)
                })
            }
            C::Requests { name } => {
                remote::run(ctx, "community_requests", json!({ "name": name }), |v| {
                    list(v, "no requests", |r| {
                        format!(
                            "{} {}",
                            clean(r["username"].as_str().unwrap_or("")),
                            clean(r["note"].as_str().unwrap_or(""))
                        )
                    })
                })
            }
            C::Log { name } => remote::run(ctx, "community_modlog", json!({ "name": name }), |v| {
                list(v, "no moderator actions", entry_line)
            }),
        }
    }
}

/// A path as the daemon (whose working directory differs) must see it.
fn absolute(p: &std::path::Path) -> String {
    std::path::absolute(p).unwrap_or_else(|_| p.to_owned()).display().to_string()
}

fn close(ctx: &Context, name: &str, how: &str) -> anyhow::Result<()> {
    remote::run(ctx, "community_close", json!({ "name": name, "how": how }), done)
}

/// Post in a community.
#[derive(Debug, Args)]
pub struct Post {
    /// The community.
    community: String,
    /// The title.
    title: String,
    /// The text.
    #[arg(default_value = "")]
    text: String,
    /// A link (http or https).
    #[arg(long, default_value = "")]
    link: String,
    /// Reply with a post that quotes this post or comment (its id).
    #[arg(long, value_name = "ID")]
    quote: Option<String>,
    /// Attach a file or image (repeat for several, at most 8 of 64 MiB).
    #[arg(long = "attach", value_name = "FILE")]
    files: Vec<std::path::PathBuf>,
}

impl Post {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let p = json!({
            "name": self.community, "title": self.title, "text": self.text,
            "link": self.link, "quote_of": self.quote,
            "files": self.files.iter().map(|f| absolute(f)).collect::<Vec<_>>(),
        });
        remote::run(ctx, "community_post", p, done)
    }
}

/// Repost a post into a community (the same or another).
#[derive(Debug, Args)]
pub struct Repost {
    /// The post's id.
    post: String,
    /// The community to repost into.
    #[arg(long)]
    to: String,
    /// A title for the repost.
    #[arg(long, default_value = "Repost")]
    title: String,
    /// A few words of your own.
    #[arg(long, default_value = "")]
    text: String,
}

impl Repost {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let p = json!({ "name": self.to, "title": self.title, "text": self.text, "repost_of": self.post });
        remote::run(ctx, "community_post", p, done)
    }
}

/// Comment on a post, or answer a comment.
#[derive(Debug, Args)]
pub struct Comment {
    /// The post's or comment's id.
    on: String,
    /// The text.
    text: String,
}

impl Comment {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        remote::run(ctx, "community_comment", json!({ "on": self.on, "text": self.text }), done)
    }
}

/// Like a post or comment (or take the like back).
#[derive(Debug, Args)]
pub struct Like {
    /// The post's or comment's id.
    item: String,
    /// Take your like back.
    #[arg(long)]
    undo: bool,
}

impl Like {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        remote::run(ctx, "community_like", json!({ "item": self.item, "liked": !self.undo }), done)
    }
}

/// Report a post or comment to the community's moderators.
#[derive(Debug, Args)]
pub struct Report {
    /// The post's or comment's id.
    item: String,
    /// Why.
    reason: String,
}

impl Report {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        remote::run(
            ctx,
            "community_report",
            json!({ "item": self.item, "reason": self.reason }),
            done,
        )
    }
}

/// Posts across the communities you are in.
#[derive(Debug, Args)]
pub struct Feed {
    /// new, top or active.
    #[arg(long, default_value = "new")]
    sort: String,
    /// Posts to skip.
    #[arg(long, default_value_t = 0)]
    offset: i64,
}

impl Feed {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        remote::run(
            ctx,
            "community_feed",
            json!({ "sort": self.sort, "offset": self.offset }),
            |v| list(v, "nothing new in your communities", item_lines),
        )
    }
}

/// A post with its comments as a tree.
#[derive(Debug, Args)]
pub struct Thread {
    /// The post's (or one of its comments') id.
    post: String,
}

impl Thread {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        remote::run(ctx, "community_thread", json!({ "post": self.post }), |v| {
            list(v, "no such thread", item_lines)
        })
    }
}
