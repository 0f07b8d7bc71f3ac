//! Images (I2) made safe to send (SPEC.md §6.6).
//!
//! A picked image is decoded under limits (a decompression bomb or a
//! corrupt file is an error, never an allocation of gigabytes or a panic),
//! turned upright by its EXIF orientation, and **re-encoded from pixels**:
//! nothing of the original file but its pixels survives, so EXIF (GPS
//! position, camera serial, time), XMP, IPTC, ICC profiles and comments are
//! all gone. A small JPEG thumbnail travels inline in the message.
//!
//! Pure computation: no I/O, so it runs on a blocking thread and in tests.

use std::io::Cursor;

use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{
    AnimationDecoder, DynamicImage, ImageDecoder, ImageEncoder, ImageFormat, ImageReader, Limits,
};
use kovan_spec::limits::{MAX_IMAGE_SIDE, MAX_THUMBNAIL, MAX_THUMBNAIL_SIDE};

/// The largest image file accepted for sending as an image (larger ones go
/// as plain files).
pub const MAX_IMAGE_FILE: usize = 64 * 1024 * 1024;

/// Decoded pixels the decoder may allocate: a 16,384² RGBA image is 1 GiB;
/// photos of 50 megapixels fit in 256 MiB.
pub const MAX_DECODE_ALLOC: u64 = 256 * 1024 * 1024;

/// Frames of an animated GIF.
pub const MAX_GIF_FRAMES: usize = 1000;

/// Why an image cannot be sent as an image.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImageError {
    /// Not JPEG, PNG, WebP or GIF.
    #[error("not an image kovan can send (JPEG, PNG, WebP or GIF)")]
    Unsupported,
    /// Larger than the limits: too many pixels, frames or bytes.
    #[error("the image is too large: {0}")]
    TooLarge(String),
    /// The bytes do not decode.
    #[error("the image is damaged: {0}")]
    Corrupt(String),
}

impl ImageError {
    /// A stable name for the UI and scripts.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unsupported => "unsupported",
            Self::TooLarge(_) => "too_large",
            Self::Corrupt(_) => "corrupt",
        }
    }
}

/// An image ready to seal: clean bytes and what the message says about it.
#[derive(Debug, Clone)]
pub struct PreparedImage {
    /// The re-encoded file: pixels only.
    pub bytes: Vec<u8>,
    /// `image/jpeg`, `image/png`, `image/webp` or `image/gif`.
    pub mime: &'static str,
    /// The file extension of that type.
    pub extension: &'static str,
    /// Pixels, upright.
    pub width: u32,
    /// Pixels, upright.
    pub height: u32,
    /// A JPEG of at most [`MAX_THUMBNAIL`] bytes, at most
    /// [`MAX_THUMBNAIL_SIDE`] pixels on its longer side.
    pub thumbnail: Vec<u8>,
}

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(MAX_IMAGE_SIDE);
    l.max_image_height = Some(MAX_IMAGE_SIDE);
    l.max_alloc = Some(MAX_DECODE_ALLOC);
    l
}

fn decode_error(e: image::ImageError) -> ImageError {
    match e {
        image::ImageError::Limits(l) => ImageError::TooLarge(l.to_string()),
        image::ImageError::Unsupported(_) => ImageError::Unsupported,
        other => ImageError::Corrupt(other.to_string()),
    }
}

fn encode_error(e: image::ImageError) -> ImageError {
    ImageError::Corrupt(format!("re-encoding failed: {e}"))
}

