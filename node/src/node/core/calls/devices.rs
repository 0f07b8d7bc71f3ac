//! A call's devices (SPEC.md §6.9, §6.9.2, §6.9.3): what makes its audio,
//! the camera and the shared screen with the peer's latest picture of
//! each, and the devices a control request names.

use std::sync::Arc;

use crate::call::{AudioSink, AudioSource, Camera, Devices, LatestPicture, VideoSource};
use crate::node::NodeError;
use crate::node::NodeResult;

/// Makes a call's audio devices (again, if the call is remade: glare),
/// and holds its video ones: the camera and the shared screen (each off
/// until a source is put in; switchable during the call) and the peer's
/// latest picture of each.
#[derive(Clone)]
pub struct CallDevices {
    make: Arc<MakeDevices>,
    camera: Camera,
    seen: LatestPicture,
    screen: Camera,
    seen_screen: LatestPicture,
}

/// One of a call's two pictures each way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// The camera.
    Camera,
    /// The shared screen or window.
    Screen,
}

/// A source and a sink, made afresh.
type MakeDevices =
    dyn Fn() -> Result<(Box<dyn AudioSource>, Box<dyn AudioSink>), String> + Send + Sync;

impl std::fmt::Debug for CallDevices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallDevices")
    }
}

impl CallDevices {
    /// Devices from `make`.
    pub fn new(
        make: impl Fn() -> Result<(Box<dyn AudioSource>, Box<dyn AudioSink>), String>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        Self {
            make: Arc::new(make),
            camera: Camera::default(),
            seen: LatestPicture::new(),
            screen: Camera::default(),
            seen_screen: LatestPicture::new(),
        }
    }

    /// A connection's devices: the audio made afresh, the video feeds
    /// shared (they outlive a connection remade by glare).
    pub(super) fn make(&self) -> Result<Devices, String> {
        let (audio_in, audio_out) = (self.make)()?;
        Ok(Devices {
            audio_in,
            audio_out,
            camera: self.camera.clone(),
            video_out: Box::new(self.seen.clone()),
            screen: self.screen.clone(),
            screen_out: Box::new(self.seen_screen.clone()),
        })
    }

    /// What the peer is sent of `feed`, and the peer's latest picture of it.
    pub fn feed(&self, feed: Feed) -> (&Camera, &LatestPicture) {
        match feed {
            Feed::Camera => (&self.camera, &self.seen),
            Feed::Screen => (&self.screen, &self.seen_screen),
        }
    }

    /// The same, with the camera on from the start, showing `source`.
    pub fn with_camera(self, source: Box<dyn VideoSource>) -> Self {
        self.camera.set(Some(source));
        self
    }

    /// Silence out, nothing in.
    pub fn silent() -> Self {
        Self::new(|| Ok((Box::new(crate::call::Silence), Box::new(crate::call::Discard))))
    }
}

/// The test pattern a control request names: `test_pattern` `true`
/// (640x480) or a size `"WxH"`; None when absent or `false`.
fn pattern_param(p: &serde_json::Value) -> NodeResult<Option<Box<dyn VideoSource>>> {
    let (w, h) = match &p["test_pattern"] {
        serde_json::Value::Null | serde_json::Value::Bool(false) => return Ok(None),
        serde_json::Value::Bool(true) => (640, 480),
        serde_json::Value::String(size) => size
            .split_once('x')
            .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
            .ok_or_else(|| {
                NodeError::Invalid(format!("a picture size is like 640x480, not {size}"))
            })?,
        _ => return Err(NodeError::Invalid("test_pattern is true or a size like 640x480".into())),
    };
    let pattern = crate::call::TestPattern::new(w, h).map_err(NodeError::Invalid)?;
    Ok(Some(Box::new(pattern)))
}

/// The camera a control request turns on: the test pattern, else the
/// system's camera (`camera`: a device path, or the first found).
pub(super) fn camera_source(p: &serde_json::Value) -> NodeResult<Box<dyn VideoSource>> {
    if let Some(pattern) = pattern_param(p)? {
        return Ok(pattern);
    }
    let path = p["camera"].as_str().map(std::path::Path::new);
    let camera = crate::call::SystemCamera::open(path).map_err(NodeError::Invalid)?;
    Ok(Box::new(camera))
}

