//! One call's WebRTC peer connection (webrtc-rs): built with Opus, VP8 and
//! the default interceptors, mDNS candidates off, bound to the addresses
//! the node chose; complete SDP offers and answers (the node waits for ICE
//! gathering), an Opus track and two VP8 tracks each way (camera and
//! screen; pictures flow only while one is on, and turning it on needs no
//! new offer; the tracks' tasks are in `tracks.rs`), and the connection's
//! state reported to the node.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rtc::ice::mdns::MulticastDnsMode;
use rtc::ice::network_type::NetworkType;
use rtc::interceptor::Slot;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodecParameters, RtpCodecKind};
use tokio::sync::{mpsc, oneshot, watch};
use webrtc::data_channel::{DataChannel, RTCDataChannelInit};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceCandidateInit, RTCIceGatheringState, RTCIceServer,
    RTCIceTransportPolicy, RTCPeerConnectionState, RTCSessionDescription, Registry,
    SettingEngineBuilder, register_default_interceptors,
};

use super::data::{CALL_CHANNEL, ChannelStream, FILE_CHANNEL, SEND_BUFFER};
use super::devices::{AudioSink, AudioSource};
use super::keyframes;
use super::processing::Processing;
use super::tracks::{
    CAMERA_TRACK, MediaStats, SCREEN_TRACK, local_track, opus_codec, receive, receive_video, send,
    send_video, vp8_codec,
};
use super::video::{self, Camera, VideoSink};

/// The SCTP receive window of a call's data channels.
const SCTP_WINDOW: u32 = 4 * 1024 * 1024;

/// The longest a call waits for its network candidates.
pub const GATHER_WAIT: Duration = Duration::from_secs(4);

/// How a node's calls reach the network.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// Local UDP addresses ICE binds (`0.0.0.0:0`: every interface but
    /// loopback; `127.0.0.1:0` on a machine or test that has only that).
    pub udp: Vec<SocketAddr>,
    /// STUN and TURN servers.
    pub ice_servers: Vec<IceServer>,
    /// Only relayed (TURN) candidates: the peer never learns this
    /// device's addresses.
    pub relay_only: bool,
}

/// A STUN or TURN server.
#[derive(Debug, Clone)]
pub struct IceServer {
    /// `stun:host:port` or `turn:host:port?transport=udp`.
    pub urls: Vec<String>,
    /// TURN user name (empty for STUN).
    pub username: String,
    /// TURN password.
    pub credential: String,
}

/// What a peer connection tells the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// ICE and DTLS connected (the peer proved the signaled fingerprint).
    Connected,
    /// The connection failed or was lost.
    Failed(String),
}

/// A call's devices: what is said and heard, and what is shown (the
/// camera and the shared screen, each switched on and off during the call)
/// and seen.
pub struct Devices {
    /// The microphone (or another audio source).
    pub audio_in: Box<dyn AudioSource>,
    /// The speaker (or another audio sink).
    pub audio_out: Box<dyn AudioSink>,
    /// What the peer is sent as video, while a source is in.
    pub camera: Camera,
    /// Where the peer's video goes.
    pub video_out: Box<dyn VideoSink>,
    /// The screen (or window) the peer is shown, while a source is in.
    pub screen: Camera,
    /// Where the peer's shared screen goes.
    pub screen_out: Box<dyn VideoSink>,
}

