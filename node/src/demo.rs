//! `kovan demo`: with no setup at all, an embedded relay and two nodes in
//! one process become friends and exchange a few messages; every step is
//! reported as it happens.

use std::time::{Duration, Instant};

use kovan_relay::{Relay, RelayConfig};
use serde_json::json;
use tokio::sync::broadcast;

use crate::home::Home;
use crate::identity::Identity;
use crate::node::{Event, Node, NodeHandle, NodeOptions};

const WAIT: Duration = Duration::from_secs(30);

/// How the demo reports.
pub trait Report {
    /// One step happened.
    fn step(&mut self, what: &str, detail: serde_json::Value);
}

/// Human-readable lines on stdout.
#[derive(Debug, Default)]
pub struct Text {
    start: Option<Instant>,
}

impl Report for Text {
    fn step(&mut self, what: &str, detail: serde_json::Value) {
        let start = *self.start.get_or_insert_with(Instant::now);
        let ms = start.elapsed().as_millis();
        let detail = match detail {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => format!(": {s}"),
            other => format!(": {other}"),
        };
        println!("[{ms:>5} ms] {what}{detail}");
    }
}

/// One JSON object per line on stdout.
#[derive(Debug, Default)]
pub struct JsonLines;

impl Report for JsonLines {
    fn step(&mut self, what: &str, detail: serde_json::Value) {
        println!("{}", json!({ "step": what, "detail": detail }));
    }
}

async fn wait_for(
    rx: &mut broadcast::Receiver<Event>,
    what: &str,
    want: impl Fn(&Event) -> bool,
) -> anyhow::Result<Event> {
    tokio::time::timeout(WAIT, async {
        loop {
            match rx.recv().await {
                Ok(ev) if want(&ev) => return Ok(ev),
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => anyhow::bail!("node stopped"),
            }
        }
    })
    .await
    .map_err(|_| anyhow::anyhow!("timed out waiting for {what}"))?
}

async fn person(
    dir: &std::path::Path,
    name: &str,
    relay: &str,
) -> anyhow::Result<(NodeHandle, broadcast::Receiver<Event>)> {
    let home = Home::at(dir.join(name));
    let id = Identity::create(&home, b"demo passphrase", name)?;
    let mut opts = NodeOptions::loopback(home, name);
    opts.relay_url = Some(relay.to_owned());
    let h = Node::start(id, opts).await?;
    let rx = h.subscribe();
    Ok((h, rx))
}

/// Runs the demo in a temporary directory.
pub async fn run(report: &mut dyn Report) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let relay = Relay::start(RelayConfig {
        listen: "127.0.0.1:0".parse()?,
        data_dir: Some(dir.path().join("relay")),
        ..Default::default()
    })
    .await?;
    report.step("relay started", json!(relay.url()));

    let (alice, mut a_rx) = person(dir.path(), "alice", &relay.url()).await?;
    let (bob, mut b_rx) = person(dir.path(), "bob", &relay.url()).await?;
    report.step("alice's node started", json!(alice.peer_id().to_string()));
    report.step("bob's node started", json!(bob.peer_id().to_string()));

    alice.register("alice", "alice's long password").await?;
    bob.register("bob", "bob's long password").await?;
    report.step("both registered on the relay", json!(["alice", "bob"]));

    let found = alice.search("bob").await?;
    report.step("alice searched for \"bob\"", serde_json::to_value(&found)?);

    alice.friend_request("bob", "Hi Bob, it's Alice").await?;
    report.step("alice sent bob a friend request", json!("signed, sealed, with a KeyPackage"));
    let Event::FriendRequest { contact } =
        wait_for(&mut b_rx, "the friend request", |e| matches!(e, Event::FriendRequest { .. }))
            .await?
    else {
        anyhow::bail!("unexpected event");
    };
    report.step("bob received it", json!({ "from": contact.name(), "note": contact.note }));
    bob.friend_accept(&contact.account).await?;
    wait_for(&mut a_rx, "acceptance", |e| matches!(e, Event::FriendAccepted { .. })).await?;
    report.step("bob accepted: a two-member MLS group exists", json!(contact.conversation));

    let lines = [
        (&alice, "bob", "Merhaba Bob! :wave:"),
        (&bob, "alice", "Hi Alice :tada: this is end-to-end encrypted"),
        (&alice, "bob", "and stored encrypted on both sides"),
    ];
    for (from, to, text) in lines {
        let sent = from.send_text(to, text, None).await?;
        let rx = if std::ptr::eq(from, &alice) { &mut b_rx } else { &mut a_rx };
        let id = sent.id.clone();
        wait_for(
            rx,
            "the message",
            |e| matches!(e, Event::Message { message } if message.id == id),
        )
        .await?;
        let name = if std::ptr::eq(from, &alice) { "alice" } else { "bob" };
        report.step(&format!("{name} → {to}"), json!(sent.text));
    }
    let last = alice.history("bob", None, 1).await?;
    if let Some(m) = last.first() {
        let id = m.id.clone();
        bob.react("alice", &id, ":heart:", false).await?;
        wait_for(&mut a_rx, "the reaction", |e| matches!(e, Event::Reactions { .. })).await?;
        report.step("bob reacted ❤️ to alice's last message", json!(id));
    }
    let history = bob.history("alice", None, 10).await?;
    report.step(
        "bob's history (newest first)",
        json!(
            history.iter().map(|m| json!({"text": m.text, "state": m.state})).collect::<Vec<_>>()
        ),
    );
    let status = alice.status().await?;
    report.step("alice's status", serde_json::to_value(&status)?);
    alice.shutdown().await;
    bob.shutdown().await;
    relay.shutdown(Duration::from_secs(2)).await;
    report.step("done", json!("everything ran on 127.0.0.1 and was removed"));
    Ok(())
}
