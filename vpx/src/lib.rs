//! VP8 for kovan's video calls (SPEC.md §6.9.2): an encoder tuned for
//! real time and a decoder, over the system's libvpx.
//!
//! Pictures are I420 ([`I420`]): a full-size luma plane and two
//! half-size chroma planes, packed without padding. Each codec owns its
//! libvpx context on the heap and frees it when dropped; nothing of libvpx
//! escapes this crate.

use std::ffi::CStr;
use std::fmt;
use std::mem::MaybeUninit;
use std::os::raw::{c_int, c_uint, c_ulong};

use vpx_sys as vpx;

/// The largest picture side either codec takes (VP8 allows 16,383).
pub const MAX_SIDE: u32 = 4096;

/// What went wrong in libvpx, in its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

fn check(what: &str, e: vpx::vpx_codec_err_t) -> Result<(), Error> {
    if e == vpx::vpx_codec_err_t::VPX_CODEC_OK {
        return Ok(());
    }
    // SAFETY: libvpx returns a static, NUL-terminated string for every
    // error code (or "Unrecognized error code").
    let text = unsafe { CStr::from_ptr(vpx::vpx_codec_err_to_string(e)) };
    Err(Error(format!("{what}: {}", text.to_string_lossy())))
}

/// A picture in I420: `width × height` luma bytes, then the two chroma
/// planes of `(width/2) × (height/2)` bytes each. Sides are even.
#[derive(Clone, PartialEq, Eq)]
pub struct I420 {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl fmt::Debug for I420 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "I420({}×{})", self.width, self.height)
    }
}

fn plane_sizes(width: u32, height: u32) -> (usize, usize) {
    let luma = width as usize * height as usize;
    (luma, luma / 4)
}

impl I420 {
    /// A black picture (`width` and `height` even, 2..=[`MAX_SIDE`]).
    pub fn black(width: u32, height: u32) -> Result<Self, Error> {
        Self::check_sides(width, height)?;
        let (luma, chroma) = plane_sizes(width, height);
        let mut data = vec![16u8; luma + 2 * chroma];
        data[luma..].fill(128);
        Ok(Self { width, height, data })
    }

    /// A picture from its packed planes.
    pub fn from_planes(width: u32, height: u32, data: Vec<u8>) -> Result<Self, Error> {
        Self::check_sides(width, height)?;
        let (luma, chroma) = plane_sizes(width, height);
        if data.len() != luma + 2 * chroma {
            return Err(Error(format!(
                "an I420 picture of {width}×{height} has {} bytes, not {}",
                luma + 2 * chroma,
                data.len()
            )));
        }
        Ok(Self { width, height, data })
    }

    fn check_sides(width: u32, height: u32) -> Result<(), Error> {
        if width < 2
            || height < 2
            || width > MAX_SIDE
            || height > MAX_SIDE
            || width % 2 == 1
            || height % 2 == 1
        {
            return Err(Error(format!(
                "a picture of {width}×{height} is not supported (even sides up to {MAX_SIDE})"
            )));
        }
        Ok(())
    }

    /// Its width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Its height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The luma plane, then the two chroma planes (U, V).
    pub fn planes(&self) -> (&[u8], &[u8], &[u8]) {
        let (luma, chroma) = plane_sizes(self.width, self.height);
        let (y, uv) = self.data.split_at(luma);
        let (u, v) = uv.split_at(chroma);
        (y, u, v)
    }

    /// The three planes, writable.
    pub fn planes_mut(&mut self) -> (&mut [u8], &mut [u8], &mut [u8]) {
        let (luma, chroma) = plane_sizes(self.width, self.height);
        let (y, uv) = self.data.split_at_mut(luma);
        let (u, v) = uv.split_at_mut(chroma);
        (y, u, v)
    }

