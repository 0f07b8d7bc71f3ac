//! Calls on the core thread (SPEC.md §6.9): the one call this node is in,
//! its signaling inside the conversation's MLS group, its timers and its
//! log. The media (a WebRTC peer connection) runs on the node's runtime
//! (`crate::call`) and reports here through [`CallInput`].

use std::sync::Arc;
use std::time::Duration;

use kovan_spec::validate::{CallEndReason, CallSignal, CallSignalKind};
use kovan_spec::wire;
use rand_core::{OsRng, RngCore};
use tokio::sync::mpsc;

mod devices;
mod links;
mod log;

pub use devices::{CallDevices, Feed};
use devices::{camera_source, devices_param, screen_source};
pub use links::LinkView;
pub(super) use links::Links;
pub use log::{CallAudio, CallState, CallVideo, CallView};

use super::{Core, Input};
use crate::call::{CallMedia, MediaConfig, MediaEvent, VideoSource};
use crate::control::{s, to_value};
use crate::node::views::Event;
use crate::node::{NodeError, NodeHandle, NodeResult};

/// How long a call rings (SPEC.md §6.9).
pub const RING_MS: u64 = 45_000;
/// How long an answered call may take to connect.
pub const CONNECT_MS: u64 = 30_000;
/// Candidates kept for a call whose connection is not built yet.
pub(super) const MAX_EARLY_CANDIDATES: usize = 32;
/// A data link ends once no channel was open on it this long (§6.9.4).
pub const LINK_IDLE_MS: u64 = 60_000;
/// Calls `kovan calls` lists at most.
pub const MAX_CALL_LOG: usize = 1_000;

/// How a node's calls behave.
#[derive(Debug, Clone)]
pub struct CallOptions {
    /// Where the media goes.
    pub media: MediaConfig,
    /// How long a call rings before it is missed (ms).
    pub ring_ms: u64,
    /// How long an answered call may take to connect (ms).
    pub connect_ms: u64,
    /// Open and answer data links for files (SPEC.md §6.9.4).
    pub links: bool,
    /// A link ends once no channel was open on it this long (ms).
    pub link_idle_ms: u64,
}

impl CallOptions {
    /// The defaults, with media on `udp`.
    pub fn on(udp: Vec<std::net::SocketAddr>) -> Self {
        Self {
            media: MediaConfig { udp, ice_servers: Vec::new(), relay_only: false },
            ring_ms: RING_MS,
            connect_ms: CONNECT_MS,
            links: true,
            link_idle_ms: LINK_IDLE_MS,
        }
    }
}

/// What the call's tasks report to the core.
pub(in crate::node) enum CallInput {
    /// The connection and its offer or answer were made (or not).
    Made { id: [u8; 16], made: Result<(CallMedia, String), String> },
    /// The caller applied the answer (or could not).
    Applied { id: [u8; 16], result: Result<(), String> },
    /// The connection came up or failed.
    Media { id: [u8; 16], event: MediaEvent },
    /// Ringing, or connecting, took too long.
    Timeout { id: [u8; 16], state: CallState },
    /// A data link's connection and its offer or answer were made (or not).
    LinkMade { id: [u8; 16], made: Result<(CallMedia, String), String> },
    /// A data link came up or failed.
    LinkMedia { id: [u8; 16], event: MediaEvent },
    /// Time to see whether a data link is idle.
    LinkCheck { id: [u8; 16] },
}

/// The call this node is in.
struct Call {
    id: [u8; 16],
    conv: Vec<u8>,
    peer: [u8; 32],
    peer_name: String,
    /// The peer's device that signals for this call.
    peer_device: String,
    outgoing: bool,
    state: CallState,
    started_at: i64,
    answered_at: Option<i64>,
    /// An incoming call's offer, until it is answered.
    offer: Option<String>,
    devices: Option<CallDevices>,
    media: Option<Arc<CallMedia>>,
    /// Candidates that came before the connection was built.
    early: Vec<(String, String, u32)>,
}

/// Where an incoming call's offer came from.
struct Offered<'a> {
    id: [u8; 16],
    conv: &'a [u8],
    peer: [u8; 32],
    device: &'a str,
    sent_at: i64,
}

