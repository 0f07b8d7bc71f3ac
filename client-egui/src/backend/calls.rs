//! Calls (the call window): what it asks ([`CallCmd`]) and running it
//! against the node. Every command answers with the call as it is now
//! ([`Update::Call`]); the window asks again a few times a second while a
//! call runs, for its meters and its length. A call's pictures do not go
//! through here: the window reads them from the handles
//! [`Update::CallVideo`] gave it.

use kovan_node::call::{AudioSink, AudioSource, Discard, Silence, VideoSource};
use kovan_node::{CallDevices, Feed, NodeHandle};

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
    /// Turn the camera on (or off).
    Camera(bool),
    /// Share the screen (or stop).
    Screen(bool),
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

/// Tells the window where the call's pictures are.
async fn show_video(devices: &CallDevices, out: &Out) {
    let (camera, seen) = devices.feed(Feed::Camera);
    let (camera, seen) = (camera.clone(), seen.clone());
    let seen_screen = devices.feed(Feed::Screen).1.clone();
    out.send(Update::CallVideo { seen, camera, seen_screen }).await;
}

/// What `feed` sends: the system's camera, or the whole of this
/// session's X11 screen (opened off the async threads); with
/// `test_camera`, the test pattern.
async fn open_feed(feed: Feed, test_camera: bool) -> Result<Box<dyn VideoSource>, String> {
    use kovan_node::call::{ScreenSource, SystemCamera, TestPattern};
    if test_camera {
        let (w, h) = if feed == Feed::Camera { (640, 480) } else { (320, 240) };
        return Ok(Box::new(TestPattern::new(w, h)?));
    }
    let opened = tokio::task::spawn_blocking(move || -> Result<Box<dyn VideoSource>, String> {
        Ok(match feed {
            Feed::Camera => Box::new(SystemCamera::open(None)?),
            Feed::Screen => Box::new(ScreenSource::open(None, None)?),
        })
    })
    .await;
    opened.map_err(|e| e.to_string())?
}

/// Turns `feed` on or off in the call (`what` names it in an error).
async fn switch_feed(
    n: &NodeHandle,
    out: &Out,
    feed: Feed,
    on: bool,
    what: &'static str,
) -> Result<(), (&'static str, kovan_node::NodeError)> {
    let source = if on {
        match open_feed(feed, out.test_camera).await {
            Ok(s) => Some(s),
            Err(e) => {
                out.error(what, e).await;
                return Ok(());
            }
        }
    } else {
        None
    };
    let set = match feed {
        Feed::Camera => n.set_camera(source).await,
        Feed::Screen => n.share_screen(source).await,
    };
    set.map(drop).map_err(|e| (what, e))
}

/// Runs one call command, then reads the call.
pub(super) async fn run(n: &NodeHandle, c: CallCmd, out: &Out) {
    let done = match c {
        CallCmd::Start(conv) => {
            let devices = devices(out.clone());
            show_video(&devices, out).await;
            n.call_friend(&conv, devices).await.map(drop).map_err(|e| ("calling", e))
        }
        CallCmd::Answer => {
            let devices = devices(out.clone());
            show_video(&devices, out).await;
            n.answer_call(None, devices).await.map(drop).map_err(|e| ("answering the call", e))
        }
        CallCmd::Camera(on) => {
            let what = if on { "turning the camera on" } else { "turning the camera off" };
            switch_feed(n, out, Feed::Camera, on, what).await
        }
        CallCmd::Screen(on) => switch_feed(n, out, Feed::Screen, on, "sharing the screen").await,
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
