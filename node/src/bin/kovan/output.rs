//! The one output layer: every command prints through it. With `--json`
//! a command prints the JSON value (the daemon's answer as it came); else
//! text, built from the line formatters below that several commands share.
//! Errors print here too, with their kind.

use kovan_node::control::ClientError;
use serde_json::{Value, json};

/// Prints `v`: as JSON with `--json`, else as `text` writes it.
pub fn print_value(json: bool, v: &Value, text: impl FnOnce(&Value)) {
    if json {
        println!("{v}");
    } else {
        text(v);
    }
}

/// The text of a list: one `line` per item, or `empty` when there is none.
pub fn list(v: &Value, empty: &str, line: impl Fn(&Value) -> String) {
    let list = v.as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        println!("{empty}");
    }
    for item in list {
        println!("{}", line(&item));
    }
}

/// Prints a command's error — with `--json` an object with the message and
/// its kind (a node error's kind, or the daemon's; `no_daemon` when none
/// runs) on stdout, else a line on stderr — and gives the exit code.
pub fn error(json: bool, e: &anyhow::Error) -> std::process::ExitCode {
    let kind =
        e.downcast_ref::<kovan_node::Error>().map(|e| format!("{:?}", e.kind())).or_else(|| {
            match e.downcast_ref::<ClientError>() {
                Some(ClientError::Failed { kind, .. }) => Some(kind.clone()),
                Some(ClientError::NoDaemon(_)) => Some("no_daemon".into()),
                _ => None,
            }
        });
    let message = chain(e);
    if json {
        println!("{}", json!({ "error": message, "kind": kind }));
    } else {
        eprintln!("error: {message}");
    }
    std::process::ExitCode::FAILURE
}

/// An error and its causes in one line, each cause said once: an error
/// whose text already ends with its cause's ("reading x: Not a directory")
/// does not get it again.
pub fn chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.ends_with(&text) || out.contains(&format!("{text}:")) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// Something the user typed, quoted and cut to 48 characters for an error.
pub fn shown(s: &str) -> String {
    kovan_node::node::shown(s)
}

/// A transfer's progress: done of size, and the percentage.
pub fn progress(f: &Value) -> String {
    let size_b = f["size"].as_u64().unwrap_or(0);
    let done = f["done"].as_u64().unwrap_or(0);
    let pct = 100.0 * done as f64 / size_b.max(1) as f64;
    format!("{} / {} ({pct:3.0} %)", size(done), size(size_b))
}

/// A file, sent or received, in one line: id, direction, name, size, state
/// and what follows from it (relay copy, progress, path, error).
pub fn file_line(f: &Value) -> String {
    let dir = if f["outgoing"].as_bool() == Some(true) { "sent" } else { "recv" };
    let mut line = format!(
        "{} {} {:<24} {:>8} {:<11}",
        f["id"].as_str().unwrap_or(""),
        dir,
        f["name"].as_str().unwrap_or(""),
        size(f["size"].as_u64().unwrap_or(0)),
        f["state"].as_str().unwrap_or(""),
    );
    if f["outgoing"].as_bool() == Some(true) {
        line.push_str(&format!(" relay copy: {}", f["upload"].as_str().unwrap_or("")));
    } else if f["state"] == "downloading" || f["state"] == "waiting" {
        line.push_str(&format!(" {}", progress(f)));
    }
    match f["via"].as_str() {
        Some("call") => line.push_str(" over the call"),
        Some("link") => line.push_str(" over a data link"),
        Some("direct") => line.push_str(" from the sender"),
        Some("relay") => line.push_str(" from the relay"),
        _ => {}
    }
    if let Some(p) = f["path"].as_str() {
        line.push_str(&format!(" {p}"));
    }
    if let Some(e) = f["error"].as_str() {
        line.push_str(&format!(" ({e})"));
    }
    line
}

/// A contact in one line: state, name, short id and flags.
pub fn contact_line(c: &Value) -> String {
    let name = match (c["username"].as_str(), c["display_name"].as_str().unwrap_or("")) {
        (Some(u), "") => format!("@{u}"),
        (Some(u), d) => format!("{d} (@{u})"),
        (None, d) if !d.is_empty() => d.to_owned(),
        _ => c["short_id"].as_str().unwrap_or("?").to_owned(),
    };
    let mut flags = Vec::new();
    if c["blocked"].as_bool() == Some(true) {
        flags.push("blocked");
    }
    if c["verified"].as_bool() == Some(true) {
        flags.push("verified");
    }
    if c["identity_changed"].as_bool() == Some(true) {
        flags.push("IDENTITY CHANGED — compare safety numbers");
    }
    let mut line = format!(
        "{:<10} {:<28} {} {}",
        c["state"].as_str().unwrap_or(""),
        name,
        c["short_id"].as_str().unwrap_or(""),
        flags.join(", ")
    );
    if let Some(note) = c["note"].as_str().filter(|n| !n.is_empty()) {
        line.push_str(&format!("\n           “{note}”"));
    }
    line
}

