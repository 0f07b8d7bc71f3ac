//! Voice notes: recording one from the composer (sent when it ends unless
//! discarded), playing one from its bubble. The devices run on their own
//! threads (`crate::audio`); this only polls them once a frame.

use std::time::Duration;

use eframe::egui;
use kovan_node::node::{FileMeta, FileView, VoiceMeta};

use super::bubble::Bubble;
use crate::app::Ctx;
use crate::audio::{Player, Recorder};
use crate::backend::Cmd;
use crate::emoji;
use crate::widgets::waveform;

/// The recording and the playback, if any.
#[derive(Default)]
pub struct Voice {
    /// A voice note being recorded, for this conversation; sent when it
    /// ends unless discarded.
    recording: Option<(String, Recorder, bool)>,
    /// The voice note playing (its file id).
    playing: Option<(String, Player)>,
}

impl Voice {
    /// Picks up a finished recording (to send) and a finished playback.
    pub fn poll(&mut self, egui_ctx: &egui::Context, ctx: &mut Ctx) {
        if let Some((conv, rec, send)) = &self.recording {
            match rec.poll() {
                Some(Ok(samples)) => {
                    let cmd = send.then(|| Cmd::SendVoice { conversation: conv.clone(), samples });
                    self.recording = None;
                    if let Some(cmd) = cmd {
                        ctx.send(cmd);
                    }
                }
                Some(Err(e)) => {
                    ctx.error(tr!("chat-recording-failed", error = e.to_string()));
                    self.recording = None;
                }
                None => egui_ctx.request_repaint_after(Duration::from_millis(50)),
            }
        }
        if let Some((_, player)) = &mut self.playing {
            match player.finished() {
                Some(Err(e)) => {
                    ctx.error(tr!("chat-playing-failed", error = e.to_string()));
                    self.playing = None;
                }
                Some(Ok(())) => self.playing = None,
                None => egui_ctx.request_repaint_after(Duration::from_millis(50)),
            }
        }
    }

    /// Drops the recording (unsent) and stops playing (kovan locks).
    pub fn stop(&mut self) {
        self.recording = None;
        self.playing = None;
    }

    /// The voice note playing: its file id, seconds played and in all.
    pub fn playing(&self) -> Option<(String, (f32, f32))> {
        self.playing.as_ref().map(|(id, p)| (id.clone(), p.seconds()))
    }

    /// Plays this file (its id and path), or stops playing (`None`).
    pub fn play(&mut self, what: Option<(String, std::path::PathBuf)>) {
        self.playing = what.map(|(id, path)| (id, Player::start(path)));
    }

    /// The composer's recorder: a microphone button, or while this chat
    /// is being recorded its time, level, "Stop and send" and "Discard
    /// recording". True while recording here (the row shows only that).
    pub fn controls(&mut self, ui: &mut egui::Ui, cache: &mut emoji::Emoji, conv: &str) -> bool {
        match &self.recording {
            Some((c, rec, _)) if c == conv => {
                let secs = rec.elapsed().as_secs();
                ui.label(tr!("chat-recording", time = format!("{}:{:02}", secs / 60, secs % 60)));
                ui.add(egui::ProgressBar::new(rec.level()).desired_width(60.0));
                if ui.button(tr!("chat-stop-and-send")).clicked() {
                    rec.stop();
                }
                if ui.button(tr!("chat-discard-recording")).clicked()
                    && let Some((_, rec, send)) = &mut self.recording
                {
                    *send = false;
                    rec.stop();
                }
                return true;
            }
            Some(_) => {}
            None => {
                let what = tr!("chat-record-voice-note");
                let mic = emoji::button(ui, cache, "🎤", "", false, &what);
                if mic.on_hover_text(tr!("chat-record-voice-note-hover")).clicked() {
                    self.recording = Some((conv.to_owned(), Recorder::start(), true));
                }
            }
        }
        false
    }
}

/// A voice note in its bubble: play (once saved) or stop, its length, its
/// waveform.
pub fn note(
    ui: &mut egui::Ui,
    meta: &FileMeta,
    v: &VoiceMeta,
    file: Option<&FileView>,
    playing: &Option<(String, (f32, f32))>,
) -> Option<Bubble> {
    let mut action = None;
    ui.horizontal(|ui| match playing {
        Some((id, (at, all))) if *id == meta.id => {
            if ui.button(tr!("chat-stop-playing")).clicked() {
                action = Some(Bubble::StopPlaying);
            }
            let text = tr!("chat-playing", at = format!("{at:.1}"), all = format!("{all:.1}"));
            ui.add(egui::ProgressBar::new(at / all.max(0.001)).desired_width(120.0).text(text));
        }
        _ => {
            let path = file.and_then(|f| f.path.clone());
            if let Some(path) = path
                && ui.button(tr!("chat-play", name = meta.name.as_str())).clicked()
            {
                action = Some(Bubble::Play(meta.id.clone(), path.into()));
            }
            let secs = format!("{:.1}", f64::from(v.duration_ms) / 1000.0);
            ui.label(tr!("chat-voice-length", secs = secs));
        }
    });
    waveform(ui, &v.waveform);
    action
}
