//! `kovan`: the kovan node on the command line.
//!
//! This file is the clap root (the global flags) and the dispatch. Each
//! command lives in `commands/`, one module per group of commands, and
//! prints through `output.rs`; the commands a running daemon answers talk
//! to it through `remote.rs`. The hidden commands that write completions
//! and man pages for the packages come from `packaging/generate.rs`.

mod commands;
#[path = "../../../../packaging/generate.rs"]
mod generate;
mod output;
mod remote;
mod secret;

use std::path::PathBuf;

use clap::{CommandFactory, Parser};
use kovan_node::config::NodeConfig;
use kovan_node::home::Home;
use kovan_node::identity::Identity;
use zeroize::Zeroizing;

use crate::commands::Command;
use crate::generate::Generate;

/// kovan — an end-to-end encrypted, peer-to-peer messenger.
#[derive(Debug, Parser)]
#[command(name = "kovan", version = env!("KOVAN_VERSION"), about = "kovan — an end-to-end encrypted, peer-to-peer messenger", long_about = None)]
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

/// What every command is given: the global flags, resolved.
pub struct Context {
    /// The node's home directory.
    pub home: Home,
    /// Its config file, loaded (defaults where there is none).
    pub config: NodeConfig,
    /// `--json`: print JSON instead of text.
    pub json: bool,
    passphrase_file: Option<PathBuf>,
}

impl Context {
    /// The keystore passphrase: from `--passphrase-file`, KOVAN_PASSPHRASE
    /// or a prompt (asked twice when `confirm`).
    pub fn passphrase(&self, confirm: bool) -> anyhow::Result<Zeroizing<String>> {
        secret::read(self.passphrase_file.as_ref(), "KOVAN_PASSPHRASE", "Passphrase: ", confirm)
    }

    /// The identity, unlocked with the passphrase.
    pub fn unlock(&self) -> anyhow::Result<Identity> {
        Ok(Identity::unlock(&self.home, self.passphrase(false)?.as_bytes())?)
    }
}

fn main() -> std::process::ExitCode {
    if let Some(generate) = Generate::from_args() {
        return match generate.exec(Cli::command()) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => output::error(false, &e),
        };
    }
    let cli = Cli::parse();
    init_logging(&cli);
    let json = cli.json;
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => output::error(json, &e),
    }
}

/// Logs go to stderr: warnings only, except for the daemon (info), more
/// with -v; `daemon --log-json` writes JSON lines.
fn init_logging(cli: &Cli) {
    let daemon = match &cli.command {
        Command::Daemon(d) => Some(d),
        _ => None,
    };
    let default_level = match (cli.verbose, daemon.is_some()) {
        (0, false) => "warn",
        (0, true) => "info",
        (1, _) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let fmt = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if daemon.is_some_and(|d| d.log_json) {
        fmt.json().init();
    } else {
        fmt.init();
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let home = match &cli.home {
        Some(p) => Home::at(p),
        None => Home::default_location()?,
    };
    let config = NodeConfig::load(&home)?;
    let ctx = Context { home, config, json: cli.json, passphrase_file: cli.passphrase_file };
    cli.command.exec(&ctx)
}
