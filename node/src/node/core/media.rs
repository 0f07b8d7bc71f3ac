//! Images and voice notes (SPEC.md §6.6, §6.7): what the handle does
//! before a picked image or a recording becomes a file message — decoding
//! under limits and re-encoding without metadata, encoding Opus — on
//! blocking threads; the result is sent as a file (`files.rs`).

use kovan_spec::validate::Media;

use crate::control::{s, to_value};
use crate::node::views::MessageView;
use crate::node::{NodeError, NodeHandle, NodeResult};

/// Where a voice note's sound comes from.
#[derive(Debug, Clone)]
pub enum VoiceSource {
    /// A WAV file (any rate and channel count).
    Wav(std::path::PathBuf),
    /// A generated sine tone (tests, `kovan send-voice --tone`).
    Tone {
        /// Frequency.
        hz: f32,
        /// Length.
        ms: u32,
    },
    /// Mono samples at 48 kHz (a recording from the desktop client).
    Samples(Vec<f32>),
}

// ---------------------------------------------------------------------
// The handle
// ---------------------------------------------------------------------

/// Images and voice notes.
impl NodeHandle {
    /// Sends an image (SPEC.md §6.6): decoded under limits, turned upright,
    /// re-encoded from its pixels so no metadata (EXIF with GPS, XMP, IPTC,
    /// comments) leaves the device, with a thumbnail inline in the message;
    /// then sent like a file. A damaged image or a decompression bomb is a
    /// clear error (`NodeError::Invalid`) and nothing is sent.
    pub async fn send_image(
        &self,
        to: &str,
        path: &std::path::Path,
        caption: &str,
        reply_to: Option<&str>,
    ) -> NodeResult<MessageView> {
        let who = to.to_owned();
        let prep = self.call(move |c| c.file_prepare(&who)).await?;
        let src = path.to_path_buf();
        let image = tokio::task::spawn_blocking(move || {
            let len = std::fs::metadata(&src)?.len();
            if len > crate::media::MAX_IMAGE_FILE as u64 {
                return Ok(Err(crate::media::ImageError::TooLarge(format!(
                    "{len} bytes; images above {} bytes go as files",
                    crate::media::MAX_IMAGE_FILE
                ))));
            }
            std::fs::read(&src).map(|b| crate::media::prepare_image(&b))
        })
        .await
        .map_err(|e| NodeError::Local(crate::Error::Internal(e.to_string())))?
        .map_err(|e| NodeError::Invalid(format!("{}: {e}", path.display())))?
        .map_err(|e| NodeError::Invalid(format!("{}: {e}", path.display())))?;
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        let name = crate::files::offer_name(std::path::Path::new(&format!(
            "{}.{}",
            stem.as_deref().unwrap_or("image"),
            image.extension
        )));
        let how = super::files::Outgoing {
            name,
            mime: image.mime.to_owned(),
            media: Media::Image {
                width: image.width,
                height: image.height,
                thumbnail: image.thumbnail,
            },
            source: Some(path.to_path_buf()),
        };
        self.send_generated(to, prep, &image.bytes, how, caption, reply_to).await
    }

    /// Sends a voice note (SPEC.md §6.7): the source is encoded with Opus
    /// in an Ogg container on a blocking thread, its length and waveform go
    /// in the message, and the file is sent like any other.
    pub async fn send_voice(
        &self,
        to: &str,
        source: VoiceSource,
        caption: &str,
        reply_to: Option<&str>,
    ) -> NodeResult<MessageView> {
        match &source {
            VoiceSource::Tone { hz, ms } => {
                if !crate::voice::TONE_HZ.contains(hz) {
                    return Err(NodeError::Invalid(format!(
                        "a tone is {} to {} Hz",
                        crate::voice::TONE_HZ.start(),
                        crate::voice::TONE_HZ.end()
                    )));
                }
                if *ms == 0 || *ms > crate::voice::MAX_SEND_MS {
                    return Err(NodeError::Invalid(format!(
                        "a voice note lasts up to {} minutes",
                        crate::voice::MAX_SEND_MS / 60_000
                    )));
                }
            }
            VoiceSource::Samples(s)
                if s.len() as u64 / u64::from(crate::voice::RATE) * 1000
                    > u64::from(crate::voice::MAX_SEND_MS) =>
            {
                return Err(NodeError::Invalid(format!(
                    "a voice note lasts up to {} minutes",
                    crate::voice::MAX_SEND_MS / 60_000
                )));
            }
            _ => {}
        }
        let who = to.to_owned();
        let prep = self.call(move |c| c.file_prepare(&who)).await?;
        let (what, name) = match &source {
            VoiceSource::Wav(p) => (
                p.display().to_string(),
                p.file_stem().map_or("voice".into(), |s| s.to_string_lossy().into_owned()),
            ),
            VoiceSource::Tone { hz, ms } => (format!("a {hz} Hz tone of {ms} ms"), "tone".into()),
            VoiceSource::Samples(_) => ("the recording".into(), "voice".into()),
        };
        let source_path = match &source {
            VoiceSource::Wav(p) => Some(p.clone()),
            _ => None,
        };
        let note = tokio::task::spawn_blocking(move || {
            let samples = match source {
                VoiceSource::Wav(p) => {
                    let f = std::fs::File::open(&p)
                        .map_err(|e| crate::voice::VoiceError::Unsupported(e.to_string()))?;
                    crate::voice::read_wav(std::io::BufReader::new(f))?
                }
                VoiceSource::Tone { hz, ms } => crate::voice::tone(hz, ms as f32 / 1000.0),
                VoiceSource::Samples(s) => s,
            };
            let ms = samples.len() as u64 * 1000 / u64::from(crate::voice::RATE);
            if ms > u64::from(crate::voice::MAX_SEND_MS) {
                return Err(crate::voice::VoiceError::TooLong(ms / 1000));
            }
            crate::voice::encode(&samples)
        })
        .await
        .map_err(|e| NodeError::Local(crate::Error::Internal(e.to_string())))?
        .map_err(|e| NodeError::Invalid(format!("{what}: {e}")))?;
        let how = super::files::Outgoing {
            name: crate::files::offer_name(std::path::Path::new(&format!("{name}.ogg"))),
            mime: kovan_spec::validate::VOICE_MIME.to_owned(),
            media: Media::Voice { duration_ms: note.duration_ms, waveform: note.waveform },
            source: source_path,
        };
        self.send_generated(to, prep, &note.ogg, how, caption, reply_to).await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "send_image" => {
        let (to, path, caption, reply_to) = crate::control::file_params(p)?;
        to_value(node.send_image(to, path, caption, reply_to).await?)
    }
    "send_voice" => {
        let source = match (p["wav"].as_str(), p["tone_hz"].as_f64()) {
            (Some(wav), None) => crate::node::VoiceSource::Wav(wav.into()),
            (None, Some(hz)) => crate::node::VoiceSource::Tone {
                hz: hz as f32,
                ms: u32::try_from(p["ms"].as_u64().unwrap_or(3000)).unwrap_or(u32::MAX),
            },
            _ => return Err(NodeError::Invalid("send_voice needs `wav` or `tone_hz`".into())),
        };
        to_value(
            node.send_voice(
                s(p, "to")?,
                source,
                p["caption"].as_str().unwrap_or(""),
                p["reply_to"].as_str(),
            )
            .await?,
        )
    }
});
