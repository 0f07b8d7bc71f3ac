//! Calls' media (SPEC.md §6.9): WebRTC peer connections, the audio path
//! (with echo cancellation for microphones), VP8 video and the devices
//! behind them. The node's call state and signaling live in
//! `node::core::calls`.

pub mod audio;
#[cfg(target_os = "linux")]
pub mod camera;
pub mod data;
pub mod devices;
mod keyframes;
pub mod peer;
pub mod processing;
#[cfg(target_os = "linux")]
pub mod screen;
pub mod tracks;
pub mod video;

/// The RTP payload type of VP8 in kovan's calls (SPEC.md §6.9.2).
const VP8_PT: u8 = 96;

#[cfg(target_os = "linux")]
pub use camera::SystemCamera;
pub use data::ChannelStream;
pub use devices::{AudioSink, AudioSource, Discard, Recorder, Silence, Tone, WavFile, WavLoop};
pub use peer::{CallMedia, Devices, IceServer, MediaConfig, MediaEvent};
#[cfg(target_os = "linux")]
pub use screen::{ScreenSource, Shareable};
pub use tracks::{MediaStats, VideoStats};
pub use video::{Camera, LatestPicture, TestPattern, VideoSink, VideoSource};
