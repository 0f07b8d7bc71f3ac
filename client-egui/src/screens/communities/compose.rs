//! Writing a post: a title, the text, an optional link, files, and a
//! Preview that shows the post as readers will see it before it goes. A
//! post can quote another post or comment ("Quote in a new post" on a
//! thread).

use std::path::PathBuf;

use eframe::egui;
use kovan_node::{AttachmentView, CommunityItemView, MAX_COMMUNITY_FILE, PostDraft};
use kovan_spec::limits::{
    MAX_COMMUNITY_ATTACHMENTS, MAX_COMMUNITY_LINK, MAX_COMMUNITY_POST, MAX_COMMUNITY_TITLE,
};

use super::item;
use crate::desktop::{Desktop, Pick};
use crate::widgets::{field, human_size, short};

/// The composer's state (one per community page).
#[derive(Debug, Default)]
pub(super) struct Composer {
    /// Shown (else only its "New post" button).
    pub(super) open: bool,
    title: String,
    text: String,
    link: String,
    preview: bool,
    /// The post or comment quoted.
    quote: Option<CommunityItemView>,
    /// Files to attach, with their sizes when they were picked.
    files: Vec<(PathBuf, u64)>,
    /// Posted, waiting for the relay.
    sending: bool,
}

/// A multi-line field after its label (also its accessible name).
pub(super) fn multiline(ui: &mut egui::Ui, label: &str, value: &mut String, rows: usize) {
    let l = ui.label(label);
    ui.add(egui::TextEdit::multiline(value).desired_rows(rows).desired_width(f32::INFINITY))
        .labelled_by(l.id);
}

/// Why the draft cannot go yet, if it cannot.
fn problem(title: &str, text: &str, link: &str, files: &[(PathBuf, u64)]) -> Option<String> {
    if title.trim().is_empty() {
        return Some(tr!("communities-need-title"));
    }
    if title.len() > MAX_COMMUNITY_TITLE {
        return Some(tr!("communities-title-too-long", n = MAX_COMMUNITY_TITLE));
    }
    if text.len() > MAX_COMMUNITY_POST {
        return Some(tr!("communities-text-too-long", n = MAX_COMMUNITY_POST));
    }
    let link = link.trim();
    let web = link.starts_with("https://") || link.starts_with("http://");
    if !link.is_empty() && (!web || link.len() > MAX_COMMUNITY_LINK || link.contains(' ')) {
        return Some(tr!("communities-bad-link"));
    }
    if files.iter().any(|(_, size)| *size > MAX_COMMUNITY_FILE) {
        return Some(tr!("communities-file-too-big", size = human_size(MAX_COMMUNITY_FILE)));
    }
    None
}