/// Milliseconds since the Unix epoch as an RFC 3339 UTC time (as a number
/// past the year 9999, which RFC 3339 cannot write).
fn time_utc(ms: i64) -> String {
    if ms > kovan_spec::limits::MAX_TIME_MS as i64 {
        return format!("{ms} ms after 1970");
    }
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(at).to_string()
}

/// A scheduled message in one line.
pub fn scheduled_line(v: &Value) -> String {
    let due = v["due_at"].as_i64().unwrap_or(0);
    let what = match v["content"]["type"].as_str() {
        Some("poll") => format!("[poll] {}", v["content"]["question"].as_str().unwrap_or("")),
        _ => v["content"]["text"].as_str().unwrap_or("").to_owned(),
    };
    format!(
        "{} {:<9}{} {} {}",
        time_utc(due),
        v["state"].as_str().unwrap_or(""),
        if v["late"].as_bool() == Some(true) { " (late)" } else { "" },
        what,
        v["id"].as_str().unwrap_or("")
    )
}

/// A conditional message's file as a line shows it: sealed with its size,
/// or opened with its name and where it is.
fn conditional_file(f: &Value) -> String {
    if f.is_null() {
        return String::new();
    }
    match (f["state"].as_str().unwrap_or(""), f["name"].as_str()) {
        ("open", Some(name)) => {
            format!(" [file {name}, {} bytes: {}]", f["size"], f["path"].as_str().unwrap_or(""))
        }
        ("failed", Some(name)) => {
            format!(" [file {name}: {}]", f["error"].as_str().unwrap_or("it did not open"))
        }
        ("opening", Some(name)) => format!(" [file {name}, {} bytes: opening]", f["size"]),
        (_, Some(name)) => format!(
            " [file {name}, {} bytes: opens once its sealed bytes are here ({})]",
            f["size"],
            f["transfer_state"].as_str().unwrap_or("")
        ),
        (_, None) => format!(
            " [sealed file, {} bytes ({}), transfer {}]",
            f["sealed_size"],
            f["transfer_state"].as_str().unwrap_or(""),
            f["transfer"].as_str().unwrap_or("")
        ),
    }
}