/// Decodes, strips and re-encodes an image (see the module docs).
pub fn prepare_image(bytes: &[u8]) -> Result<PreparedImage, ImageError> {
    if bytes.len() > MAX_IMAGE_FILE {
        return Err(ImageError::TooLarge(format!(
            "{} bytes; images above {MAX_IMAGE_FILE} bytes go as files",
            bytes.len()
        )));
    }
    let format = image::guess_format(bytes).map_err(|_| ImageError::Unsupported)?;
    match format {
        ImageFormat::Gif => prepare_gif(bytes),
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP => {
            if format == ImageFormat::Jpeg && !jpeg_complete(bytes) {
                return Err(ImageError::Corrupt("the JPEG is cut short (no end marker)".into()));
            }
            let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
            reader.limits(limits());
            let mut decoder = reader.into_decoder().map_err(decode_error)?;
            // Refused from the header, before anything is allocated.
            if decoder.total_bytes() > MAX_DECODE_ALLOC {
                let (w, h) = decoder.dimensions();
                return Err(ImageError::TooLarge(format!(
                    "{w}×{h} pixels need more than {} MiB",
                    MAX_DECODE_ALLOC >> 20
                )));
            }
            let orientation = decoder.orientation().map_err(decode_error)?;
            let mut img = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
            img.apply_orientation(orientation);
            let (mime, extension, out) = match format {
                ImageFormat::Jpeg => ("image/jpeg", "jpg", encode_jpeg(&img, 88)?),
                ImageFormat::Png => ("image/png", "png", encode_png(&img)?),
                _ => ("image/webp", "webp", encode_webp(&img)?),
            };
            Ok(PreparedImage {
                bytes: out,
                mime,
                extension,
                width: img.width(),
                height: img.height(),
                thumbnail: thumbnail(&img)?,
            })
        }
        _ => Err(ImageError::Unsupported),
    }
}

/// Whether a JPEG's last scan is followed by its end marker: decoders
/// fill a cut-short scan with grey, which must not be sent as the photo.
/// (An EXIF thumbnail has its own markers, inside APP1, before the scans.)
fn jpeg_complete(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xff, 0xda]);
    let end = bytes.windows(2).rposition(|w| w == [0xff, 0xd9]);
    matches!((last_scan, end), (Some(s), Some(e)) if e > s)
}

fn prepare_gif(bytes: &[u8]) -> Result<PreparedImage, ImageError> {
    let mut decoder = GifDecoder::new(Cursor::new(bytes)).map_err(decode_error)?;
    decoder.set_limits(limits()).map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    // Every frame is a full RGBA canvas: the frames together stay under
    // the decode budget, so a small GIF of a million frames is refused.
    let frame_bytes = u64::from(width) * u64::from(height) * 4;
    let budget = (MAX_DECODE_ALLOC / frame_bytes.max(1)).min(MAX_GIF_FRAMES as u64) as usize;
    let mut frames = Vec::new();
    for frame in decoder.into_frames() {
        if frames.len() == budget {
            return Err(ImageError::TooLarge(format!(
                "more than {budget} frames of {width}×{height}"
            )));
        }
        frames.push(frame.map_err(decode_error)?);
    }
    let first = frames.first().ok_or_else(|| ImageError::Corrupt("a GIF without frames".into()))?;
    let still = DynamicImage::ImageRgba8(first.buffer().clone());
    let mut out = Vec::new();
    {
        let mut enc = GifEncoder::new_with_speed(&mut out, 10);
        enc.set_repeat(Repeat::Infinite).map_err(encode_error)?;
        enc.encode_frames(frames).map_err(encode_error)?;
    }
    Ok(PreparedImage {
        bytes: out,
        mime: "image/gif",
        extension: "gif",
        width,
        height,
        thumbnail: thumbnail(&still)?,
    })
}

