//! The list of chats (Chats tab): creating a group and its invitations on
//! top, then one row per conversation: an avatar (the friend's picture, or
//! initials), the title with its private-mode mark, the newest message (or
//! the draft, if one waits) and its time, and an unread badge.

use eframe::egui::{self, Color32, FontId, Rect, Sense, TextStyle};
use kovan_node::node::{ConversationView, MessageView};

use crate::app::{Ctx, Nav};
use crate::screens::groups::NewGroup;
use crate::widgets::{civil_day, clock, day_label, paint_avatar};

/// A row's height, in points.
const ROW: f32 = 56.0;
/// The avatar's diameter.
const AVATAR: f32 = 40.0;

/// The chat list's state.
#[derive(Debug, Default)]
pub struct ChatList {
    new_group: NewGroup,
}

impl ChatList {
    /// Draws the list; a click opens the chat.
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx) {
        self.new_group.show(ui, ctx);
        crate::screens::private::offers(ui, ctx);
        ui.separator();
        if ctx.conversations.is_empty() {
            ui.label(tr!("shell-no-chats"));
        }
        let mut pick = None;
        let open = ctx.open().map(str::to_owned);
        let today = civil_day(ctx.now_ms());
        egui::ScrollArea::vertical().show(ui, |ui| {
            for c in &ctx.conversations {
                let picture = c
                    .contact
                    .as_ref()
                    .and_then(|k| k.username.as_ref())
                    .and_then(|u| ctx.avatars.get(u))
                    .and_then(Option::as_ref);
                let selected = open.as_deref() == Some(c.id.as_str());
                if row(ui, c, selected, picture, today).clicked() {
                    pick = Some(c.id.clone());
                }
            }
        });
        if let Some(id) = pick {
            ctx.go(Nav::OpenChat(id));
        }
    }
}

/// What a row is called by a screen reader (and by the UI tests): the
/// title, its mark, and the unread count.
pub fn row_label(c: &ConversationView) -> String {
    let mark = crate::screens::private::mark(c);
    if c.unread > 0 {
        format!("{}{mark} ({})", c.title, c.unread)
    } else {
        format!("{}{mark}", c.title)
    }
}

/// The newest message in a few words: "You: see you", "📷 Photo".
pub fn preview(m: &MessageView) -> String {
    let body = preview_body(m);
    if m.outgoing { tr!("shell-preview-mine", text = body) } else { body }
}

/// What a message says in a few words, on one line: its text, or "📷
/// Photo", "📎 name.pdf"…
pub fn preview_body(m: &MessageView) -> String {
    let body = match m.kind {
        "text" => m.text.clone().unwrap_or_default(),
        "image" => tr!("shell-preview-photo"),
        "voice" => tr!("shell-preview-voice"),
        "file" => {
            let name = m.file.as_ref().map(|f| f.name.clone()).unwrap_or_default();
            tr!("shell-preview-file", name = name)
        }
        "poll" => {
            let q = m.poll.as_ref().map(|p| p.question.clone()).unwrap_or_default();
            tr!("shell-preview-poll", question = q)
        }
        "location" => tr!("shell-preview-location"),
        "call" => crate::screens::call::record_text(m),
        "deleted" => tr!("shell-preview-deleted"),
        "locked" => tr!("shell-preview-locked"),
        _ => tr!("shell-preview-unsupported"),
    };
    body.replace('\n', " ")
}

/// When the newest message came: its time today, else "Yesterday" or the
/// date.
fn when(ms: i64, today: jiff::civil::Date) -> String {
    let day = civil_day(ms);
    if day == today { clock(ms) } else { day_label(day, today) }
}