/// The camera a call or an answer starts with: with `video` or
/// `test_pattern`, as [`camera_source`]; None (off) otherwise.
fn camera_param(p: &serde_json::Value) -> NodeResult<Option<Box<dyn VideoSource>>> {
    if let Some(pattern) = pattern_param(p)? {
        return Ok(Some(pattern));
    }
    let video = p["video"].as_bool() == Some(true);
    video.then(|| camera_source(p)).transpose()
}

/// The screen a control request shares: the test pattern, else window
/// `window` (0 or absent: the whole screen) of display `display` (absent:
/// the daemon's `DISPLAY`).
pub(super) fn screen_source(p: &serde_json::Value) -> NodeResult<Box<dyn VideoSource>> {
    if let Some(pattern) = pattern_param(p)? {
        return Ok(pattern);
    }
    let window = p["window"].as_u64().map(|w| u32::try_from(w).unwrap_or(u32::MAX));
    let screen = crate::call::ScreenSource::open(p["display"].as_str(), window)
        .map_err(NodeError::Invalid)?;
    Ok(Box::new(screen))
}

/// Devices a control request names: `tone` (Hz), `wav` (a file looped) or
/// silence out; `record` (a WAV file written when the call ends) or
/// nothing in; `test_pattern` for the camera (see [`camera_param`]).
pub(super) fn devices_param(p: &serde_json::Value) -> NodeResult<CallDevices> {
    let tone = p["tone"].as_f64();
    let wav = p["wav"].as_str().map(std::path::PathBuf::from);
    let record = p["record"].as_str().map(std::path::PathBuf::from);
    if tone.is_some() && wav.is_some() {
        return Err(NodeError::Invalid("give a tone or a WAV file, not both".into()));
    }
    if let Some(hz) = tone
        && !(20.0..=20_000.0).contains(&hz)
    {
        return Err(NodeError::Invalid("a tone is 20 to 20,000 Hz".into()));
    }
    if let Some(w) = &wav {
        crate::call::WavLoop::open(w).map_err(NodeError::Invalid)?;
    }
    let devices = CallDevices::new(move || {
        let source: Box<dyn AudioSource> = match (&wav, tone) {
            (Some(w), _) => Box::new(crate::call::WavLoop::open(w)?),
            (None, Some(hz)) => Box::new(crate::call::Tone::new(hz as f32, 0.5)),
            (None, None) => Box::new(crate::call::Silence),
        };
        let sink: Box<dyn AudioSink> = match &record {
            Some(r) => Box::new(crate::call::WavFile::create(r)?),
            None => Box::new(crate::call::Discard),
        };
        Ok((source, sink))
    });
    Ok(match camera_param(p)? {
        Some(camera) => devices.with_camera(camera),
        None => devices,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_devices_are_checked_before_a_call_starts() {
        let both = serde_json::json!({"tone": 440.0, "wav": "x.wav"});
        assert!(devices_param(&both).unwrap_err().to_string().contains("not both"));
        let low = serde_json::json!({"tone": 5.0});
        assert!(devices_param(&low).unwrap_err().to_string().contains("20 to 20,000"));
        let missing = serde_json::json!({"wav": "/nonexistent/kovan.wav"});
        assert!(devices_param(&missing).is_err());
        assert!(devices_param(&serde_json::json!({"tone": 440.0})).is_ok());
        let camera = |p: serde_json::Value| camera_param(&p).map(|c| c.is_some());
        let none = camera(serde_json::json!({"video": true, "camera": "/nonexistent/video0"}));
        assert!(none.unwrap_err().to_string().contains("no camera at"));
        assert!(
            camera(serde_json::json!({"test_pattern": "640x"}))
                .unwrap_err()
                .to_string()
                .contains("640x480")
        );
        assert!(camera(serde_json::json!({"test_pattern": "20x20"})).is_err());
        assert!(camera(serde_json::json!({"test_pattern": "320x240"})).unwrap());
        assert!(camera(serde_json::json!({"test_pattern": true})).unwrap());
        assert!(!camera(serde_json::json!({})).unwrap());
    }
}
