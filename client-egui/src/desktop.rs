//! What kovan asks of the desktop besides notifications: open a file with
//! its application, show it in its folder (`opener`), and the system's
//! file dialogs (`rfd`: the XDG desktop portal on Linux) to pick a file to
//! send or a place to save a copy. Every one runs on a thread of its own:
//! a dialog waits for the user, and the window must not. Tests record
//! what would have been opened or copied and answer the dialogs themselves.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

/// What a picked file is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// To attach in this conversation.
    Attach(String),
    /// To become this account's avatar.
    Avatar,
    /// To go with a community post being written.
    PostFile,
    /// To be sealed with a locked message in this conversation.
    Locked(String),
}

/// What the user did with the desktop (recorded in tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    /// Open this file.
    Open(PathBuf),
    /// Show this file in its folder.
    Reveal(PathBuf),
    /// Put this text on the clipboard.
    Copy(String),
}

/// What a dialog's thread sends back.
#[derive(Debug)]
enum Answer {
    /// A file picked (or none: cancelled) for this purpose.
    Picked(Pick, Option<PathBuf>),
    /// The save dialog closed; the copy failed for this reason, if it did.
    Saved(Option<String>),
}

/// The desktop, or a recording of what was asked of it.
#[derive(Debug)]
pub struct Desktop {
    recording: Option<Recording>,
    tx: mpsc::SyncSender<Answer>,
    rx: mpsc::Receiver<Answer>,
    /// Files picked, not yet taken.
    picked: Vec<(Pick, PathBuf)>,
    /// Copies that could not be saved, in words.
    failures: Vec<String>,
    /// A dialog is up (another is not opened over it).
    dialog_up: bool,
}

/// In tests: what was asked, and the files the dialogs "pick".
#[derive(Debug, Default)]
struct Recording {
    asked: Vec<Asked>,
    picks: Vec<PathBuf>,
}

impl Default for Desktop {
    fn default() -> Self {
        let (tx, rx) = mpsc::sync_channel(4);
        Self { recording: None, tx, rx, picked: Vec::new(), failures: Vec::new(), dialog_up: false }
    }
}

impl Desktop {
    /// Records instead of asking the desktop (tests).
    pub fn record(&mut self) {
        self.recording = Some(Recording::default());
    }

    /// What was asked (recording only).
    pub fn asked(&self) -> &[Asked] {
        self.recording.as_ref().map_or(&[], |r| &r.asked)
    }

    /// The next file dialog answers with `path` (recording only).
    pub fn answer_next_dialog(&mut self, path: PathBuf) {
        if let Some(r) = &mut self.recording {
            r.picks.push(path);
        }
    }

    /// Opens `path` with the application the desktop has for it.
    pub fn open(&mut self, path: &Path) -> Result<(), String> {
        if let Some(r) = &mut self.recording {
            r.asked.push(Asked::Open(path.to_owned()));
            return Ok(());
        }
        opener::open(path).map_err(|e| e.to_string())
    }

    /// Shows `path` selected in the file manager (its folder opened, where
    /// the file manager cannot select).
    pub fn reveal(&mut self, path: &Path) -> Result<(), String> {
        if let Some(r) = &mut self.recording {
            r.asked.push(Asked::Reveal(path.to_owned()));
            return Ok(());
        }
        opener::reveal(path).map_err(|e| e.to_string())
    }

    /// Puts `text` on the clipboard (through egui, which owns it).
    pub fn copy(&mut self, ui: &eframe::egui::Ui, text: String) {
        if let Some(r) = &mut self.recording {
            r.asked.push(Asked::Copy(text.clone()));
        }
        ui.ctx().copy_text(text);
    }

    /// Opens the system's file dialog to pick a file for `why`; the file
    /// comes from [`Desktop::picked`].
    pub fn pick_file(&mut self, why: Pick) {
        if let Some(r) = &mut self.recording {
            if !r.picks.is_empty() {
                let path = r.picks.remove(0);
                self.picked.push((why, path));
            }
            return;
        }
        if self.dialog_up {
            return;
        }
        let tx = self.tx.clone();
        self.dialog_up = std::thread::Builder::new()
            .name("file-dialog".into())
            .spawn(move || {
                let path = rfd::FileDialog::new().pick_file();
                let _ = tx.send(Answer::Picked(why, path));
            })
            .is_ok();
    }

    /// Opens the system's save dialog for a copy of `from` named `name`;
    /// the copy is written on the dialog's thread (a failure comes from
    /// [`Desktop::failures`]).
    pub fn save_copy(&mut self, from: PathBuf, name: String) {
        if self.recording.is_some() || self.dialog_up {
            return;
        }
        let tx = self.tx.clone();
        self.dialog_up = std::thread::Builder::new()
            .name("save-dialog".into())
            .spawn(move || {
                let to = rfd::FileDialog::new().set_file_name(&name).save_file();
                let failed = to.and_then(|to| {
                    std::fs::copy(&from, &to).err().map(|e| format!("{}: {e}", to.display()))
                });
                let _ = tx.send(Answer::Saved(failed));
            })
            .is_ok();
    }

    fn drain(&mut self) {
        while let Ok(a) = self.rx.try_recv() {
            self.dialog_up = false;
            match a {
                Answer::Picked(why, Some(path)) => self.picked.push((why, path)),
                Answer::Picked(_, None) | Answer::Saved(None) => {}
                Answer::Saved(Some(e)) => self.failures.push(e),
            }
        }
    }

    /// A file picked for `why`, once its dialog answered.
    pub fn picked(&mut self, why: &Pick) -> Option<PathBuf> {
        self.drain();
        let at = self.picked.iter().position(|(w, _)| w == why)?;
        Some(self.picked.remove(at).1)
    }

    /// Copies that could not be saved since last asked, in words.
    pub fn failures(&mut self) -> Vec<String> {
        self.drain();
        std::mem::take(&mut self.failures)
    }
}
