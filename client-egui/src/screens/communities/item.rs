//! One post or comment as the Communities tab draws it: who wrote it and
//! when, then its content — or, instead of any content, why it failed
//! verification, or that it was deleted or removed — and its like
//! button. Lists of posts (a community's, the feed, search hits) are
//! cards drawn here too.

use eframe::egui::{self, Color32, RichText};
use kovan_node::CommunityItemView;

use super::{Go, Page};
use crate::backend::{CommunityCmd, Sort};
use crate::widgets::{civil_day, clock, format_day};

/// The colour of a failed verification (the error bar's red).
pub(super) const FAILED: Color32 = Color32::from_rgb(200, 60, 60);

/// A text longer than this is cut in a list (the thread shows it all).
const PREVIEW_CHARS: usize = 280;

/// What a click on an item asks for.
#[derive(Debug, Clone)]
pub(super) enum Click {
    /// Open the thread this post or comment is in.
    Open(String),
    /// Send this command (a like).
    Send(CommunityCmd),
    /// Open this community (by name).
    Community(String),
}

impl Click {
    /// Follows the click: a page to open goes into `go`; a command to send
    /// is returned.
    pub(super) fn follow(self, go: &mut Option<Go>) -> Option<CommunityCmd> {
        match self {
            Click::Open(id) => *go = Some(Go::To(Page::Thread(id))),
            Click::Community(name) => *go = Some(Go::To(Page::Community(name))),
            Click::Send(cmd) => return Some(cmd),
        }
        None
    }
}

/// Whether what the item says may be shown: it verified and is not gone.
pub(super) fn readable(item: &CommunityItemView) -> bool {
    item.verified && item.gone.is_none()
}

/// "alice · 2026-05-01 14:05 · edited" (the author as the relay names
/// them; the signature behind it was checked, or the item says it failed).
pub(super) fn meta(ui: &mut egui::Ui, item: &CommunityItemView) {
    let author = item.author.clone().unwrap_or_else(|| tr!("communities-unknown-author"));
    let ms = i64::try_from(item.created_ms).unwrap_or(0);
    let mut line = if ms > 0 {
        tr!("communities-meta", author = author, day = format_day(civil_day(ms)), time = clock(ms))
    } else {
        author
    };
    if item.edited && readable(item) {
        line = tr!("communities-meta-edited", meta = line);
    }
    if !item.verified {
        // Nothing vouches for the name: it is only what the relay says.
        line = tr!("communities-meta-claimed", meta = line);
    }
    ui.weak(line);
}

/// What the item says, or why it cannot be shown. An item that failed
/// verification shows only why: nothing of its content, ever.
pub(super) fn content(ui: &mut egui::Ui, item: &CommunityItemView, full: bool) -> Option<Click> {
    if !item.verified {
        let problem = item.problem.clone().unwrap_or_default();
        ui.label(
            RichText::new(tr!("communities-failed-verification", problem = problem))
                .color(FAILED)
                .strong(),
        );
        return None;
    }
    match item.gone.as_deref() {
        Some("removed") => {
            ui.label(RichText::new(tr!("communities-removed")).italics().weak());
            return None;
        }
        Some(_) => {
            ui.label(RichText::new(tr!("communities-deleted")).italics().weak());
            return None;
        }
        None => {}
    }
    let mut click = None;
    if item.depth == 0 && !item.title.is_empty() {
        let title = RichText::new(&item.title).strong().size(16.0);
        if full {
            ui.add(egui::Label::new(title).wrap());
        } else if ui.add(egui::Link::new(title)).clicked() {
            click = Some(Click::Open(item.id.clone()));
        }
    }
    if !item.text.is_empty() {
        let text =
            if full { item.text.clone() } else { crate::widgets::short(&item.text, PREVIEW_CHARS) };
        ui.add(egui::Label::new(text).wrap());
    }
    if !item.link.is_empty() {
        // The signed action allows http(s) links only; anything else is
        // shown, never opened.
        if item.link.starts_with("https://") || item.link.starts_with("http://") {
            ui.hyperlink(&item.link);
        } else {
            ui.weak(&item.link);
        }
    }
    if let Some(original) = &item.repost_of {
        ui.horizontal_wrapped(|ui| {
            ui.weak(tr!("communities-repost"));
            if ui.small_button(tr!("communities-open-original")).clicked() {
                click = Some(Click::Open(original.clone()));
            }
        });
    }
    for (index, a) in item.attachments.iter().enumerate() {
        ui.horizontal_wrapped(|ui| {
            ui.label(format!("📎 {} ({})", a.name, crate::widgets::human_size(a.size)));
            if ui.small_button(tr!("communities-open-file")).clicked() {
                click = Some(Click::Send(CommunityCmd::Fetch { item: item.id.clone(), index }));
            }
        });
    }
    if let Some(quoted) = &item.quote_of {
        ui.horizontal_wrapped(|ui| {
            ui.weak(tr!("communities-quotes"));
            if ui.small_button(tr!("communities-open-quoted")).clicked() {
                click = Some(Click::Open(quoted.clone()));
            }
        });
    }
    click
}

