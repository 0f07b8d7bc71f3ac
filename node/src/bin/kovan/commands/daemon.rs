//! The node itself: `daemon` (run it), `status`, `connect`.

use anyhow::Context as _;
use clap::Args;
use kovan_node::control::socket_path;
use kovan_node::{Node, NodeOptions};
use serde_json::json;

use crate::output;
use crate::{Context, remote};

/// Run the node: networking, relay connection, and the control socket
/// the other commands use. Stops on Ctrl-C or SIGTERM.
#[derive(Debug, Args)]
pub struct Daemon {
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
    /// The name shown to people you befriend. Default: `display_name` in
    /// kovan.toml (set by `kovan init --name`), else none (they see your
    /// username).
    #[arg(long)]
    display_name: Option<String>,
    /// Log as JSON lines.
    #[arg(long)]
    pub log_json: bool,
}

impl Daemon {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let id = ctx.unlock()?;
        let home = &ctx.home;
        let mut config = ctx.config.clone();
        config.mdns &= !self.no_mdns;
        config.direct &= !self.relay_only;
        if !self.listen.is_empty() {
            config.listen = self.listen.clone();
        }
        let name = self.display_name.clone().or(config.display_name.clone()).unwrap_or_default();
        let options = NodeOptions::from_config(home.clone(), &config, self.relay.clone(), &name)
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
}

/// Show the running node's status.
#[derive(Debug, Args)]
pub struct Status;

impl Status {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        remote::run(ctx, "status", json!({}), print_status)
    }
}

/// Connect to a peer at an address ending in /p2p/<PeerId>.
#[derive(Debug, Args)]
pub struct Connect {
    /// The address.
    addr: String,
}

impl Connect {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        remote::run(ctx, "connect", json!({ "addr": self.addr }), |_| println!("Connected."))
    }
}

/// The node's status, for people.
fn print_status(v: &serde_json::Value) {
    let s = |k: &str| v[k].as_str().unwrap_or("").to_owned();
    println!("account            {}", s("account"));
    println!("this device        {}", s("peer_id"));
    let relay = match (v["relay_url"].as_str(), v["username"].as_str()) {
        (None, _) => "none".to_owned(),
        (Some(url), Some(u)) => format!("{url}, signed in as @{u}"),
        (Some(url), None) => format!("{url}, not signed in"),
    };
    let link = if v["relay_connected"].as_bool() == Some(true) { "connected" } else { "offline" };
    println!("relay              {relay} ({link})");
    println!(
        "friends            {} ({} waiting for your answer)",
        v["friends"], v["incoming_requests"]
    );
    println!("peers connected    {}", v["connected_peers"]);
    println!("waiting to send    {}", output::count(v["outbox"].as_u64().unwrap_or(0), "envelope"));
    let receipts = if v["read_receipts"].as_bool() == Some(false) { "off" } else { "on" };
    println!("read receipts      {receipts}");
    let dial: Vec<&str> =
        v["dial"].as_array().into_iter().flatten().filter_map(|a| a.as_str()).collect();
    match dial.split_first() {
        Some((first, rest)) => {
            println!("reach this device  {first}");
            for a in rest {
                println!("                   {a}");
            }
        }
        None => println!("reach this device  not listening"),
    }
    if let Some(r) = v["restored"].as_object() {
        println!(
            "restored           from a backup ({})",
            r.get("reason").and_then(|x| x.as_str()).unwrap_or("")
        );
    }
}
