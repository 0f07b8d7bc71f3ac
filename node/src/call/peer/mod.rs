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
                RTCRtpCodecParameters { rtp_codec: vp8_codec(), payload_type: 96 },
                RtpCodecKind::Video,
            )
            .map_err(err)?;
        let registry = register_default_interceptors(Registry::new(), &mut engine).map_err(err)?;
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
        let stats = Arc::new(MediaStats::default());
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
mod tests {
    use super::*;
    use crate::call::devices::rms;
    use crate::call::devices::{Recorder, Silence, Tone};
    use crate::call::processing::Stages;
    use crate::voice;
    use std::time::Instant;

    fn loopback() -> MediaConfig {
        MediaConfig {
            udp: vec!["127.0.0.1:0".parse().unwrap()],
            ice_servers: Vec::new(),
            relay_only: false,
        }
    }

    async fn connected(rx: &mut mpsc::Receiver<MediaEvent>, within: Duration) -> bool {
        matches!(tokio::time::timeout(within, rx.recv()).await, Ok(Some(MediaEvent::Connected)))
    }

    /// A call over loopback between a caller and a callee with these
    /// devices, once both sides are connected; and the caller's offer.
    async fn connected_call(
        caller: (Box<dyn AudioSource>, Box<dyn AudioSink>),
        callee: (Box<dyn AudioSource>, Box<dyn AudioSink>),
    ) -> (CallMedia, CallMedia, String) {
        let (atx, mut arx) = mpsc::channel(8);
        let (btx, mut brx) = mpsc::channel(8);
        let (a, offer) = CallMedia::offer(&loopback(), caller.0, caller.1, atx).await.unwrap();
        let (b, answer) =
            CallMedia::answer(&loopback(), &offer, callee.0, callee.1, btx).await.unwrap();
        a.answered(&answer).await.unwrap();
        assert!(connected(&mut arx, Duration::from_secs(10)).await, "the caller connects");
        assert!(connected(&mut brx, Duration::from_secs(10)).await, "the callee connects");
        (a, b, offer)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_tone_crosses_a_real_peer_connection_at_its_pitch_and_level() {
        let _quiet = crate::REAL_TIME.lock().await;
        let heard = Recorder::new();
        let (a, b, offer) = connected_call(
            (Box::new(Tone::new(440.0, 0.5)), Box::new(Recorder::new())),
            (Box::new(Silence), Box::new(heard.clone())),
        )
        .await;
        assert_eq!(fingerprints(&offer).len(), 1, "{offer}");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let got = heard.samples();
        assert!(got.len() > voice::RATE as usize, "over a second played: {}", got.len());
        // Past Opus's start-up, the tone as sent.
        let steady = &got[got.len() / 3..];
        let f = voice::tone_frequency(steady);
        assert!((f - 440.0).abs() < 5.0, "{f} Hz");
        let level = rms(steady);
        assert!((level - 0.5 / 2f32.sqrt()).abs() < 0.05, "level {level}");
        assert!(a.stats.sent.load(Ordering::Relaxed) > 50);
        a.close().await;
        b.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_call_whose_dtls_fingerprint_is_not_the_signaled_one_never_connects() {
        let _quiet = crate::REAL_TIME.lock().await;
        // Mallory answers with her own connection but signals Bob's
        // fingerprint, as a relay or network attacker that rewrote the
        // answer's candidates would have to (SPEC.md §6.9).
        let (atx, mut arx) = mpsc::channel(8);
        let (mtx, mut mrx) = mpsc::channel(8);
        let (btx, _brx) = mpsc::channel(8);
        let rec = || Box::new(Recorder::new());
        let (alice, offer) =
            CallMedia::offer(&loopback(), Box::new(Silence), rec(), atx).await.unwrap();
        let (bob, bob_answer) =
            CallMedia::answer(&loopback(), &offer, Box::new(Silence), rec(), btx).await.unwrap();
        let (mallory, answer) =
            CallMedia::answer(&loopback(), &offer, Box::new(Silence), rec(), mtx).await.unwrap();
        let (theirs, bobs) =
            (fingerprints(&answer)[0].to_owned(), fingerprints(&bob_answer)[0].to_owned());
        assert_ne!(theirs, bobs);
        let forged = answer.replace(&theirs, &bobs);
        alice.answered(&forged).await.unwrap();
        assert!(!connected(&mut arx, Duration::from_secs(8)).await, "Alice must not connect");
        assert!(!connected(&mut mrx, Duration::from_millis(100)).await, "nor Mallory");
        // The same answer with its true fingerprint connects.
        let (atx, mut arx) = mpsc::channel(8);
        let (mtx, mut mrx) = mpsc::channel(8);
        let (alice2, offer) =
            CallMedia::offer(&loopback(), Box::new(Silence), rec(), atx).await.unwrap();
        let (mallory2, answer) =
            CallMedia::answer(&loopback(), &offer, Box::new(Silence), rec(), mtx).await.unwrap();
        alice2.answered(&answer).await.unwrap();
        assert!(connected(&mut arx, Duration::from_secs(10)).await);
        assert!(connected(&mut mrx, Duration::from_secs(10)).await);
        for m in [alice, bob, mallory, alice2, mallory2] {
            m.close().await;
        }
    }

    #[test]
    fn descriptions_must_name_one_fingerprint_and_carry_opus() {
        let opus = "a=rtpmap:111 opus/48000/2\r\n";
        let one =
            "v=0\r\na=fingerprint:sha-256 AB:CD\r\nm=audio\r\na=fingerprint:sha-256 ab:cd\r\n";
        assert!(check_sdp(&format!("{one}{opus}")).is_ok());
        let none = format!("v=0\r\nm=audio\r\n{opus}");
        assert!(check_sdp(&none).unwrap_err().contains("no DTLS"));
        let two = "v=0\r\na=fingerprint:sha-256 AB:CD\r\na=fingerprint:sha-256 AB:CE\r\n";
        assert!(check_sdp(&format!("{two}{opus}")).unwrap_err().contains("two"));
        let other = format!("{one}a=rtpmap:0 PCMU/8000\r\n");
        assert!(check_sdp(&other).unwrap_err().contains("needs Opus"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_relay_only_offer_names_none_of_the_hosts_addresses() {
        let _quiet = crate::REAL_TIME.lock().await;
        let (tx, _rx) = mpsc::channel(8);
        let (open, offer) =
            CallMedia::offer(&loopback(), Box::new(Silence), Box::new(Recorder::new()), tx)
                .await
                .unwrap();
        assert!(offer.contains("typ host") && offer.contains("127.0.0.1"), "{offer}");
        let (tx, _rx) = mpsc::channel(8);
        // A TURN server nobody runs: relayed candidates fail, and nothing
        // else may stand in for them.
        let nowhere = IceServer {
            urls: vec!["turn:127.0.0.1:9?transport=udp".into()],
            username: "1:1".into(),
            credential: "x".into(),
        };
        let hidden = MediaConfig { relay_only: true, ice_servers: vec![nowhere], ..loopback() };
        let (closed, offer) =
            CallMedia::offer(&hidden, Box::new(Silence), Box::new(Recorder::new()), tx)
                .await
                .unwrap();
        assert!(!offer.contains("typ host") && !offer.contains("127.0.0.1"), "{offer}");
        open.close().await;
        closed.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_offer_with_only_codecs_kovan_lacks_is_refused_clearly() {
        let _quiet = crate::REAL_TIME.lock().await;
        let (atx, _arx) = mpsc::channel(8);
        let (btx, _brx) = mpsc::channel(8);
        let rec = || Box::new(Recorder::new());
        let (a, offer) =
            CallMedia::offer(&loopback(), Box::new(Silence), rec(), atx).await.unwrap();
        let foreign = offer.replace("opus/48000/2", "speex/16000");
        let err = CallMedia::answer(&loopback(), &foreign, Box::new(Silence), rec(), btx)
            .await
            .unwrap_err();
        assert!(err.contains("needs Opus"), "{err}");
        let err = a.answered(&foreign).await.unwrap_err();
        assert!(err.contains("needs Opus"), "{err}");
        a.close().await;
    }

    /// A room: what its speaker plays comes back into its microphone
    /// [`ECHO_DELAY`] later at half the level, over the voice of the
    /// person in it.
    #[derive(Clone, Default)]
    struct Room {
        air: Arc<Mutex<std::collections::VecDeque<f32>>>,
    }

    const ECHO_DELAY: usize = voice::RATE as usize * 60 / 1000;

    struct RoomSpeaker(Room);

    impl AudioSink for RoomSpeaker {
        fn write(&mut self, frame: &[f32]) {
            let mut air = self.0.air.lock().unwrap();
            air.extend(frame.iter().map(|s| s * 0.5));
            let over = air.len().saturating_sub(voice::RATE as usize);
            air.drain(..over);
        }
    }

    struct RoomMic {
        room: Room,
        voice: Tone,
        stages: Option<Stages>,
    }

    impl AudioSource for RoomMic {
        fn read(&mut self, frame: &mut [f32]) {
            self.voice.read(frame);
            let mut air = self.room.air.lock().unwrap();
            for s in frame.iter_mut() {
                *s += air.pop_front().unwrap_or(0.0);
            }
        }

        fn processing(&self) -> Option<Stages> {
            self.stages
        }
    }

    /// The amplitude of the `hz` component of `samples` (Goertzel).
    fn amplitude(samples: &[f32], hz: f32) -> f32 {
        let w = std::f32::consts::TAU * hz / voice::RATE as f32;
        let coeff = 2.0 * w.cos();
        let (mut s1, mut s2) = (0.0f32, 0.0f32);
        for x in samples {
            let s0 = x + coeff * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        let power = (s1 * s1 + s2 * s2 - coeff * s1 * s2).max(0.0);
        2.0 * power.sqrt() / samples.len().max(1) as f32
    }

    /// A call from Bob (a 700 Hz voice) to Alice (a 300 Hz voice) in a
    /// room that echoes; what Bob hears over its last 1.5 s: the
    /// amplitudes of Alice's voice and of his own echo.
    async fn call_into_an_echoing_room(stages: Option<Stages>) -> (f32, f32) {
        let room = Room::default();
        room.air.lock().unwrap().extend(std::iter::repeat_n(0.0, ECHO_DELAY));
        let heard = Recorder::new();
        let mic = RoomMic { room: room.clone(), voice: Tone::new(300.0, 0.3), stages };
        let (bob, alice, _) = connected_call(
            (Box::new(Tone::new(700.0, 0.5)), Box::new(heard.clone())),
            (Box::new(mic), Box::new(RoomSpeaker(room))),
        )
        .await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        let got = heard.samples();
        let tail = &got[got.len().saturating_sub(voice::RATE as usize * 3 / 2)..];
        bob.close().await;
        alice.close().await;
        (amplitude(tail, 300.0), amplitude(tail, 700.0))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_microphone_in_an_echoing_room_does_not_send_the_caller_his_own_voice_back() {
        let _quiet = crate::REAL_TIME.lock().await;
        let (voice_raw, echo_raw) = call_into_an_echoing_room(None).await;
        let echo = Stages { echo: true, cleanup: false };
        let (voice_aec, echo_aec) = call_into_an_echoing_room(Some(echo)).await;
        eprintln!(
            "without: voice {voice_raw} echo {echo_raw}; with: voice {voice_aec} echo {echo_aec}"
        );
        // Unprocessed, Bob hears himself back at a quarter of his level.
        assert!((echo_raw - 0.25).abs() < 0.05, "unprocessed echo {echo_raw}");
        assert!((voice_raw - 0.3).abs() < 0.05, "unprocessed voice {voice_raw}");
        // With the canceller, his echo is at least 20 dB lower and Alice's
        // voice still comes through, well above what is left of the echo.
        // Both talk all the time (constant double-talk, the canceller's
        // hardest case): on an idle machine her voice loses 3-4 dB (0.18-
        // 0.23); when the 20 ms ticks of both ends run late under load,
        // AEC3's suppressor takes up to 16 dB of it (0.049 while a build
        // ran beside the tests), so the bound is 20 dB.
        assert!(echo_aec < echo_raw / 10.0, "echo {echo_aec} against {echo_raw}");
        assert!(voice_aec > voice_raw / 10.0, "voice {voice_aec} against {voice_raw}");
        assert!(voice_aec > echo_aec * 10.0, "voice {voice_aec} against echo {echo_aec}");
    }

    /// A connected call with silence both ways.
    async fn silent_call() -> (CallMedia, CallMedia) {
        let (a, b, _) = connected_call(
            (Box::new(Silence), Box::new(Recorder::new())),
            (Box::new(Silence), Box::new(Recorder::new())),
        )
        .await;
        (a, b)
    }

    /// Runs `answer` on a task of its own for each channel the peer opens
    /// to `media`.
    fn serve_each<F>(media: &CallMedia, answer: fn(ChannelStream) -> F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        use futures_util::StreamExt as _;
        let mut incoming = media.incoming_files().unwrap();
        tokio::spawn(async move {
            while let Some(ch) = incoming.next().await {
                tokio::spawn(answer(ch));
            }
        });
    }

    /// Answers a channel with 1 MiB, then closes it.
    async fn bulk(mut ch: ChannelStream) {
        use futures_util::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut req = [0u8; 4];
        ch.read_exact(&mut req).await.unwrap();
        let block = vec![7u8; 65_552];
        for _ in 0..16 {
            ch.write_all(&block).await.unwrap();
        }
        ch.close().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_file_channel_carries_megabytes_to_the_end() {
        let _quiet = crate::REAL_TIME.lock().await;
        use futures_util::{AsyncReadExt as _, AsyncWriteExt as _};
        let (a, b) = silent_call().await;
        serve_each(&a, bulk);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut ch = b.open_file_channel().await.unwrap();
        ch.write_all(b"give").await.unwrap();
        let mut got = Vec::new();
        ch.read_to_end(&mut got).await.unwrap();
        assert_eq!(got.len(), 16 * 65_552);
        a.close().await;
        b.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_data_link_carries_files_without_any_media_and_counts_its_open_channels() {
        let _quiet = crate::REAL_TIME.lock().await;
        use futures_util::{AsyncReadExt as _, AsyncWriteExt as _};
        let (atx, mut arx) = mpsc::channel(8);
        let (btx, mut brx) = mpsc::channel(8);
        let (a, offer) = CallMedia::link_offer(&loopback(), atx).await.unwrap();
        assert!(!offer.contains("m=audio") && !offer.contains("m=video"), "{offer}");
        // A call's answer to it, or a link answer to a call's offer, is refused.
        assert!(
            CallMedia::answer(
                &loopback(),
                &offer,
                Box::new(Silence),
                Box::new(Recorder::new()),
                mpsc::channel(1).0
            )
            .await
            .is_err()
        );
        let (b, answer) = CallMedia::link_answer(&loopback(), &offer, btx).await.unwrap();
        a.answered(&answer).await.unwrap();
        assert!(connected(&mut arx, Duration::from_secs(10)).await, "the opener connects");
        assert!(connected(&mut brx, Duration::from_secs(10)).await, "the answerer connects");
        serve_each(&b, bulk);
        assert_eq!((a.open_channels(), b.open_channels()), (0, 0));
        let mut ch = a.open_file_channel().await.unwrap();
        assert_eq!(a.open_channels(), 1);
        ch.write_all(b"give").await.unwrap();
        let mut got = Vec::new();
        ch.read_to_end(&mut got).await.unwrap();
        assert_eq!(got.len(), 16 * 65_552);
        drop(ch);
        assert_eq!(a.open_channels(), 0);
        // No audio went either way.
        assert_eq!(a.stats.sent.load(Ordering::Relaxed), 0);
        a.close().await;
        b.close().await;
    }

    #[test]
    fn a_link_description_holds_one_data_section_and_no_media() {
        let print = "a=fingerprint:sha-256 AA:BB\r\n";
        let data = "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
        let audio = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n";
        assert!(check_link_sdp(&format!("v=0\r\n{print}{data}")).is_ok());
        let with_audio = format!("v=0\r\n{print}{audio}{data}");
        assert!(check_link_sdp(&with_audio).unwrap_err().contains("data-channel section only"));
        assert!(check_link_sdp(&format!("v=0\r\n{data}")).unwrap_err().contains("fingerprint"));
        assert!(check_sdp(&format!("v=0\r\n{print}{data}")).unwrap_err().contains("Opus"));
    }

    /// Echoes what a channel brings, then closes it.
    async fn echo(mut ch: ChannelStream) {
        use futures_util::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut buf = vec![0u8; 100_000];
        loop {
            match ch.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if ch.write_all(&buf[..n]).await.is_err() || ch.flush().await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = ch.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn file_channels_carry_bytes_in_order_from_either_side() {
        let _quiet = crate::REAL_TIME.lock().await;
        use futures_util::{AsyncReadExt as _, AsyncWriteExt as _};
        let (a, b) = silent_call().await;
        serve_each(&a, echo);
        serve_each(&b, echo);
        let sent: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        for (opener, round) in [(&b, 0), (&a, 1), (&b, 2)] {
            let mut ch =
                opener.open_file_channel().await.unwrap_or_else(|e| panic!("round {round}: {e}"));
            ch.write_all(&sent).await.unwrap();
            let mut got = vec![0u8; sent.len()];
            ch.read_exact(&mut got).await.unwrap();
            assert!(got == sent, "round {round}: the bytes came back changed");
            ch.close().await.unwrap();
        }
        a.close().await;
        b.close().await;
    }

    /// Waits until `seen` holds a test-pattern picture numbered above
    /// `after`; its number and size.
    async fn pattern_after(seen: &video::LatestPicture, after: Option<u32>) -> (u32, u32, u32) {
        let end = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some((_, p)) = seen.get() {
                let n = video::pattern_number(&p).expect("a picture that reads as the pattern");
                assert!(video::pattern_colours_match(&p, 24), "the bars' colours changed");
                if after.is_none_or(|a| n > a) {
                    return (n, p.width(), p.height());
                }
            }
            assert!(Instant::now() < end, "no new picture after {after:?}");
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn camera_video_crosses_as_the_pictures_sent_and_stops_when_the_camera_is_off() {
        let _quiet = crate::REAL_TIME.lock().await;
        let (alice_sees, bob_sees) = (video::LatestPicture::new(), video::LatestPicture::new());
        let devices = |sees: &video::LatestPicture| Devices {
            video_out: Box::new(sees.clone()),
            ..Devices::audio(Box::new(Silence), Box::new(Recorder::new()))
        };
        let alice_devices = devices(&alice_sees);
        alice_devices.camera.set(Some(Box::new(video::TestPattern::new(640, 480).unwrap())));
        let (atx, mut arx) = mpsc::channel(8);
        let (btx, mut brx) = mpsc::channel(8);
        let (a, offer) = CallMedia::offer_with(&loopback(), alice_devices, atx).await.unwrap();
        assert!(offer.contains("VP8/90000"), "{offer}");
        let (b, answer) =
            CallMedia::answer_with(&loopback(), &offer, devices(&bob_sees), btx).await.unwrap();
        a.answered(&answer).await.unwrap();
        assert!(connected(&mut arx, Duration::from_secs(10)).await);
        assert!(connected(&mut brx, Duration::from_secs(10)).await);

        // Alice's pattern reaches Bob at full size, picture after picture.
        let (first, w, h) = pattern_after(&bob_sees, None).await;
        assert_eq!((w, h), (640, 480));
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (later, ..) = pattern_after(&bob_sees, Some(first)).await;
        let shown = a.stats.video.sent.load(Ordering::Relaxed);
        assert!(later > first && shown >= 15, "pictures {first} then {later}, {shown} sent in all");
        assert!(b.stats.video.shown.load(Ordering::Relaxed) >= 15);
        assert!(alice_sees.get().is_none(), "Bob's camera is off");

        // Bob turns his camera on mid-call (no new offer); Alice turns hers off.
        b.camera().set(Some(Box::new(video::TestPattern::new(320, 240).unwrap())));
        let (_, w, h) = pattern_after(&alice_sees, None).await;
        assert_eq!((w, h), (320, 240));
        a.camera().set(None);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let stopped = b.stats.video.shown.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            b.stats.video.shown.load(Ordering::Relaxed),
            stopped,
            "pictures after the camera went off"
        );
        // And on again: a keyframe starts it, so Bob sees it at once.
        let before = bob_sees.get().map(|(seq, _)| seq);
        a.camera().set(Some(Box::new(video::TestPattern::new(640, 480).unwrap())));
        let end = Instant::now() + Duration::from_secs(10);
        let again = loop {
            if let Some((_, p)) = bob_sees.newer_than(before) {
                break video::pattern_number(&p).expect("the pattern");
            }
            assert!(Instant::now() < end, "no picture once the camera is back on");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(again < 30, "the fresh pattern shows from its start, not picture {again}");
        a.close().await;
        b.close().await;
    }
}
