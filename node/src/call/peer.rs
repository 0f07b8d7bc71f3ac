//! One call's WebRTC peer connection (webrtc-rs): built with Opus and the
//! default interceptors, mDNS candidates off, bound to the addresses the
//! node chose; complete SDP offers and answers (the node waits for ICE
//! gathering), an Opus track each way, and the connection's state
//! reported to the node.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::ice::mdns::MulticastDnsMode;
use rtc::ice::network_type::NetworkType;
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_OPUS;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use tokio::sync::{mpsc, watch};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceCandidateInit, RTCIceGatheringState, RTCIceServer,
    RTCIceTransportPolicy, RTCPeerConnectionState, RTCSessionDescription, Registry,
    SettingEngineBuilder, register_default_interceptors,
};
use webrtc::rtp_transceiver::RtpSender;

use super::audio::{Encoder, Jitter, Played};
use super::devices::{AudioSink, AudioSource, FRAME, rms};

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

/// Live figures of a call's audio.
#[derive(Debug, Default)]
pub struct MediaStats {
    /// Frames sent.
    pub sent: AtomicU64,
    /// Frames played as they came.
    pub played: AtomicU64,
    /// Lost frames recovered (FEC) or concealed.
    pub repaired: AtomicU64,
    /// Level of the last frame sent, and of the last played, × 1000.
    pub level_out: AtomicU32,
    /// See `level_out`.
    pub level_in: AtomicU32,
    /// The microphone is muted (silence is sent).
    pub muted: std::sync::atomic::AtomicBool,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn opus_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

struct Handler {
    gathered: watch::Sender<bool>,
    events: mpsc::Sender<MediaEvent>,
    /// The sink, taken by the first remote audio track.
    sink: Mutex<Option<Box<dyn AudioSink>>>,
    stats: Arc<MediaStats>,
    connected: watch::Sender<bool>,
}

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

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let Some(sink) = self.sink.lock().ok().and_then(|mut s| s.take()) else { return };
        let stats = self.stats.clone();
        tokio::spawn(receive(track, sink, stats));
    }
}

/// Plays what a remote track brings into `sink`, at 20 ms ticks.
async fn receive(
    track: Arc<dyn TrackRemote>,
    mut sink: Box<dyn AudioSink>,
    stats: Arc<MediaStats>,
) {
    let mut jitter = match Jitter::new() {
        Ok(j) => j,
        Err(e) => {
            tracing::warn!(error = %e, "no audio decoder");
            return;
        }
    };
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut frame = [0.0f32; FRAME];
    loop {
        tokio::select! {
            ev = track.poll() => match ev {
                Some(TrackRemoteEvent::OnRtpPacket(p)) => jitter.push(p.header.sequence_number, &p.payload),
                Some(TrackRemoteEvent::OnEnded) | None => break,
                Some(_) => {}
            },
            _ = tick.tick() => {
                let played = jitter.play(&mut frame);
                match played {
                    Played::Nothing => continue,
                    Played::Frame => stats.played.fetch_add(1, Ordering::Relaxed),
                    Played::Recovered | Played::Concealed => stats.repaired.fetch_add(1, Ordering::Relaxed),
                };
                stats.level_in.store((rms(&frame) * 1000.0) as u32, Ordering::Relaxed);
                sink.write(&frame);
            }
        }
    }
    sink.finish();
}

/// Sends `source` as Opus every 20 ms once the connection is up.
async fn send(
    track: Arc<TrackLocalStaticSample>,
    sender: Arc<dyn RtpSender>,
    ssrc: u32,
    mut source: Box<dyn AudioSource>,
    stats: Arc<MediaStats>,
    mut connected: watch::Receiver<bool>,
) {
    if connected.wait_for(|c| *c).await.is_err() {
        return;
    }
    let pt = match sender.get_parameters().await {
        Ok(p) => match p.rtp_parameters.codecs.first() {
            Some(c) => c.payload_type,
            None => return,
        },
        Err(_) => return,
    };
    let mut enc = match Encoder::new() {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, "no audio encoder");
            return;
        }
    };
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut frame = [0.0f32; FRAME];
    loop {
        tick.tick().await;
        source.read(&mut frame);
        if stats.muted.load(Ordering::Relaxed) {
            frame.fill(0.0);
        }
        stats.level_out.store((rms(&frame) * 1000.0) as u32, Ordering::Relaxed);
        let Ok(packet) = enc.encode(&frame) else { continue };
        let sample = Sample {
            data: Bytes::from(packet),
            duration: Duration::from_millis(20),
            ..Sample::new(Instant::now())
        };
        if track.write_sample(ssrc, pt, &sample, &[]).await.is_err() {
            // Closed.
            return;
        }
        stats.sent.fetch_add(1, Ordering::Relaxed);
    }
}

