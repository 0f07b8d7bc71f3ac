//! Colour emoji in the window. egui's text renderer draws glyph outlines
//! only, so every emoji is drawn as a Twemoji picture (bundled, the same on
//! every machine) in a gap left for it in the laid-out text: wrapping,
//! alignment and the accessible text stay egui's. Also the emoji picker and
//! `:shortcode:` completion for the composer.

use std::collections::HashMap;

use eframe::egui::{self, Color32, FontId, TextureHandle, TextureId};
use egui::text::{LayoutJob, TextFormat};

/// Stands in for an emoji in the laid-out text ("OBJECT REPLACEMENT
/// CHARACTER"): drawn transparent, with the emoji's width.
const SLOT: char = '\u{FFFC}';
/// Longest emoji sequence looked up, in bytes.
const MAX_EMOJI_BYTES: usize = 64;
/// Textures kept before the cache starts over (each is 72×72 RGBA).
const MAX_TEXTURES: usize = 2048;
/// Completions offered at once.
pub const MAX_COMPLETIONS: usize = 6;

/// Decoded emoji pictures, by emoji.
#[derive(Default)]
pub struct Emoji {
    textures: HashMap<&'static str, Option<TextureHandle>>,
}

impl Emoji {
    /// Call between frames: bounds the cache (a frame never draws with a
    /// texture freed under it).
    pub fn trim(&mut self) {
        if self.textures.len() > MAX_TEXTURES {
            self.textures.clear();
        }
    }

    /// The picture for one emoji, if Twemoji has it.
    pub fn texture(&mut self, ctx: &egui::Context, emoji: &str) -> Option<TextureId> {
        let (key, png) = asset(emoji)?;
        self.textures
            .entry(key)
            .or_insert_with(|| {
                let img = image::load_from_memory_with_format(png, image::ImageFormat::Png)
                    .ok()?
                    .to_rgba8();
                let size = [img.width() as usize, img.height() as usize];
                let color = egui::ColorImage::from_rgba_unmultiplied(size, img.as_raw());
                Some(ctx.load_texture(format!("emoji-{key}"), color, egui::TextureOptions::LINEAR))
            })
            .as_ref()
            .map(TextureHandle::id)
    }
}

/// The Twemoji PNG for an emoji (qualified or not), with the emoji's
/// fully-qualified form as its key.
fn asset(emoji: &str) -> Option<(&'static str, &'static [u8])> {
    use twemoji_assets::png::PngTwemojiAsset;
    let e = emojis::get(emoji)?;
    let key = e.as_str();
    let png = PngTwemojiAsset::from_emoji(key)
        .or_else(|| PngTwemojiAsset::from_emoji(&key.replace('\u{FE0F}', "")))?;
    Some((key, png))
}

/// A piece of text: plain, or one emoji that has a picture.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text drawn by egui.
    Text(&'a str),
    /// An emoji drawn as a picture.
    Emoji(&'a str),
}

/// Whether an emoji can start with `c` (keycaps aside): the symbol and
/// pictograph blocks, © and ®. Letters of any script are passed over
/// without a lookup: this runs for every visible message every frame.
fn may_start_emoji(c: char) -> bool {
    matches!(c, '\u{A9}' | '\u{AE}' | '\u{2000}'..='\u{3299}' | '\u{1F000}'..)
}

/// Splits text into plain runs and emoji (longest match first, so a
/// family or a flag is one emoji, not its parts).
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut plain = 0;
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let c = rest.chars().next().unwrap_or(' ');
        let candidate = may_start_emoji(c)
            || (matches!(c, '0'..='9' | '#' | '*')
                && rest[1..].starts_with(['\u{FE0F}', '\u{20E3}']));
        let found = candidate
            .then(|| {
                (1..=rest.len().min(MAX_EMOJI_BYTES))
                    .rev()
                    .filter(|&end| rest.is_char_boundary(end))
                    .find(|&end| asset(&rest[..end]).is_some())
            })
            .flatten();
        match found {
            Some(end) => {
                if plain < i {
                    out.push(Piece::Text(&text[plain..i]));
                }
                out.push(Piece::Emoji(&rest[..end]));
                i += end;
                plain = i;
            }
            None => i += c.len_utf8(),
        }
    }
    if plain < text.len() {
        out.push(Piece::Text(&text[plain..]));
    }
    out
}

