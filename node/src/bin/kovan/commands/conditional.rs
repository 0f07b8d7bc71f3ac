//! Conditional messages (X4, SPEC.md §6.10): `send --password/--area/
//! --holders/--relays [--not-before] [--dead-man]`, `open`, `agree`,
//! `check-in`. A password comes from --password-file, KOVAN_MESSAGE_PASSWORD or
//! a prompt, and goes to the local daemon only.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use serde_json::{Value, json};

use crate::output::message_line;
use crate::{Context, remote, secret};

/// The conditions `kovan send` can put on a message.
#[derive(Debug, Args)]
pub struct SendLocks {
    /// Seal the message with a password: it opens only where the password
    /// is typed (read from --password-file, KOVAN_MESSAGE_PASSWORD or a
    /// prompt).
    #[arg(long)]
    password: bool,
    /// File holding the message's password (first line).
    #[arg(long, value_name = "FILE", requires = "password")]
    password_file: Option<PathBuf>,
    /// Open only inside this circle: "LAT,LON,RADIUS_M" (10 m to 100 km).
    /// Only the recipient's app checks it: their position is their word.
    #[arg(long, value_name = "LAT,LON,RADIUS_M")]
    area: Option<String>,
    /// Open only once members of the group agree: 2 to 16 of them, by name
    /// or @handle, separated by commas ("ali,ayse,@can"). Each gets a share
    /// of the key; fewer than --agree shares say nothing about it.
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    holders: Vec<String>,
    /// How many of --holders must agree (`kovan agree`): 2 up to all of
    /// them, which is the default.
    #[arg(long, value_name = "K", requires = "holders")]
    agree: Option<u8>,
    /// Leave the key with relays (1 to 8 base URLs separated by commas;
    /// "mine" is your own relay): each releases its share by itself when
    /// --not-before and/or --dead-man say, by its own clock. Any relay
    /// that offers it will do; you need no account there.
    #[arg(long, value_name = "URLS", value_delimiter = ',')]
    relays: Vec<String>,
    /// How many of --relays must release: 1 up to all of them; the default
    /// is a majority (2 of 3), so that one relay alone learns nothing and
    /// one lost relay loses nothing.
    #[arg(long, value_name = "K", requires = "relays")]
    relays_needed: Option<u8>,
    /// The holders' apps (or the relays) release their shares by
    /// themselves, not before this time ("+3d", "2027-01-01T09:00:00Z");
    /// nobody agrees by hand.
    #[arg(long, value_name = "WHEN")]
    not_before: Option<String>,
    /// A dead man's switch: the holders' apps (or the relays) release
    /// their shares by themselves once you have been silent this long
    /// ("7d"; 1h to 366d). `kovan check-in` resets it.
    #[arg(long, value_name = "DURATION")]
    dead_man: Option<String>,
    /// A hint shown while it is sealed.
    #[arg(long, value_name = "TEXT")]
    hint: Option<String>,
}

/// "LAT,LON" or "LAT,LON,RADIUS" as numbers.
fn numbers(s: &str, want: usize) -> anyhow::Result<Vec<f64>> {
    let n: Vec<f64> = s.split(',').map(|x| x.trim().parse::<f64>()).collect::<Result<_, _>>()?;
    if n.len() != want {
        anyhow::bail!("give {want} numbers separated by commas");
    }
    Ok(n)
}

/// The message's password when `ask`ed for (typed twice when `confirm`).
fn password(
    ask: bool,
    file: Option<&PathBuf>,
    confirm: bool,
) -> anyhow::Result<Option<zeroize::Zeroizing<String>>> {
    ask.then(|| secret::read(file, "KOVAN_MESSAGE_PASSWORD", "Message password: ", confirm))
        .transpose()
}

impl SendLocks {
    /// Whether any condition was asked for.
    pub fn any(&self) -> bool {
        // --not-before or --dead-man alone is an error `send` reports.
        self.password
            || self.area.is_some()
            || !self.holders.is_empty()
            || !self.relays.is_empty()
            || self.not_before.is_some()
            || self.dead_man.is_some()
    }