/// A call's media: its peer connection and the tasks around it.
pub struct CallMedia {
    pc: Arc<dyn PeerConnection>,
    gathered: watch::Receiver<bool>,
    tasks: Vec<tokio::task::AbortHandle>,
    /// Live figures.
    pub stats: Arc<MediaStats>,
}

impl std::fmt::Debug for CallMedia {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallMedia").finish_non_exhaustive()
    }
}

impl CallMedia {
    /// A peer connection with one Opus track each way.
    async fn build(
        config: &MediaConfig,
        source: Box<dyn AudioSource>,
        sink: Box<dyn AudioSink>,
        events: mpsc::Sender<MediaEvent>,
    ) -> Result<Self, String> {
        let mut engine = MediaEngine::default();
        engine
            .register_codec(
                RTCRtpCodecParameters { rtp_codec: opus_codec(), payload_type: 111 },
                RtpCodecKind::Audio,
            )
            .map_err(err)?;
        let registry = register_default_interceptors(Registry::new(), &mut engine).map_err(err)?;
        // mDNS hides local addresses from web pages; a call's peer is an
        // authenticated friend, and multicast sockets fail on hosts with
        // loopback only.
        let settings = SettingEngineBuilder::new()
            .with_multicast_dns_mode(MulticastDnsMode::Disabled)
            .with_network_types(vec![NetworkType::Udp4, NetworkType::Udp6])
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
        let handler = Arc::new(Handler {
            gathered: gathered_tx,
            events,
            sink: Mutex::new(Some(sink)),
            stats: stats.clone(),
            connected: connected_tx,
        });
        let pc = PeerConnectionBuilder::new()
            .with_configuration(rtc_config)
            .with_media_engine(engine)
            .with_interceptor_registry(registry)
            .with_setting_engine(settings)
            .with_handler(handler)
            .with_udp_addrs(config.udp.clone())
            .build()
            .await
            .map_err(|e| format!("cannot open the call's connection: {e}"))?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        let ssrc: u32 = rand_core::RngCore::next_u32(&mut rand_core::OsRng);
        let track = Arc::new(
            TrackLocalStaticSample::new(
                Instant::now(),
                MediaStreamTrack::new(
                    "kovan".into(),
                    "audio".into(),
                    "audio".into(),
                    RtpCodecKind::Audio,
                    vec![RTCRtpEncodingParameters {
                        rtp_coding_parameters: RTCRtpCodingParameters {
                            ssrc: Some(ssrc),
                            ..Default::default()
                        },
                        codec: opus_codec(),
                        ..Default::default()
                    }],
                ),
            )
            .map_err(err)?,
        );
        let sender = pc.add_track(track.clone() as Arc<dyn TrackLocal>).await.map_err(err)?;
        let sending = tokio::spawn(send(track, sender, ssrc, source, stats.clone(), connected));
        Ok(Self { pc, gathered, tasks: vec![sending.abort_handle()], stats })
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
        let mut media = Self::build(config, source, sink, events).await?;
        let made = async {
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
        check_sdp(offer)?;
        let mut media = Self::build(config, source, sink, events).await?;
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
        check_sdp(answer)?;
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

    /// Mutes or unmutes the microphone.
    pub fn set_muted(&self, muted: bool) {
        self.stats.muted.store(muted, Ordering::Relaxed);
    }

    /// Closes the connection: its sockets, tasks and devices are released.
    pub async fn close(&self) {
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
    let prints = fingerprints(sdp);
    match prints.first() {
        None => return Err("the call's description names no DTLS fingerprint".into()),
        Some(first) if prints.iter().any(|p| !p.eq_ignore_ascii_case(first)) => {
            return Err("the call's description names two DTLS fingerprints".into());
        }
        Some(_) => {}
    }
    let opus = sdp
        .lines()
        .any(|l| l.starts_with("a=rtpmap:") && l.to_ascii_lowercase().contains(" opus/48000"));
    if !opus {
        return Err("the call offers no audio kovan can play (it needs Opus)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::devices::{Recorder, Silence, Tone};
    use crate::voice;

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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_tone_crosses_a_real_peer_connection_at_its_pitch_and_level() {
        let (atx, mut arx) = mpsc::channel(8);
        let (btx, mut brx) = mpsc::channel(8);
        let heard = Recorder::new();
        let (a, offer) = CallMedia::offer(
            &loopback(),
            Box::new(Tone::new(440.0, 0.5)),
            Box::new(Recorder::new()),
            atx,
        )
        .await
        .unwrap();
        assert_eq!(fingerprints(&offer).len(), 1, "{offer}");
        let (b, answer) =
            CallMedia::answer(&loopback(), &offer, Box::new(Silence), Box::new(heard.clone()), btx)
                .await
                .unwrap();
        a.answered(&answer).await.unwrap();
        assert!(connected(&mut arx, Duration::from_secs(10)).await, "the caller connects");
        assert!(connected(&mut brx, Duration::from_secs(10)).await, "the callee connects");
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
}
