//! Spreading messages (the Spreads tab): what the tab asks
//! ([`SpreadCmd`]) and running it against the node. Every command answers
//! with the whole list and the settings, read afresh.

use kovan_node::NodeHandle;

use super::{Out, Update};

/// What the Spreads tab asks of the node.
#[derive(Debug, Clone)]
pub enum SpreadCmd {
    /// The spreads this node holds, and whether it takes part.
    Load,
    /// Start one (it goes to every friend who takes part).
    Start {
        /// The text.
        text: String,
        /// How many hops it may travel, 1..=8.
        hops: u8,
    },
    /// The user saw these spreads (`author:id`): the node passes them on.
    Seen(Vec<String>),
    /// Take back one of this account's spreads (`author:id`).
    Retract(String),
    /// Take part, or stop.
    TakePart(bool),
}

/// Runs one of the tab's commands, then reads the list again.
pub(super) async fn run(n: &NodeHandle, cmd: SpreadCmd, out: &Out) {
    let (what, done) = match cmd {
        SpreadCmd::Load => ("reading spreading messages", Ok(())),
        SpreadCmd::Start { text, hops } => {
            ("spreading the message", n.start_spread(&text, hops).await.map(drop))
        }
        SpreadCmd::Seen(ids) => ("passing spreads on", n.spreads_seen(ids).await.map(drop)),
        SpreadCmd::Retract(id) => ("taking the spread back", n.retract_spread(&id).await.map(drop)),
        SpreadCmd::TakePart(on) => ("changing spreading messages", n.set_spreads(on).await),
    };
    if let Err(e) = done {
        return out.error(what, e).await;
    }
    let list = match n.spreads().await {
        Ok(l) => l,
        Err(e) => return out.error("reading spreading messages", e).await,
    };
    match n.spread_settings().await {
        Ok(settings) => out.send(Update::Spreads { what, list, settings }).await,
        Err(e) => out.error("reading spreading messages", e).await,
    }
}