impl Devices {
    /// Audio only: the camera off, the peer's video not shown.
    pub fn audio(audio_in: Box<dyn AudioSource>, audio_out: Box<dyn AudioSink>) -> Self {
        Self {
            audio_in,
            audio_out,
            camera: Camera::default(),
            video_out: Box::new(video::Unseen),
            screen: Camera::default(),
            screen_out: Box::new(video::Unseen),
        }
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

struct Handler {
    gathered: watch::Sender<bool>,
    events: mpsc::Sender<MediaEvent>,
    /// The sink, taken by the first remote audio track.
    sink: Mutex<Option<Box<dyn AudioSink>>>,
    /// Where video goes, taken by the first remote camera track.
    video_out: Mutex<Option<Box<dyn VideoSink>>>,
    /// Where a shared screen goes, taken by the first remote screen track.
    screen_out: Mutex<Option<Box<dyn VideoSink>>>,
    stats: Arc<MediaStats>,
    connected: watch::Sender<bool>,
    /// The microphone's processing, told what is played.
    processing: Option<Arc<Processing>>,
    /// Channels the peer opened to fetch files.
    files: mpsc::Sender<ChannelStream>,
    /// Channels this side is opening, by their sub-protocol token.
    opening: Opening,
    /// Set once the connection carries data channels (see
    /// [`CallMedia::open_file_channel`]).
    channels_up: Arc<watch::Sender<bool>>,
}

/// Channels being opened here, by the random sub-protocol each carries.
type Opening = Arc<Mutex<std::collections::HashMap<String, oneshot::Sender<Arc<dyn DataChannel>>>>>;

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.gathered.send_replace(true);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        tracing::debug!(?state, "call connection");
        match state {
            RTCPeerConnectionState::Connected => {
                self.connected.send_replace(true);
                let _ = self.events.try_send(MediaEvent::Connected);
            }
            RTCPeerConnectionState::Failed => {
                let _ = self.events.try_send(MediaEvent::Failed("the connection failed".into()));
            }
            _ => {}
        }
    }

    async fn on_data_channel(&self, dc: Arc<dyn DataChannel>) {
        // A channel this side opened, announced as if the peer had.
        let protocol = dc.protocol().await.unwrap_or_default();
        if let Some(opener) = self.opening.lock().ok().and_then(|mut o| o.remove(&protocol)) {
            tracing::debug!("a channel opened here was announced as the peer's");
            let _ = opener.send(dc);
            return;
        }
        // The caller's first channel: data channels work from now on. (A
        // handle kept here would hold the connection that holds this
        // handler.)
        let label = dc.label().await.unwrap_or_default();
        if label == CALL_CHANNEL {
            self.channels_up.send_replace(true);
            return;
        }
        // Only file fetches are served; beyond a few waiting, or another
        // label, the channel is dropped (and with it closed).
        let stream = ChannelStream::new(dc).counted(&self.stats.channels);
        if label == FILE_CHANNEL && self.files.try_send(stream).is_err() {
            tracing::debug!("a file channel of the call was refused: too many waiting");
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let stats = self.stats.clone();
        if track.kind().await == RtpCodecKind::Video {
            let screen = track.track_id().await == SCREEN_TRACK;
            let slot = if screen { &self.screen_out } else { &self.video_out };
            let Some(out) = slot.lock().ok().and_then(|mut s| s.take()) else { return };
            tokio::spawn(receive_video(track, out, stats, screen));
            return;
        }
        let Some(sink) = self.sink.lock().ok().and_then(|mut s| s.take()) else { return };
        tokio::spawn(receive(track, sink, stats, self.processing.clone()));
    }
}

/// A call's media: its peer connection and the tasks around it.
pub struct CallMedia {
    pc: Arc<dyn PeerConnection>,
    /// A data link (§6.9.4): no audio or video.
    link: bool,
    gathered: watch::Receiver<bool>,
    tasks: Vec<tokio::task::AbortHandle>,
    /// Channels the peer opens to fetch files, until taken.
    files: Mutex<Option<mpsc::Receiver<ChannelStream>>>,
    /// The caller's channel that puts data channels into its offer.
    _call_channel: Option<Arc<dyn DataChannel>>,
    /// Set once the connection is closed.
    closed: watch::Sender<bool>,
    /// See [`Handler::opening`].
    opening: Opening,
    /// See [`Handler::channels_up`].
    channels_up: Arc<watch::Sender<bool>>,
    /// What the peer is sent as video.
    camera: Camera,
    /// What the peer is shown of this side's screen.
    screen: Camera,
    /// Live figures.
    pub stats: Arc<MediaStats>,
}

impl std::fmt::Debug for CallMedia {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallMedia").finish_non_exhaustive()
    }
}

