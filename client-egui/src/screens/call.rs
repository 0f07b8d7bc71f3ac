//! The call window: over whatever screen is open while a call rings, is
//! being made or runs — who, where it is, how long, the other side's video
//! and your own, meters for both sides, mute, camera, volume, hang up;
//! accept or decline while it rings — and a short notice of how it ended.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use eframe::egui;
use kovan_node::call::{Camera, LatestPicture};
use kovan_node::{CallState, CallView};

use crate::app::Ctx;
use crate::backend::{CallCmd, Cmd};

/// How often a running call is read again (meters, length).
const READ_EVERY: Duration = Duration::from_millis(250);
/// How long the notice of an ended call stays.
const ENDED_FOR: Duration = Duration::from_secs(5);
/// How often the window looks for a new picture while video shows.
const FRAME_EVERY: Duration = Duration::from_millis(33);
/// The other side's video tile is this wide, your own this.
const THEIRS_WIDE: f32 = 320.0;
const OWN_WIDE: f32 = 120.0;
/// A shared screen's tile is this wide.
const SCREEN_WIDE: f32 = 480.0;

/// One video tile: the latest picture as a texture.
#[derive(Default)]
struct Tile {
    /// The number of the picture shown.
    number: Option<u64>,
    texture: Option<egui::TextureHandle>,
    /// When a picture last came.
    at: Option<Instant>,
}

impl Tile {
    /// Takes a newer picture from `from`, if one came without waiting;
    /// whether the tile has a picture from the last second to show.
    fn update(&mut self, ctx: &egui::Context, name: &str, from: &LatestPicture) -> bool {
        if let Some((n, p)) = from.try_newer_than(self.number) {
            let size = [p.width() as usize, p.height() as usize];
            let image = egui::ColorImage::from_rgba_unmultiplied(size, &p.to_rgba());
            match &mut self.texture {
                Some(t) => t.set(image, egui::TextureOptions::LINEAR),
                None => {
                    self.texture =
                        Some(ctx.load_texture(name, image, egui::TextureOptions::LINEAR));
                }
            }
            self.number = Some(n);
            self.at = Some(Instant::now());
        }
        self.at.is_some_and(|t| t.elapsed() < Duration::from_secs(1))
    }

    /// The picture, `wide` points wide, named `label` for screen readers.
    fn show(&self, ui: &mut egui::Ui, wide: f32, label: String) {
        if let Some(t) = &self.texture {
            let size = t.size_vec2();
            let image = egui::Image::new((t.id(), size * (wide / size.x.max(1.0))));
            ui.add(image.alt_text(label));
        }
    }
}

/// Where a call's pictures are, and their tiles.
struct Video {
    seen: LatestPicture,
    camera: Camera,
    seen_screen: LatestPicture,
    theirs: Tile,
    own: Tile,
    screen: Tile,
}

/// The call window's state.
#[derive(Default)]
pub struct CallWindow {
    now: Option<CallView>,
    ended: Option<(CallView, Instant)>,
    last_read: Option<Instant>,
    /// Sounds while an incoming call rings.
    ringer: Option<crate::call_audio::Ringer>,
    /// The call's pictures, once it was started or answered here.
    video: Option<Video>,
}

impl CallWindow {
    /// The call as the node has it now.
    pub fn set(&mut self, call: Option<CallView>) {
        self.now = call;
        self.follow_ringing();
    }

    /// kovan locks: the node ends the call; nothing rings or shows.
    pub fn lock(&mut self) {
        self.now = None;
        self.ended = None;
        self.video = None;
        self.follow_ringing();
    }

    /// A call started or answered here: where its pictures are.
    pub fn video(&mut self, seen: LatestPicture, camera: Camera, seen_screen: LatestPicture) {
        let (theirs, own, screen) = Default::default();
        self.video = Some(Video { seen, camera, seen_screen, theirs, own, screen });
    }

