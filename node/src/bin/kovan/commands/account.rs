//! The account and this device: `init`, `whoami`, `passwd` (the local
//! identity), and on the relay `register`, `login`, `logout`, `settings`,
//! `sessions`, `change-password`, `avatar`, `delete-account`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use kovan_node::identity::Identity;
use kovan_node::store::Database;
use serde_json::json;
use zeroize::Zeroizing;

use crate::{Context, output, remote, secret};

/// Create a new identity (account and this device) in the home directory.
/// The passphrase (at least 8 characters; a few words are best) protects
/// the keys on this device.
#[derive(Debug, Args)]
pub struct Init {
    /// Name this device is certified under (e.g. laptop). Default: from
    /// the config file, else the machine's host name.
    #[arg(long)]
    device_name: Option<String>,
    /// Your name as people you befriend see it (kept in kovan.toml; the
    /// relay account's display name works too).
    #[arg(long)]
    name: Option<String>,
}

impl Init {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        // Before asking for anything: is there an identity here already?
        if ctx.home.keystore().exists() {
            return Err(kovan_node::Error::AlreadyExists(ctx.home.keystore()).into());
        }
        let name = self.device_name.clone().unwrap_or(ctx.config.device_name.clone());
        let passphrase = ctx.passphrase(true)?;
        secret::check_passphrase(&passphrase)?;
        if let Some(display) = &self.name {
            ctx.home.ensure()?;
            kovan_node::config::NodeConfig::save_display_name(&ctx.home, Some(display))?;
        }
        if !ctx.json {
            eprintln!("Deriving the keystore key (Argon2id, 64 MiB)…");
        }
        let id = Identity::create(&ctx.home, passphrase.as_bytes(), &name)?;
        Database::open(&ctx.home.database())?;
        print_identity(ctx, &id);
        Ok(())
    }
}

/// Unlock the identity and show who you are.
#[derive(Debug, Args)]
pub struct Whoami;

impl Whoami {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let id = ctx.unlock()?;
        print_identity(ctx, &id);
        Ok(())
    }
}

fn print_identity(ctx: &Context, id: &Identity) {
    let cert = id.certificate();
    let v = json!({
        "account": id.account().to_string(),
        "peer_id": id.peer_id(),
        "device_name": cert.device_name(),
        "certificate_expires": cert.not_after(),
        "holds_account_key": id.holds_account_key(),
        "home": ctx.home.root(),
    });
    output::print_value(ctx.json, &v, |_| {
        println!("account      {}", id.account());
        println!("device       {} ({})", id.peer_id(), cert.device_name());
        let until = output::time_secs(cert.not_after()).unwrap_or_else(|| "?".into());
        println!("certificate  valid until {until}");
        println!("home         {}", ctx.home.root().display());
    });
}

/// Change the keystore passphrase. The new one is read from
/// --new-passphrase-file, KOVAN_NEW_PASSPHRASE, or asked for.
#[derive(Debug, Args)]
pub struct Passwd {
    /// File holding the new passphrase.
    #[arg(long, value_name = "FILE")]
    new_passphrase_file: Option<PathBuf>,
}

impl Passwd {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let id = ctx.unlock()?;
        let new = secret::read(
            self.new_passphrase_file.as_ref(),
            "KOVAN_NEW_PASSPHRASE",
            "New passphrase: ",
            true,
        )?;
        secret::check_passphrase(&new)?;
        id.change_passphrase(&ctx.home, new.as_bytes())?;
        output::print_value(ctx.json, &json!({ "changed": true }), |_| {
            println!("Passphrase changed.")
        });
        Ok(())
    }
}

/// The relay password: from `file`, KOVAN_PASSWORD or a prompt.
fn password(file: &Option<PathBuf>) -> anyhow::Result<Zeroizing<String>> {
    secret::read(file.as_ref(), "KOVAN_PASSWORD", "Relay password: ", false)
}

/// A username and where its password comes from.
#[derive(Debug, Args)]
struct Credentials {
    /// The username: 3 to 32 of a-z, 0-9, '_' and '.'.
    username: String,
    /// File holding the password.
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
}

impl Credentials {
    /// Calls `method` (register or login) with them, after checking what
    /// the relay would refuse anyway.
    fn send(&self, ctx: &Context, method: &str) -> anyhow::Result<()> {
        let name = self.username.trim().to_ascii_lowercase();
        if !kovan_spec::validate::is_username(&name) {
            anyhow::bail!(
                "a username is 3 to 32 of a-z, 0-9, '_' and '.' ({} is not)",
                output::shown(&self.username)
            );
        }
        let password = password(&self.password_file)?;
        let (min, max) = (kovan_spec::limits::MIN_PASSWORD, kovan_spec::limits::MAX_PASSWORD);
        if method == "register" && !(min..=max).contains(&password.len()) {
            anyhow::bail!("a relay password is {min} to {max} bytes long");
        }
        let params = json!({ "username": name, "password": password.as_str() });
        remote::run(ctx, method, params, |_| match method {
            "register" => println!("Registered as @{name}; this device is signed in."),
            _ => println!("Signed in as @{name}."),
        })
    }
}

