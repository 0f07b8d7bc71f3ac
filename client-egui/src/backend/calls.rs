//! Calls (the call window): what it asks ([`CallCmd`]) and running it
//! against the node. Every command answers with the call as it is now
//! ([`Update::Call`]); the window asks again a few times a second while a
//! call runs, for its meters and its length.

use kovan_node::call::{AudioSink, AudioSource, Discard, Silence};
use kovan_node::{CallDevices, NodeHandle};

use super::{Out, Update};
use crate::call_audio::{Microphone, Speaker};

/// What the call window asks of the node.
#[derive(Debug, Clone)]
pub enum CallCmd {
    /// Call the friend of a 1:1 conversation.
    Start(String),
    /// Answer the call that rings.
    Answer,
    /// Decline it.
    Reject,
    /// End the call.
    Hangup,
    /// Mute (or unmute) the microphone.
    Mute(bool),
    /// Read the call as it is now.
    Read,
}

/// The system's microphone and speaker; where one cannot be opened, the
/// call goes on without it (silence sent, nothing played) and says so.
fn devices(out: Out) -> CallDevices {
    let rt = tokio::runtime::Handle::current();
    CallDevices::new(move || {
        let mut problems = Vec::new();
        let source: Box<dyn AudioSource> = match Microphone::open() {
            Ok(m) => Box::new(m),
            Err(e) => {
                problems.push(e.to_string());
                Box::new(Silence)
            }
        };
        let sink: Box<dyn AudioSink> = match Speaker::open() {
            Ok(s) => Box::new(s),
            Err(e) => {
                problems.push(e.to_string());
                Box::new(Discard)
            }
        };
        if !problems.is_empty() {
            let out = out.clone();
            rt.spawn(
                async move { out.error("opening the sound devices", problems.join("; ")).await },
            );
        }
        Ok((source, sink))
    })
}

/// Runs one call command, then reads the call.
pub(super) async fn run(n: &NodeHandle, c: CallCmd, out: &Out) {
    let done = match c {
        CallCmd::Start(conv) => {
            n.call_friend(&conv, devices(out.clone())).await.map(drop).map_err(|e| ("calling", e))
        }
        CallCmd::Answer => n
            .answer_call(None, devices(out.clone()))
            .await
            .map(drop)
            .map_err(|e| ("answering the call", e)),
        CallCmd::Reject => n.reject_call(None).await.map_err(|e| ("declining the call", e)),
        CallCmd::Hangup => n.hang_up(None).await.map_err(|e| ("hanging up", e)),
        CallCmd::Mute(m) => n.mute_call(m).await.map(drop).map_err(|e| ("muting the call", e)),
        CallCmd::Read => Ok(()),
    };
    if let Err((action, e)) = done {
        out.error(action, e).await;
    }
    match n.current_call().await {
        Ok(call) => out.send(Update::Call(call.map(Box::new))).await,
        Err(e) => out.error("reading the call", e).await,
    }
}
