//! Screen sharing (SPEC.md §6.9.3) against a real X server: an Xvfb of
//! the test's own, windows of known colours on it, captured by the node's
//! screen source and sent over a call beside the camera.

use std::time::Duration;

use kovan_node::Feed;
use kovan_node::call::video::pattern_number;
use kovan_node::call::{ScreenSource, VideoSource, screen::shareables};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, CreateWindowAux, WindowClass};
use x11rb::rust_connection::RustConnection;

/// An X server of the test's own (Xvfb on a free display number), killed
/// when dropped.
pub(crate) struct Xvfb {
    child: std::process::Child,
    pub(crate) display: String,
}

impl Xvfb {
    pub(crate) fn start(width: u32, height: u32) -> Self {
        // `-noreset`: the server does not restart when its last client
        // leaves (the check below is one), which reset the connections of
        // whoever connected meanwhile.
        // Tests of this binary start servers at the same time: each takes
        // numbers of its own, and one whose server exited (the number was
        // taken after all) tries the next, so that it never talks to
        // another test's server, which goes when that test ends.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        for _ in 0..50 {
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let num = 90 + (std::process::id() % 400) + n;
            if std::path::Path::new(&format!("/tmp/.X11-unix/X{num}")).exists() {
                continue;
            }
            let display = format!(":{num}");
            let screen = format!("{width}x{height}x24");
            let child = std::process::Command::new("Xvfb")
                .args([display.as_str(), "-screen", "0", &screen, "-nolisten", "tcp", "-noreset"])
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("Xvfb (the xvfb package; scripts/bootstrap.sh installs it)");
            let mut x = Self { child, display };
            for _ in 0..100 {
                if !matches!(x.child.try_wait(), Ok(None)) {
                    break;
                }
                if x11rb::connect(Some(&x.display)).is_ok() {
                    return x;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("no display number for Xvfb");
    }

    /// A window at `at` of `size` and colour `rgb` (0xRRGGBB), mapped; the
    /// connection that keeps it, and its id.
    pub(crate) fn window(
        &self,
        at: (i16, i16),
        size: (u16, u16),
        rgb: u32,
    ) -> (RustConnection, u32) {
        let (conn, screen) = x11rb::connect(Some(&self.display)).unwrap();
        let (root, depth) =
            (conn.setup().roots[screen].root, conn.setup().roots[screen].root_depth);
        let id = conn.generate_id().unwrap();
        let aux = CreateWindowAux::default().background_pixel(rgb);
        let class = WindowClass::INPUT_OUTPUT;
        conn.create_window(depth, id, root, at.0, at.1, size.0, size.1, 0, class, 0, &aux).unwrap();
        conn.map_window(id).unwrap();
        conn.flush().unwrap();
        conn.get_input_focus().unwrap().reply().unwrap();
        (conn, id)
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The colour of a picture's pixel.
fn colour_at(p: &kovan_node::call::video::I420, x: u32, y: u32) -> (u8, u8, u8) {
    let rgba = p.to_rgba();
    let i = ((y * p.width() + x) * 4) as usize;
    (rgba[i], rgba[i + 1], rgba[i + 2])
}

fn is_red((r, g, b): (u8, u8, u8)) -> bool {
    r > 190 && g < 70 && b < 70
}

#[test]
fn the_screen_and_one_window_are_captured_as_shown() {
    let x = Xvfb::start(320, 240);
    let (_keep, red) = x.window((20, 20), (100, 60), 0xdd2020);
    let mut screen = ScreenSource::open(Some(&x.display), None).unwrap();
    let p = screen.next().expect("a picture");
    assert_eq!((p.width(), p.height()), (320, 240));
    assert!(is_red(colour_at(&p, 70, 50)), "the red window shows as {:?}", colour_at(&p, 70, 50));
    assert!(colour_at(&p, 250, 200).0 < 40, "the screen around it is black");
    // At most 10 pictures a second, however often it is asked (however
    // long a capture takes on a busy machine).
    let start = std::time::Instant::now();
    let mut pictures = 0;
    while start.elapsed() < Duration::from_secs(1) {
        pictures += usize::from(screen.next().is_some());
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(pictures <= 11, "{pictures} pictures in a second, asked every 5 ms");
    assert!(pictures >= 1, "no picture in a second");

    let mut window = ScreenSource::open(Some(&x.display), Some(red)).unwrap();
    let p = window.next().unwrap();
    assert_eq!((p.width(), p.height()), (100, 60));
    assert!(is_red(colour_at(&p, 50, 30)));
    let gone = ScreenSource::open(Some(&x.display), Some(0x7fff_fff0)).unwrap_err();
    assert!(gone.contains("no window"), "{gone}");
    assert_eq!(shareables(Some(&x.display)).unwrap()[0].id, 0, "the whole screen comes first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_shared_window_shows_as_its_own_picture_beside_the_camera() {
    let x = Xvfb::start(320, 240);
    let (_keep, red) = x.window((40, 40), (160, 120), 0xdd2020);
    let dir = tempfile::tempdir().unwrap();
    let (_relay, alice, bob) = crate::calls::video_call(dir.path(), (320, 240)).await;

    let window = ScreenSource::open(Some(&x.display), Some(red)).unwrap();
    let shared = alice.h.share_screen(Some(Box::new(window))).await.unwrap();
    assert!(shared.screen.is_some_and(|s| s.on) && shared.video.is_some_and(|v| v.on));
    // Bob gets her window as the screen, and her camera still as the camera.
    let mut got = None;
    for _ in 0..200 {
        got = bob.h.call_picture(Feed::Screen, None).await.unwrap();
        if got.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, screen) = got.expect("her shared window");
    assert_eq!((screen.width(), screen.height()), (160, 120));
    assert!(is_red(colour_at(&screen, 80, 60)), "{:?}", colour_at(&screen, 80, 60));
    let (_, camera) = bob.h.call_picture(Feed::Camera, None).await.unwrap().expect("her camera");
    assert!(pattern_number(&camera).is_some(), "the camera's picture is still the pattern");

    let stopped = alice.h.share_screen(None).await.unwrap();
    assert!(!stopped.screen.unwrap().on);
    crate::calls::assert_no_more_pictures(&bob, Feed::Screen).await;
    alice.h.hang_up(None).await.unwrap();
}