/// How a label looks.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Font size in points (emoji are drawn a little larger).
    pub size: f32,
    /// Text colour (`None`: the theme's).
    pub color: Option<Color32>,
    /// Weak (greyed) text.
    pub weak: bool,
}

impl Style {
    /// Body text.
    pub fn body(ui: &egui::Ui) -> Self {
        Self { size: egui::TextStyle::Body.resolve(ui.style()).size, color: None, weak: false }
    }

    /// Body text at another size.
    pub fn sized(ui: &egui::Ui, size: f32) -> Self {
        Self { size, ..Self::body(ui) }
    }
}

/// A label whose emoji are drawn in colour. Its accessible text is `text`
/// as given.
pub fn label(ui: &mut egui::Ui, cache: &mut Emoji, text: &str, style: Style) -> egui::Response {
    let color = style.color.unwrap_or_else(|| {
        if style.weak { ui.visuals().weak_text_color() } else { ui.visuals().text_color() }
    });
    let font = FontId::proportional(style.size);
    let parts = pieces(text);
    if !parts.iter().any(|p| matches!(p, Piece::Emoji(_))) {
        let text = egui::RichText::new(text).font(font).color(color);
        return ui.add(egui::Label::new(text).halign(egui::Align::LEFT));
    }
    let side = (style.size * 1.25).round();
    // The slot's width: the font's fallback glyph for it, plus letter
    // spacing (which egui puts before the glyph) to make room.
    let slot_width =
        ui.fonts_mut(|f| f.layout_no_wrap(SLOT.to_string(), font.clone(), color).size().x);
    let mut job = LayoutJob::default();
    let mut slots = Vec::new();
    for p in &parts {
        match p {
            Piece::Text(t) => {
                let t = t.replace(SLOT, "\u{FFFD}");
                job.append(&t, 0.0, TextFormat::simple(font.clone(), color));
            }
            Piece::Emoji(e) => {
                let format = TextFormat {
                    font_id: font.clone(),
                    color: Color32::TRANSPARENT,
                    extra_letter_spacing: (side + 2.0 - slot_width).max(0.0),
                    line_height: Some(side + 2.0),
                    ..Default::default()
                };
                job.append(&SLOT.to_string(), 0.0, format);
                slots.push(*e);
            }
        }
    }
    let (pos, galley, response) =
        egui::Label::new(job).selectable(false).halign(egui::Align::LEFT).layout_in_ui(ui);
    let shown = text.to_owned();
    response.widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::Label, true, &shown));
    if ui.is_rect_visible(response.rect) {
        let painter = ui.painter();
        painter.galley(pos, galley.clone(), color);
        let mut slots = slots.into_iter();
        for row in &galley.rows {
            let row_rect = row.rect().translate(pos.to_vec2());
            let glyphs = &row.row.glyphs;
            for (i, g) in glyphs.iter().enumerate().filter(|(_, g)| g.chr == SLOT) {
                let Some(e) = slots.next() else { break };
                let Some(tex) = cache.texture(ui.ctx(), e) else { continue };
                // Centred between the glyph before and the slot's end.
                let start =
                    i.checked_sub(1).map_or(0.0, |j| glyphs[j].pos.x + glyphs[j].advance_width);
                let end = g.pos.x + g.advance_width;
                let left = pos.x + row.pos.x + (start + end - side) / 2.0;
                let top = row_rect.center().y - side / 2.0;
                let rect = egui::Rect::from_min_size(egui::pos2(left, top), egui::vec2(side, side));
                let uv = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
                painter.image(tex, rect, uv, Color32::WHITE);
            }
        }
    }
    response
}

/// A button showing an emoji (and optional text after it) whose
/// accessible label is `label`.
pub fn button(
    ui: &mut egui::Ui,
    cache: &mut Emoji,
    emoji: &str,
    text: &str,
    selected: bool,
    label: &str,
) -> egui::Response {
    let side = egui::TextStyle::Body.resolve(ui.style()).size * 1.3;
    let r = match cache.texture(ui.ctx(), emoji) {
        Some(tex) => {
            let img = egui::Image::new((tex, egui::vec2(side, side)));
            ui.add(egui::Button::selectable(selected, (img, text.to_owned())))
        }
        None => ui.add(egui::Button::selectable(selected, format!("{emoji}{text}"))),
    };
    let label = label.to_owned();
    r.widget_info(|| egui::WidgetInfo::selected(egui::WidgetType::Button, true, selected, &label));
    r
}