/// The core's call state.
#[derive(Default)]
pub(super) struct Calls {
    current: Option<Call>,
}

impl Core {
    fn call_changed(&mut self) {
        if let Some(c) = self.calls.current.as_ref() {
            let call = self.call_view(c);
            self.emit(Event::Call { call });
        }
    }

    fn call_signal(
        &mut self,
        conv: &[u8],
        id: [u8; 16],
        kind: wire::call_signal::Kind,
    ) -> NodeResult<()> {
        let recipients = match self.contacts_store().by_conversation(conv)? {
            Some(c) => c.certificate.into_iter().collect::<Vec<_>>(),
            None => return Err(NodeError::State("no contact for this call".into())),
        };
        let content = wire::app_envelope::Content::Call(wire::CallSignal {
            call_id: id.to_vec(),
            kind: Some(kind),
        });
        self.send_app(conv, &recipients, content, None, false)?;
        self.pump();
        Ok(())
    }

    fn send_end(&mut self, conv: &[u8], id: [u8; 16], reason: CallEndReason) {
        let end = wire::call_signal::Kind::End(wire::CallEnd { reason: reason.wire() as i32 });
        if let Err(e) = self.call_signal(conv, id, end) {
            tracing::debug!(error = %e, "the end of a call was not sent");
        }
    }

    /// Ends the current call (if it is `id`): tells the peer `tell`,
    /// releases its media, logs it with `reason`.
    fn end_call(&mut self, id: [u8; 16], reason: &str, tell: Option<CallEndReason>) {
        let Some(mut call) = self.calls.current.take_if(|c| c.id == id) else { return };
        if let Some(r) = tell {
            self.send_end(&call.conv, id, r);
        }
        // The last figures, then the connection goes.
        let view = self.call_view(&call);
        if let Some(media) = call.media.take() {
            self.spawn(async move { media.close().await });
        }
        self.finish_call(&call, view, reason);
    }

    /// A call is over: logged, recorded in its chat, and told to the UI.
    fn finish_call(&mut self, call: &Call, mut view: CallView, reason: &str) {
        let now = self.options.clock.now_ms();
        view.state = CallState::Ended;
        view.reason = Some(reason.to_owned());
        view.ended_at = Some(now);
        if let Err(e) = self.log_call(&call.conv, call, reason, now) {
            tracing::warn!(error = %e, "a call was not logged");
        }
        self.record_in_chat(call, reason);
        self.emit(Event::Call { call: view });
    }

    /// An incoming call from `o`, in `state`.
    fn incoming(&self, o: &Offered<'_>, state: CallState, offer: Option<String>) -> Call {
        Call {
            id: o.id,
            conv: o.conv.to_vec(),
            peer: o.peer,
            peer_name: self.peer_name(&o.peer),
            peer_device: o.device.to_owned(),
            outgoing: false,
            state,
            started_at: o.sent_at,
            answered_at: None,
            offer,
            devices: None,
            media: None,
            early: Vec::new(),
        }
    }

    /// Logs a call that never rang (late, or while busy).
    fn log_missed(&mut self, o: &Offered<'_>) {
        let call = self.incoming(o, CallState::Ended, None);
        let view = self.call_view(&call);
        self.finish_call(&call, view, "missed");
    }

    fn peer_name(&self, peer: &[u8; 32]) -> String {
        self.contacts_store()
            .get(peer)
            .ok()
            .flatten()
            .map(|c| c.username.filter(|_| c.display_name.is_empty()).unwrap_or(c.display_name))
            .unwrap_or_default()
    }

    /// Reports of the call's tasks reach the core as [`Input::Call`].
    fn call_input(&self) -> mpsc::Sender<Input> {
        self.input.clone()
    }