fn row(
    ui: &mut egui::Ui,
    c: &ConversationView,
    selected: bool,
    picture: Option<&egui::TextureHandle>,
    today: jiff::civil::Date,
) -> egui::Response {
    let width = ui.available_width();
    let (rect, r) = ui.allocate_exact_size(egui::vec2(width, ROW), Sense::click());
    let label = row_label(c);
    r.widget_info(|| {
        egui::WidgetInfo::selected(egui::WidgetType::SelectableLabel, true, selected, &label)
    });
    if !ui.is_rect_visible(rect) {
        return r;
    }
    let visuals = ui.visuals();
    let painter = ui.painter_at(rect);
    if selected {
        painter.rect_filled(rect, 6.0, visuals.selection.bg_fill);
    } else if r.hovered() {
        painter.rect_filled(rect, 6.0, visuals.widgets.hovered.weak_bg_fill);
    }
    let strong =
        if selected { visuals.selection.stroke.color } else { visuals.strong_text_color() };
    let weak = if selected { strong } else { visuals.weak_text_color() };
    let avatar = Rect::from_center_size(
        egui::pos2(rect.left() + 8.0 + AVATAR / 2.0, rect.center().y),
        egui::vec2(AVATAR, AVATAR),
    );
    // The colour follows the name: the same person looks the same on
    // every device.
    let seed = c.contact.as_ref().and_then(|k| k.username.as_deref()).unwrap_or(&c.title);
    paint_avatar(&painter, avatar, picture, &c.title, seed);
    let left = avatar.right() + 10.0;
    let body = ui.style().text_styles.get(&TextStyle::Body).cloned();
    let size = body.map_or(14.0, |f| f.size);
    let top = rect.top() + 8.0;
    // The time on the right of the first line, the badge under it.
    let mut right = rect.right() - 8.0;
    if let Some(m) = &c.last {
        let t = painter.text(
            egui::pos2(right, top),
            egui::Align2::RIGHT_TOP,
            when(m.sent_at, today),
            FontId::proportional(size - 2.0),
            if c.unread > 0 { visuals.hyperlink_color } else { weak },
        );
        right = t.left() - 8.0;
    }
    let mark = crate::screens::private::mark(c);
    let title = format!("{}{mark}", c.title);
    one_line(&painter, egui::pos2(left, top), right - left, title, size + 1.0, strong);
    let mut right = rect.right() - 8.0;
    let bottom = rect.bottom() - 8.0;
    if c.unread > 0 {
        let n = if c.unread > 999 { "999+".to_owned() } else { c.unread.to_string() };
        let galley = painter.layout_no_wrap(n, FontId::proportional(size - 3.0), Color32::WHITE);
        let w = (galley.size().x + 10.0).max(20.0);
        let pill =
            Rect::from_min_max(egui::pos2(right - w, bottom - 18.0), egui::pos2(right, bottom));
        painter.rect_filled(pill, 9.0, visuals.hyperlink_color);
        painter.galley(pill.center() - galley.size() / 2.0, galley, Color32::WHITE);
        right = pill.left() - 8.0;
    }
    let at = egui::pos2(left, bottom - size);
    let draft = c.draft.as_deref().filter(|d| !d.trim().is_empty() && !selected);
    if let Some(d) = draft {
        let text = tr!("shell-preview-draft", text = d.replace('\n', " "));
        one_line(&painter, at, right - left, text, size - 1.0, visuals.warn_fg_color);
    } else if let Some(m) = &c.last {
        one_line(&painter, at, right - left, preview(m), size - 1.0, weak);
    }
    r
}

/// Paints `text` on one line from `at`, cut with "…" at `width`.
fn one_line(
    painter: &egui::Painter,
    at: egui::Pos2,
    width: f32,
    text: String,
    size: f32,
    colour: Color32,
) {
    if width <= 10.0 {
        return;
    }
    let mut job =
        egui::text::LayoutJob::simple_singleline(text, FontId::proportional(size), colour);
    job.wrap = egui::text::TextWrapping::truncate_at_width(width);
    let galley = painter.layout_job(job);
    painter.galley(at, galley, colour);
}
