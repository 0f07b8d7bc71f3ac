//! `kovan`: the kovan node on the command line.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use kovan_crypto::identity::AccountId;
use kovan_node::config::NodeConfig;
use kovan_node::home::Home;
use kovan_node::identity::Identity;
use kovan_node::store::Database;
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
    /// Show the safety number to compare with a contact.
    SafetyNumber {
        /// The contact's account key (64 hex digits).
        account: String,
    },
    /// Change the keystore passphrase. The new one is read from
    /// --new-passphrase-file, KOVAN_NEW_PASSPHRASE, or asked for.
    Passwd {
        /// File holding the new passphrase.
        #[arg(long, value_name = "FILE")]
        new_passphrase_file: Option<PathBuf>,
    },
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
    let default_level = match cli.verbose {
        0 => "warn",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let json = cli.json;
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let kind = e.downcast_ref::<kovan_node::Error>().map(|e| format!("{:?}", e.kind()));
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
            let bytes = hex::decode(account.trim()).context("the account key must be hex")?;
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
    }
    Ok(())
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