impl CallMedia {
    /// A peer connection with one Opus track and two VP8 tracks each way,
    /// or (`devices` None, a data link, §6.9.4) with data channels only.
    async fn build(
        config: &MediaConfig,
        devices: Option<Devices>,
        events: mpsc::Sender<MediaEvent>,
    ) -> Result<Self, String> {
        let (source, sink, camera, video_out, screen, screen_out) = match devices {
            Some(d) => (
                Some(d.audio_in),
                Some(d.audio_out),
                d.camera,
                Some(d.video_out),
                d.screen,
                Some(d.screen_out),
            ),
            None => (None, None, Camera::default(), None, Camera::default(), None),
        };
        let link = source.is_none();
        let mut engine = MediaEngine::default();
        engine
            .register_codec(
                RTCRtpCodecParameters { rtp_codec: opus_codec(), payload_type: 111 },
                RtpCodecKind::Audio,
            )
            .map_err(err)?;
        engine
            .register_codec(
                RTCRtpCodecParameters { rtp_codec: vp8_codec(), payload_type: super::VP8_PT },
                RtpCodecKind::Video,
            )
            .map_err(err)?;
        let stats = Arc::new(MediaStats::default());
        let registry = register_default_interceptors(Registry::new(), &mut engine)
            .map_err(err)?
            .with(Slot::from(keyframes::SLOT), keyframes::KeyframeRequests::default());
        #[cfg(test)]
        let registry = registry.with(
            Slot::from(keyframes::LOSSY_SLOT),
            keyframes::Lossy::new(stats.wire_loss.clone()),
        );
        // mDNS hides local addresses from web pages; a call's peer is an
        // authenticated friend, and multicast sockets fail on hosts with
        // loopback only.
        let settings = SettingEngineBuilder::new()
            .with_multicast_dns_mode(MulticastDnsMode::Disabled)
            .with_network_types(vec![NetworkType::Udp4, NetworkType::Udp6])
            // Room for a file channel's window (the default is 1 MiB).
            .with_sctp_max_receive_buffer_size(SCTP_WINDOW)
            .build();
        let servers = config
            .ice_servers
            .iter()
            .map(|s| RTCIceServer {
                urls: s.urls.clone(),
                username: s.username.clone(),
                credential: s.credential.clone(),
            })
            .collect();
        let policy = if config.relay_only {
            RTCIceTransportPolicy::Relay
        } else {
            RTCIceTransportPolicy::All
        };
        let rtc_config = RTCConfigurationBuilder::new()
            .with_ice_servers(servers)
            .with_ice_transport_policy(policy)
            .build();
        let (gathered_tx, gathered) = watch::channel(false);
        let (connected_tx, connected) = watch::channel(false);
        let processing = source
            .as_ref()
            .and_then(|s| s.processing())
            .map(|stages| Arc::new(Processing::new(stages)));
        let (files_tx, files) = mpsc::channel(crate::files::MAX_SERVING);
        let opening = Opening::default();
        let channels_up = Arc::new(watch::Sender::new(false));
        let handler = Arc::new(Handler {
            gathered: gathered_tx,
            events,
            sink: Mutex::new(sink),
            video_out: Mutex::new(video_out),
            screen_out: Mutex::new(screen_out),
            stats: stats.clone(),
            connected: connected_tx,
            processing: processing.clone(),
            files: files_tx,
            opening: opening.clone(),
            channels_up: channels_up.clone(),
        });
        let pc = PeerConnectionBuilder::new()
            .with_configuration(rtc_config)
            .with_media_engine(engine)
            .with_interceptor_registry(registry)
            .with_setting_engine(settings)
            .with_handler(handler)
            .with_udp_addrs(config.udp.clone())
            .with_data_channel_send_buffer_limit(SEND_BUFFER)
            .build()
            .await
            .map_err(|e| format!("cannot open the call's connection: {e}"))?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        let mut tasks = Vec::new();
        if let Some(source) = source {
            let ssrc: u32 = rand_core::RngCore::next_u32(&mut rand_core::OsRng);
            let track = local_track(RtpCodecKind::Audio, "audio", ssrc, opus_codec())?;
            let sender = pc.add_track(track.clone() as Arc<dyn TrackLocal>).await.map_err(err)?;
            for (name, slot) in [(CAMERA_TRACK, &camera), (SCREEN_TRACK, &screen)] {
                let video_ssrc: u32 = rand_core::RngCore::next_u32(&mut rand_core::OsRng);
                let video_track = local_track(RtpCodecKind::Video, name, video_ssrc, vp8_codec())?;
                let video_sender =
                    pc.add_track(video_track.clone() as Arc<dyn TrackLocal>).await.map_err(err)?;
                let sending_video = tokio::spawn(send_video(
                    video_track,
                    video_sender,
                    video_ssrc,
                    slot.clone(),
                    stats.clone(),
                    name == SCREEN_TRACK,
                    connected.clone(),
                ));
                tasks.push(sending_video.abort_handle());
            }
            let sending = tokio::spawn(send(
                track,
                sender,
                ssrc,
                source,
                stats.clone(),
                connected,
                processing,
            ));
            tasks.push(sending.abort_handle());
        }
        Ok(Self {
            pc,
            link,
            gathered,
            camera,
            screen,
            tasks,
            files: Mutex::new(Some(files)),
            _call_channel: None,
            closed: watch::Sender::new(false),
            opening,
            channels_up,
            stats,
        })
    }