/// A message in one line: its cursor, who sent it, what it holds (text, or
/// a summary of a location, poll, image, voice note or file), its state,
/// reactions and id.
pub fn message_line(m: &Value) -> String {
    let who = if m["outgoing"].as_bool() == Some(true) { "me" } else { "them" };
    let text = match m["kind"].as_str() {
        Some("deleted") => "(deleted)".to_owned(),
        Some("call") => {
            let c = &m["call"];
            let reason = c["reason"].as_str().unwrap_or("");
            match c["duration_ms"].as_i64() {
                Some(ms) => format!("[call, {}:{:02}]", ms / 60_000, ms / 1000 % 60),
                None if reason == "missed" => "[missed call]".to_owned(),
                None => format!("[call, {}]", reason.replace('_', " ")),
            }
        }
        Some("unsupported") => "(unsupported message — update kovan)".to_owned(),
        Some("locked") => "(sealed — unlock the chat to read it)".to_owned(),
        Some("location") => {
            let l = &m["location"];
            let live = match (l["live"].as_bool(), l["active"].as_bool()) {
                (Some(true), Some(true)) => " live",
                (Some(true), _) => " ended",
                _ => "",
            };
            format!(
                "[location{live}] {:.6}, {:.6} {}",
                l["lat"].as_f64().unwrap_or(0.0),
                l["lon"].as_f64().unwrap_or(0.0),
                l["label"].as_str().unwrap_or("")
            )
        }
        Some("poll") => format!(
            "[poll{}] {}",
            if m["poll"]["closed"].as_bool() == Some(true) { ", closed" } else { "" },
            m["text"].as_str().unwrap_or("")
        ),
        Some("conditional") => {
            let c = &m["conditional"];
            let waits: Vec<&str> = c["waits_for"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|w| w.as_str())
                .collect();
            let file = conditional_file(&c["file"]);
            match m["text"].as_str() {
                Some(text) => format!("[opened: {}]{file} {text}", waits.join(" + ")),
                None => format!(
                    "[sealed until: {}{}{}]{file} {} ({})",
                    waits.join(" + "),
                    match c["area"]["radius_m"].as_u64() {
                        Some(r) =>
                            format!(" within {r} m of {},{}", c["area"]["lat"], c["area"]["lon"]),
                        None => String::new(),
                    },
                    match c["members"]["threshold"].as_u64() {
                        Some(k) => format!(", {} of {k} agreed", c["members"]["released"]),
                        None => String::new(),
                    } + &match c["members"]["due_at"].as_i64() {
                        Some(at) => format!(", released by their apps at {}", time_utc(at)),
                        None => String::new(),
                    } + &relays_line(&c["relays"]),
                    c["hint"].as_str().unwrap_or(""),
                    {
                        let m = &c["members"];
                        let by_hand = m["release_at_ms"].is_null() && m["silence_ms"].is_null();
                        if m["mine"] == true && m["agreed"] == false && by_hand {
                            "kovan agree"
                        } else {
                            "kovan open"
                        }
                    }
                ),
            }
        }
        Some("image") => format!(
            "[image {}×{} {}] {}",
            m["file"]["image"]["width"],
            m["file"]["image"]["height"],
            m["file"]["name"].as_str().unwrap_or(""),
            m["file"]["caption"].as_str().unwrap_or("")
        ),
        Some("voice") => format!(
            "[voice {:.1} s {}] {}",
            m["file"]["voice"]["duration_ms"].as_f64().unwrap_or(0.0) / 1000.0,
            m["file"]["name"].as_str().unwrap_or(""),
            m["file"]["caption"].as_str().unwrap_or("")
        ),
        Some("file") => format!(
            "[file {} {}] {}",
            m["file"]["name"].as_str().unwrap_or(""),
            size(m["file"]["size"].as_u64().unwrap_or(0)),
            m["file"]["caption"].as_str().unwrap_or("")
        ),
        _ => m["text"].as_str().unwrap_or("").to_owned(),
    };
    let reactions: Vec<String> = m["reactions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| format!("{}{}", r["emoji"].as_str().unwrap_or(""), r["count"]))
        .collect();
    let edited = if m["edited_at"].is_null() { "" } else { " (edited)" };
    let file = match m["file"]["id"].as_str() {
        Some(id) => format!(" file {id}"),
        None => String::new(),
    };
    format!(
        "{} {:<4} {}{} [{}] {} id {}{file}",
        time_ms(&m["sent_at"]).unwrap_or_default(),
        who,
        text,
        edited,
        m["state"].as_str().unwrap_or(""),
        reactions.join(" "),
        m["id"].as_str().unwrap_or("")
    )
}

/// A time in ms since the epoch, for people: local date and time to the
/// minute ("2026-12-04 21:42").
pub fn time_ms(v: &Value) -> Option<String> {
    let ts = jiff::Timestamp::from_millisecond(v.as_i64()?).ok()?;
    Some(ts.to_zoned(jiff::tz::TimeZone::system()).strftime("%Y-%m-%d %H:%M").to_string())
}

/// The same for Unix seconds.
pub fn time_secs(secs: u64) -> Option<String> {
    time_ms(&Value::from(i64::try_from(secs).ok()?.checked_mul(1000)?))
}

/// A session of the account on the relay, in one line.
pub fn session_line(s: &Value) -> String {
    let device = s["device_peer_id"].as_str().unwrap_or("");
    let short = device.get(device.len().saturating_sub(8)..).unwrap_or(device);
    let mut line = format!(
        "{} device …{short}  signed in {}, last used {}",
        s["id"].as_str().unwrap_or(""),
        time_ms(&s["created_at"]).unwrap_or_default(),
        time_ms(&s["last_used_at"]).unwrap_or_default()
    );
    if s["current"].as_bool() == Some(true) {
        line.push_str("  (this one)");
    }
    line
}

/// One recipient's receipts for a message: who, how far, since when.
pub fn receipt_line(r: &Value) -> String {
    let name = r["name"].as_str().unwrap_or("");
    let mut line = format!("{name:<24} {}", r["state"].as_str().unwrap_or(""));
    if let Some(t) = time_ms(&r["seen_at"]) {
        line.push_str(&format!("  read {t}"));
    }
    if let Some(t) = time_ms(&r["delivered_at"]) {
        line.push_str(&format!("  delivered {t}"));
    }
    line
}

/// The text of an answer that is one message.
pub fn print_message(m: &Value) {
    println!("{}", message_line(m));
}

/// A call in one line: id, direction and who, where it is (or how it
/// ended and how long it lasted), and live levels while it runs.
pub fn call_line(c: &Value) -> String {
    let id = c["id"].as_str().unwrap_or("");
    let who = c["peer_name"].as_str().filter(|n| !n.is_empty()).unwrap_or("?");
    let dir = if c["outgoing"].as_bool() == Some(true) { "to  " } else { "from" };
    let state = c["state"].as_str().unwrap_or("");
    let detail = match (state, c["reason"].as_str()) {
        ("ended", Some(reason)) => {
            let talked = c["answered_at"].as_i64().zip(c["ended_at"].as_i64());
            match talked {
                Some((a, e)) => {
                    let s = (e - a).max(0) / 1000;
                    format!("ended ({reason}) after {}:{:02}", s / 60, s % 60)
                }
                None => format!("ended ({reason})"),
            }
        }
        ("ringing", _) => "ringing (answer with `kovan answer`, or `kovan reject`)".into(),
        (s, _) => s.to_owned(),
    };
    let audio = &c["audio"];
    let levels = if audio.is_object() {
        format!(
            ", level out {} in {}{}",
            audio["level_out"].as_u64().unwrap_or(0),
            audio["level_in"].as_u64().unwrap_or(0),
            if audio["muted"].as_bool() == Some(true) { ", muted" } else { "" }
        )
    } else {
        String::new()
    };
    let feed = |v: &Value, what: &str| {
        let on = v["on"].as_bool() == Some(true);
        if !v.is_object() || !(on || v["shown"].as_u64().unwrap_or(0) > 0) {
            return String::new();
        }
        let side = |size: &Value| size.as_str().unwrap_or("off").to_owned();
        let out = if on { side(&v["size_out"]) } else { "off".into() };
        format!(
            ", {what} out {out} at {} kbit/s, in {} ({} shown)",
            v["kbps"].as_u64().unwrap_or(0),
            side(&v["size_in"]),
            v["shown"].as_u64().unwrap_or(0)
        )
    };
    let video = feed(&c["video"], "video") + &feed(&c["screen"], "screen");
    format!("{id} {dir} {who:<16} {detail}{levels}{video}")
}

/// A group in one line: id, name, members, state, whether you are admin.
pub fn group_line(g: &Value) -> String {
    format!(
        "{} {:<24} {}, {}{}{}",
        g["id"].as_str().unwrap_or(""),
        g["name"].as_str().unwrap_or(""),
        count(g["members"].as_array().map(|m| m.len()).unwrap_or(0) as u64, "member"),
        g["state"].as_str().unwrap_or(""),
        if g["admin"].as_bool() == Some(true) { ", you are admin" } else { "" },
        if g["mode"] == "direct_only" { ", direct only" } else { "" }
    )
}

/// A group invitation, sent or received, in one line.
pub fn invitation_line(i: &Value) -> String {
    format!(
        "{} {} {:<20} {} {} ({}) {}",
        i["id"].as_str().unwrap_or(""),
        if i["incoming"].as_bool() == Some(true) { "from" } else { "to  " },
        i["name"].as_str().unwrap_or(""),
        if i["incoming"].as_bool() == Some(true) { "invites you to" } else { "invited to" },
        i["group_name"].as_str().unwrap_or(""),
        count(i["members"].as_u64().unwrap_or(0), "member"),
        i["state"].as_str().unwrap_or("")
    )
}

/// "1 member", "3 members".
pub fn count(n: u64, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

/// A byte count for people: "512 B", "12 KB", "3.4 MB", "1.2 GB" (1 KB
/// = 1,000 bytes, as file managers show them).
pub fn size(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{} KB", bytes / 1_000),
        1_000_000..1_000_000_000 => format!("{:.1} MB", bytes as f64 / 1e6),
        _ => format!("{:.1} GB", bytes as f64 / 1e9),
    }
}

/// What a sealed message's relays (SPEC.md §6.10.6) said, for its line.
fn relays_line(r: &Value) -> String {
    let Some(k) = r["threshold"].as_u64() else { return String::new() };
    let n = r["relays"].as_array().map_or(0, Vec::len);
    let mut out = format!(", {} of {k} needed from {n} relays", r["released"]);
    if let Some(at) = r["release_at_ms"].as_i64() {
        out += &format!(", not before {}", time_utc(at));
    }
    if let Some(ms) = r["silence_ms"].as_u64() {
        out += &format!(
            ", after {} of silence",
            humantime::format_duration(std::time::Duration::from_secs(ms / 1000))
        );
    }
    match r["state"].as_str() {
        Some("cancelled") => out += ", cancelled by its sender",
        Some("failed") => out += ", the relays never released it",
        _ => {}
    }
    out
}
