//! Data links (SPEC.md §6.9.4): a peer connection with data channels only,
//! opened by a node waiting for a file from a friend's device that no other
//! source can bring (no call, no direct libp2p connection, no relay copy),
//! and answered by the sender's node without its user. It carries file
//! fetches exactly as a call does (§6.9.1), is never logged or shown, and
//! ends once no channel was open on it for a while.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use kovan_spec::validate::{CallEndReason, CallSignal, CallSignalKind};
use kovan_spec::wire;
use rand_core::{OsRng, RngCore};
use serde::Serialize;

use super::{CallInput, MAX_EARLY_CANDIDATES};
use crate::call::{CallMedia, MediaEvent};
use crate::contacts::FriendState;
use crate::node::core::{Core, Input};
use crate::node::{NodeHandle, NodeResult};

/// Links open at once, both ways; an offer beyond is answered BUSY.
pub const MAX_LINKS: usize = 4;
/// A link offer older than this (it waited in a mailbox) is ignored.
pub const LINK_FRESH_MS: i64 = 30_000;
/// A node asks a device for a link at most once in this long.
const LINK_RETRY_MS: i64 = 30_000;

/// One data link.
struct Link {
    conv: Vec<u8>,
    /// The peer's device.
    device: String,
    outgoing: bool,
    started_at: i64,
    media: Option<Arc<CallMedia>>,
    /// When ICE and DTLS came up (ms), if they did.
    up: Option<i64>,
    /// Checks in a row that found no channel open.
    idle: u32,
    /// Candidates that came before the connection was built.
    early: Vec<(String, String, u32)>,
}

/// The core's links, by id.
#[derive(Default)]
pub(in crate::node::core) struct Links {
    by_id: HashMap<[u8; 16], Link>,
    /// When this node last asked each device for a link (ms).
    asked: HashMap<String, i64>,
}

/// A data link as `links` shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LinkView {
    /// The link's id (hex).
    pub id: String,
    /// The peer's device.
    pub device: String,
    /// This node opened it.
    pub outgoing: bool,
    /// ICE and DTLS are up.
    pub connected: bool,
    /// File channels open on it now.
    pub channels: usize,
}

impl Core {
    /// A download from `device` waits for a source: a link may bring it.
    pub(in crate::node::core) fn want_link(&mut self, device: &str) {
        let now = self.options.clock.now_ms();
        if !self.options.calls.links
            || self.stopping
            || self.call_link(device).is_some()
            || self.links.by_id.values().any(|l| l.device == device)
            || self.links.by_id.len() >= MAX_LINKS
            || self.links.asked.get(device).is_some_and(|t| now - t < LINK_RETRY_MS)
        {
            return;
        }
        let Ok(Some(contact)) = self.contacts_store().by_peer(device) else { return };
        if !friend(&contact) || certified(&contact).as_deref() != Some(device) {
            return;
        }
        let Some(conv) = contact.conversation_id else { return };
        self.links.asked.insert(device.to_owned(), now);
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        tracing::debug!(link = %hex::encode(id), %device, "asking for a data link");
        self.links.by_id.insert(id, Link::new(conv, device, true, now));
        if let Err(e) = self.make_media(id, None, None) {
            tracing::debug!(error = %e, "a data link could not start");
            self.links.by_id.remove(&id);
            return;
        }
        self.start_link_timer(id);
    }

    /// Checks the link every half idle period (see [`CallInput::LinkCheck`]).
    fn start_link_timer(&self, id: [u8; 16]) {
        let input = self.input.clone();
        let every = Duration::from_millis(self.options.calls.link_idle_ms / 2);
        self.spawn(async move {
            tokio::time::sleep(every).await;
            let _ = input.send(Input::Call(CallInput::LinkCheck { id })).await;
        });
    }

    /// Ends link `id`, telling the peer when `tell`.
    fn end_link(&mut self, id: [u8; 16], tell: bool) {
        let Some(link) = self.links.by_id.remove(&id) else { return };
        tracing::debug!(link = %hex::encode(id), "data link ended");
        if tell {
            self.send_end(&link.conv, id, CallEndReason::Hangup);
        }
        if let Some(media) = link.media {
            self.spawn(async move { media.close().await });
        }
    }

