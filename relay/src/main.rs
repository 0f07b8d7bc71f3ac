//! `kovan-relay`: the optional kovan relay server.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};
use kovan_relay::{Relay, RelayConfig};

#[path = "../../packaging/generate.rs"]
mod generate;

/// kovan-relay — accounts, lookup, ciphertext mailboxes and NAT help for
/// kovan nodes. It never sees plaintext.
#[derive(Debug, Parser)]
#[command(name = "kovan-relay", version = env!("KOVAN_VERSION"), about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the relay until Ctrl-C or SIGTERM.
    Serve(Box<ServeArgs>),
    /// Print the OpenAPI document of the HTTP API.
    Openapi,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// TOML config file (see relay.example.toml). Flags override it.
    #[arg(long, env = "KOVAN_RELAY_CONFIG")]
    config: Option<PathBuf>,
    /// HTTP listen address [default: 127.0.0.1:8480].
    #[arg(long, env = "KOVAN_RELAY_LISTEN")]
    listen: Option<SocketAddr>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB
    /// [default: SQLite relay.sqlite3 in the data dir].
    #[arg(long, env = "KOVAN_RELAY_DATABASE")]
    database: Option<String>,
    /// Data directory (SQLite database, libp2p key)
    /// [default: $XDG_DATA_HOME/kovan-relay].
    #[arg(long, env = "KOVAN_RELAY_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// libp2p listen multiaddr; repeat for several
    /// [default: /ip4/127.0.0.1/tcp/0 and /ip4/127.0.0.1/udp/0/quic-v1].
    #[arg(long)]
    p2p_listen: Vec<String>,
    /// A libp2p address peers reach the relay at, when it differs from the
    /// listen addresses (NAT, load balancer); repeat for several.
    #[arg(long)]
    p2p_external: Vec<String>,
    /// A reverse proxy whose X-Forwarded-For is trusted; repeat for several.
    #[arg(long)]
    trusted_proxy: Vec<IpAddr>,
    /// UDP address for the STUN and TURN server that helps calls through
    /// NAT (off unless given), e.g. 0.0.0.0:3478.
    #[arg(long)]
    turn_listen: Option<SocketAddr>,
    /// The public address clients reach the TURN server at.
    #[arg(long)]
    turn_external: Option<IpAddr>,
    /// Log as JSON lines.
    #[arg(long)]
    log_json: bool,
}

async fn terminate() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if let Some(generate) = generate::Generate::from_args() {
        return generate.exec(Cli::command());
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Openapi => print!("{}", kovan_relay::openapi::json()),
        Command::Serve(args) => {
            let filter = tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
            if args.log_json {
                tracing_subscriber::fmt().json().with_env_filter(filter).init();
            } else {
                tracing_subscriber::fmt().with_env_filter(filter).init();
            }
            let mut config = match &args.config {
                Some(p) => RelayConfig::from_file(p)?,
                None => RelayConfig::default(),
            };
            if let Some(l) = args.listen {
                config.listen = l;
            }
            if args.database.is_some() {
                config.database = args.database;
            }
            if args.data_dir.is_some() {
                config.data_dir = args.data_dir;
            }
            if !args.p2p_listen.is_empty() {
                config.p2p_listen = args.p2p_listen;
            }
            if !args.p2p_external.is_empty() {
                config.p2p_external = args.p2p_external;
            }
            if !args.trusted_proxy.is_empty() {
                config.trusted_proxies = args.trusted_proxy;
            }
            if args.turn_listen.is_some() {
                config.turn_listen = args.turn_listen;
            }
            if args.turn_external.is_some() {
                config.turn_external = args.turn_external;
            }
            let relay = Relay::start(config).await?;
            println!("kovan-relay listening on {}", relay.url());
            terminate().await;
            tracing::info!("shutting down");
            relay.shutdown(Duration::from_secs(10)).await;
        }
    }
    Ok(())
}