    /// Rings while an incoming call rings, and only then.
    fn follow_ringing(&mut self) {
        let ringing = self.now.as_ref().is_some_and(|c| c.state == CallState::Ringing);
        match (ringing, self.ringer.is_some()) {
            (true, false) => self.ringer = Some(crate::call_audio::Ringer::start()),
            (false, true) => self.ringer = None,
            _ => {}
        }
    }

    /// A call event: a call rings, connects or ended.
    pub fn event(&mut self, call: CallView) {
        if call.state == CallState::Ended {
            if self.now.as_ref().is_none_or(|c| c.id == call.id) {
                self.now = None;
                self.video = None;
            }
            self.ended = Some((call, Instant::now()));
        } else {
            // Live figures stay until the next read.
            let audio = self.now.as_ref().filter(|c| c.id == call.id).and_then(|c| c.audio.clone());
            self.now = Some(CallView { audio: call.audio.clone().or(audio), ..call });
        }
        self.follow_ringing();
    }

    /// A call is ringing, being made or running.
    pub fn active(&self) -> bool {
        self.now.is_some()
    }

    /// Draws the window (nothing when there is no call).
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx) {
        if let Some((call, at)) = &self.ended {
            if at.elapsed() > ENDED_FOR || self.now.is_some() {
                self.ended = None;
            } else {
                let text = ended_text(call);
                egui::Window::new(tr!("call-title"))
                    .id(egui::Id::new("call-ended"))
                    .collapsible(false)
                    .resizable(false)
                    .anchor(egui::Align2::RIGHT_TOP, [-12.0, 40.0])
                    .show(ui.ctx(), |ui| ui.label(text));
                ui.ctx().request_repaint_after(Duration::from_millis(500));
            }
        }
        let Some(call) = self.now.clone() else { return };
        if self.last_read.is_none_or(|t| t.elapsed() >= READ_EVERY) {
            self.last_read = Some(Instant::now());
            ctx.send(Cmd::Call(CallCmd::Read));
        }
        ui.ctx().request_repaint_after(READ_EVERY);
        let now = ctx.now_ms();
        egui::Window::new(tr!("call-title"))
            .id(egui::Id::new("call"))
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::RIGHT_TOP, [-12.0, 40.0])
            .show(ui.ctx(), |ui| {
                let name = call.peer_name.as_str();
                ui.heading(match call.state {
                    CallState::Ringing => tr!("call-ringing", name = name),
                    CallState::Calling => tr!("call-calling", name = name),
                    CallState::Connecting => tr!("call-connecting", name = name),
                    _ => tr!("call-with", name = name),
                });
                if let Some(at) = call.answered_at {
                    ui.label(duration((now - at).max(0) / 1000));
                }
                if call.state == CallState::Ringing {
                    ui.horizontal(|ui| {
                        if ui.button(tr!("call-accept")).clicked() {
                            ctx.send(Cmd::Call(CallCmd::Answer));
                        }
                        if ui.button(tr!("call-decline")).clicked() {
                            ctx.send(Cmd::Call(CallCmd::Reject));
                        }
                    });
                    return;
                }
                let camera_on = call.video.as_ref().is_some_and(|v| v.on);
                let sharing = call.screen.as_ref().is_some_and(|v| v.on);
                if let Some(v) = &mut self.video {
                    let ctx = ui.ctx().clone();
                    let screen = v.screen.update(&ctx, "call-screen", &v.seen_screen);
                    let theirs = v.theirs.update(&ctx, "call-theirs", &v.seen);
                    let own = camera_on && v.own.update(&ctx, "call-own", v.camera.own());
                    if screen {
                        v.screen.show(ui, SCREEN_WIDE, tr!("call-screen-theirs", name = name));
                    }
                    if theirs {
                        v.theirs.show(ui, THEIRS_WIDE, tr!("call-video-theirs", name = name));
                    }
                    if own {
                        v.own.show(ui, OWN_WIDE, tr!("call-video-own"));
                    }
                    if sharing {
                        ui.label(tr!("call-sharing"));
                    }
                    if theirs || screen || camera_on {
                        ui.ctx().request_repaint_after(FRAME_EVERY);
                    }
                }
                let audio = call.audio.clone().unwrap_or_default();
                meter(ui, &tr!("call-level-you"), audio.level_out);
                meter(ui, &tr!("call-level-them", name = name), audio.level_in);
                let mut volume = f32::from_bits(crate::call_audio::VOLUME.load(Ordering::Relaxed));
                let slider = egui::Slider::new(&mut volume, 0.0..=2.0).text(tr!("call-volume"));
                if ui.add(slider).changed() {
                    crate::call_audio::VOLUME.store(volume.to_bits(), Ordering::Relaxed);
                }
                ui.horizontal(|ui| {
                    let mute = if audio.muted { tr!("call-unmute") } else { tr!("call-mute") };
                    if ui.button(mute).clicked() {
                        ctx.send(Cmd::Call(CallCmd::Mute(!audio.muted)));
                    }
                    let camera =
                        if camera_on { tr!("call-camera-off") } else { tr!("call-camera-on") };
                    if ui.button(camera).clicked() {
                        ctx.send(Cmd::Call(CallCmd::Camera(!camera_on)));
                    }
                    let share =
                        if sharing { tr!("call-share-stop") } else { tr!("call-share-screen") };
                    if ui.button(share).clicked() {
                        ctx.send(Cmd::Call(CallCmd::Screen(!sharing)));
                    }
                    if ui.button(tr!("call-hang-up")).clicked() {
                        ctx.send(Cmd::Call(CallCmd::Hangup));
                    }
                });
            });
    }
}