/// The `:partial` shortcode being typed at the end of `draft`: its start
/// (the colon) and the letters after it (two at least).
pub fn completion_token(draft: &str) -> Option<(usize, &str)> {
    let start = draft.rfind(':')?;
    let code = &draft[start + 1..];
    let before_ok = draft[..start].chars().next_back().is_none_or(char::is_whitespace);
    let code_ok = code.len() >= 2
        && code.len() <= 40
        && code.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-'));
    (before_ok && code_ok).then_some((start, code))
}

/// Emoji whose shortcodes start with `prefix` (then those that contain
/// it), shortest first: `(emoji, shortcode)`.
pub fn completions(prefix: &str) -> Vec<(&'static str, &'static str)> {
    let prefix = prefix.to_ascii_lowercase();
    let mut starts = Vec::new();
    let mut contains = Vec::new();
    for e in emojis::iter() {
        for code in e.shortcodes() {
            if code.starts_with(&prefix) {
                starts.push((e.as_str(), code));
            } else if code.contains(&prefix) {
                contains.push((e.as_str(), code));
            }
        }
    }
    starts.sort_by_key(|(_, c)| (c.len(), *c));
    contains.sort_by_key(|(_, c)| (c.len(), *c));
    starts.extend(contains);
    let mut seen = std::collections::HashSet::new();
    starts.retain(|(e, _)| seen.insert(*e));
    starts.truncate(MAX_COMPLETIONS);
    starts
}

/// Replaces the shortcode being typed with the emoji (and a space).
pub fn complete(draft: &mut String, emoji: &str) {
    if let Some((start, _)) = completion_token(draft) {
        draft.truncate(start);
        draft.push_str(emoji);
        draft.push(' ');
    }
}

/// The emoji picker's state: a search, a category, recent picks.
pub struct Picker {
    query: String,
    group: emojis::Group,
    recent: Vec<&'static str>,
}

impl Default for Picker {
    fn default() -> Self {
        Self { query: String::new(), group: emojis::Group::SmileysAndEmotion, recent: Vec::new() }
    }
}

/// Emoji picked per row of the grid.
const GRID: usize = 10;
/// Search results shown.
const MAX_FOUND: usize = 80;
/// Recent picks kept.
const MAX_RECENT: usize = 20;

fn group_name(g: emojis::Group) -> String {
    use emojis::Group::*;
    match g {
        SmileysAndEmotion => tr!("widgets-emoji-smileys"),
        PeopleAndBody => tr!("widgets-emoji-people"),
        AnimalsAndNature => tr!("widgets-emoji-nature"),
        FoodAndDrink => tr!("widgets-emoji-food"),
        TravelAndPlaces => tr!("widgets-emoji-travel"),
        Activities => tr!("widgets-emoji-activities"),
        Objects => tr!("widgets-emoji-objects"),
        Symbols => tr!("widgets-emoji-symbols"),
        Flags => tr!("widgets-emoji-flags"),
    }
}

