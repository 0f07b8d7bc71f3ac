//! A file's line in a message: size, transfer state, download or cancel;
//! once it is on this device, open it, show it in its folder, or save a
//! copy elsewhere.

use std::path::PathBuf;

use eframe::egui::{self, Color32, RichText};
use kovan_node::node::{FileMeta, FileView};

use super::human_size;

/// What was clicked on a file's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileAction {
    /// Download this file (its id).
    Fetch(String),
    /// Stop this file's transfer (its id).
    Cancel(String),
    /// Open it with its application.
    Open(PathBuf),
    /// Show it in its folder.
    Reveal(PathBuf),
    /// Save a copy where the user picks (its path, its name).
    SaveAs(PathBuf, String),
}

/// A file's size, transfer state and what can be done with it.
pub fn file_line(
    ui: &mut egui::Ui,
    meta: &FileMeta,
    file: Option<&FileView>,
    outgoing: bool,
) -> Option<FileAction> {
    let mut action = None;
    let size = human_size(meta.size);
    ui.horizontal(|ui| {
        let state = file.map_or(if outgoing { "ready" } else { "offered" }, |f| f.state.as_str());
        match state {
            "downloading" | "waiting" => {
                let done = file.map_or(0, |f| f.done) as f32 / meta.size.max(1) as f32;
                ui.add(egui::ProgressBar::new(done).desired_width(120.0).show_percentage());
                let cancel = tr!("widgets-file-cancel", name = meta.name.as_str());
                if ui.small_button(cancel).clicked() {
                    action = Some(FileAction::Cancel(meta.id.clone()));
                }
            }
            "complete" => {
                ui.label(tr!("widgets-file-saved", size = size.as_str()));
            }
            "offered" | "failed" | "cancelled" if !outgoing => {
                if let Some(e) = file.and_then(|f| f.error.as_deref()) {
                    let e = crate::errors::node_text(e);
                    ui.label(RichText::new(e).color(Color32::from_rgb(200, 60, 60)));
                }
                let download = tr!("widgets-file-download", name = meta.name.as_str());
                if ui.small_button(download).clicked() {
                    action = Some(FileAction::Fetch(meta.id.clone()));
                }
                ui.label(size.clone());
            }
            other => {
                ui.label(match other {
                    "ready" => tr!("widgets-file-ready", size = size.as_str()),
                    "cancelled" => tr!("widgets-file-cancelled", size = size.as_str()),
                    "failed" => tr!("widgets-file-failed", size = size.as_str()),
                    _ => format!("{size}, {other}"),
                });
            }
        }
        // Received over the running call's data channel, or a data link
        // (R9).
        match file.map(|f| f.via.as_str()).filter(|_| !outgoing) {
            Some("call") => {
                ui.label(RichText::new(tr!("widgets-file-via-call")).weak());
            }
            Some("link") => {
                ui.label(RichText::new(tr!("widgets-file-via-link")).weak());
            }
            _ => {}
        }
        if let Some(path) = file.and_then(|f| f.path.as_deref()).map(PathBuf::from) {
            action = action.take().or_else(|| opened_file(ui, path, &meta.name));
        }
    });
    action
}

/// Open, Show in folder and Save a copy, for a file on this device.
pub fn opened_file(ui: &mut egui::Ui, path: PathBuf, name: &str) -> Option<FileAction> {
    if ui.small_button(tr!("widgets-file-open")).on_hover_text(name).clicked() {
        return Some(FileAction::Open(path));
    }
    if ui.small_button(tr!("widgets-file-reveal")).on_hover_text(name).clicked() {
        return Some(FileAction::Reveal(path));
    }
    if ui.small_button(tr!("widgets-file-save-as")).on_hover_text(name).clicked() {
        return Some(FileAction::SaveAs(path, name.to_owned()));
    }
    None
}
