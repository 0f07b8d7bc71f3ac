//! File announcements (SPEC.md §7.7.1) and their image and voice
//! descriptions (§6.6, §6.7).

use super::*;

/// A file announced in a message (SPEC.md §7.7.1), validated.
#[derive(Clone, PartialEq, Eq)]
pub struct FileOffer {
    /// Names the transfer.
    pub file_id: MessageId,
    /// A file name safe to create (no separators or control characters).
    pub name: String,
    /// The media type (may be empty).
    pub mime: String,
    /// Plaintext size.
    pub size: u64,
    /// SHA-256 of the plaintext.
    pub sha256: [u8; 32],
    /// The file's key.
    pub key: [u8; 32],
    /// The relay holding the ciphertext, with the blob's id.
    pub blob: Option<(String, MessageId)>,
    /// The caption.
    pub caption: String,
    /// What kind of media it is, with its preview.
    pub media: Media,
}

/// What a file is, beyond its bytes (SPEC.md §6.6, §6.7).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Media {
    /// A plain file.
    #[default]
    None,
    /// An image.
    Image {
        /// Pixels.
        width: u32,
        /// Pixels.
        height: u32,
        /// A small JPEG (may be empty).
        thumbnail: Vec<u8>,
    },
    /// A voice note (Opus in Ogg).
    Voice {
        /// Length, ms.
        duration_ms: u32,
        /// Peak levels 0..=255, evenly spaced.
        waveform: Vec<u8>,
    },
}

/// The media types an image may have (§6.6).
pub const IMAGE_MIMES: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "image/gif"];

/// The media type of a voice note (§6.7).
pub const VOICE_MIME: &str = "audio/ogg";

pub(super) fn media(f: &wire::FileRef) -> Result<Media, String> {
    match (&f.image, &f.voice) {
        (None, None) => Ok(Media::None),
        (Some(_), Some(_)) => Err("a file is an image or a voice note, not both".into()),
        (Some(i), None) => {
            if !IMAGE_MIMES.contains(&f.mime.as_str()) {
                return Err("an image's type must be image/jpeg, png, webp or gif".into());
            }
            let side = 1..=limits::MAX_IMAGE_SIDE;
            if !side.contains(&i.width) || !side.contains(&i.height) {
                return Err("an image's sides must be 1..=16384 pixels".into());
            }
            if i.thumbnail.len() > limits::MAX_THUMBNAIL {
                return Err("an image's thumbnail must be at most 16 KiB".into());
            }
            if !i.thumbnail.is_empty() && !i.thumbnail.starts_with(&[0xff, 0xd8, 0xff]) {
                return Err("an image's thumbnail must be a JPEG".into());
            }
            Ok(Media::Image { width: i.width, height: i.height, thumbnail: i.thumbnail.clone() })
        }
        (None, Some(v)) => {
            if f.mime != VOICE_MIME {
                return Err("a voice note's type must be audio/ogg".into());
            }
            if !(1..=limits::MAX_VOICE_MS).contains(&v.duration_ms) {
                return Err("a voice note lasts 1 ms to 1 hour".into());
            }
            if v.waveform.len() > limits::MAX_WAVEFORM {
                return Err("a voice note's waveform has at most 128 levels".into());
            }
            Ok(Media::Voice { duration_ms: v.duration_ms, waveform: v.waveform.clone() })
        }
    }
}

impl std::fmt::Debug for FileOffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileOffer")
            .field("file_id", &self.file_id)
            .field("name", &self.name)
            .field("mime", &self.mime)
            .field("size", &self.size)
            .field("blob", &self.blob)
            .field("media", &self.media)
            .finish_non_exhaustive()
    }
}

/// Whether `name` can be used as a file name as it is: 1..=255 bytes, not
/// `.` or `..`, no path separators, NUL or other control characters.
pub fn is_safe_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= limits::MAX_FILE_NAME
        && name != "."
        && name != ".."
        && !name.chars().any(|c| c == '/' || c == '\\' || c.is_control())
}

/// A file message: a malformed file is refused (§6.3); a malformed image
/// or voice description (newer fields) keeps the message as unsupported.
pub(super) fn file_content(f: wire::FileRef) -> Result<Content, DecodeError> {
    let media = media(&f);
    let offer = file_offer(f)?;
    Ok(match media {
        Ok(media) => Content::File(FileOffer { media, ..offer }),
        Err(reason) => Content::Invalid { reason },
    })
}

pub(super) fn file_offer(f: wire::FileRef) -> Result<FileOffer, DecodeError> {
    if !is_safe_file_name(&f.name) {
        return Err(DecodeError::invalid(
            APP,
            "file name must be 1..=255 bytes without separators or control characters",
        ));
    }
    if f.chunk_size != limits::FILE_CHUNK_SIZE {
        return Err(DecodeError::invalid(APP, "file chunk_size must be 65536"));
    }
    if f.size > limits::MAX_FILE_SIZE {
        return Err(DecodeError::invalid(APP, "file size above the protocol's limit"));
    }
    let sha256 = f
        .sha256
        .as_slice()
        .try_into()
        .map_err(|_| DecodeError::invalid(APP, "file sha256 must be 32 bytes"))?;
    let key = account(APP, "file key", &f.key)?;
    let blob = match (f.relay.is_empty(), f.blob_id.is_empty()) {
        (true, true) => None,
        (false, false) => {
            if f.relay.len() > limits::MAX_FILE_RELAY_URL
                || !(f.relay.starts_with("https://") || f.relay.starts_with("http://"))
            {
                return Err(DecodeError::invalid(APP, "file relay must be an http(s) URL"));
            }
            Some((f.relay, id(APP, "blob_id", &f.blob_id)?))
        }
        _ => return Err(DecodeError::invalid(APP, "file relay and blob_id go together")),
    };
    Ok(FileOffer {
        file_id: id(APP, "file_id", &f.file_id)?,
        name: f.name,
        mime: text("mime", f.mime, limits::MAX_FILE_MIME)?,
        size: f.size,
        sha256,
        key,
        blob,
        caption: text("caption", f.caption, limits::MAX_FILE_CAPTION)?,
        media: Media::None,
    })
}