impl Picker {
    /// Draws the picker; returns the emoji clicked.
    pub fn show(&mut self, ui: &mut egui::Ui, cache: &mut Emoji) -> Option<&'static str> {
        let mut picked = None;
        ui.horizontal(|ui| {
            let l = ui.label(tr!("widgets-emoji-find"));
            ui.add(egui::TextEdit::singleline(&mut self.query).desired_width(180.0))
                .labelled_by(l.id);
        });
        let q = self.query.trim().to_ascii_lowercase();
        let list: Vec<&'static emojis::Emoji> = if q.is_empty() {
            ui.horizontal_wrapped(|ui| {
                for g in emojis::Group::iter() {
                    ui.selectable_value(&mut self.group, g, group_name(g));
                }
            });
            if !self.recent.is_empty() {
                ui.label(egui::RichText::new(tr!("widgets-emoji-recent")).weak().small());
                picked = self.grid(ui, cache, self.recent.iter().filter_map(|e| emojis::get(e)));
                ui.separator();
            }
            self.group
                .emojis()
                .filter(|e| e.skin_tone().is_none_or(|t| t == emojis::SkinTone::Default))
                .collect()
        } else {
            emojis::iter()
                .filter(|e| {
                    e.skin_tone().is_none_or(|t| t == emojis::SkinTone::Default)
                        && (e.name().contains(q.as_str())
                            || e.shortcodes().any(|c| c.contains(q.as_str())))
                })
                .take(MAX_FOUND)
                .collect()
        };
        egui::ScrollArea::vertical().max_height(220.0).show(ui, |ui| {
            if let Some(p) = self.grid(ui, cache, list.into_iter()) {
                picked = Some(p);
            }
        });
        if let Some(p) = picked {
            self.recent.retain(|r| *r != p);
            self.recent.insert(0, p);
            self.recent.truncate(MAX_RECENT);
        }
        picked
    }

    fn grid(
        &self,
        ui: &mut egui::Ui,
        cache: &mut Emoji,
        list: impl Iterator<Item = &'static emojis::Emoji>,
    ) -> Option<&'static str> {
        let mut picked = None;
        let list: Vec<_> = list.collect();
        for row in list.chunks(GRID) {
            ui.horizontal(|ui| {
                for e in row {
                    let r = button(ui, cache, e.as_str(), "", false, e.as_str()).on_hover_text(
                        e.shortcode().map_or_else(|| e.name().to_owned(), |c| format!(":{c}:")),
                    );
                    if r.clicked() {
                        picked = Some(e.as_str());
                    }
                }
            });
        }
        picked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_splits_into_plain_runs_and_whole_emoji() {
        assert_eq!(pieces("hi"), vec![Piece::Text("hi")]);
        assert_eq!(
            pieces("merhaba 👋 dünya"),
            vec![Piece::Text("merhaba "), Piece::Emoji("👋"), Piece::Text(" dünya")]
        );
        // A family and a flag are one emoji each; a skin tone stays on its hand.
        let family = "👨\u{200d}👩\u{200d}👧";
        assert_eq!(pieces(family), vec![Piece::Emoji(family)]);
        assert_eq!(pieces("🇹🇷👍🏽"), vec![Piece::Emoji("🇹🇷"), Piece::Emoji("👍🏽")]);
        // Unqualified hearts have pictures too; digits alone are text.
        assert_eq!(pieces("❤"), vec![Piece::Emoji("❤")]);
        assert_eq!(pieces("12:30"), vec![Piece::Text("12:30")]);
        assert_eq!(pieces("1\u{fe0f}\u{20e3}"), vec![Piece::Emoji("1\u{fe0f}\u{20e3}")]);
        assert_eq!(pieces("ğüşıöç"), vec![Piece::Text("ğüşıöç")]);
    }

    #[test]
    fn shortcodes_complete_from_what_is_typed() {
        assert_eq!(completion_token("hello :thu"), Some((6, "thu")));
        assert_eq!(completion_token(":wa"), Some((0, "wa")));
        assert_eq!(completion_token("at 12:30"), None, "a time is not a shortcode");
        assert_eq!(completion_token("hello :t"), None, "two letters at least");
        assert_eq!(completion_token("hello :thumbsup: "), None);
        let found = completions("thumbsu");
        assert_eq!(found.first().map(|f| f.0), Some("👍"));
        assert!(found.len() <= MAX_COMPLETIONS);
        let mut draft = "great :thumbsu".to_owned();
        complete(&mut draft, "👍");
        assert_eq!(draft, "great 👍 ");
    }

    #[test]
    fn emoji_are_drawn_in_the_gaps_left_for_them() {
        let ctx = egui::Context::default();
        let mut cache = Emoji::default();
        let mut found = None;
        let _ = ctx.run_ui(Default::default(), |ui| {
            let r = label(ui, &mut cache, "çay ☕ ve 🍰", Style::body(ui));
            found = Some(r.rect);
        });
        let rect = found.unwrap();
        assert!(rect.width() > 40.0, "{rect:?}");
        assert_eq!(cache.textures.len(), 2, "one picture per emoji");
        assert!(cache.textures.values().all(Option::is_some));
    }
}
