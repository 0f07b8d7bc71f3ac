//! The system's camera (Linux V4L2, through `linuxvideo`): a capture
//! device that gives YUYV or Motion-JPEG pictures, asked for 640×480 (the
//! driver may pick another size), read on a thread of its own; the call
//! takes the newest picture.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::video::{I420, VideoSource};

/// The size a camera is asked for.
const WANT: (u32, u32) = (640, 480);

/// A camera device being read.
pub struct SystemCamera {
    latest: Arc<Mutex<Option<I420>>>,
    stop: Arc<AtomicBool>,
    name: String,
}

impl std::fmt::Debug for SystemCamera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SystemCamera({})", self.name)
    }
}

impl SystemCamera {
    /// Opens `path`, or the first camera found (`/dev/video*`), and starts
    /// reading it. The error says, in plain words, why there is no camera.
    pub fn open(path: Option<&Path>) -> Result<Self, String> {
        let (device, path) = match path {
            Some(p) => (open_one(p)?, p.to_owned()),
            None => first_camera()?,
        };
        let name = device.capabilities().map(|c| c.card().to_owned()).unwrap_or_default();
        let format = pick_format(&device).ok_or_else(|| {
            format!("{} gives neither YUYV nor Motion-JPEG pictures", path.display())
        })?;
        let capture = device
            .video_capture(linuxvideo::format::PixFormat::new(WANT.0, WANT.1, format))
            .map_err(|e| format!("{} refused a picture format: {e}", path.display()))?;
        let fmt = capture.format();
        let (w, h, stride, pixels) =
            (fmt.width(), fmt.height(), fmt.bytes_per_line(), fmt.pixel_format());
        let mut stream =
            capture.into_stream().map_err(|e| format!("{} did not start: {e}", path.display()))?;
        let (latest, stop) = (Arc::new(Mutex::new(None)), Arc::new(AtomicBool::new(false)));
        let (put, stopped) = (latest.clone(), stop.clone());
        let reading = std::thread::Builder::new().name("kovan-camera".into()).spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                let picture = stream.dequeue(|buf| {
                    if buf.is_error() {
                        return Ok(None);
                    }
                    Ok(convert(pixels, w, h, stride, &buf))
                });
                match picture {
                    Ok(Some(p)) => {
                        if let Ok(mut l) = put.lock() {
                            *l = Some(p);
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "the camera stopped");
                        return;
                    }
                }
            }
        });
        reading.map_err(|e| format!("cannot start reading the camera: {e}"))?;
        Ok(Self { latest, stop, name })
    }

    /// The device's name, as its driver gives it.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl VideoSource for SystemCamera {
    fn next(&mut self) -> Option<I420> {
        self.latest.lock().ok()?.take()
    }
}

impl Drop for SystemCamera {
    fn drop(&mut self) {
        // The reading thread ends after its next picture, closing the device.
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn open_one(path: &Path) -> Result<linuxvideo::Device, String> {
    let device = linuxvideo::Device::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("there is no camera at {}", path.display()),
        std::io::ErrorKind::PermissionDenied => {
            format!("kovan may not open {} (is the user in the video group?)", path.display())
        }
        _ => format!("{} is not a camera: {e}", path.display()),
    })?;
    let caps =
        device.capabilities().map_err(|e| format!("{} is not a camera: {e}", path.display()))?;
    if !caps.device_capabilities().contains(linuxvideo::CapabilityFlags::VIDEO_CAPTURE) {
        return Err(format!("{} captures no video", path.display()));
    }
    Ok(device)
}

fn first_camera() -> Result<(linuxvideo::Device, PathBuf), String> {
    let none = || "no camera was found (no video capture device under /dev)".to_owned();
    let devices = linuxvideo::list().map_err(|_| none())?;
    for device in devices.flatten() {
        let Ok(path) = device.path() else { continue };
        if !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("video")) {
            continue;
        }
        if let Ok(d) = open_one(&path)
            && pick_format(&d).is_some()
        {
            return Ok((d, path));
        }
    }
    Err(none())
}

fn pick_format(device: &linuxvideo::Device) -> Option<linuxvideo::format::PixelFormat> {
    use linuxvideo::format::PixelFormat;
    let formats: Vec<PixelFormat> = device
        .formats(linuxvideo::BufType::VIDEO_CAPTURE)
        .filter_map(|f| f.ok().map(|f| f.pixel_format()))
        .collect();
    [PixelFormat::YUYV, PixelFormat::MJPG].into_iter().find(|f| formats.contains(f))
}

/// One captured picture as I420, if it is whole.
fn convert(
    format: linuxvideo::format::PixelFormat,
    width: u32,
    height: u32,
    stride: u32,
    data: &[u8],
) -> Option<I420> {
    if format == linuxvideo::format::PixelFormat::YUYV {
        yuyv_to_i420(width, height, stride as usize, data)
    } else {
        let img = image::load_from_memory_with_format(data, image::ImageFormat::Jpeg).ok()?;
        let rgb = img.to_rgb8();
        I420::from_rgb(rgb.width(), rgb.height(), rgb.as_raw()).ok()
    }
}

/// YUYV (4:2:2, `Y0 U Y1 V` for each two pixels, rows of `stride` bytes)
/// to I420: the chroma of each even row is kept.
pub fn yuyv_to_i420(width: u32, height: u32, stride: usize, data: &[u8]) -> Option<I420> {
    let (w, h) = ((width & !1) as usize, (height & !1) as usize);
    if stride < w * 2 || data.len() < stride * h.saturating_sub(1) + w * 2 {
        return None;
    }
    let mut out = I420::black(w as u32, h as u32).ok()?;
    let (y, u, v) = out.planes_mut();
    for row in 0..h {
        let line = &data[row * stride..row * stride + w * 2];
        for (pair, px) in line.chunks_exact(4).enumerate() {
            y[row * w + pair * 2] = px[0];
            y[row * w + pair * 2 + 1] = px[2];
            if row % 2 == 0 {
                let c = (row / 2) * (w / 2) + pair;
                u[c] = px[1];
                v[c] = px[3];
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuyv_becomes_i420_with_each_pixels_brightness() {
        // 4×2: Y rises along the row; U/V differ between the rows.
        let row0 = [10, 100, 20, 200, 30, 101, 40, 201];
        let row1 = [50, 0, 60, 0, 70, 0, 80, 0];
        let mut data = row0.to_vec();
        data.extend([0; 4]); // padding up to the stride
        data.extend(row1);
        let p = yuyv_to_i420(4, 2, 12, &data).unwrap();
        let (y, u, v) = p.planes();
        assert_eq!(y, [10, 20, 30, 40, 50, 60, 70, 80]);
        assert_eq!((u, v), (&[100, 101][..], &[200, 201][..]));
        assert!(yuyv_to_i420(4, 2, 12, &data[..15]).is_none(), "a short buffer is no picture");
    }

    #[test]
    fn what_is_not_a_camera_says_so() {
        let missing = SystemCamera::open(Some(Path::new("/nonexistent/video9"))).unwrap_err();
        assert!(missing.contains("no camera at"), "{missing}");
        let null = SystemCamera::open(Some(Path::new("/dev/null"))).unwrap_err();
        assert!(null.contains("not a camera"), "{null}");
    }
}