    fn start_timer(&self, id: [u8; 16], state: CallState, ms: u64) {
        let input = self.call_input();
        self.spawn(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            let _ = input.send(Input::Call(CallInput::Timeout { id, state })).await;
        });
    }

    /// Builds the call's connection with its offer (`offer` None) or its
    /// answer to `offer`, or (`devices` None) a data link's (§6.9.4); media
    /// events are forwarded to the core.
    fn make_media(
        &self,
        id: [u8; 16],
        devices: Option<&CallDevices>,
        offer: Option<String>,
    ) -> NodeResult<()> {
        let devices = devices.map(|d| d.make()).transpose().map_err(NodeError::Invalid)?;
        let mut config = self.options.calls.media.clone();
        let input = self.call_input();
        let relay = self
            .relay
            .as_ref()
            .and_then(|r| r.session.as_ref().map(|s| (r.client.clone(), s.token.clone())));
        self.spawn(async move {
            let (tx, mut rx) = mpsc::channel(8);
            // The relay's TURN server, when it runs one (SPEC.md §9.7.1).
            if let Some((client, token)) = relay {
                match client.turn_credentials(&token).await {
                    Ok(Some(server)) => config.ice_servers.push(server),
                    Ok(None) => {}
                    Err(e) => tracing::info!(error = %e, "no TURN credentials from the relay"),
                }
            }
            let link = devices.is_none();
            let made = if config.relay_only && config.ice_servers.is_empty() {
                Err("this device keeps its addresses from friends (direct = false), so calls \
                     go through the relay's TURN server, which is not available"
                    .to_owned())
            } else {
                match (devices, offer) {
                    (Some(d), None) => CallMedia::offer_with(&config, d, tx).await,
                    (Some(d), Some(offer)) => CallMedia::answer_with(&config, &offer, d, tx).await,
                    (None, None) => CallMedia::link_offer(&config, tx).await,
                    (None, Some(offer)) => CallMedia::link_answer(&config, &offer, tx).await,
                }
            };
            let ok = made.is_ok();
            let made =
                if link { CallInput::LinkMade { id, made } } else { CallInput::Made { id, made } };
            if input.send(Input::Call(made)).await.is_err() || !ok {
                return;
            }
            while let Some(event) = rx.recv().await {
                let event = if link {
                    CallInput::LinkMedia { id, event }
                } else {
                    CallInput::Media { id, event }
                };
                if input.send(Input::Call(event)).await.is_err() {
                    return;
                }
            }
        });
        Ok(())
    }

    pub(super) fn start_call(&mut self, who: &str, devices: CallDevices) -> NodeResult<CallView> {
        if self.calls.current.is_some() {
            return Err(NodeError::State("you are already in a call; hang up first".into()));
        }
        if self.no_trace_id(who).is_some() {
            return Err(NodeError::State(
                "calls in leave-no-trace chats are not supported yet".into(),
            ));
        }
        let (conv, _) = self.writable(who)?;
        if self.is_group(&conv)? {
            return Err(NodeError::State("calls in groups are not supported yet".into()));
        }
        let contact = self
            .contacts_store()
            .by_conversation(&conv)?
            .ok_or_else(|| NodeError::NotFound("no contact for this chat".into()))?;
        let peer_device = contact
            .certificate
            .as_ref()
            .map(|c| c.peer_id().to_string())
            .ok_or_else(|| NodeError::State("no device for it".into()))?;
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        self.make_media(id, Some(&devices), None)?;
        let peer_name = self.peer_name(&contact.account);
        self.calls.current = Some(Call {
            id,
            conv,
            peer: contact.account,
            peer_name,
            peer_device,
            outgoing: true,
            state: CallState::Calling,
            started_at: self.options.clock.now_ms(),
            answered_at: None,
            offer: None,
            devices: Some(devices),
            media: None,
            early: Vec::new(),
        });
        self.call_changed();
        let c = self.calls.current.as_ref().map(|c| self.call_view(c));
        c.ok_or_else(|| NodeError::State("the call ended".into()))
    }

    fn current_id(&self, id: Option<&str>) -> NodeResult<[u8; 16]> {
        let c = self
            .calls
            .current
            .as_ref()
            .ok_or_else(|| NodeError::State("there is no call".into()))?;
        if let Some(id) = id
            && !id.is_empty()
            && id != hex::encode(c.id)
        {
            return Err(NodeError::NotFound("that call is over".into()));
        }
        Ok(c.id)
    }

    pub(super) fn answer_call(
        &mut self,
        id: Option<&str>,
        devices: CallDevices,
    ) -> NodeResult<CallView> {
        let id = self.current_id(id)?;
        let Some(call) = self.calls.current.as_mut() else { unreachable!("checked above") };
        if call.state != CallState::Ringing {
            return Err(NodeError::State("this call is not ringing".into()));
        }
        let offer = call.offer.take();
        call.state = CallState::Connecting;
        call.devices = Some(devices.clone());
        self.make_media(id, Some(&devices), offer)?;
        self.call_changed();
        let c = self.calls.current.as_ref().map(|c| self.call_view(c));
        c.ok_or_else(|| NodeError::State("the call ended".into()))
    }

    pub(super) fn reject_call(&mut self, id: Option<&str>) -> NodeResult<()> {
        let id = self.current_id(id)?;
        if self.calls.current.as_ref().is_some_and(|c| c.state != CallState::Ringing) {
            return Err(NodeError::State("this call is not ringing (hang up instead)".into()));
        }
        self.end_call(id, "declined", Some(CallEndReason::Declined));
        Ok(())
    }

    pub(super) fn hang_up(&mut self, id: Option<&str>) -> NodeResult<()> {
        let id = self.current_id(id)?;
        if self.calls.current.as_ref().is_some_and(|c| c.state == CallState::Ringing) {
            self.end_call(id, "declined", Some(CallEndReason::Declined));
        } else {
            self.end_call(id, "hangup", Some(CallEndReason::Hangup));
        }
        Ok(())
    }

    pub(super) fn mute_call(&mut self, muted: bool) -> NodeResult<CallView> {
        let c = self
            .calls
            .current
            .as_ref()
            .ok_or_else(|| NodeError::State("there is no call".into()))?;
        if let Some(m) = &c.media {
            m.set_muted(muted);
        }
        let view = self.call_view(c);
        Ok(view)
    }

    pub(super) fn set_feed(
        &mut self,
        feed: Feed,
        source: Option<Box<dyn VideoSource>>,
    ) -> NodeResult<CallView> {
        let c = self
            .calls
            .current
            .as_ref()
            .ok_or_else(|| NodeError::State("there is no call".into()))?;
        let devices = c
            .devices
            .as_ref()
            .ok_or_else(|| NodeError::State("the call is not answered yet".into()))?;
        devices.feed(feed).0.set(source);
        Ok(self.call_view(c))
    }

    pub(super) fn call_picture(
        &self,
        feed: Feed,
        after: Option<u64>,
    ) -> Option<(u64, crate::call::video::I420)> {
        self.calls.current.as_ref()?.devices.as_ref()?.feed(feed).1.newer_than(after)
    }

    pub(super) fn current_call(&self) -> Option<CallView> {
        self.calls.current.as_ref().map(|c| self.call_view(c))
    }

    /// A call signal from `account`'s `device` in `conv` (SPEC.md §6.9).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_call_signal(
        &mut self,
        conv: &[u8],
        is_group: bool,
        account: &[u8],
        device: &str,
        sent_at: i64,
        signal: CallSignal,
        now: i64,
    ) -> NodeResult<()> {
        if is_group {
            tracing::debug!("ignored a call signal in a group");
            return Ok(());
        }
        let Ok(peer) = <[u8; 32]>::try_from(account) else { return Ok(()) };
        if self.on_link_signal(conv, device, sent_at, &signal, now) {
            return Ok(());
        }
        let id = signal.call_id;
        let offered = Offered { id, conv, peer, device, sent_at };
        let ours = self.calls.current.as_ref().map(|c| (c.id, c.conv.clone(), c.outgoing, c.state));
        if let CallSignalKind::Offer { sdp, .. } = signal.kind {
            if ours.as_ref().is_some_and(|o| o.0 == id) {
                return Ok(());
            }
            if now - sent_at > self.options.calls.ring_ms as i64 {
                self.log_missed(&offered);
                return Ok(());
            }
            if let Some((our_id, our_conv, outgoing, state)) = ours {
                let glare = outgoing && our_conv == conv && state == CallState::Calling;
                if glare && our_id < id {
                    // Ours wins; the peer accepts it (SPEC.md §6.9).
                    return Ok(());
                }
                if glare {
                    // Theirs wins: drop ours and take theirs with our devices.
                    let devices = self.calls.current.take().and_then(|c| {
                        if let Some(m) = c.media {
                            self.spawn(async move { m.close().await });
                        }
                        c.devices
                    });
                    self.ring(&offered, sdp);
                    let devices = devices.unwrap_or_else(CallDevices::silent);
                    self.answer_call(None, devices)?;
                    return Ok(());
                }
                self.send_end(conv, id, CallEndReason::Busy);
                self.log_missed(&offered);
                return Ok(());
            }
            self.ring(&offered, sdp);
            self.start_timer(id, CallState::Ringing, self.options.calls.ring_ms);
            return Ok(());
        }
        let Some(call) = self.calls.current.as_mut() else { return Ok(()) };
        if call.id != id || call.peer_device != device {
            return Ok(());
        }
        match signal.kind {
            CallSignalKind::Offer { .. } | CallSignalKind::Link { .. } => {}
            CallSignalKind::Answer { sdp } => {
                if !call.outgoing || call.state != CallState::Calling {
                    return Ok(());
                }
                call.state = CallState::Connecting;
                if let Some(media) = call.media.clone() {
                    let input = self.call_input();
                    self.spawn(async move {
                        let result = media.answered(&sdp).await;
                        let _ = input.send(Input::Call(CallInput::Applied { id, result })).await;
                    });
                }
                self.start_timer(id, CallState::Connecting, self.options.calls.connect_ms);
                self.call_changed();
            }
            CallSignalKind::Candidate { candidate, sdp_mid, sdp_mline_index } => {
                match call.media.clone() {
                    Some(media) => self.spawn(async move {
                        if let Err(e) = media.candidate(candidate, sdp_mid, sdp_mline_index).await {
                            tracing::debug!(error = %e, "a call candidate was not used");
                        }
                    }),
                    None if call.early.len() < MAX_EARLY_CANDIDATES => {
                        call.early.push((candidate, sdp_mid, sdp_mline_index));
                    }
                    None => {}
                }
            }
            CallSignalKind::End(reason) => {
                let outgoing = call.outgoing;
                let state = call.state;
                let logged = match reason {
                    // They gave up before this side answered.
                    _ if !outgoing && state == CallState::Ringing => "missed",
                    r => r.name(),
                };
                self.end_call(id, logged, None);
            }
        }
        Ok(())
    }

    fn ring(&mut self, o: &Offered<'_>, sdp: String) {
        self.calls.current = Some(self.incoming(o, CallState::Ringing, Some(sdp)));
        self.call_changed();
    }

    pub(super) fn on_call(&mut self, input: CallInput) {
        match input {
            CallInput::LinkMade { .. }
            | CallInput::LinkMedia { .. }
            | CallInput::LinkCheck { .. } => self.on_link(input),
            CallInput::Made { id, made } => {
                let current = self.calls.current.as_ref().is_some_and(|c| c.id == id);
                match made {
                    Ok((media, _)) if !current => {
                        self.spawn(async move { media.close().await });
                    }
                    Ok((media, sdp)) => self.media_made(id, media, sdp),
                    Err(e) if current => {
                        tracing::info!(error = %e, "a call's connection could not be made");
                        self.emit(Event::Error {
                            kind: crate::node::NodeErrorKind::State,
                            message: format!("the call could not start: {e}"),
                        });
                        self.end_call(id, "failed", Some(CallEndReason::Failed));
                    }
                    Err(_) => {}
                }
            }
            CallInput::Applied { id, result: Err(e) } => {
                tracing::info!(error = %e, "a call's answer could not be used");
                self.emit(Event::Error {
                    kind: crate::node::NodeErrorKind::State,
                    message: format!("the call could not connect: {e}"),
                });
                self.end_call(id, "failed", Some(CallEndReason::Failed));
            }
            CallInput::Applied { .. } => {}
            CallInput::Media { id, event: MediaEvent::Connected } => {
                let now = self.options.clock.now_ms();
                if let Some(c) = self.calls.current.as_mut().filter(|c| c.id == id)
                    && c.state != CallState::Active
                {
                    c.state = CallState::Active;
                    c.answered_at = Some(now);
                    let device = c.peer_device.clone();
                    self.call_changed();
                    // Files from the peer that wait for a source come now.
                    self.retry_files_from(&device);
                }
            }
            CallInput::Media { id, event: MediaEvent::Failed(e) } => {
                tracing::info!(error = %e, "a call's connection failed");
                self.end_call(id, "failed", Some(CallEndReason::Failed));
            }
            CallInput::Timeout { id, state } => {
                let Some(c) =
                    self.calls.current.as_ref().filter(|c| c.id == id && c.state == state)
                else {
                    return;
                };
                match (state, c.outgoing) {
                    (CallState::Calling, _) => {
                        self.end_call(id, "no_answer", Some(CallEndReason::NoAnswer))
                    }
                    (CallState::Ringing, _) => self.end_call(id, "missed", None),
                    (CallState::Connecting, _) => {
                        self.end_call(id, "failed", Some(CallEndReason::Failed))
                    }
                    _ => {}
                }
            }
        }
    }

    fn media_made(&mut self, id: [u8; 16], media: CallMedia, sdp: String) {
        let media = Arc::new(media);
        let Some(call) = self.calls.current.as_mut() else { return };
        call.media = Some(media.clone());
        let early = std::mem::take(&mut call.early);
        let (conv, outgoing) = (call.conv.clone(), call.outgoing);
        let peer_device = call.peer_device.clone();
        self.serve_channels(&media, &peer_device);
        self.use_candidates(&media, early);
        let kind = if outgoing {
            wire::call_signal::Kind::Offer(wire::CallOffer { sdp, video: media.camera().is_on() })
        } else {
            wire::call_signal::Kind::Answer(wire::CallAnswer { sdp })
        };
        if let Err(e) = self.call_signal(&conv, id, kind) {
            tracing::info!(error = %e, "a call's offer or answer was not sent");
            self.end_call(id, "failed", None);
            return;
        }
        if outgoing {
            self.start_timer(id, CallState::Calling, self.options.calls.ring_ms);
        } else {
            self.start_timer(id, CallState::Connecting, self.options.calls.connect_ms);
        }
    }

    /// The running call's connection, if it is with `device` (a path for
    /// that device's files, SPEC.md §6.9.1).
    pub(super) fn call_link(&self, device: &str) -> Option<Arc<CallMedia>> {
        let c = self.calls.current.as_ref()?;
        if c.state != CallState::Active || c.peer_device != device {
            return None;
        }
        c.media.clone()
    }

    /// What may carry `device`'s files besides libp2p and the relay: the
    /// running call with it, else a data link (§6.9.4); and which.
    pub(super) fn webrtc_source(&self, device: &str) -> Option<(Arc<CallMedia>, &'static str)> {
        if let Some(call) = self.call_link(device) {
            return Some((call, "call"));
        }
        self.data_link(device).map(|l| (l, "link"))
    }

    /// The node stops: a call ends as hung up.
    pub(super) fn stop_calls(&mut self) {
        if let Some(id) = self.calls.current.as_ref().map(|c| c.id) {
            self.end_call(id, "hangup", Some(CallEndReason::Hangup));
        }
        self.stop_links();
    }
}