    /// The local description once ICE gathering finished (with every
    /// candidate in it), or after [`GATHER_WAIT`] with the candidates found
    /// by then (a STUN or TURN server that does not answer must not hold
    /// the call up).
    async fn gathered_sdp(&mut self) -> Result<String, String> {
        let wait = self.gathered.wait_for(|g| *g);
        if tokio::time::timeout(GATHER_WAIT, wait).await.is_err() {
            tracing::info!("a STUN or TURN server did not answer in time; calling with the rest");
        }
        self.pc
            .local_description()
            .await
            .map(|d| d.sdp)
            .ok_or_else(|| "no local description".into())
    }

    /// The caller's side: a connection and its complete offer.
    pub async fn offer(
        config: &MediaConfig,
        source: Box<dyn AudioSource>,
        sink: Box<dyn AudioSink>,
        events: mpsc::Sender<MediaEvent>,
    ) -> Result<(Self, String), String> {
        Self::offer_with(config, Devices::audio(source, sink), events).await
    }

    /// The caller's side with every device: a connection and its offer.
    pub async fn offer_with(
        config: &MediaConfig,
        devices: Devices,
        events: mpsc::Sender<MediaEvent>,
    ) -> Result<(Self, String), String> {
        Self::offering(Self::build(config, Some(devices), events).await?).await
    }

    /// The opener's side of a data link (§6.9.4): a connection with data
    /// channels only and its offer.
    pub async fn link_offer(
        config: &MediaConfig,
        events: mpsc::Sender<MediaEvent>,
    ) -> Result<(Self, String), String> {
        Self::offering(Self::build(config, None, events).await?).await
    }

    /// Makes `media`'s offer.
    async fn offering(mut media: Self) -> Result<(Self, String), String> {
        let made = async {
            // A channel before the offer puts data channels into it; once
            // it opens, the association carries channels.
            let dc = media.pc.create_data_channel(CALL_CHANNEL, None).await.map_err(err)?;
            let (up, poll) = (media.channels_up.clone(), dc.clone());
            let opened = tokio::spawn(async move {
                while let Some(event) = poll.poll().await {
                    if matches!(event, webrtc::data_channel::DataChannelEvent::OnOpen) {
                        up.send_replace(true);
                    }
                }
            });
            media.tasks.push(opened.abort_handle());
            media._call_channel = Some(dc);
            let offer = media.pc.create_offer(None).await.map_err(err)?;
            media.pc.set_local_description(offer).await.map_err(err)?;
            media.gathered_sdp().await
        }
        .await;
        match made {
            Ok(sdp) => Ok((media, sdp)),
            Err(e) => {
                media.close().await;
                Err(e)
            }
        }
    }