/// Register a username on the relay and log this device in. The
/// password (8 to 1024 bytes) comes from --password-file, KOVAN_PASSWORD,
/// or a prompt.
#[derive(Debug, Args)]
pub struct Register {
    #[command(flatten)]
    credentials: Credentials,
}

impl Register {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        self.credentials.send(ctx, "register")
    }
}

/// Log this device in to the relay.
#[derive(Debug, Args)]
pub struct Login {
    #[command(flatten)]
    credentials: Credentials,
}

impl Login {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        self.credentials.send(ctx, "login")
    }
}

/// Log out of the relay.
#[derive(Debug, Args)]
pub struct Logout;

impl Logout {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        remote::run(ctx, "logout", json!({}), |_| println!("Signed out of the relay."))
    }
}

/// Show or change the account's settings on the relay.
#[derive(Debug, Args)]
pub struct Settings {
    /// Display name.
    #[arg(long)]
    display_name: Option<String>,
    /// About text.
    #[arg(long)]
    about: Option<String>,
    /// Whether directory search finds you.
    #[arg(long)]
    discoverable: Option<bool>,
    /// Who may send you friend requests: everyone, nobody, or link (only
    /// people with one of your invite links, see `kovan invite`).
    #[arg(long, value_parser = ["everyone", "nobody", "link"])]
    friend_policy: Option<String>,
    /// Send read receipts.
    #[arg(long)]
    read_receipts: Option<bool>,
}

impl Settings {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let mut set = serde_json::Map::new();
        let mut put = |k: &str, v: Option<serde_json::Value>| {
            if let Some(v) = v {
                set.insert(k.to_owned(), v);
            }
        };
        put("display_name", self.display_name.clone().map(Into::into));
        put("about", self.about.clone().map(Into::into));
        put("discoverable", self.discoverable.map(Into::into));
        put("friend_policy", self.friend_policy.clone().map(Into::into));
        put("read_receipts", self.read_receipts.map(Into::into));
        let params = if set.is_empty() { json!({}) } else { json!({ "set": set }) };
        remote::run(ctx, "settings", params, print_settings)
    }
}

/// List your sessions on the relay, or revoke one.
#[derive(Debug, Args)]
pub struct Sessions {
    /// Revoke the session with this id.
    #[arg(long)]
    revoke: Option<String>,
}

impl Sessions {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        match &self.revoke {
            Some(id) => remote::run(ctx, "revoke_session", json!({ "id": id }), |_| {
                println!("Session {id} revoked.")
            }),
            None => remote::run(ctx, "sessions", json!({}), |v| {
                output::list(v, "no sessions", output::session_line)
            }),
        }
    }
}

/// Change your relay password (other sessions end). The current one
/// comes from --password-file or KOVAN_PASSWORD, the new one from
/// --new-password-file or KOVAN_NEW_PASSWORD, else prompts.
#[derive(Debug, Args)]
pub struct ChangePassword {
    /// File holding the current password.
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    /// File holding the new password.
    #[arg(long, value_name = "FILE")]
    new_password_file: Option<PathBuf>,
}

impl ChangePassword {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let old = password(&self.password_file)?;
        let new = secret::read(
            self.new_password_file.as_ref(),
            "KOVAN_NEW_PASSWORD",
            "New relay password: ",
            true,
        )?;
        let params = json!({ "old_password": old.as_str(), "new_password": new.as_str() });
        remote::run(ctx, "change_password", params, |_| {
            println!("Relay password changed; your other sessions were signed out.")
        })
    }
}

/// Set your avatar (PNG, JPEG, GIF or WebP, at most 256 KiB).
#[derive(Debug, Args)]
pub struct Avatar {
    /// The image file.
    #[arg(required_unless_present = "remove")]
    file: Option<PathBuf>,
    /// Remove the avatar instead.
    #[arg(long, conflicts_with = "file")]
    remove: bool,
}

impl Avatar {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let params = match &self.file {
            Some(f) => {
                let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
                json!({ "image": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes) })
            }
            None => json!({}),
        };
        remote::run(ctx, "avatar", params, |v| match v["avatar"].as_bool() {
            Some(true) => println!("Avatar set."),
            _ => println!("Avatar removed."),
        })
    }
}

/// Delete your account on the relay (local history stays).
#[derive(Debug, Args)]
pub struct DeleteAccount {
    /// File holding the password.
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
}

impl DeleteAccount {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let params = json!({ "password": password(&self.password_file)?.as_str() });
        remote::run(ctx, "delete_account", params, |_| {
            println!("Your relay account is deleted; history on this device stays.")
        })
    }
}

/// The account's settings, one per line.
fn print_settings(v: &serde_json::Value) {
    let yes_no = |b: &serde_json::Value| if b.as_bool() == Some(true) { "yes" } else { "no" };
    let policy = match v["friend_policy"].as_str() {
        Some("nobody") => "nobody",
        Some("link") => "only people with your invite link",
        _ => "everyone",
    };
    println!("display name       {}", v["display_name"].as_str().unwrap_or(""));
    println!("about              {}", v["about"].as_str().unwrap_or(""));
    println!("found in search    {}", yes_no(&v["discoverable"]));
    println!("friend requests    from {policy}");
    println!("read receipts      {}", yes_no(&v["read_receipts"]));
}
