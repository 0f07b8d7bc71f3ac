//! `kovan`: the kovan node on the command line.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use kovan_crypto::identity::AccountId;
use kovan_node::config::NodeConfig;
use kovan_node::control::{Client, ClientError, socket_path};
use kovan_node::home::Home;
use kovan_node::identity::Identity;
use kovan_node::store::Database;
use kovan_node::{Node, NodeOptions};
use serde_json::json;
use zeroize::Zeroizing;

/// kovan — an end-to-end encrypted, peer-to-peer messenger.
#[derive(Debug, Parser)]
#[command(name = "kovan", version, about = "kovan — an end-to-end encrypted, peer-to-peer messenger", long_about = None)]
struct Cli {
    /// The node's home directory (identity, database, config).
    /// Default: $XDG_DATA_HOME/kovan (~/.local/share/kovan).
    #[arg(long, global = true, env = "KOVAN_HOME")]
    home: Option<PathBuf>,
    /// Read the passphrase from this file (first line) instead of asking.
    /// The KOVAN_PASSPHRASE environment variable works too.
    #[arg(long, global = true, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// More logging (-v debug, -vv trace). RUST_LOG overrides it.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new identity (account and this device) in the home directory.
    Init {
        /// Name this device is certified under. Default: from the config file.
        #[arg(long)]
        device_name: Option<String>,
    },
    /// Unlock the identity and show who you are.
    Whoami,
    /// Show the safety number to compare with a contact (works offline;
    /// takes an account key in hex, or a contact when a daemon runs).
    SafetyNumber {
        /// The contact's account key (64 hex digits) or name.
        account: String,
    },
    /// Change the keystore passphrase. The new one is read from
    /// --new-passphrase-file, KOVAN_NEW_PASSPHRASE, or asked for.
    Passwd {
        /// File holding the new passphrase.
        #[arg(long, value_name = "FILE")]
        new_passphrase_file: Option<PathBuf>,
    },
    /// Run the node: networking, relay connection, and the control socket
    /// the other commands use. Stops on Ctrl-C or SIGTERM.
    Daemon {
        /// Relay URL (overrides relay_url in kovan.toml).
        #[arg(long)]
        relay: Option<String>,
        /// libp2p listen address (repeatable; overrides the config file).
        #[arg(long)]
        listen: Vec<String>,
        /// Turn LAN discovery (mDNS) off.
        #[arg(long)]
        no_mdns: bool,
        /// Never deliver directly: everything goes through the relay.
        #[arg(long)]
        relay_only: bool,
        /// The name shown to people you befriend. Default: the device name.
        #[arg(long)]
        display_name: Option<String>,
        /// Log as JSON lines.
        #[arg(long)]
        log_json: bool,
    },
    /// Start an embedded relay and two nodes in this process, make them
    /// friends, exchange a few messages, and print what happened.
    #[cfg(feature = "demo")]
    Demo,
    /// Register a username on the relay and log this device in. The
    /// password comes from --password-file, KOVAN_PASSWORD, or a prompt.
    Register {
        /// The username.
        username: String,
        /// File holding the password.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Log this device in to the relay.
    Login {
        /// The username.
        username: String,
        /// File holding the password.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Log out of the relay.
    Logout,
    /// Show the running node's status.
    Status,
    /// Search the relay directory and the LAN.
    Search {
        /// Part of a username or name ("" lists LAN peers).
        query: String,
    },
    /// Friends: requests, answers, removal, blocking.
    #[command(subcommand)]
    Friend(FriendCommand),
    /// Groups: create, invite, answer invitations, roles, leave, delete.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Polls: create one, vote, close it.
    #[command(subcommand)]
    Poll(PollCommand),
    /// Share where you are: a point, or live for a while (from a GPX track).
    ShareLocation {
        /// A contact or conversation id.
        to: String,
        /// Latitude in degrees (with --lon; else the track's first point).
        #[arg(long, allow_hyphen_values = true)]
        lat: Option<f64>,
        /// Longitude in degrees.
        #[arg(long, allow_hyphen_values = true)]
        lon: Option<f64>,
        /// Radius of uncertainty in metres.
        #[arg(long, default_value_t = 0)]
        accuracy: u32,
        /// A name for the place.
        #[arg(long, default_value = "")]
        label: String,
        /// Share live for this long ("15m", "1h", at most "24h").
        #[arg(long, value_name = "DURATION")]
        live: Option<String>,
        /// With --live: how often an update goes out.
        #[arg(long, value_name = "DURATION", default_value = "30s")]
        every: String,
        /// A GPX-style file whose track points (lat/lon attributes) are
        /// sent one per interval.
        #[arg(long, value_name = "FILE")]
        gpx: Option<PathBuf>,
    },
    /// Live locations: stop sharing.
    #[command(subcommand)]
    Location(LocationCommand),
    /// Scheduled messages (made with `send --at`): list, edit, cancel.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// List conversations.
    Conversations,
    /// Send a text message (":shortcodes:" become emoji).
    Send {
        /// A contact (username, name, account key) or conversation id.
        to: String,
        /// The text.
        text: String,
        /// Reply to this message id.
        #[arg(long)]
        reply_to: Option<String>,
        /// Send it later instead: "+10m", "+2h", "+1d 2h", or a UTC time
        /// such as "2026-12-31T23:59:00Z" (see `kovan schedule`).
        #[arg(long, value_name = "WHEN")]
        at: Option<String>,
    },
    /// Send a file (encrypted; fetched directly or through the relay).
    SendFile {
        /// A contact, group or conversation id.
        to: String,
        /// The file.
        path: PathBuf,
        /// A caption shown with it.
        #[arg(long, default_value = "")]
        caption: String,
        /// Reply to this message id.
        #[arg(long)]
        reply_to: Option<String>,
    },
    /// Send an image: JPEG, PNG, WebP or GIF, re-encoded so no metadata
    /// (EXIF, GPS position, XMP) leaves the device, with a thumbnail that
    /// shows before the full image arrives.
    SendImage {
        /// A contact, group or conversation id.
        to: String,
        /// The image.
        path: PathBuf,
        /// A caption shown with it.
        #[arg(long, default_value = "")]
        caption: String,
        /// Reply to this message id.
        #[arg(long)]
        reply_to: Option<String>,
    },
    /// Send a voice note (Opus in Ogg) from a WAV file or a generated tone.
    #[command(group = clap::ArgGroup::new("sound").required(true).args(["wav", "tone"]))]
    SendVoice {
        /// A contact, group or conversation id.
        to: String,
        /// A WAV file (any rate, mixed down to mono).
        #[arg(long)]
        wav: Option<PathBuf>,
        /// A sine tone at this frequency, Hz (a test signal).
        #[arg(long, value_name = "HZ")]
        tone: Option<f32>,
        /// The tone's length, seconds.
        #[arg(long, default_value_t = 3.0, requires = "tone")]
        seconds: f32,
        /// A caption shown with it.
        #[arg(long, default_value = "")]
        caption: String,
        /// Reply to this message id.
        #[arg(long)]
        reply_to: Option<String>,
    },
    /// Decode a received voice note (Ogg/Opus) to a WAV file to play it.
    VoiceToWav {
        /// The voice note (a received file's path; see `kovan files`).
        input: PathBuf,
        /// The WAV file to write.
        output: PathBuf,
    },
    /// List files sent and received, or show one with its transfer state.
    Files {
        /// A file id: show this one.
        id: Option<String>,
        /// Only this conversation's files.
        #[arg(long)]
        with: Option<String>,
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Download a received file (one above the automatic size limit, or
    /// again after a failure).
    FetchFile {
        /// The file id (see `kovan files`).
        id: String,
        /// Wait until it is complete, showing progress.
        #[arg(long)]
        wait: bool,
    },
    /// Cancel a file transfer (a sent file stops being offered).
    CancelFile {
        /// The file id.
        id: String,
    },
    /// Show a page of a conversation's history, newest first (and mark it read).
    History {
        /// A contact or conversation id.
        with: String,
        /// Messages before this cursor (the `seq` of the oldest shown).
        #[arg(long, conflicts_with_all = ["after", "around"])]
        before: Option<i64>,
        /// Messages after this cursor (the `seq` of the newest shown).
        #[arg(long, conflicts_with = "around")]
        after: Option<i64>,
        /// The messages around this message id (jump to it).
        #[arg(long, value_name = "ID")]
        around: Option<String>,
        /// Page size.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Do not mark the conversation read.
        #[arg(long)]
        no_mark_read: bool,
    },
    /// React to a message with an emoji (or ":shortcode:").
    React {
        /// A contact or conversation id.
        with: String,
        /// The message id.
        message: String,
        /// The emoji.
        emoji: String,
        /// Take the reaction back.
        #[arg(long)]
        remove: bool,
    },
    /// Edit one of your messages, for everyone.
    Edit {
        /// A contact or conversation id.
        with: String,
        /// The message id.
        message: String,
        /// The new text.
        text: String,
    },
    /// Delete one of your messages, for everyone.
    Delete {
        /// A contact or conversation id.
        with: String,
        /// The message id.
        message: String,
    },
    /// Mark a contact verified after comparing safety numbers.
    Verify {
        /// The contact.
        who: String,
        /// The 60 digits you compared (checked when given).
        #[arg(long)]
        digits: Option<String>,
    },
    /// Connect to a peer at an address ending in /p2p/<PeerId>.
    Connect {
        /// The address.
        addr: String,
    },
    /// Turn read receipts on or off.
    ReadReceipts {
        /// on or off.
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Show or change the account's settings on the relay.
    Settings {
        /// Display name.
        #[arg(long)]
        display_name: Option<String>,
        /// About text.
        #[arg(long)]
        about: Option<String>,
        /// Whether directory search finds you.
        #[arg(long)]
        discoverable: Option<bool>,
        /// Who may send friend requests: everyone, nobody, link.
        #[arg(long)]
        friend_policy: Option<String>,
        /// Send read receipts.
        #[arg(long)]
        read_receipts: Option<bool>,
    },
    /// List your sessions on the relay, or revoke one.
    Sessions {
        /// Revoke the session with this id.
        #[arg(long)]
        revoke: Option<String>,
    },
    /// Change your relay password (other sessions end). The current one
    /// comes from --password-file or KOVAN_PASSWORD, the new one from
    /// --new-password-file or KOVAN_NEW_PASSWORD, else prompts.
    ChangePassword {
        /// File holding the current password.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// File holding the new password.
        #[arg(long, value_name = "FILE")]
        new_password_file: Option<PathBuf>,
    },
    /// Set your avatar (PNG, JPEG, GIF or WebP, at most 256 KiB).
    Avatar {
        /// The image file.
        #[arg(required_unless_present = "remove")]
        file: Option<PathBuf>,
        /// Remove the avatar instead.
        #[arg(long, conflicts_with = "file")]
        remove: bool,
    },
    /// Delete your account on the relay (local history stays).
    DeleteAccount {
        /// File holding the password.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Print the node's events as they happen (JSON lines with --json).
    Watch,
}

#[derive(Debug, Subcommand)]
enum LocationCommand {
    /// Stop a live location you share, for everyone, now.
    Stop {
        /// A contact or conversation id.
        with: String,
        /// The location message's id.
        id: String,
    },
}

/// The points of a GPX-style file: every `lat="…" lon="…"` pair of its
/// `trkpt`, `rtept` and `wpt` elements, in order.
fn gpx_points(text: &str) -> anyhow::Result<Vec<(f64, f64)>> {
    let attr = |tag: &str, name: &str| -> Option<f64> {
        let at = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[at..].find('"')?;
        tag[at..at + end].trim().parse().ok()
    };
    let mut out = Vec::new();
    for piece in text.split('<').skip(1) {
        let Some(tag) = piece.split('>').next() else { continue };
        if !["trkpt", "rtept", "wpt"].iter().any(|t| tag.starts_with(&format!("{t} "))) {
            continue;
        }
        match (attr(tag, "lat"), attr(tag, "lon")) {
            (Some(lat), Some(lon)) => out.push((lat, lon)),
            _ => anyhow::bail!("a track point without a number in lat= and lon=: <{tag}>"),
        }
        if out.len() > 10_000 {
            anyhow::bail!("more than 10,000 track points");
        }
    }
    Ok(out)
}

#[derive(Debug, Subcommand)]
enum ScheduleCommand {
    /// Scheduled messages, soonest first (also sent, cancelled, failed).
    List {
        /// Only this contact's or group's.
        with: Option<String>,
    },
    /// Change a scheduled message's text or time before it goes.
    Edit {
        /// Its id (from `schedule list`).
        id: String,
        /// The new text.
        #[arg(long)]
        text: Option<String>,
        /// The new time ("+10m", "2026-12-31T23:59:00Z").
        #[arg(long, value_name = "WHEN")]
        at: Option<String>,
    },
    /// Cancel a scheduled message before it goes.
    Cancel {
        /// Its id.
        id: String,
    },
}

/// A time given on the command line: "+DURATION" from now, an RFC 3339
/// UTC time, or milliseconds since the Unix epoch. In ms since the epoch.
fn when(s: &str) -> anyhow::Result<i64> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('+') {
        let d = humantime::parse_duration(rest.trim())
            .with_context(|| format!("{s:?}: not a duration like +10m or +1d 2h"))?;
        return Ok(kovan_node::clock::system_now_ms().saturating_add(d.as_millis() as i64));
    }
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    let t = humantime::parse_rfc3339_weak(s)
        .with_context(|| format!("{s:?}: not a time like 2026-12-31T23:59:00Z or +10m"))?;
    let d = t.duration_since(std::time::UNIX_EPOCH).context("a time before 1970")?;
    Ok(d.as_millis() as i64)
}

#[derive(Debug, Subcommand)]
enum PollCommand {
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

#[derive(Debug, Subcommand)]
enum GroupCommand {
    /// Create a group; you are its admin.
    Create {
        /// Its name.
        name: String,
        /// A description.
        #[arg(long, default_value = "")]
        description: String,
        /// Let members who are not admins invite friends.
        #[arg(long)]
        members_invite: bool,
    },
    /// List your groups.
    List,
    /// Show a group: members, roles, bans.
    Info {
        /// The group (name or id).
        group: String,
    },
    /// Invite a friend.
    Invite {
        /// The group.
        group: String,
        /// The friend.
        who: String,
    },
    /// List invitations, sent and received.
    Invitations,
    /// Accept an invitation (you join when the inviter adds you).
    Accept {
        /// The invitation id (from `kovan group invitations`).
        invitation: String,
    },
    /// Decline an invitation.
    Decline {
        /// The invitation id.
        invitation: String,
    },
    /// Rename a group (admins).
    Rename {
        /// The group.
        group: String,
        /// The new name.
        name: String,
    },
    /// Change a group's description (admins).
    Describe {
        /// The group.
        group: String,
        /// The new description.
        description: String,
    },
    /// Make a member admin, or (with --revoke) not (admins).
    Admin {
        /// The group.
        group: String,
        /// The member.
        who: String,
        /// Take the role away.
        #[arg(long)]
        revoke: bool,
    },
    /// Remove a member (admins).
    Remove {
        /// The group.
        group: String,
        /// The member.
        who: String,
    },
    /// Remove a member and ban their account (admins).
    Ban {
        /// The group.
        group: String,
        /// The member.
        who: String,
    },
    /// Lift a ban (admins).
    Unban {
        /// The group.
        group: String,
        /// The account (or contact).
        who: String,
    },
    /// Mute a member for yourself (or unmute with --off).
    Mute {
        /// The group.
        group: String,
        /// The member.
        who: String,
        /// Unmute.
        #[arg(long)]
        off: bool,
    },
    /// Leave a group.
    Leave {
        /// The group.
        group: String,
    },
    /// Delete a group for everyone (admins).
    Delete {
        /// The group.
        group: String,
    },
}

#[derive(Debug, Subcommand)]
enum FriendCommand {
    /// Ask someone to be friends: a username, a LAN PeerId from `search`,
    /// or an address ending in /p2p/<PeerId>.
    Request {
        /// Who.
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

fn read_secret(
    file: Option<&PathBuf>,
    env: &str,
    prompt: &str,
    confirm: bool,
) -> anyhow::Result<Zeroizing<String>> {
    if let Some(f) = file {
        let text = Zeroizing::new(
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?,
        );
        return Ok(Zeroizing::new(text.lines().next().unwrap_or("").to_owned()));
    }
    if let Ok(v) = std::env::var(env) {
        return Ok(Zeroizing::new(v));
    }
    if !std::io::stdin().is_terminal() {
        bail!("no passphrase: use --passphrase-file or {env} when not on a terminal");
    }
    let first = Zeroizing::new(rpassword::prompt_password(prompt)?);
    if confirm {
        let second = Zeroizing::new(rpassword::prompt_password("Repeat it: ")?);
        if first != second {
            bail!("the passphrases differ");
        }
    }
    Ok(first)
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let is_daemon = matches!(cli.command, Command::Daemon { .. });
    let default_level = match (cli.verbose, is_daemon) {
        (0, false) => "warn",
        (0, true) => "info",
        (1, _) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let fmt = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if matches!(cli.command, Command::Daemon { log_json: true, .. }) {
        fmt.json().init();
    } else {
        fmt.init();
    }
    let json = cli.json;
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let kind = e
                .downcast_ref::<kovan_node::Error>()
                .map(|e| format!("{:?}", e.kind()))
                .or_else(|| match e.downcast_ref::<ClientError>() {
                    Some(ClientError::Failed { kind, .. }) => Some(kind.clone()),
                    Some(ClientError::NoDaemon(_)) => Some("no_daemon".into()),
                    _ => None,
                });
            if json {
                println!("{}", json!({ "error": format!("{e:#}"), "kind": kind }));
            } else {
                eprintln!("error: {e:#}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let home = match &cli.home {
        Some(p) => Home::at(p),
        None => Home::default_location()?,
    };
    let config = NodeConfig::load(&home)?;
    let pass = |confirm| {
        read_secret(cli.passphrase_file.as_ref(), "KOVAN_PASSPHRASE", "Passphrase: ", confirm)
    };
    if let Some(request) = control_request(&cli.command)? {
        return remote(&cli, &home, request);
    }
    match &cli.command {
        Command::Init { device_name } => {
            let name = device_name.clone().unwrap_or(config.device_name.clone());
            let passphrase = pass(true)?;
            if !cli.json {
                eprintln!("Deriving the keystore key (Argon2id, 64 MiB)…");
            }
            let id = Identity::create(&home, passphrase.as_bytes(), &name)?;
            Database::open(&home.database())?;
            print_identity(&cli, &home, &id);
        }
        Command::Whoami => {
            let id = Identity::unlock(&home, pass(false)?.as_bytes())?;
            print_identity(&cli, &home, &id);
        }
        Command::SafetyNumber { account } => {
            let Ok(bytes) = hex::decode(account.trim()) else {
                // A contact's name: ask the daemon.
                let v = remote_call(&home, "safety_number", json!({ "who": account }))?;
                print_value(&cli, &v, |v| {
                    println!("{}", v["safety_number"].as_str().unwrap_or(""))
                });
                return Ok(());
            };
            let other = AccountId::from_bytes(&bytes).context("not an account key")?;
            let id = Identity::unlock(&home, pass(false)?.as_bytes())?;
            let sn = id.safety_number(&other);
            if cli.json {
                println!(
                    "{}",
                    json!({ "digits": sn.digits(), "qr_hex": hex::encode(sn.qr_bytes()) })
                );
            } else {
                println!("{}", sn.display());
            }
        }
        Command::Passwd { new_passphrase_file } => {
            let id = Identity::unlock(&home, pass(false)?.as_bytes())?;
            let new = read_secret(
                new_passphrase_file.as_ref(),
                "KOVAN_NEW_PASSPHRASE",
                "New passphrase: ",
                true,
            )?;
            id.change_passphrase(&home, new.as_bytes())?;
            if cli.json {
                println!("{}", json!({ "changed": true }));
            } else {
                println!("Passphrase changed.");
            }
        }
        Command::Daemon { relay, listen, no_mdns, relay_only, display_name, .. } => {
            let id = Identity::unlock(&home, pass(false)?.as_bytes())?;
            let mut config = config.clone();
            config.mdns &= !no_mdns;
            config.direct &= !relay_only;
            daemon(&home, &config, id, relay, listen, display_name)?;
        }
        Command::VoiceToWav { input, output } => {
            let f = std::fs::File::open(input).with_context(|| format!("{}", input.display()))?;
            let note = kovan_node::voice::decode(std::io::BufReader::new(f))
                .with_context(|| format!("{}", input.display()))?;
            let out =
                std::fs::File::create(output).with_context(|| format!("{}", output.display()))?;
            kovan_node::voice::write_wav(std::io::BufWriter::new(out), &note.samples)?;
            if cli.json {
                println!(
                    "{}",
                    json!({ "duration_ms": note.duration_ms, "wav": output, "rate": kovan_node::voice::RATE })
                );
            } else {
                println!("{:.1} s → {}", f64::from(note.duration_ms) / 1000.0, output.display());
            }
        }
        #[cfg(feature = "demo")]
        Command::Demo => {
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async {
                if cli.json {
                    kovan_node::demo::run(&mut kovan_node::demo::JsonLines).await
                } else {
                    kovan_node::demo::run(&mut kovan_node::demo::Text::default()).await
                }
            })?;
        }
        _ => unreachable!("handled by the daemon"),
    }
    Ok(())
}

type Request = (&'static str, serde_json::Value);

/// The control-socket request for commands the daemon runs.
fn control_request(cmd: &Command) -> anyhow::Result<Option<Request>> {
    let password = |file: &Option<PathBuf>| {
        read_secret(file.as_ref(), "KOVAN_PASSWORD", "Relay password: ", false)
    };
    Ok(Some(match cmd {
        Command::Register { username, password_file } => (
            "register",
            json!({ "username": username, "password": password(password_file)?.as_str() }),
        ),
        Command::Login { username, password_file } => (
            "login",
            json!({ "username": username, "password": password(password_file)?.as_str() }),
        ),
        Command::Logout => ("logout", json!({})),
        Command::Status => ("status", json!({})),
        Command::Search { query } => ("search", json!({ "query": query })),
        Command::Friend(f) => match f {
            FriendCommand::Request { target, note } => {
                ("friend_request", json!({ "target": target, "note": note }))
            }
            FriendCommand::Accept { who } => ("friend_accept", json!({ "who": who })),
            FriendCommand::Decline { who } => ("friend_decline", json!({ "who": who })),
            FriendCommand::Remove { who } => ("friend_remove", json!({ "who": who })),
            FriendCommand::Block { who } => ("block", json!({ "who": who })),
            FriendCommand::Unblock { who } => ("unblock", json!({ "who": who })),
            FriendCommand::List => ("contacts", json!({})),
        },
        Command::Poll(p) => match p {
            PollCommand::Create { to, question, options, multiple } => (
                "poll_create",
                json!({ "to": to, "question": question, "options": options, "multiple": multiple }),
            ),
            PollCommand::Vote { with, poll, choices } => {
                ("poll_vote", json!({ "with": with, "poll": poll, "choices": choices }))
            }
            PollCommand::Close { with, poll } => {
                ("poll_close", json!({ "with": with, "poll": poll }))
            }
        },
        Command::Group(g) => match g {
            GroupCommand::Create { name, description, members_invite } => (
                "group_create",
                json!({ "name": name, "description": description, "members_invite": members_invite }),
            ),
            GroupCommand::List => ("groups", json!({})),
            GroupCommand::Info { group } => ("group", json!({ "group": group })),
            GroupCommand::Invite { group, who } => {
                ("group_invite", json!({ "group": group, "who": who }))
            }
            GroupCommand::Invitations => ("group_invitations", json!({})),
            GroupCommand::Accept { invitation } => {
                ("group_answer", json!({ "invitation": invitation, "accept": true }))
            }
            GroupCommand::Decline { invitation } => {
                ("group_answer", json!({ "invitation": invitation, "accept": false }))
            }
            GroupCommand::Rename { group, name } => {
                ("group_change", json!({ "group": group, "change": "rename", "value": name }))
            }
            GroupCommand::Describe { group, description } => (
                "group_change",
                json!({ "group": group, "change": "describe", "value": description }),
            ),
            GroupCommand::Admin { group, who, revoke } => (
                "group_change",
                json!({ "group": group, "change": if *revoke { "unadmin" } else { "admin" }, "value": who }),
            ),
            GroupCommand::Remove { group, who } => {
                ("group_change", json!({ "group": group, "change": "remove", "value": who }))
            }
            GroupCommand::Ban { group, who } => {
                ("group_change", json!({ "group": group, "change": "ban", "value": who }))
            }
            GroupCommand::Unban { group, who } => {
                ("group_change", json!({ "group": group, "change": "unban", "value": who }))
            }
            GroupCommand::Mute { group, who, off } => {
                ("group_mute", json!({ "group": group, "who": who, "on": !off }))
            }
            GroupCommand::Leave { group } => ("group_leave", json!({ "group": group })),
            GroupCommand::Delete { group } => {
                ("group_change", json!({ "group": group, "change": "delete" }))
            }
        },
        Command::Conversations => ("conversations", json!({})),
        Command::Send { to, text, reply_to, at: None } => {
            ("send", json!({ "to": to, "text": text, "reply_to": reply_to }))
        }
        Command::Send { to, text, reply_to, at: Some(at) } => (
            "schedule",
            json!({
                "to": to,
                "due_at": when(at)?,
                "content": { "type": "text", "text": text, "reply_to": reply_to },
            }),
        ),
        Command::ShareLocation { to, lat, lon, accuracy, label, live, every, gpx } => {
            let mut track = match gpx {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    gpx_points(&text).with_context(|| format!("{}", path.display()))?
                }
                None => Vec::new(),
            };
            let (lat, lon) = match (lat, lon) {
                (Some(lat), Some(lon)) => (*lat, *lon),
                (None, None) if !track.is_empty() => track.remove(0),
                _ => anyhow::bail!("give --lat and --lon, or a --gpx file with track points"),
            };
            let mut params = json!({
                "to": to, "lat": lat, "lon": lon, "accuracy_m": accuracy, "label": label,
            });
            if let Some(live) = live {
                let d =
                    humantime::parse_duration(live).with_context(|| format!("--live {live:?}"))?;
                let e = humantime::parse_duration(every)
                    .with_context(|| format!("--every {every:?}"))?;
                params["live_secs"] = json!(d.as_secs());
                params["every_secs"] = json!(e.as_secs().max(1));
                params["track"] = track
                    .iter()
                    .map(|(lat, lon)| json!({ "lat": lat, "lon": lon, "accuracy_m": accuracy }))
                    .collect();
            } else if !track.is_empty() {
                anyhow::bail!("a track is sent one point per interval: give --live too");
            }
            ("share_location", params)
        }
        Command::Location(LocationCommand::Stop { with, id }) => {
            ("location_stop", json!({ "with": with, "id": id }))
        }
        Command::Schedule(c) => match c {
            ScheduleCommand::List { with } => ("scheduled", json!({ "with": with })),
            ScheduleCommand::Edit { id, text, at } => {
                let due = at.as_deref().map(when).transpose()?;
                let content = text.as_ref().map(|t| json!({ "type": "text", "text": t }));
                ("schedule_edit", json!({ "id": id, "content": content, "due_at": due }))
            }
            ScheduleCommand::Cancel { id } => ("schedule_cancel", json!({ "id": id })),
        },
        Command::SendFile { to, path, caption, reply_to } => {
            // The daemon has its own working directory.
            let path = std::path::absolute(path).with_context(|| format!("{}", path.display()))?;
            (
                "send_file",
                json!({ "to": to, "path": path, "caption": caption, "reply_to": reply_to }),
            )
        }
        Command::SendImage { to, path, caption, reply_to } => {
            let path = std::path::absolute(path).with_context(|| format!("{}", path.display()))?;
            (
                "send_image",
                json!({ "to": to, "path": path, "caption": caption, "reply_to": reply_to }),
            )
        }
        Command::SendVoice { to, wav, tone, seconds, caption, reply_to } => {
            let wav = wav
                .as_ref()
                .map(|p| std::path::absolute(p).with_context(|| format!("{}", p.display())))
                .transpose()?;
            (
                "send_voice",
                json!({
                    "to": to, "wav": wav, "tone_hz": tone, "ms": (seconds * 1000.0) as u64,
                    "caption": caption, "reply_to": reply_to,
                }),
            )
        }
        Command::Files { id: Some(id), .. } => ("file", json!({ "id": id })),
        Command::Files { id: None, with, limit } => {
            ("files", json!({ "with": with, "limit": limit }))
        }
        Command::FetchFile { id, wait } => ("fetch_file", json!({ "id": id, "wait": wait })),
        Command::CancelFile { id } => ("cancel_file", json!({ "id": id })),
        Command::History { with, before, after, around, limit, no_mark_read } => (
            "history",
            json!({
                "with": with, "before": before, "after": after, "around": around,
                "limit": limit, "mark_read": !no_mark_read,
            }),
        ),
        Command::React { with, message, emoji, remove } => {
            ("react", json!({ "with": with, "message": message, "emoji": emoji, "remove": remove }))
        }
        Command::Edit { with, message, text } => {
            ("edit", json!({ "with": with, "message": message, "text": text }))
        }
        Command::Delete { with, message } => {
            ("delete", json!({ "with": with, "message": message }))
        }
        Command::Verify { who, digits } => ("verify", json!({ "who": who, "digits": digits })),
        Command::Connect { addr } => ("connect", json!({ "addr": addr })),
        Command::ReadReceipts { state } => ("read_receipts", json!({ "on": state == "on" })),
        Command::Watch => ("watch", json!({})),
        Command::Settings { display_name, about, discoverable, friend_policy, read_receipts } => {
            let mut set = serde_json::Map::new();
            let mut put = |k: &str, v: Option<serde_json::Value>| {
                if let Some(v) = v {
                    set.insert(k.to_owned(), v);
                }
            };
            put("display_name", display_name.clone().map(Into::into));
            put("about", about.clone().map(Into::into));
            put("discoverable", discoverable.map(Into::into));
            put("friend_policy", friend_policy.clone().map(Into::into));
            put("read_receipts", read_receipts.map(Into::into));
            if set.is_empty() {
                ("settings", json!({}))
            } else {
                ("settings", json!({ "set": set }))
            }
        }
        Command::Sessions { revoke } => match revoke {
            Some(id) => ("revoke_session", json!({ "id": id })),
            None => ("sessions", json!({})),
        },
        Command::ChangePassword { password_file, new_password_file } => {
            let old = password(password_file)?;
            let new = read_secret(
                new_password_file.as_ref(),
                "KOVAN_NEW_PASSWORD",
                "New relay password: ",
                true,
            )?;
            (
                "change_password",
                json!({ "old_password": old.as_str(), "new_password": new.as_str() }),
            )
        }
        Command::Avatar { file, .. } => match file {
            Some(f) => {
                let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
                (
                    "avatar",
                    json!({ "image": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes) }),
                )
            }
            None => ("avatar", json!({})),
        },
        Command::DeleteAccount { password_file } => {
            ("delete_account", json!({ "password": password(password_file)?.as_str() }))
        }
        _ => return Ok(None),
    }))
}

fn remote_call(
    home: &Home,
    method: &str,
    params: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let mut client = Client::connect(home.root()).await?;
        Ok(client.call(method, params).await?)
    })
}

fn print_value(cli: &Cli, v: &serde_json::Value, text: impl FnOnce(&serde_json::Value)) {
    if cli.json {
        println!("{v}");
    } else {
        text(v);
    }
}

fn remote(cli: &Cli, home: &Home, (method, params): Request) -> anyhow::Result<()> {
    if method == "watch" {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        return rt.block_on(async {
            let mut client = Client::connect(home.root()).await?;
            client.call("watch", params).await?;
            loop {
                let line = client.next().await?;
                if cli.json {
                    println!("{line}");
                } else if let Some(ev) = line.get("event") {
                    println!("{}", describe_event(ev));
                }
            }
        });
    }
    if method == "fetch_file" && params["wait"].as_bool() == Some(true) {
        return fetch_and_wait(cli, home, params);
    }
    let v = remote_call(home, method, params)?;
    print_value(cli, &v, |v| print_text(method, v));
    Ok(())
}

/// `kovan fetch-file --wait`: starts the download and follows its events
/// (subscribed first, so the end cannot be missed), with progress on stderr.
fn fetch_and_wait(cli: &Cli, home: &Home, params: serde_json::Value) -> anyhow::Result<()> {
    let id = params["id"].as_str().unwrap_or_default().to_owned();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let last = rt.block_on(async {
        let mut watch = Client::connect(home.root()).await?;
        watch.call("watch", json!({})).await?;
        let mut client = Client::connect(home.root()).await?;
        let mut last = client.call("fetch_file", params).await?;
        while !matches!(last["state"].as_str(), Some("complete" | "failed" | "cancelled")) {
            let line = watch.next().await?;
            let f = &line["event"]["file"];
            if line["event"]["type"] == "file" && f["id"] == id.as_str() {
                if !cli.json {
                    eprint!("\r{:<12} {}", f["state"].as_str().unwrap_or(""), progress(f));
                }
                last = f.clone();
            }
        }
        if !cli.json {
            eprintln!();
        }
        anyhow::Ok(last)
    })?;
    print_value(cli, &last, |v| println!("{}", file_line(v)));
    anyhow::ensure!(last["state"] == "complete", "the download {}", last["state"]);
    Ok(())
}

fn mib(bytes: &serde_json::Value) -> f64 {
    bytes.as_u64().unwrap_or(0) as f64 / (1024.0 * 1024.0)
}

fn progress(f: &serde_json::Value) -> String {
    let size = f["size"].as_u64().unwrap_or(0).max(1) as f64;
    let done = f["done"].as_u64().unwrap_or(0) as f64;
    format!("{:6.1} / {:.1} MiB ({:3.0} %)", mib(&f["done"]), mib(&f["size"]), 100.0 * done / size)
}

fn file_line(f: &serde_json::Value) -> String {
    let dir = if f["outgoing"].as_bool() == Some(true) { "sent" } else { "recv" };
    let mut line = format!(
        "{} {} {:<24} {:>9.1} MiB {:<11}",
        f["id"].as_str().unwrap_or(""),
        dir,
        f["name"].as_str().unwrap_or(""),
        mib(&f["size"]),
        f["state"].as_str().unwrap_or(""),
    );
    if f["outgoing"].as_bool() == Some(true) {
        line.push_str(&format!(" relay copy: {}", f["upload"].as_str().unwrap_or("")));
    } else if f["state"] == "downloading" || f["state"] == "waiting" {
        line.push_str(&format!(" {}", progress(f)));
    }
    if let Some(p) = f["path"].as_str() {
        line.push_str(&format!(" {p}"));
    }
    if let Some(e) = f["error"].as_str() {
        line.push_str(&format!(" ({e})"));
    }
    line
}

fn contact_line(c: &serde_json::Value) -> String {
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
    format!(
        "{:<10} {:<28} {} {}",
        c["state"].as_str().unwrap_or(""),
        name,
        c["short_id"].as_str().unwrap_or(""),
        flags.join(", ")
    )
}

/// A scheduled message in one line.
fn scheduled_line(v: &serde_json::Value) -> String {
    let due = v["due_at"].as_i64().unwrap_or(0);
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(due.max(0) as u64);
    let what = match v["content"]["type"].as_str() {
        Some("poll") => format!("[poll] {}", v["content"]["question"].as_str().unwrap_or("")),
        _ => v["content"]["text"].as_str().unwrap_or("").to_owned(),
    };
    format!(
        "{} {:<9}{} {} {}",
        humantime::format_rfc3339_seconds(at),
        v["state"].as_str().unwrap_or(""),
        if v["late"].as_bool() == Some(true) { " (late)" } else { "" },
        what,
        v["id"].as_str().unwrap_or("")
    )
}

/// A poll's options with their counts, one per line.
fn poll_lines(p: &serde_json::Value) -> String {
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

fn message_line(m: &serde_json::Value) -> String {
    let who = if m["outgoing"].as_bool() == Some(true) { "me" } else { "them" };
    let text = match m["kind"].as_str() {
        Some("deleted") => "(deleted)".to_owned(),
        Some("unsupported") => "(unsupported message — update kovan)".to_owned(),
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
            "[file {} {:.1} MiB] {}",
            m["file"]["name"].as_str().unwrap_or(""),
            mib(&m["file"]["size"]),
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
    format!(
        "#{:<6} {:<4} {}{} [{}] {} {}",
        m["seq"],
        who,
        text,
        edited,
        m["state"].as_str().unwrap_or(""),
        reactions.join(" "),
        m["id"].as_str().unwrap_or("")
    )
}

fn print_text(method: &str, v: &serde_json::Value) {
    match method {
        "status" => {
            for (k, val) in v.as_object().into_iter().flatten() {
                println!("{k:<18} {val}");
            }
        }
        "search" => {
            let list = v.as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                println!("nobody found");
            }
            for r in list {
                println!(
                    "{:<5} {:<20} {:<20} friend request target: {}",
                    r["source"].as_str().unwrap_or(""),
                    r["username"].as_str().unwrap_or("-"),
                    r["display_name"].as_str().unwrap_or(""),
                    r["target"].as_str().unwrap_or("")
                );
            }
        }
        "contacts" => {
            let list = v.as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                println!("no contacts yet");
            }
            for c in list {
                println!("{}", contact_line(&c));
            }
        }
        "friend_request" | "friend_accept" | "friend_decline" | "friend_remove" | "block"
        | "unblock" | "verify" => println!("{}", contact_line(v)),
        "conversations" => {
            for c in v.as_array().into_iter().flatten() {
                let with = c["contact"]
                    .as_object()
                    .map(|_| contact_line(&c["contact"]))
                    .unwrap_or_default();
                println!(
                    "{} unread {:<4} {}{}",
                    c["id"].as_str().unwrap_or(""),
                    c["unread"],
                    with.trim(),
                    if c["closed"].as_bool() == Some(true) { " (closed)" } else { "" }
                );
            }
        }
        "history" => {
            // Oldest at the top, whichever way the page was read.
            let mut list = v.as_array().cloned().unwrap_or_default();
            list.sort_by_key(|m| m["seq"].as_i64());
            for m in list {
                println!("{}", message_line(&m));
            }
        }
        "send" | "send_file" | "send_image" | "send_voice" | "react" | "edit" => {
            println!("{}", message_line(v));
        }
        "schedule" | "schedule_edit" | "schedule_cancel" => println!("{}", scheduled_line(v)),
        "scheduled" => {
            let list = v.as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                println!("nothing scheduled");
            }
            for s in list {
                println!("{}", scheduled_line(&s));
            }
        }
        "share_location" | "location_update" | "location_stop" => {
            println!("{}", message_line(v))
        }
        "poll_create" | "poll_vote" | "poll_close" => {
            println!("{}", message_line(v));
            println!("{}", poll_lines(&v["poll"]));
        }
        "files" => {
            let list = v.as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                println!("no files yet");
            }
            for f in list {
                println!("{}", file_line(&f));
            }
        }
        "file" | "fetch_file" | "cancel_file" => println!("{}", file_line(v)),
        "groups" => {
            let list = v.as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                println!("no groups yet");
            }
            for g in list {
                println!("{}", group_line(&g));
            }
        }
        "group" | "group_create" | "group_change" | "group_leave" | "group_mute" => {
            println!("{}", group_line(v));
            if !v["description"].as_str().unwrap_or("").is_empty() {
                println!("  {}", v["description"].as_str().unwrap_or(""));
            }
            for m in v["members"].as_array().into_iter().flatten() {
                let account = m["account"].as_str().unwrap_or("");
                println!(
                    "  {:<24} {}{}{}",
                    m["name"].as_str().unwrap_or(""),
                    account.get(..16).unwrap_or(account),
                    if m["admin"].as_bool() == Some(true) { "  admin" } else { "" },
                    if m["muted"].as_bool() == Some(true) { "  muted" } else { "" },
                );
            }
            for b in v["banned"].as_array().into_iter().flatten() {
                println!("  banned {}", b.as_str().unwrap_or(""));
            }
        }
        "group_invitations" => {
            let list = v.as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                println!("no invitations");
            }
            for i in list {
                println!("{}", invitation_line(&i));
            }
        }
        "group_invite" | "group_answer" => println!("{}", invitation_line(v)),
        _ => println!("{v}"),
    }
}

fn group_line(g: &serde_json::Value) -> String {
    format!(
        "{} {:<24} {} members, {}{}",
        g["id"].as_str().unwrap_or(""),
        g["name"].as_str().unwrap_or(""),
        g["members"].as_array().map(|m| m.len()).unwrap_or(0),
        g["state"].as_str().unwrap_or(""),
        if g["admin"].as_bool() == Some(true) { ", you are admin" } else { "" }
    )
}

fn invitation_line(i: &serde_json::Value) -> String {
    format!(
        "{} {} {:<20} {} {} ({} members) {}",
        i["id"].as_str().unwrap_or(""),
        if i["incoming"].as_bool() == Some(true) { "from" } else { "to  " },
        i["name"].as_str().unwrap_or(""),
        if i["incoming"].as_bool() == Some(true) { "invites you to" } else { "invited to" },
        i["group_name"].as_str().unwrap_or(""),
        i["members"],
        i["state"].as_str().unwrap_or("")
    )
}

fn describe_event(ev: &serde_json::Value) -> String {
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
        "identity_changed" => {
            format!("WARNING   identity changed: {}", contact_line(&ev["contact"]))
        }
        other => format!("{other:<9} {ev}"),
    }
}

#[allow(clippy::too_many_arguments)]
fn daemon(
    home: &Home,
    config: &NodeConfig,
    id: Identity,
    relay: &Option<String>,
    listen: &[String],
    display_name: &Option<String>,
) -> anyhow::Result<()> {
    let mut config = config.clone();
    if !listen.is_empty() {
        config.listen = listen.to_vec();
    }
    let name = display_name.clone().unwrap_or_else(|| id.certificate().device_name().to_owned());
    let options = NodeOptions::from_config(home.clone(), &config, relay.clone(), &name)
        .map_err(anyhow::Error::msg)?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let node = Node::start(id, options).await?;
        let server = kovan_node::control::serve(node.clone(), &socket_path(home.root()))
            .context("starting the control socket")?;
        let status = node.status().await?;
        tracing::info!(peer = %status.peer_id, account = %status.account, "daemon running");
        eprintln!("kovan daemon running: {} ({})", status.peer_id, home.root().display());
        if let (true, Some(r)) = (status.restored_at_start, &status.restored) {
            eprintln!(
                "warning: the database was damaged ({}); kovan restored its last backup, taken {} \
                 s before this start. Messages that came after it may be missing here. The \
                 damaged file was kept as {}.",
                r.reason,
                (r.restored_at - r.backup_taken_at).max(0) / 1000,
                r.damaged_file.display()
            );
        }
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        server.abort();
        let _ = std::fs::remove_file(socket_path(home.root()));
        node.shutdown().await;
        eprintln!("kovan daemon stopped");
        anyhow::Ok(())
    })
}

fn print_identity(cli: &Cli, home: &Home, id: &Identity) {
    let cert = id.certificate();
    if cli.json {
        println!(
            "{}",
            json!({
                "account": id.account().to_string(),
                "peer_id": id.peer_id(),
                "device_name": cert.device_name(),
                "certificate_expires": cert.not_after(),
                "holds_account_key": id.holds_account_key(),
                "home": home.root(),
            })
        );
    } else {
        println!("account      {}", id.account());
        println!("device       {} ({})", id.peer_id(), cert.device_name());
        println!("certificate  valid until {} (unix seconds)", cert.not_after());
        println!("home         {}", home.root().display());
    }
}