/// A level meter (RMS, 0..=1000; speech sits well under half scale).
fn meter(ui: &mut egui::Ui, label: &str, level: u32) {
    ui.horizontal(|ui| {
        ui.label(label);
        let fill = (level as f32 / 500.0).min(1.0);
        ui.add(egui::ProgressBar::new(fill).desired_width(120.0));
    });
}

/// "m:ss" (or "h:mm:ss").
fn duration(secs: i64) -> String {
    match secs {
        s if s >= 3600 => format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60),
        s => format!("{}:{:02}", s / 60, s % 60),
    }
}

/// A call's record in its chat, in words: "📞 Outgoing call · 1:05",
/// "📞 Missed call"…
pub fn record_text(m: &kovan_node::node::MessageView) -> String {
    let Some(c) = &m.call else { return tr!("call-record-ended") };
    if let Some(ms) = c.duration_ms {
        let t = duration(ms / 1000);
        return if m.outgoing {
            tr!("call-record-outgoing", time = t)
        } else {
            tr!("call-record-incoming", time = t)
        };
    }
    match (c.reason.as_str(), m.outgoing) {
        ("declined", true) => tr!("call-record-declined-by-them"),
        ("declined", false) => tr!("call-record-declined-by-you"),
        ("failed", _) => tr!("call-record-failed"),
        (_, false) => tr!("call-record-missed"),
        ("busy", true) => tr!("call-record-busy"),
        ("no_answer", true) => tr!("call-record-no-answer"),
        _ => tr!("call-record-cancelled"),
    }
}

/// How a call ended, in words.
fn ended_text(call: &CallView) -> String {
    let name = call.peer_name.as_str();
    let talked = call.answered_at.zip(call.ended_at).map(|(a, e)| duration((e - a).max(0) / 1000));
    match (call.reason.as_deref().unwrap_or(""), talked) {
        (_, Some(t)) => tr!("call-ended-after", name = name, time = t),
        ("declined", _) if !call.outgoing => tr!("call-ended-you-declined", name = name),
        ("declined", _) => tr!("call-ended-declined", name = name),
        ("busy", _) => tr!("call-ended-busy", name = name),
        ("missed", _) => tr!("call-ended-missed", name = name),
        ("no_answer", _) => tr!("call-ended-no-answer", name = name),
        ("failed", _) => tr!("call-ended-failed", name = name),
        _ => tr!("call-ended", name = name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_read_as_a_clock() {
        assert_eq!(duration(0), "0:00");
        assert_eq!(duration(65), "1:05");
        assert_eq!(duration(3_725), "1:02:05");
    }
}