    /// The callee's side: a connection for `offer` and its complete answer.
    pub async fn answer(
        config: &MediaConfig,
        offer: &str,
        source: Box<dyn AudioSource>,
        sink: Box<dyn AudioSink>,
        events: mpsc::Sender<MediaEvent>,
    ) -> Result<(Self, String), String> {
        Self::answer_with(config, offer, Devices::audio(source, sink), events).await
    }

    /// The callee's side with every device: a connection and its answer.
    pub async fn answer_with(
        config: &MediaConfig,
        offer: &str,
        devices: Devices,
        events: mpsc::Sender<MediaEvent>,
    ) -> Result<(Self, String), String> {
        check_sdp(offer)?;
        Self::answering(Self::build(config, Some(devices), events).await?, offer).await
    }

    /// The answering side of a data link (§6.9.4): a connection with data
    /// channels only for `offer`, and its answer.
    pub async fn link_answer(
        config: &MediaConfig,
        offer: &str,
        events: mpsc::Sender<MediaEvent>,
    ) -> Result<(Self, String), String> {
        check_link_sdp(offer)?;
        Self::answering(Self::build(config, None, events).await?, offer).await
    }

    /// Makes `media`'s answer to `offer`.
    async fn answering(mut media: Self, offer: &str) -> Result<(Self, String), String> {
        let made = async {
            let offer = RTCSessionDescription::offer(offer.to_owned())
                .map_err(|e| format!("the offer is not usable: {e}"))?;
            media
                .pc
                .set_remote_description(offer)
                .await
                .map_err(|e| format!("the offer is not usable: {e}"))?;
            let answer = media.pc.create_answer(None).await.map_err(err)?;
            media.pc.set_local_description(answer).await.map_err(err)?;
            media.gathered_sdp().await
        }
        .await;
        match made {
            Ok(sdp) => Ok((media, sdp)),
            Err(e) => {
                media.close().await;
                Err(e)
            }
        }
    }

    /// The caller applies the callee's answer.
    pub async fn answered(&self, answer: &str) -> Result<(), String> {
        if self.link {
            check_link_sdp(answer)?
        } else {
            check_sdp(answer)?
        }
        let answer = RTCSessionDescription::answer(answer.to_owned())
            .map_err(|e| format!("the answer is not usable: {e}"))?;
        self.pc
            .set_remote_description(answer)
            .await
            .map_err(|e| format!("the answer is not usable: {e}"))
    }

    /// One more of the peer's ICE candidates.
    pub async fn candidate(
        &self,
        candidate: String,
        mid: String,
        index: u32,
    ) -> Result<(), String> {
        let init = RTCIceCandidateInit {
            candidate,
            sdp_mid: Some(mid),
            sdp_mline_index: u16::try_from(index).ok(),
            username_fragment: None,
            url: None,
        };
        self.pc.add_ice_candidate(init).await.map_err(err)
    }

