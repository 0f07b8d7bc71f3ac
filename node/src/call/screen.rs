//! Screen sharing's source (SPEC.md §6.9.3): the whole screen or one
//! window of an X11 display (X.Org, or XWayland's X11 windows), read with
//! `GetImage` through `x11rb` (no C library) at up to [`SCREEN_FPS`]
//! pictures a second, as RGB by the visual's own layout.

use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::image::{Image, PixelLayout};
use x11rb::protocol::xproto::{AtomEnum, ConnectionExt, Window};
use x11rb::rust_connection::RustConnection;

use super::video::{I420, VideoSource};

/// Pictures a second a shared screen sends at most.
pub const SCREEN_FPS: u32 = 10;

/// The largest side sent; a larger screen is sent at half size.
const MAX_SIDE: u32 = 2048;

/// Something that can be shared: the whole screen (`id` 0) or a window.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Shareable {
    /// 0 for the whole screen, else the X11 window's id.
    pub id: u32,
    /// The window's title ("" for the screen).
    pub name: String,
}

fn connect(display: Option<&str>) -> Result<(RustConnection, usize), String> {
    x11rb::connect(display).map_err(|e| {
        let which = display.map(str::to_owned).or_else(|| std::env::var("DISPLAY").ok());
        match which {
            Some(d) => format!("cannot reach the display {d} to share it: {e}"),
            None => "there is no display to share (DISPLAY is not set)".to_owned(),
        }
    })
}

/// The whole screen, then every window the window manager lists
/// (`_NET_CLIENT_LIST`) with its title.
pub fn shareables(display: Option<&str>) -> Result<Vec<Shareable>, String> {
    let (conn, screen) = connect(display)?;
    let root = conn.setup().roots[screen].root;
    let mut out = vec![Shareable { id: 0, name: String::new() }];
    let atom = |name: &str| -> Option<u32> {
        Some(conn.intern_atom(false, name.as_bytes()).ok()?.reply().ok()?.atom)
    };
    let (Some(list), Some(title), Some(utf8)) =
        (atom("_NET_CLIENT_LIST"), atom("_NET_WM_NAME"), atom("UTF8_STRING"))
    else {
        return Ok(out);
    };
    let windows = conn
        .get_property(false, root, list, AtomEnum::WINDOW, 0, 4096)
        .ok()
        .and_then(|c| c.reply().ok())
        .and_then(|r| r.value32().map(|v| v.collect::<Vec<u32>>()))
        .unwrap_or_default();
    for w in windows {
        let name = conn
            .get_property(false, w, title, utf8, 0, 1024)
            .ok()
            .and_then(|c| c.reply().ok())
            .map(|r| String::from_utf8_lossy(&r.value).into_owned())
            .unwrap_or_default();
        out.push(Shareable { id: w, name });
    }
    Ok(out)
}

/// A screen or window being shared.
pub struct ScreenSource {
    conn: RustConnection,
    window: Window,
    layout: PixelLayout,
    last: Option<Instant>,
}

impl std::fmt::Debug for ScreenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ScreenSource({:#x})", self.window)
    }
}

impl ScreenSource {
    /// Shares window `window` (None or 0: the whole screen) of `display`
    /// (None: `$DISPLAY`).
    pub fn open(display: Option<&str>, window: Option<u32>) -> Result<Self, String> {
        let (conn, screen) = connect(display)?;
        let s = &conn.setup().roots[screen];
        let visual = s
            .allowed_depths
            .iter()
            .flat_map(|d| d.visuals.iter())
            .find(|v| v.visual_id == s.root_visual)
            .copied()
            .ok_or("the display describes no visual for its screen")?;
        let layout = PixelLayout::from_visual_type(visual)
            .map_err(|_| "the display's colours are not true colour".to_owned())?;
        let window = window.filter(|w| *w != 0).unwrap_or(s.root);
        let source = Self { conn, window, layout, last: None };
        source.size().ok_or_else(|| format!("there is no window {window:#x} to share"))?;
        Ok(source)
    }

    fn size(&self) -> Option<(u16, u16)> {
        let g = self.conn.get_geometry(self.window).ok()?.reply().ok()?;
        Some((g.width, g.height))
    }

    /// The window's picture now.
    fn grab(&self) -> Option<I420> {
        let (w, h) = self.size()?;
        let (w, h) = (w & !1, h & !1);
        if w < 2 || h < 2 {
            return None;
        }
        let (image, _) = Image::get(&self.conn, self.window, 0, 0, w, h).ok()?;
        let mut rgb = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
        for y in 0..h {
            for x in 0..w {
                let (r, g, b) = self.layout.decode(image.get_pixel(x, y));
                rgb.extend([(r >> 8) as u8, (g >> 8) as u8, (b >> 8) as u8]);
            }
        }
        let picture = I420::from_rgb(u32::from(w), u32::from(h), &rgb).ok()?;
        if picture.width().max(picture.height()) > MAX_SIDE {
            return picture.shrunk(2).ok();
        }
        Some(picture)
    }
}

impl VideoSource for ScreenSource {
    fn next(&mut self) -> Option<I420> {
        let every = Duration::from_millis(u64::from(1000 / SCREEN_FPS));
        if self.last.is_some_and(|t| t.elapsed() < every) {
            return None;
        }
        self.last = Some(Instant::now());
        self.grab()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_display_that_is_not_there_says_so() {
        let nowhere = ScreenSource::open(Some(":9999"), None).unwrap_err();
        assert!(nowhere.contains("cannot reach the display :9999"), "{nowhere}");
        assert!(shareables(Some(":9999")).is_err());
    }
}