/// A file's name as a post shows it.
fn file_name(path: &std::path::Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

impl Composer {
    /// Opens the composer quoting `item`.
    pub(super) fn quote(&mut self, item: CommunityItemView) {
        self.quote = Some(item);
        self.open = true;
    }

    /// A post went: if it was this one, the composer empties and closes.
    pub(super) fn posted(&mut self) {
        if self.sending {
            *self = Self::default();
        }
    }

    /// Posting failed (the error is in the bar): what was typed stays.
    pub(super) fn failed(&mut self) {
        self.sending = false;
    }

    /// Draws the composer; returns the post to send once "Post" is clicked.
    pub(super) fn show(
        &mut self,
        ui: &mut egui::Ui,
        desktop: &mut Desktop,
        me: &str,
        now_ms: i64,
    ) -> Option<PostDraft> {
        if let Some(path) = desktop.picked(&Pick::PostFile) {
            // The size is read once, to warn before posting; the node
            // checks the file again as it uploads it.
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            if self.files.len() < MAX_COMMUNITY_ATTACHMENTS
                && !self.files.iter().any(|f| f.0 == path)
            {
                self.files.push((path, size));
            }
        }
        if !self.open {
            if ui.button(tr!("communities-new-post")).clicked() {
                self.open = true;
            }
            return None;
        }
        let mut draft = None;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.strong(tr!("communities-new-post"));
            if let Some(q) = &self.quote {
                let what = if item::readable(q) {
                    short(if q.title.is_empty() { &q.text } else { &q.title }, 80)
                } else {
                    String::new()
                };
                ui.horizontal_wrapped(|ui| {
                    ui.weak(tr!("communities-quoting", what = what));
                    if ui.small_button(tr!("communities-drop-quote")).clicked() {
                        self.quote = None;
                    }
                });
            }
            ui.horizontal(|ui| {
                field(
                    ui,
                    &tr!("communities-title"),
                    &mut self.title,
                    "",
                    ui.available_width() - 80.0,
                );
            });
            multiline(ui, &tr!("communities-text"), &mut self.text, 4);
            ui.horizontal(|ui| {
                let hint = tr!("communities-link-hint");
                field(
                    ui,
                    &tr!("communities-link"),
                    &mut self.link,
                    &hint,
                    ui.available_width() - 120.0,
                );
            });
            self.files_ui(ui, desktop);
            ui.checkbox(&mut self.preview, tr!("communities-preview"));
            if self.preview {
                let shown = self.as_item(me, now_ms);
                let frame = egui::Frame::new()
                    .fill(ui.visuals().faint_bg_color)
                    .corner_radius(6.0)
                    .inner_margin(8.0);
                frame.show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    item::meta(ui, &shown);
                    item::content(ui, &shown, true);
                });
            }
            let problem = problem(&self.title, &self.text, &self.link, &self.files);
            ui.horizontal(|ui| {
                let ok = problem.is_none() && !self.sending;
                let post = ui.add_enabled(ok, egui::Button::new(tr!("communities-post")));
                if post.clicked() {
                    self.sending = true;
                    draft = Some(PostDraft {
                        title: self.title.trim().to_owned(),
                        text: self.text.clone(),
                        link: self.link.trim().to_owned(),
                        quote_of: self.quote.as_ref().map(|q| q.id.clone()),
                        files: self.files.iter().map(|f| f.0.clone()).collect(),
                        ..PostDraft::default()
                    });
                }
                if ui.button(tr!("communities-cancel")).clicked() {
                    self.open = false;
                    self.preview = false;
                }
            });
            if let Some(p) = problem.filter(|_| !self.title.is_empty() || !self.link.is_empty()) {
                ui.weak(p);
            }
        });
        draft
    }

    /// The files picked (each with a Remove button) and "Attach a file…"
    /// while fewer than the most a post carries.
    fn files_ui(&mut self, ui: &mut egui::Ui, desktop: &mut Desktop) {
        let mut remove = None;
        for (i, (path, size)) in self.files.iter().enumerate() {
            ui.horizontal_wrapped(|ui| {
                ui.label(format!("📎 {} ({})", file_name(path), human_size(*size)));
                if ui.small_button(tr!("communities-remove-file")).clicked() {
                    remove = Some(i);
                }
            });
        }
        if let Some(i) = remove {
            self.files.remove(i);
        }
        if self.files.len() < MAX_COMMUNITY_ATTACHMENTS {
            if ui.button(tr!("communities-attach-file")).clicked() {
                desktop.pick_file(Pick::PostFile);
            }
        } else {
            ui.weak(tr!("communities-files-full", n = MAX_COMMUNITY_ATTACHMENTS));
        }
    }

    /// The draft as a post readers would see.
    fn as_item(&self, me: &str, now_ms: i64) -> CommunityItemView {
        CommunityItemView {
            id: String::new(),
            post: String::new(),
            parent: None,
            depth: 0,
            path: String::new(),
            author: Some(me.to_owned()),
            verified: true,
            problem: None,
            title: self.title.trim().to_owned(),
            text: self.text.clone(),
            link: self.link.trim().to_owned(),
            repost_of: None,
            quote_of: self.quote.as_ref().map(|q| q.id.clone()),
            edited: false,
            gone: None,
            likes: 0,
            liked: false,
            comments: 0,
            created_ms: u64::try_from(now_ms).unwrap_or(0),
            attachments: self
                .files
                .iter()
                .map(|(path, size)| AttachmentView {
                    name: file_name(path),
                    mime: String::new(),
                    size: *size,
                    blob: String::new(),
                    sha256: String::new(),
                })
                .collect(),
            community: None,
        }
    }
}
