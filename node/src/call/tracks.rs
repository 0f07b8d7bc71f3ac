//! A call's tracks (SPEC.md §6.9, §6.9.2, §6.9.3): the codecs each is
//! negotiated with, the tasks that send a source's audio or pictures once
//! the connection is up and play or show what arrives, and the live
//! figures they keep. `peer.rs` makes the connection and starts them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::watch;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::rtp_transceiver::RtpSender;

use super::audio::{Encoder, Jitter, Played};
use super::devices::{AudioSink, AudioSource, FRAME, rms};
use super::processing::Processing;
use super::video::{self, Assembler, Camera, Rate, VideoSink};
use kovan_vpx::{Decoder as VideoDecoder, Encoder as VideoEncoder, EncoderConfig};

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
    /// The camera's video.
    pub video: VideoStats,
    /// The shared screen's.
    pub screen: VideoStats,
    /// File channels open now, either way.
    pub channels: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Tests: the share (%) of the peer's video RTP lost next to the wire
    /// (`keyframes::Lossy`), as a lossy network would.
    #[cfg(test)]
    pub wire_loss: std::sync::Arc<AtomicU32>,
}

/// Live figures of one video track each way.
#[derive(Debug, Default)]
pub struct VideoStats {
    /// Pictures sent, and shown (decoded) as they came.
    pub sent: AtomicU64,
    /// See `sent`.
    pub shown: AtomicU64,
    /// Frames that could not be shown (incomplete, or waiting for a
    /// keyframe after a loss).
    pub dropped: AtomicU64,
    /// The size of the last picture sent and shown (width << 16 | height).
    pub size_out: AtomicU32,
    /// See `size_out`.
    pub size_in: AtomicU32,
    /// The bit rate now (kbit/s).
    pub kbps: AtomicU32,
    /// Keyframes asked of the peer after a loss (RTCP PLI), and keyframes
    /// sent because the peer asked.
    pub key_asked: AtomicU64,
    /// See `key_asked`.
    pub key_answered: AtomicU64,
    /// Tests: RTP packets of this track to lose on arrival.
    #[cfg(test)]
    pub lose: AtomicU32,
}

/// The least time between two keyframe requests (a loss spoils every
/// frame until the keyframe, and each would ask again).
const ASK_EVERY: Duration = Duration::from_millis(300);

pub(super) fn opus_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

/// VP8 at 90 kHz, with NACK (lost packets sent again) and PLI.
pub(super) fn vp8_codec() -> RTCRtpCodec {
    let fb =
        |typ: &str, parameter: &str| RTCPFeedback { typ: typ.into(), parameter: parameter.into() };
    RTCRtpCodec {
        mime_type: MIME_TYPE_VP8.to_owned(),
        clock_rate: 90_000,
        channels: 0,
        sdp_fmtp_line: String::new(),
        rtcp_feedback: vec![fb("nack", ""), fb("nack", "pli")],
    }
}

/// The track ids of the camera's video and of the shared screen (SPEC.md
/// §6.9.3: `a=msid:kovan screen`).
pub(super) const CAMERA_TRACK: &str = "video";
pub(super) const SCREEN_TRACK: &str = "screen";

/// A local track of `kind` named `name`, with one SSRC.
pub(super) fn local_track(
    kind: RtpCodecKind,
    name: &str,
    ssrc: u32,
    codec: RTCRtpCodec,
) -> Result<Arc<TrackLocalStaticSample>, String> {
    Ok(Arc::new(
        TrackLocalStaticSample::new(
            Instant::now(),
            MediaStreamTrack::new(
                "kovan".into(),
                name.into(),
                name.into(),
                kind,
                vec![RTCRtpEncodingParameters {
                    rtp_coding_parameters: RTCRtpCodingParameters {
                        ssrc: Some(ssrc),
                        ..Default::default()
                    },
                    codec,
                    ..Default::default()
                }],
            ),
        )
        .map_err(|e| e.to_string())?,
    ))
}

/// The payload type the peer agreed for a sender's codec.
async fn payload_type(sender: &Arc<dyn RtpSender>) -> Option<u8> {
    let p = sender.get_parameters().await.ok()?;
    p.rtp_parameters.codecs.first().map(|c| c.payload_type)
}