fn encode_jpeg(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, ImageError> {
    let rgb = img.to_rgb8();
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(rgb.as_raw(), rgb.width(), rgb.height(), image::ExtendedColorType::Rgb8)
        .map_err(encode_error)?;
    Ok(out)
}

fn encode_png(img: &DynamicImage) -> Result<Vec<u8>, ImageError> {
    let rgba = img.to_rgba8();
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(rgba.as_raw(), rgba.width(), rgba.height(), image::ExtendedColorType::Rgba8)
        .map_err(encode_error)?;
    Ok(out)
}

fn encode_webp(img: &DynamicImage) -> Result<Vec<u8>, ImageError> {
    let rgba = img.to_rgba8();
    let mut out = Vec::new();
    WebPEncoder::new_lossless(&mut out)
        .write_image(rgba.as_raw(), rgba.width(), rgba.height(), image::ExtendedColorType::Rgba8)
        .map_err(encode_error)?;
    Ok(out)
}

/// A JPEG thumbnail that fits the message: smaller and rougher until it
/// is under [`MAX_THUMBNAIL`].
pub fn thumbnail(img: &DynamicImage) -> Result<Vec<u8>, ImageError> {
    let mut side = MAX_THUMBNAIL_SIDE;
    let mut quality = 70;
    loop {
        let small = img.thumbnail(side, side);
        let jpeg = encode_jpeg(&small, quality)?;
        if jpeg.len() <= MAX_THUMBNAIL {
            return Ok(jpeg);
        }
        if quality > 30 {
            quality -= 20;
        } else if side > 16 {
            side /= 2;
        } else {
            return Ok(Vec::new());
        }
    }
}

/// Decodes a thumbnail or image received from a peer for display, under
/// the same limits (a hostile peer's bytes).
pub fn decode_for_display(bytes: &[u8]) -> Result<DynamicImage, ImageError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ImageError::Corrupt(e.to_string()))?;
    reader.limits(limits());
    reader.decode().map_err(decode_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn photo(w: u32, h: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
            Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, ((x ^ y) & 0xff) as u8])
        }))
    }

    #[test]
    fn each_format_is_re_encoded_with_a_thumbnail() {
        let _busy = crate::REAL_TIME.blocking_lock();
        let img = photo(300, 200);
        for (format, mime) in [
            (ImageFormat::Jpeg, "image/jpeg"),
            (ImageFormat::Png, "image/png"),
            (ImageFormat::WebP, "image/webp"),
            (ImageFormat::Gif, "image/gif"),
        ] {
            let mut bytes = Vec::new();
            let src = if format == ImageFormat::Jpeg || format == ImageFormat::Gif {
                DynamicImage::ImageRgb8(img.to_rgb8())
            } else {
                img.clone()
            };
            let src = if format == ImageFormat::Gif {
                DynamicImage::ImageRgba8(src.to_rgba8())
            } else {
                src
            };
            src.write_to(&mut Cursor::new(&mut bytes), format).unwrap();
            let p = prepare_image(&bytes).unwrap();
            assert_eq!((p.mime, p.width, p.height), (mime, 300, 200), "{format:?}");
            assert!(p.thumbnail.len() <= MAX_THUMBNAIL && p.thumbnail.starts_with(&[0xff, 0xd8]));
            let thumb = decode_for_display(&p.thumbnail).unwrap();
            assert_eq!((thumb.width(), thumb.height()), (128, 85), "{format:?}");
            let back = decode_for_display(&p.bytes).unwrap();
            assert_eq!((back.width(), back.height()), (300, 200));
        }
    }

    #[test]
    fn garbage_truncated_and_bombs_are_clear_errors() {
        let _busy = crate::REAL_TIME.blocking_lock();
        assert_eq!(prepare_image(b"hello, not an image").unwrap_err(), ImageError::Unsupported);
        let mut jpeg = Vec::new();
        photo(64, 64).write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg).unwrap();
        let cut = &jpeg[..jpeg.len() / 3];
        assert!(matches!(prepare_image(cut), Err(ImageError::Corrupt(_))), "truncated JPEG");
        // A PNG that claims 100,000 × 100,000 pixels (40 GB of RGBA) in a
        // few dozen bytes: refused from its header, before any allocation.
        let mut png = Vec::new();
        photo(1, 1).write_to(&mut Cursor::new(&mut png), ImageFormat::Png).unwrap();
        png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        let err = prepare_image(&png).unwrap_err();
        assert_eq!(err.kind(), "too_large", "{err}");
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
}