/// "Like (2)", or "Liked (3)" shown selected (a click takes it back).
pub(super) fn like(ui: &mut egui::Ui, item: &CommunityItemView) -> Option<Click> {
    if !readable(item) {
        return None;
    }
    let label = if item.liked {
        tr!("communities-liked", n = item.likes)
    } else {
        tr!("communities-like", n = item.likes)
    };
    let button = egui::Button::selectable(item.liked, label).frame_when_inactive(true);
    ui.add(button)
        .clicked()
        .then(|| Click::Send(CommunityCmd::Like { item: item.id.clone(), liked: !item.liked }))
}

/// A post in a list: its community in the feed (which opens it), who and
/// when, its title (which opens the post), a part of its text, its likes
/// and comments.
pub(super) fn card(ui: &mut egui::Ui, item: &CommunityItemView) -> Option<Click> {
    let mut click = None;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        if let Some(name) = &item.community
            && ui.link(tr!("communities-in", community = name.as_str())).clicked()
        {
            click = Some(Click::Community(name.clone()));
        }
        meta(ui, item);
        if let Some(c) = content(ui, item, false) {
            click = Some(c);
        }
        ui.horizontal_wrapped(|ui| {
            if let Some(c) = like(ui, item) {
                click = Some(c);
            }
            if ui.button(tr!("communities-comments", n = item.comments)).clicked() {
                click = Some(Click::Open(item.id.clone()));
            }
        });
    });
    click
}

/// Posts loaded from a community or the feed, in the order asked for.
#[derive(Debug, Default)]
pub(super) struct Listing {
    /// The order.
    pub(super) sort: Sort,
    /// The posts loaded, in that order.
    pub(super) items: Vec<CommunityItemView>,
    /// The relay may have more.
    pub(super) more: bool,
    /// A page is on its way.
    pub(super) loading: bool,
    /// Read at least once.
    pub(super) loaded: bool,
}

impl Listing {
    /// A page came: from the start it replaces what was loaded, else it
    /// follows it (pages for another order, or out of step, are dropped).
    pub(super) fn got(
        &mut self,
        sort: Sort,
        offset: usize,
        items: Vec<CommunityItemView>,
        more: bool,
    ) {
        if sort != self.sort {
            return;
        }
        if offset == 0 {
            self.items = items;
        } else if offset == self.items.len() {
            self.items.extend(items);
        } else {
            return;
        }
        self.more = more;
        self.loading = false;
        self.loaded = true;
    }

    /// How many to read again to show what is shown now.
    pub(super) fn reload_count(&self) -> usize {
        self.items.len().max(crate::backend::POST_PAGE)
    }

    /// The sort buttons ("New", "Top", "Active"); true when the order
    /// changed (the list is read again).
    pub(super) fn sort_bar(&mut self, ui: &mut egui::Ui) -> bool {
        let before = self.sort;
        ui.horizontal(|ui| {
            ui.label(tr!("communities-sort"));
            for s in Sort::ALL {
                let name = match s {
                    Sort::New => tr!("communities-sort-new"),
                    Sort::Top => tr!("communities-sort-top"),
                    Sort::Active => tr!("communities-sort-active"),
                };
                ui.selectable_value(&mut self.sort, s, name);
            }
        });
        if self.sort != before {
            self.items.clear();
            self.more = false;
            return true;
        }
        false
    }

    /// The cards, then "Load more" while the relay may have more; returns
    /// what was clicked, and whether more was asked for.
    pub(super) fn show(&mut self, ui: &mut egui::Ui, empty: &str) -> (Option<Click>, bool) {
        let mut click = None;
        if self.loaded && self.items.is_empty() {
            ui.label(empty);
        }
        for item in &self.items {
            if let Some(c) = card(ui, item) {
                click = Some(c);
            }
        }
        if self.loading {
            ui.spinner();
        }
        let more = self.more && !self.loading && ui.button(tr!("communities-load-more")).clicked();
        if more {
            self.loading = true;
        }
        (click, more)
    }
}