    /// A signal that belongs to a link (its offer, or any signal naming a
    /// link's id) is handled here; anything else is the call's.
    pub(in crate::node::core) fn on_link_signal(
        &mut self,
        conv: &[u8],
        device: &str,
        sent_at: i64,
        signal: &CallSignal,
        now: i64,
    ) -> bool {
        let id = signal.call_id;
        if let CallSignalKind::Link { sdp } = &signal.kind {
            self.link_offered(conv, device, id, sdp.clone(), now - sent_at);
            return true;
        }
        let Some(link) = self.links.by_id.get_mut(&id) else { return false };
        if link.device != device {
            return true;
        }
        match &signal.kind {
            CallSignalKind::Answer { sdp } if link.outgoing => {
                if let Some(media) = link.media.clone() {
                    let (input, sdp) = (self.input.clone(), sdp.clone());
                    self.spawn(async move {
                        if let Err(e) = media.answered(&sdp).await {
                            let event = MediaEvent::Failed(e);
                            let _ =
                                input.send(Input::Call(CallInput::LinkMedia { id, event })).await;
                        }
                    });
                }
            }
            CallSignalKind::Candidate { candidate, sdp_mid, sdp_mline_index } => {
                let c = (candidate.clone(), sdp_mid.clone(), *sdp_mline_index);
                match link.media.clone() {
                    Some(media) => self.spawn(async move {
                        let _ = media.candidate(c.0, c.1, c.2).await;
                    }),
                    None if link.early.len() < MAX_EARLY_CANDIDATES => link.early.push(c),
                    None => {}
                }
            }
            CallSignalKind::End(_) => self.end_link(id, false),
            _ => {}
        }
        true
    }

    /// A friend's device asks for a link: answered at once, within the
    /// limits (SPEC.md §6.9.4).
    fn link_offered(&mut self, conv: &[u8], device: &str, id: [u8; 16], sdp: String, age: i64) {
        if age > LINK_FRESH_MS || self.links.by_id.contains_key(&id) {
            return;
        }
        let known = self.contacts_store().by_conversation(conv).ok().flatten();
        let Some(contact) = known.filter(|c| friend(c) && certified(c) == Some(device.to_owned()))
        else {
            tracing::debug!("a data link offer from a device that is not a friend's was ignored");
            return;
        };
        if !self.options.calls.links {
            self.send_end(conv, id, CallEndReason::Declined);
            return;
        }
        // A new offer from the same device replaces its link (it restarted).
        let old: Vec<[u8; 16]> =
            self.links.by_id.iter().filter(|(_, l)| l.device == device).map(|(k, _)| *k).collect();
        for old in old {
            self.end_link(old, false);
        }
        if self.links.by_id.len() >= MAX_LINKS {
            self.send_end(conv, id, CallEndReason::Busy);
            return;
        }
        let now = self.options.clock.now_ms();
        let conv = contact.conversation_id.unwrap_or_else(|| conv.to_vec());
        self.links.by_id.insert(id, Link::new(conv, device, false, now));
        if let Err(e) = self.make_media(id, None, Some(sdp)) {
            tracing::debug!(error = %e, "a data link could not be answered");
            self.links.by_id.remove(&id);
            return;
        }
        self.start_link_timer(id);
    }

