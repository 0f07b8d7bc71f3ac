//! `kovan-relay`: the optional kovan relay server.

use std::net::SocketAddr;

use clap::{Parser, Subcommand};
use tracing::info;

/// kovan-relay — accounts, lookup, ciphertext mailboxes and NAT help for
/// kovan nodes. It never sees plaintext.
#[derive(Debug, Parser)]
#[command(name = "kovan-relay", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the relay.
    Serve {
        /// HTTP listen address.
        #[arg(long, default_value = "127.0.0.1:8480", env = "KOVAN_RELAY_LISTEN")]
        listen: SocketAddr,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { listen } => {
            let listener = kovan_relay::bind(listen).await?;
            info!(addr = %listener.local_addr()?, "kovan-relay listening");
            kovan_relay::serve(listener, async {
                let _ = tokio::signal::ctrl_c().await;
                info!("shutting down");
            })
            .await?;
        }
    }
    Ok(())
}