    /// Sends `text` (with the file at `file`, an absolute path) under
    /// these conditions.
    pub fn send(
        &self,
        ctx: &Context,
        to: &str,
        text: &str,
        file: Option<&std::path::Path>,
    ) -> anyhow::Result<()> {
        let area = match &self.area {
            Some(a) => {
                let n = numbers(a, 3)?;
                Some(json!({ "lat": n[0], "lon": n[1], "radius_m": n[2] as u64 }))
            }
            None => None,
        };
        let release_at = self.not_before.as_deref().map(super::schedule::when).transpose()?;
        let silence = match self.dead_man.as_deref() {
            Some(d) => Some(
                humantime::parse_duration(d.trim())
                    .with_context(|| format!("--dead-man {d:?}: not a duration like 7d"))?
                    .as_millis() as u64,
            ),
            None => None,
        };
        if (self.not_before.is_some() || self.dead_man.is_some())
            && self.holders.is_empty()
            && self.relays.is_empty()
        {
            anyhow::bail!("--not-before and --dead-man say when --holders or --relays release");
        }
        let relays = (!self.relays.is_empty()).then(|| {
            let n = u8::try_from(self.relays.len()).unwrap_or(u8::MAX);
            json!({
                "relays": self.relays, "threshold": self.relays_needed.unwrap_or(n / 2 + 1),
                "release_at_ms": release_at, "silence_ms": silence,
            })
        });
        let agree = (!self.holders.is_empty()).then(|| {
            let all = u8::try_from(self.holders.len()).unwrap_or(u8::MAX);
            json!({
                "holders": self.holders, "threshold": self.agree.unwrap_or(all),
                "release_at_ms": release_at, "silence_ms": silence,
            })
        });
        let password = password(self.password, self.password_file.as_ref(), true)?;
        let params = json!({
            "to": to, "text": text, "area": area, "hint": self.hint, "agree": agree, "relays": relays,
            "password": password.as_ref().map(|p| p.as_str()), "path": file,
        });
        remote::run(ctx, "send_conditional", params, |v| println!("{}", message_line(v)))
    }
}

/// Open a conditional message: with its password, and inside its area
/// with your position.
#[derive(Debug, Args)]
pub struct Open {
    /// A contact or conversation id.
    with: String,
    /// The message id.
    message: String,
    /// It opens with a password (read from --password-file,
    /// KOVAN_MESSAGE_PASSWORD or a prompt).
    #[arg(long)]
    password: bool,
    /// File holding the password (first line).
    #[arg(long, value_name = "FILE", requires = "password")]
    password_file: Option<PathBuf>,
    /// Where you are, for a message that opens inside an area: "LAT,LON".
    #[arg(long, value_name = "LAT,LON")]
    here: Option<String>,
}

impl Open {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let here = self.here.as_deref().map(|h| numbers(h, 2)).transpose()?;
        let password = password(self.password, self.password_file.as_ref(), false)?;
        let params = json!({
            "with": self.with, "message": self.message,
            "password": password.as_ref().map(|p| p.as_str()),
            "lat": here.as_ref().map(|h| h[0]), "lon": here.as_ref().map(|h| h[1]),
        });
        remote::run(ctx, "open_conditional", params, |v: &Value| {
            println!("{}", message_line(v));
            println!("{}", v["text"].as_str().unwrap_or(""));
        })
    }
}

/// Agree to open a message sealed until enough of its members agree: your
/// share of its key goes to the group.
#[derive(Debug, Args)]
pub struct Agree {
    /// The group (name or conversation id).
    with: String,
    /// The message id.
    message: String,
}

impl Agree {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let params = json!({ "with": self.with, "message": self.message });
        remote::run(ctx, "release_share", params, |v: &Value| {
            println!("{}", message_line(v));
            let m = &v["conditional"]["members"];
            println!(
                "{} of {} agreed ({} needed)",
                m["released"],
                m["holders"].as_array().map_or(0, Vec::len),
                m["threshold"]
            );
            if let Some(text) = v["text"].as_str() {
                println!("{text}");
            }
        })
    }
}

/// Check in on a message with a dead man's switch you sent: its holders
/// count your silence again from now.
#[derive(Debug, Args)]
pub struct CheckIn {
    /// The group (name or conversation id).
    with: String,
    /// The message id.
    message: String,
}

impl CheckIn {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let params = json!({ "with": self.with, "message": self.message });
        remote::run(ctx, "check_in", params, |v: &Value| println!("{}", message_line(v)))
    }
}