    /// The packed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// The picture shrunk by `factor` (1, 2, 4, …) in each direction, each
    /// output sample the mean of the block it covers. Sides are rounded
    /// down to even numbers.
    pub fn shrunk(&self, factor: u32) -> Result<Self, Error> {
        if factor <= 1 {
            return Ok(self.clone());
        }
        let (w, h) = ((self.width / factor) & !1, (self.height / factor) & !1);
        let mut out = Self::black(w, h)?;
        let (sy, su, sv) = self.planes();
        let (dy, du, dv) = out.planes_mut();
        shrink_plane(sy, self.width as usize, dy, w as usize, h as usize, factor as usize);
        let (cw, ch) = (w as usize / 2, h as usize / 2);
        shrink_plane(su, self.width as usize / 2, du, cw, ch, factor as usize);
        shrink_plane(sv, self.width as usize / 2, dv, cw, ch, factor as usize);
        Ok(out)
    }

    /// A picture from packed RGB (3 bytes a pixel, rows of `width`),
    /// BT.601 limited range; an odd last column or row is left out.
    pub fn from_rgb(width: u32, height: u32, rgb: &[u8]) -> Result<Self, Error> {
        if rgb.len() != width as usize * height as usize * 3 {
            return Err(Error(format!("{} RGB bytes for a {width}×{height} picture", rgb.len())));
        }
        let (w, h) = (width & !1, height & !1);
        let mut out = Self::black(w, h)?;
        let (y, u, v) = out.planes_mut();
        let (w, h, src_w) = (w as usize, h as usize, width as usize);
        let px = |row: usize, col: usize| {
            let i = (row * src_w + col) * 3;
            (f32::from(rgb[i]), f32::from(rgb[i + 1]), f32::from(rgb[i + 2]))
        };
        for row in 0..h {
            for col in 0..w {
                let (r, g, b) = px(row, col);
                y[row * w + col] =
                    (16.0 + 0.257 * r + 0.504 * g + 0.098 * b).round().clamp(0.0, 255.0) as u8;
            }
        }
        for row in 0..h / 2 {
            for col in 0..w / 2 {
                let (mut r, mut g, mut b) = (0.0, 0.0, 0.0);
                for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let (pr, pg, pb) = px(row * 2 + dy, col * 2 + dx);
                    (r, g, b) = (r + pr / 4.0, g + pg / 4.0, b + pb / 4.0);
                }
                let c = row * (w / 2) + col;
                u[c] = (128.0 - 0.148 * r - 0.291 * g + 0.439 * b).round().clamp(0.0, 255.0) as u8;
                v[c] = (128.0 + 0.439 * r - 0.368 * g - 0.071 * b).round().clamp(0.0, 255.0) as u8;
            }
        }
        Ok(out)
    }

    /// The picture as RGBA (BT.601, limited range), for showing it.
    pub fn to_rgba(&self) -> Vec<u8> {
        let (w, h) = (self.width as usize, self.height as usize);
        let (y, u, v) = self.planes();
        let mut out = Vec::with_capacity(w * h * 4);
        for row in 0..h {
            for col in 0..w {
                let c = (row / 2) * (w / 2) + col / 2;
                let (yy, cb, cr) = (
                    f32::from(y[row * w + col]) - 16.0,
                    f32::from(u[c]) - 128.0,
                    f32::from(v[c]) - 128.0,
                );
                let r = 1.164 * yy + 1.596 * cr;
                let g = 1.164 * yy - 0.392 * cb - 0.813 * cr;
                let b = 1.164 * yy + 2.017 * cb;
                out.extend([r, g, b].map(|x| x.clamp(0.0, 255.0) as u8));
                out.push(255);
            }
        }
        out
    }
}

fn shrink_plane(src: &[u8], src_w: usize, dst: &mut [u8], w: usize, h: usize, f: usize) {
    for row in 0..h {
        for col in 0..w {
            let mut sum = 0u32;
            for dy in 0..f {
                let start = (row * f + dy) * src_w + col * f;
                sum += src[start..start + f].iter().map(|&b| u32::from(b)).sum::<u32>();
            }
            dst[row * w + col] = (sum / (f * f) as u32) as u8;
        }
    }
}

/// One encoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The VP8 frame.
    pub data: Vec<u8>,
    /// A keyframe (decodable alone).
    pub key: bool,
}