/// A call's id from hex.
fn call_id_param(p: &serde_json::Value) -> Option<String> {
    p["call"].as_str().map(str::to_owned)
}

impl NodeHandle {
    /// Calls a friend (by name or conversation); `devices` make the audio.
    pub async fn call_friend(&self, who: &str, devices: CallDevices) -> NodeResult<CallView> {
        let who = who.to_owned();
        self.call(move |c| c.start_call(&who, devices)).await
    }

    /// Answers the ringing call (`id`, or whichever rings).
    pub async fn answer_call(
        &self,
        id: Option<&str>,
        devices: CallDevices,
    ) -> NodeResult<CallView> {
        let id = id.map(str::to_owned);
        self.call(move |c| c.answer_call(id.as_deref(), devices)).await
    }

    /// Declines the ringing call.
    pub async fn reject_call(&self, id: Option<&str>) -> NodeResult<()> {
        let id = id.map(str::to_owned);
        self.call(move |c| c.reject_call(id.as_deref())).await
    }

    /// Ends the call (declines it if it rings).
    pub async fn hang_up(&self, id: Option<&str>) -> NodeResult<()> {
        let id = id.map(str::to_owned);
        self.call(move |c| c.hang_up(id.as_deref())).await
    }

    /// Mutes or unmutes this side of the call.
    pub async fn mute_call(&self, muted: bool) -> NodeResult<CallView> {
        self.call(move |c| c.mute_call(muted)).await
    }

