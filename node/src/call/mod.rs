//! Calls' media (SPEC.md §6.9): WebRTC peer connections, the audio path
//! and the devices behind it. The node's call state and signaling live in
//! `node::core::calls`.

pub mod audio;
pub mod devices;
pub mod peer;

pub use devices::{AudioSink, AudioSource, Discard, Recorder, Silence, Tone, WavFile, WavLoop};
pub use peer::{CallMedia, IceServer, MediaConfig, MediaEvent, MediaStats};