/// How an encoder is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncoderConfig {
    /// Picture width (even).
    pub width: u32,
    /// Picture height (even).
    pub height: u32,
    /// Frames per second the pictures come at.
    pub fps: u32,
    /// Target bit rate in kbit/s.
    pub kbps: u32,
}

/// A VP8 encoder for real time: no look-ahead, constant bit rate, error
/// resilient (a lost frame spoils only what refers to it), a keyframe at
/// least every three seconds.
pub struct Encoder {
    ctx: Box<vpx::vpx_codec_ctx_t>,
    cfg: Box<vpx::vpx_codec_enc_cfg_t>,
    config: EncoderConfig,
    pts: i64,
}

// SAFETY: the context is used only through `&mut self`; libvpx contexts
// are not tied to the thread that made them.
unsafe impl Send for Encoder {}

impl fmt::Debug for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoder").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Encoder {
    /// An encoder for pictures of `config`'s size.
    pub fn new(config: EncoderConfig) -> Result<Self, Error> {
        I420::check_sides(config.width, config.height)?;
        let fps = config.fps.clamp(1, 120);
        // SAFETY: a zeroed configuration is what libvpx's own default
        // function fills in; it only writes through the pointer.
        let mut cfg: Box<vpx::vpx_codec_enc_cfg_t> =
            Box::new(unsafe { MaybeUninit::zeroed().assume_init() });
        // SAFETY: the VP8 interface is a static of libvpx; `cfg` is valid.
        check("VP8 encoder defaults", unsafe {
            vpx::vpx_codec_enc_config_default(vpx::vpx_codec_vp8_cx(), &mut *cfg, 0)
        })?;
        cfg.g_w = config.width;
        cfg.g_h = config.height;
        cfg.g_timebase = vpx::vpx_rational { num: 1, den: 1000 };
        cfg.g_threads = 1;
        cfg.g_lag_in_frames = 0;
        cfg.g_error_resilient = vpx::VPX_ERROR_RESILIENT_DEFAULT;
        cfg.rc_end_usage = vpx::vpx_rc_mode::VPX_CBR;
        cfg.rc_target_bitrate = config.kbps.max(30);
        cfg.rc_min_quantizer = 4;
        cfg.rc_max_quantizer = 56;
        cfg.rc_undershoot_pct = 100;
        cfg.rc_overshoot_pct = 15;
        cfg.rc_buf_sz = 1000;
        cfg.rc_buf_initial_sz = 500;
        cfg.rc_buf_optimal_sz = 600;
        cfg.rc_dropframe_thresh = 0;
        cfg.kf_mode = vpx::vpx_kf_mode::VPX_KF_AUTO;
        cfg.kf_max_dist = fps * 3;
        // SAFETY: zeroed is the state libvpx expects before init.
        let mut ctx: Box<vpx::vpx_codec_ctx_t> =
            Box::new(unsafe { MaybeUninit::zeroed().assume_init() });
        // SAFETY: `ctx` and `cfg` live on the heap for as long as the
        // encoder (libvpx may keep a pointer to `cfg`).
        check("VP8 encoder", unsafe {
            vpx::vpx_codec_enc_init_ver(
                &mut *ctx,
                vpx::vpx_codec_vp8_cx(),
                &*cfg,
                0,
                vpx::VPX_ENCODER_ABI_VERSION as c_int,
            )
        })?;
        let mut enc = Self { ctx, cfg, config: EncoderConfig { fps, ..config }, pts: 0 };
        // Speed over quality, as WebRTC's own VP8 does for real time.
        // SAFETY: a control of the VP8 encoder with an int argument.
        check("VP8 encoder speed", unsafe {
            vpx::vpx_codec_control_(
                &mut *enc.ctx,
                vpx::vp8e_enc_control_id::VP8E_SET_CPUUSED as c_int,
                -6 as c_int,
            )
        })?;
        Ok(enc)
    }

    /// How it is set up.
    pub fn config(&self) -> EncoderConfig {
        self.config
    }

    /// A new target bit rate, from the next frame on.
    pub fn set_kbps(&mut self, kbps: u32) -> Result<(), Error> {
        self.cfg.rc_target_bitrate = kbps.max(30);
        self.config.kbps = self.cfg.rc_target_bitrate;
        // SAFETY: `cfg` is this encoder's, valid and on the heap.
        check("VP8 bit rate", unsafe { vpx::vpx_codec_enc_config_set(&mut *self.ctx, &*self.cfg) })
    }

    /// Encodes one picture (of the configured size), as a keyframe when
    /// `key`. Empty when the encoder dropped the frame.
    pub fn encode(&mut self, picture: &I420, key: bool) -> Result<Vec<Encoded>, Error> {
        if picture.width != self.config.width || picture.height != self.config.height {
            return Err(Error(format!(
                "a {}×{} picture for a {}×{} encoder",
                picture.width, picture.height, self.config.width, self.config.height
            )));
        }
        // SAFETY: zeroed, then filled in by `vpx_img_wrap`.
        let mut img: vpx::vpx_image_t = unsafe { MaybeUninit::zeroed().assume_init() };
        // SAFETY: the planes are packed (alignment 1) in `picture.data`,
        // whose length `from_planes`/`black` checked; libvpx only reads
        // the picture during `vpx_codec_encode` below.
        let wrapped = unsafe {
            vpx::vpx_img_wrap(
                &mut img,
                vpx::vpx_img_fmt::VPX_IMG_FMT_I420,
                picture.width,
                picture.height,
                1,
                picture.data.as_ptr().cast_mut(),
            )
        };
        if wrapped.is_null() {
            return Err(Error("libvpx did not take the picture".into()));
        }
        let duration = c_ulong::from(1000 / self.config.fps);
        let flags = if key { vpx::VPX_EFLAG_FORCE_KF as vpx::vpx_enc_frame_flags_t } else { 0 };
        // SAFETY: `img` points into `picture`, alive for this call.
        check("VP8 encoding", unsafe {
            vpx::vpx_codec_encode(
                &mut *self.ctx,
                &img,
                self.pts,
                duration,
                flags,
                c_ulong::from(vpx::VPX_DL_REALTIME),
            )
        })?;
        self.pts += duration as i64;
        let mut out = Vec::new();
        let mut iter: vpx::vpx_codec_iter_t = std::ptr::null();
        loop {
            // SAFETY: iterating this encoder's output; each packet is
            // valid until the next call into the encoder.
            let pkt = unsafe { vpx::vpx_codec_get_cx_data(&mut *self.ctx, &mut iter) };
            if pkt.is_null() {
                break;
            }
            // SAFETY: non-null packet from libvpx.
            let pkt = unsafe { &*pkt };
            if pkt.kind != vpx::vpx_codec_cx_pkt_kind::VPX_CODEC_CX_FRAME_PKT {
                continue;
            }
            // SAFETY: a frame packet's data is the `frame` member.
            let frame = unsafe { pkt.data.frame };
            // SAFETY: libvpx's buffer of `sz` bytes, copied at once.
            let data =
                unsafe { std::slice::from_raw_parts(frame.buf.cast::<u8>(), frame.sz as usize) }
                    .to_vec();
            out.push(Encoded { data, key: frame.flags & vpx::VPX_FRAME_IS_KEY != 0 });
        }
        Ok(out)
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`, destroyed once.
        unsafe {
            vpx::vpx_codec_destroy(&mut *self.ctx);
        }
    }
}

/// A VP8 decoder.
pub struct Decoder {
    ctx: Box<vpx::vpx_codec_ctx_t>,
}

// SAFETY: as for the encoder.
unsafe impl Send for Decoder {}

impl fmt::Debug for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder").finish_non_exhaustive()
    }
}

impl Decoder {
    /// A decoder.
    pub fn new() -> Result<Self, Error> {
        // SAFETY: zeroed is the state libvpx expects before init.
        let mut ctx: Box<vpx::vpx_codec_ctx_t> =
            Box::new(unsafe { MaybeUninit::zeroed().assume_init() });
        let cfg = vpx::vpx_codec_dec_cfg_t { threads: 1, w: 0, h: 0 };
        // SAFETY: `ctx` on the heap for the decoder's life; `cfg` is read
        // during the call only.
        check("VP8 decoder", unsafe {
            vpx::vpx_codec_dec_init_ver(
                &mut *ctx,
                vpx::vpx_codec_vp8_dx(),
                &cfg,
                0,
                vpx::VPX_DECODER_ABI_VERSION as c_int,
            )
        })?;
        Ok(Self { ctx })
    }

    /// Decodes one frame; the picture it shows, if any. A damaged frame
    /// or one whose reference was lost is an error, and the decoder goes
    /// on with the next.
    pub fn decode(&mut self, frame: &[u8]) -> Result<Option<I420>, Error> {
        if frame.is_empty() {
            return Ok(None);
        }
        // A keyframe names its size (RFC 6386 §9.1): one larger than kovan
        // shows is refused before libvpx allocates for it.
        if frame.len() >= 10 && frame[0] & 1 == 0 && frame[3..6] == [0x9d, 0x01, 0x2a] {
            let side = |lo: u8, hi: u8| u32::from(u16::from_le_bytes([lo, hi]) & 0x3fff);
            let (w, h) = (side(frame[6], frame[7]), side(frame[8], frame[9]));
            if w > MAX_SIDE || h > MAX_SIDE {
                return Err(Error(format!("a {w}×{h} picture is larger than kovan shows")));
            }
        }
        let len = c_uint::try_from(frame.len()).map_err(|_| Error("a frame too large".into()))?;
        // SAFETY: libvpx reads `len` bytes of `frame` during the call.
        check("VP8 decoding", unsafe {
            vpx::vpx_codec_decode(&mut *self.ctx, frame.as_ptr(), len, std::ptr::null_mut(), 0)
        })?;
        let mut iter: vpx::vpx_codec_iter_t = std::ptr::null();
        let mut last = None;
        loop {
            // SAFETY: iterating this decoder's pictures; each is valid
            // until the next call into the decoder.
            let img = unsafe { vpx::vpx_codec_get_frame(&mut *self.ctx, &mut iter) };
            if img.is_null() {
                break;
            }
            // SAFETY: non-null picture from libvpx.
            last = Some(copy_out(unsafe { &*img })?);
        }
        Ok(last)
    }
}

/// Copies a decoded I420 picture out of libvpx's buffers.
fn copy_out(img: &vpx::vpx_image_t) -> Result<I420, Error> {
    if img.fmt != vpx::vpx_img_fmt::VPX_IMG_FMT_I420 {
        return Err(Error(format!("a decoded picture in {:?}", img.fmt)));
    }
    // Odd sides (a peer's encoder may send them) lose their last column or row.
    let (w, h) = (img.d_w & !1, img.d_h & !1);
    let mut out = I420::black(w, h)?;
    let (dy, du, dv) = out.planes_mut();
    for (plane, dst, pw, ph) in [(0, dy, w, h), (1, du, w / 2, h / 2), (2, dv, w / 2, h / 2)] {
        let stride =
            usize::try_from(img.stride[plane]).map_err(|_| Error("a negative stride".into()))?;
        let (pw, ph) = (pw as usize, ph as usize);
        if stride < pw || img.planes[plane].is_null() {
            return Err(Error("a decoded picture without its planes".into()));
        }
        for row in 0..ph {
            // SAFETY: libvpx's plane holds at least `ph` rows of `stride`
            // bytes, each with `pw` ≤ `stride` pixels.
            let src =
                unsafe { std::slice::from_raw_parts(img.planes[plane].add(row * stride), pw) };
            dst[row * pw..(row + 1) * pw].copy_from_slice(src);
        }
    }
    Ok(out)
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`, destroyed once.
        unsafe {
            vpx::vpx_codec_destroy(&mut *self.ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A picture with a bright square at `x`.
    fn square(x: u32) -> I420 {
        let mut p = I420::black(320, 240).unwrap();
        let (y, _, _) = p.planes_mut();
        for row in 80..160 {
            for col in x..x + 80 {
                y[(row * 320 + col) as usize] = 235;
            }
        }
        p
    }

    #[test]
    fn pictures_come_back_close_to_what_went_in() {
        let mut enc =
            Encoder::new(EncoderConfig { width: 320, height: 240, fps: 30, kbps: 600 }).unwrap();
        let mut dec = Decoder::new().unwrap();
        let mut keys = 0;
        for i in 0..30 {
            let picture = square(10 + i * 5);
            for frame in enc.encode(&picture, i == 0).unwrap() {
                keys += usize::from(frame.key);
                let out = dec.decode(&frame.data).unwrap().expect("a picture");
                assert_eq!((out.width(), out.height()), (320, 240));
                let (a, b) = (out.planes().0, picture.planes().0);
                let diff: u64 = a.iter().zip(b).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
                assert!(
                    diff / (320 * 240) < 6,
                    "frame {i} differs by {} on average",
                    diff / (320 * 240)
                );
            }
        }
        assert_eq!(keys, 1, "only the first frame is a keyframe");
    }

    #[test]
    fn damage_and_wrong_sizes_are_errors_not_crashes() {
        let mut dec = Decoder::new().unwrap();
        assert!(dec.decode(&[0x9d, 0x01, 0x2a, 0xff, 0xff, 0xff]).is_err());
        let junk: Vec<u8> = (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let _ = dec.decode(&junk);
        let mut enc =
            Encoder::new(EncoderConfig { width: 320, height: 240, fps: 30, kbps: 300 }).unwrap();
        assert!(enc.encode(&I420::black(160, 120).unwrap(), false).is_err());
        // A keyframe that claims 16,000 × 16,000 is refused before decoding.
        let mut key = enc.encode(&I420::black(320, 240).unwrap(), true).unwrap().remove(0).data;
        assert!(dec.decode(&key).unwrap().is_some());
        key[6..10].copy_from_slice(&[0x80, 0x3e, 0x80, 0x3e]);
        assert!(dec.decode(&key).unwrap_err().0.contains("larger than kovan shows"));
        assert!(I420::from_planes(4, 4, vec![0; 10]).is_err());
        assert!(I420::black(5, 4).is_err());
    }

    #[test]
    fn a_lower_bit_rate_makes_smaller_frames() {
        let mut sizes = Vec::new();
        for kbps in [1500, 150] {
            let mut enc =
                Encoder::new(EncoderConfig { width: 320, height: 240, fps: 30, kbps }).unwrap();
            let mut total = 0;
            for i in 0..60 {
                let mut p = square(i * 3);
                // Noise the encoder cannot predict.
                let (y, _, _) = p.planes_mut();
                for (j, b) in y.iter_mut().enumerate() {
                    *b = b.wrapping_add(
                        (((j as u32).wrapping_mul(2_654_435_761) ^ i.wrapping_mul(40_503)) >> 26)
                            as u8,
                    );
                }
                total += enc.encode(&p, false).unwrap().iter().map(|f| f.data.len()).sum::<usize>();
            }
            sizes.push(total);
        }
        assert!(
            sizes[1] * 3 < sizes[0],
            "150 kbit/s made {} bytes, 1,500 kbit/s {}",
            sizes[1],
            sizes[0]
        );
    }

    #[test]
    fn shrinking_averages_blocks() {
        let p = square(0);
        let half = p.shrunk(2).unwrap();
        assert_eq!((half.width(), half.height()), (160, 120));
        let y = half.planes().0;
        assert_eq!(y[50 * 160 + 20], 235);
        assert_eq!(y[10 * 160 + 100], 16);
        // RGB in and out again: the same colours, near enough.
        let rgb: Vec<u8> = [255u8, 200, 0].repeat(6 * 4);
        let back = I420::from_rgb(6, 4, &rgb).unwrap().to_rgba();
        assert!(
            back.chunks(4).all(|p| p[0].abs_diff(255) < 4 && p[1].abs_diff(200) < 4 && p[2] < 4),
            "{back:?}"
        );
        assert!(I420::from_rgb(6, 4, &rgb[1..]).is_err());
        let rgba = half.to_rgba();
        assert_eq!(rgba.len(), 160 * 120 * 4);
        assert!(rgba[(50 * 160 + 20) * 4] > 250 && rgba[(10 * 160 + 100) * 4] < 5);
    }
}