    /// Turns the camera on with `source`, or off (None), in the current
    /// call.
    pub async fn set_camera(&self, source: Option<Box<dyn VideoSource>>) -> NodeResult<CallView> {
        self.call(move |c| c.set_feed(Feed::Camera, source)).await
    }

    /// Shares a screen or window (`source`), or stops (None), in the
    /// current call.
    pub async fn share_screen(&self, source: Option<Box<dyn VideoSource>>) -> NodeResult<CallView> {
        self.call(move |c| c.set_feed(Feed::Screen, source)).await
    }

    /// The peer's latest picture of `feed` in the current call, if one
    /// newer than number `after` came: its number and the picture.
    pub async fn call_picture(
        &self,
        feed: Feed,
        after: Option<u64>,
    ) -> NodeResult<Option<(u64, crate::call::video::I420)>> {
        self.call(move |c| Ok(c.call_picture(feed, after))).await
    }

    /// The call this node is in, if any, with live figures.
    pub async fn current_call(&self) -> NodeResult<Option<CallView>> {
        self.call(|c| Ok(c.current_call())).await
    }

    /// Past calls, newest first.
    pub async fn call_log(&self, limit: usize) -> NodeResult<Vec<CallView>> {
        self.call(move |c| c.call_log(limit)).await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "call" => to_value(node.call_friend(s(p, "with")?, devices_param(p)?).await?),
    "call_answer" => to_value(node.answer_call(call_id_param(p).as_deref(), devices_param(p)?).await?),
    "call_reject" => {
        node.reject_call(call_id_param(p).as_deref()).await?;
        to_value(serde_json::json!({}))
    }
    "call_hangup" => {
        node.hang_up(call_id_param(p).as_deref()).await?;
        to_value(serde_json::json!({}))
    }
    "call_mute" => to_value(node.mute_call(p["muted"].as_bool().unwrap_or(true)).await?),
    "call_current" => to_value(node.current_call().await?),
    "call_camera" => {
        let on = p["on"].as_bool().unwrap_or(true);
        let source = if on { Some(camera_source(p)?) } else { None };
        to_value(node.set_camera(source).await?)
    }
    "call_screen" => {
        let source = if p["on"].as_bool().unwrap_or(true) { Some(screen_source(p)?) } else { None };
        to_value(node.share_screen(source).await?)
    }
    "screens" => {
        let display = p["display"].as_str().map(str::to_owned);
        let listed = tokio::task::spawn_blocking(move || crate::call::screen::shareables(display.as_deref()))
            .await
            .map_err(|e| NodeError::Invalid(e.to_string()))?
            .map_err(NodeError::Invalid)?;
        to_value(listed)
    }
    "call_picture" => {
        // The peer's latest picture, described (not sent: a control
        // client that wants pixels runs in-process).
        let after = p["after"].as_u64();
        let feed = if p["screen"].as_bool() == Some(true) { Feed::Screen } else { Feed::Camera };
        let picture = node.call_picture(feed, after).await?.map(|(n, pic)| {
            serde_json::json!({
                "number": n,
                "width": pic.width(),
                "height": pic.height(),
                "test_pattern": crate::call::video::pattern_number(&pic),
            })
        });
        to_value(picture)
    }
    "links" => to_value(node.data_links().await?),
    "calls" => {
        let limit = p["limit"].as_u64().unwrap_or(50) as usize;
        to_value(node.call_log(limit).await?)
    }
});