    /// Opens a channel to fetch a file from the peer (SPEC.md §6.9.1).
    pub async fn open_file_channel(&self) -> std::io::Result<ChannelStream> {
        // A channel made before the association is up never opens.
        let mut up = self.channels_up.subscribe();
        let wait = Duration::from_secs(10);
        if !matches!(tokio::time::timeout(wait, up.wait_for(|u| *u)).await, Ok(Ok(_))) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotConnected,
                "the call carries no data channels",
            ));
        }
        let mut token = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut token);
        let token = hex::encode(token);
        let (tx, twin) = oneshot::channel();
        if let Ok(mut o) = self.opening.lock() {
            o.insert(token.clone(), tx);
        }
        let init = RTCDataChannelInit { protocol: token.clone(), ..Default::default() };
        let created = self.pc.create_data_channel(FILE_CHANNEL, Some(init)).await;
        let opened = match created {
            Ok(dc) => ChannelStream::opened(dc, twin, Duration::from_secs(10))
                .await
                .map(|c| c.counted(&self.stats.channels)),
            Err(e) => Err(std::io::Error::new(std::io::ErrorKind::NotConnected, e.to_string())),
        };
        if let Ok(mut o) = self.opening.lock() {
            o.remove(&token);
        }
        opened
    }

    /// The channels the peer opens to fetch files, until the call closes
    /// (once: the first caller serves them).
    pub fn incoming_files(
        &self,
    ) -> Option<impl futures_util::Stream<Item = ChannelStream> + Send + Unpin + 'static> {
        use futures_util::StreamExt as _;
        let mut rx = self.files.lock().ok()?.take()?;
        let mut closed = self.closed.subscribe();
        let end = Box::pin(async move {
            let _ = closed.wait_for(|c| *c).await;
        });
        Some(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)).take_until(end))
    }

    /// File channels open now, either way.
    pub fn open_channels(&self) -> usize {
        self.stats.channels.load(Ordering::Relaxed)
    }

    /// Whether [`Self::close`] ran (the call ended).
    pub fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// What the peer is sent as video: put a source in to turn the camera
    /// on, take it out to turn it off.
    pub fn camera(&self) -> &Camera {
        &self.camera
    }

    /// The same for the shared screen.
    pub fn screen(&self) -> &Camera {
        &self.screen
    }

    /// Mutes or unmutes the microphone.
    pub fn set_muted(&self, muted: bool) {
        self.stats.muted.store(muted, Ordering::Relaxed);
    }

    /// Closes the connection: its sockets, tasks and devices are released.
    pub async fn close(&self) {
        self.closed.send_replace(true);
        for t in &self.tasks {
            t.abort();
        }
        if let Err(e) = self.pc.close().await {
            tracing::debug!(error = %e, "closing a call's connection");
        }
    }
}

/// The SHA-256 DTLS fingerprints an SDP names (SPEC.md §6.9).
pub fn fingerprints(sdp: &str) -> Vec<&str> {
    sdp.lines()
        .filter_map(|l| l.trim_end().strip_prefix("a=fingerprint:"))
        .filter_map(|f| f.strip_prefix("sha-256 ").or_else(|| f.strip_prefix("SHA-256 ")))
        .collect()
}

/// An offer or answer must name exactly one SHA-256 fingerprint, or one
/// per media section, all the same, and carry Opus audio (SPEC.md §6.9).
pub fn check_sdp(sdp: &str) -> Result<(), String> {
    check_fingerprint(sdp)?;
    let opus = sdp
        .lines()
        .any(|l| l.starts_with("a=rtpmap:") && l.to_ascii_lowercase().contains(" opus/48000"));
    if !opus {
        return Err("the call offers no audio kovan can play (it needs Opus)".into());
    }
    Ok(())
}

/// A data link's offer or answer (SPEC.md §6.9.4): one fingerprint as for
/// a call, a data-channel association, and no media.
pub fn check_link_sdp(sdp: &str) -> Result<(), String> {
    check_fingerprint(sdp)?;
    let mut sections = sdp.lines().filter(|l| l.starts_with("m="));
    match (sections.next(), sections.next()) {
        (Some(m), None) if m.starts_with("m=application ") && m.contains("webrtc-datachannel") => {
            Ok(())
        }
        _ => Err("a data link's description must hold one data-channel section only".into()),
    }
}

/// Exactly one SHA-256 DTLS fingerprint (or the same one per section).
fn check_fingerprint(sdp: &str) -> Result<(), String> {
    let prints = fingerprints(sdp);
    match prints.first() {
        None => return Err("the call's description names no DTLS fingerprint".into()),
        Some(first) if prints.iter().any(|p| !p.eq_ignore_ascii_case(first)) => {
            return Err("the call's description names two DTLS fingerprints".into());
        }
        Some(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests;