    /// What a link's tasks report.
    pub(in crate::node::core) fn on_link(&mut self, input: CallInput) {
        match input {
            CallInput::LinkMade { id, made } => {
                let Some(link) = self.links.by_id.get_mut(&id) else {
                    if let Ok((media, _)) = made {
                        self.spawn(async move { media.close().await });
                    }
                    return;
                };
                let (media, sdp) = match made {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::info!(error = %e, "a data link's connection could not be made");
                        let tell = !link.outgoing;
                        self.end_link(id, tell);
                        return;
                    }
                };
                let media = Arc::new(media);
                link.media = Some(media.clone());
                let early = std::mem::take(&mut link.early);
                let (conv, outgoing, device) =
                    (link.conv.clone(), link.outgoing, link.device.clone());
                self.serve_channels(&media, &device);
                self.use_candidates(&media, early);
                let kind = if outgoing {
                    wire::call_signal::Kind::Link(wire::CallLink { sdp })
                } else {
                    wire::call_signal::Kind::Answer(wire::CallAnswer { sdp })
                };
                if let Err(e) = self.call_signal(&conv, id, kind) {
                    tracing::info!(error = %e, "a data link's offer or answer was not sent");
                    self.end_link(id, false);
                }
            }
            CallInput::LinkMedia { id, event: MediaEvent::Connected } => {
                let now = self.options.clock.now_ms();
                let Some(link) = self.links.by_id.get_mut(&id) else { return };
                link.up = Some(now);
                let device = link.device.clone();
                // Files from the peer that wait for a source come now.
                self.retry_files_from(&device);
            }
            CallInput::LinkMedia { id, event: MediaEvent::Failed(e) } => {
                tracing::info!(error = %e, "a data link failed");
                self.end_link(id, true);
            }
            CallInput::LinkCheck { id } => {
                let now = self.options.clock.now_ms();
                let connect_ms = self.options.calls.connect_ms as i64;
                let idle_ms = self.options.calls.link_idle_ms as i64;
                let Some(link) = self.links.by_id.get_mut(&id) else { return };
                let open = link.media.as_ref().map_or(0, |m| m.open_channels());
                // A link up for less than an idle period is not idle yet:
                // its first channel may still be on its way.
                let settled = link.up.is_some_and(|t| now - t >= idle_ms);
                link.idle = if open == 0 && settled { link.idle + 1 } else { 0 };
                let never_came_up = link.up.is_none() && now - link.started_at > connect_ms;
                // Idle for two checks in a row: a whole idle period.
                if never_came_up || link.idle >= 2 {
                    self.end_link(id, true);
                } else {
                    self.start_link_timer(id);
                }
            }
            _ => {}
        }
    }

    /// The up link with `device`, if any (a path for its files).
    pub(in crate::node::core) fn data_link(&self, device: &str) -> Option<Arc<CallMedia>> {
        let link = self.links.by_id.values().find(|l| l.up.is_some() && l.device == device)?;
        link.media.clone().filter(|m| !m.is_closed())
    }

    /// The node stops: every link ends.
    pub(in crate::node::core) fn stop_links(&mut self) {
        let ids: Vec<[u8; 16]> = self.links.by_id.keys().copied().collect();
        for id in ids {
            self.end_link(id, true);
        }
    }

    fn link_views(&self) -> Vec<LinkView> {
        let mut views: Vec<LinkView> = self
            .links
            .by_id
            .iter()
            .map(|(id, l)| LinkView {
                id: hex::encode(id),
                device: l.device.clone(),
                outgoing: l.outgoing,
                connected: l.up.is_some(),
                channels: l.media.as_ref().map_or(0, |m| m.open_channels()),
            })
            .collect();
        views.sort_by(|a, b| a.device.cmp(&b.device));
        views
    }

    /// Candidates that came before `media` was built.
    pub(in crate::node::core) fn use_candidates(
        &self,
        media: &Arc<CallMedia>,
        early: Vec<(String, String, u32)>,
    ) {
        for (candidate, mid, index) in early {
            let media = media.clone();
            self.spawn(async move {
                if let Err(e) = media.candidate(candidate, mid, index).await {
                    tracing::debug!(error = %e, "an early candidate was not used");
                }
            });
        }
    }

    /// The peer's device may fetch files over `media` (SPEC.md §6.9.1): the
    /// core decides as for `/kovan/file/1`.
    pub(in crate::node::core) fn serve_channels(&self, media: &CallMedia, device: &str) {
        if let (Some(channels), Ok(peer)) =
            (media.incoming_files(), device.parse::<libp2p::PeerId>())
        {
            let incoming = channels.map(move |stream| (peer, stream));
            self.spawn(crate::node::serve_files(incoming, self.input.clone()));
        }
    }
}

impl Link {
    fn new(conv: Vec<u8>, device: &str, outgoing: bool, now: i64) -> Self {
        Self {
            conv,
            device: device.to_owned(),
            outgoing,
            started_at: now,
            media: None,
            up: None,
            idle: 0,
            early: Vec::new(),
        }
    }
}

/// The contact's certified device.
fn certified(c: &crate::contacts::ContactRow) -> Option<String> {
    c.certificate.as_ref().map(|cert| cert.peer_id().to_string())
}

/// A friend, not blocked: the only accounts a link is made with.
fn friend(c: &crate::contacts::ContactRow) -> bool {
    c.state == FriendState::Friend && !c.blocked
}

impl NodeHandle {
    /// The data links open now (SPEC.md §6.9.4).
    pub async fn data_links(&self) -> NodeResult<Vec<LinkView>> {
        self.call(|c| Ok(c.link_views())).await
    }
}