/// Plays what a remote track brings into `sink`, at 20 ms ticks (and
/// shows it to the microphone's echo canceller first).
pub(super) async fn receive(
    track: Arc<dyn TrackRemote>,
    mut sink: Box<dyn AudioSink>,
    stats: Arc<MediaStats>,
    processing: Option<Arc<Processing>>,
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
                if let Some(p) = &processing {
                    p.render(&frame);
                }
                sink.write(&frame);
            }
        }
    }
    sink.finish();
}

/// Shows what a remote video track brings: frames put together, decoded
/// and handed to `out`.
pub(super) async fn receive_video(
    track: Arc<dyn TrackRemote>,
    mut out: Box<dyn VideoSink>,
    all: Arc<MediaStats>,
    screen: bool,
) {
    let stats = if screen { &all.screen } else { &all.video };
    let mut decoder = match VideoDecoder::new() {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "no video decoder");
            return;
        }
    };
    let mut frames = Assembler::new();
    let mut dropped = 0;
    let mut asked: Option<Instant> = None;
    loop {
        match track.poll().await {
            Some(TrackRemoteEvent::OnRtpPacket(p)) => {
                #[cfg(test)]
                if stats.lose.load(Ordering::Relaxed) > 0 {
                    stats.lose.fetch_sub(1, Ordering::Relaxed);
                    continue;
                }
                let h = &p.header;
                let whole = frames.push(h.sequence_number, h.timestamp, h.marker, &p.payload);
                if frames.dropped > dropped {
                    stats.dropped.fetch_add(frames.dropped - dropped, Ordering::Relaxed);
                    dropped = frames.dropped;
                    // Nothing shows until a keyframe: ask for one now
                    // rather than wait for the next periodic one.
                    if asked.is_none_or(|at| at.elapsed() >= ASK_EVERY) {
                        asked = Some(Instant::now());
                        ask_keyframe(&*track, h.ssrc, stats).await;
                    }
                }
                let Some(frame) = whole else { continue };
                match decoder.decode(&frame) {
                    Ok(Some(picture)) => {
                        stats.shown.fetch_add(1, Ordering::Relaxed);
                        stats
                            .size_in
                            .store(picture.width() << 16 | picture.height(), Ordering::Relaxed);
                        out.show(&picture);
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::debug!(error = %e, "a video frame did not decode");
                        stats.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Some(TrackRemoteEvent::OnEnded) | None => break,
            Some(_) => {}
        }
    }
}

/// Asks the peer for a keyframe of its stream `ssrc` (RTCP PLI, RFC 4585
/// §6.3.1).
async fn ask_keyframe(track: &dyn TrackRemote, ssrc: u32, stats: &VideoStats) {
    use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
    let pli: Box<dyn rtc::rtcp::Packet> =
        Box::new(PictureLossIndication { sender_ssrc: 0, media_ssrc: ssrc });
    match track.write_rtcp(vec![pli]).await {
        Ok(()) => {
            stats.key_asked.fetch_add(1, Ordering::Relaxed);
        }
        Err(e) => tracing::debug!(error = %e, "asking for a keyframe failed"),
    }
}

/// What the peer says about our stream `ssrc`, let through by
/// [`super::keyframes::KeyframeRequests`]: raises `asked` when it asks for
/// a keyframe (PLI or FIR), and keeps the fraction it last reported lost in
/// `lost` (in 256ths, plus one: 0 is "nothing new"), until the track is
/// unbound.
async fn watch_peer_feedback(
    track: Arc<TrackLocalStaticSample>,
    ssrc: u32,
    asked: Arc<AtomicBool>,
    lost: Arc<AtomicU32>,
) {
    use webrtc::media_stream::track_local::{TrackLocal as _, TrackLocalEvent};
    while let Some(event) = track.poll().await {
        let TrackLocalEvent::OnRtcpPacket(packets) = event else { continue };
        for p in &packets {
            if super::keyframes::asked_of(p.as_ref()).contains(&ssrc) {
                asked.store(true, Ordering::Relaxed);
            }
            if let Some(fraction) = super::keyframes::loss_of(p.as_ref(), ssrc) {
                lost.store((fraction * 256.0) as u32 + 1, Ordering::Relaxed);
            }
        }
    }
}

/// Aborts a task when dropped (a helper task ends with the one that
/// started it).
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Sends the camera's pictures as VP8 at up to [`video::FPS`] a second
/// once the connection is up, while a source is in; the rate and size
/// follow the peer's loss reports ([`Rate`]), and a keyframe goes when the
/// camera comes on, the size changes, the peer reported a loss or asked
/// for one (PLI), at once.
pub(super) async fn send_video(
    track: Arc<TrackLocalStaticSample>,
    sender: Arc<dyn RtpSender>,
    ssrc: u32,
    camera: Camera,
    all: Arc<MediaStats>,
    screen: bool,
    mut connected: watch::Receiver<bool>,
) {
    let stats = if screen { &all.screen } else { &all.video };
    if connected.wait_for(|c| *c).await.is_err() {
        return;
    }
    let Some(pt) = payload_type(&sender).await else { return };
    let period = Duration::from_millis(u64::from(1000 / video::FPS));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut rate = Rate::default();
    let mut encoder: Option<VideoEncoder> = None;
    let mut checked = Instant::now();
    let mut key = true;
    let asked = Arc::new(AtomicBool::new(false));
    let lost = Arc::new(AtomicU32::new(0));
    let watch = watch_peer_feedback(track.clone(), ssrc, asked.clone(), lost.clone());
    let _watching = AbortOnDrop(tokio::spawn(watch).abort_handle());
    stats.kbps.store(rate.kbps(), Ordering::Relaxed);
    loop {
        tick.tick().await;
        let Some(picture) = camera.next() else {
            // Off: the next picture starts with a keyframe.
            encoder = None;
            continue;
        };
        if asked.swap(false, Ordering::Relaxed) {
            if !key {
                stats.key_answered.fetch_add(1, Ordering::Relaxed);
            }
            key = true;
        }
        if checked.elapsed() >= Duration::from_secs(1) {
            checked = Instant::now();
            // The peer reports about once a second (RTCP RR or SR).
            if let Some(loss) = lost.swap(0, Ordering::Relaxed).checked_sub(1) {
                let loss = f64::from(loss) / 256.0;
                key |= loss > 0.0;
                rate.report(loss);
                stats.kbps.store(rate.kbps(), Ordering::Relaxed);
            }
        }
        let picture = match picture.shrunk(rate.shrink()) {
            Ok(p) => p,
            Err(_) => picture,
        };
        let size = (picture.width(), picture.height());
        let mut enc = match encoder.take() {
            Some(e) if (e.config().width, e.config().height) == size => e,
            _ => {
                key = true;
                let config = EncoderConfig {
                    width: size.0,
                    height: size.1,
                    fps: video::FPS,
                    kbps: rate.kbps(),
                };
                match VideoEncoder::new(config) {
                    Ok(e) => e,
                    Err(e) => {
                        tracing::warn!(error = %e, "no video encoder");
                        continue;
                    }
                }
            }
        };
        if enc.config().kbps != rate.kbps() {
            let _ = enc.set_kbps(rate.kbps());
        }
        // Encoding a picture takes milliseconds: off the async threads.
        let coded = tokio::task::spawn_blocking(move || {
            let frames = enc.encode(&picture, key);
            (enc, frames)
        })
        .await;
        let Ok((enc, frames)) = coded else { return };
        encoder = Some(enc);
        let frames = match frames {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!(error = %e, "a picture did not encode");
                continue;
            }
        };
        key = false;
        for frame in frames {
            let sample = Sample {
                data: Bytes::from(frame.data),
                duration: period,
                ..Sample::new(Instant::now())
            };
            if track.write_sample(ssrc, pt, &sample, &[]).await.is_err() {
                return;
            }
        }
        stats.sent.fetch_add(1, Ordering::Relaxed);
        stats.size_out.store(size.0 << 16 | size.1, Ordering::Relaxed);
    }
}

/// Sends `source` as Opus every 20 ms once the connection is up (through
/// its processing, for a microphone).
pub(super) async fn send(
    track: Arc<TrackLocalStaticSample>,
    sender: Arc<dyn RtpSender>,
    ssrc: u32,
    mut source: Box<dyn AudioSource>,
    stats: Arc<MediaStats>,
    mut connected: watch::Receiver<bool>,
    processing: Option<Arc<Processing>>,
) {
    if connected.wait_for(|c| *c).await.is_err() {
        return;
    }
    let Some(pt) = payload_type(&sender).await else { return };
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
        if let Some(p) = &processing {
            p.capture(&mut frame);
        }
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
