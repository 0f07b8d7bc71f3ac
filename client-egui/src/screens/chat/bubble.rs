//! One message as a bubble: the quoted reply, the body (text, file, image,
//! voice note, location, poll), time and ticks, reactions and the "…"
//! menu; and the window that picks any emoji to react with.

use std::collections::HashMap;
use std::path::PathBuf;

use eframe::egui::{self, Color32, RichText};
use kovan_node::node::{FileView, MessageView};

use super::{location, poll, voice};
use crate::backend::Cmd;
use crate::emoji;
use crate::widgets::{FileAction, clock, file_line, short, small_weak};

/// Quick reactions offered on every message.
const QUICK: [&str; 4] = ["👍", "❤", "😂", "🎉"];

/// What a bubble needs besides its message.
pub struct BubbleCtx<'a> {
    /// Colour emoji textures.
    pub emoji: &'a mut emoji::Emoji,
    /// Account (hex) → the name to show.
    pub names: &'a HashMap<String, String>,
    /// In a group: incoming messages show who wrote them.
    pub group: bool,
    /// The voice note playing: its file id, seconds played and in all.
    pub playing: Option<(String, (f32, f32))>,
    /// The coordinates typed in the location form (to move a live share).
    pub here: Option<(f64, f64)>,
    /// Today (local, by the node's clock), for the day separators.
    pub today: jiff::civil::Date,
}

impl BubbleCtx<'_> {
    fn name(&self, account: &str) -> String {
        self.names.get(account).cloned().unwrap_or_else(|| short(account, 8))
    }

    /// "You, bob" for the accounts behind a reaction.
    fn who(&self, accounts: &[String]) -> String {
        accounts.iter().map(|a| self.name(a)).collect::<Vec<_>>().join(", ")
    }
}

/// What was clicked in a bubble.
pub enum Bubble {
    /// Open this image (file id) full size.
    View(String),
    /// Move this live share to the typed position.
    MoveLocation(f64, f64),
    /// End this live share.
    StopLocation,
    /// Open the full reaction picker.
    MoreReactions,
    /// Play this voice note (file id, where it was saved).
    Play(String, PathBuf),
    /// Stop the voice note playing.
    StopPlaying,
    /// Reply to this message.
    Reply,
    /// Edit this message.
    Edit,
    /// Delete this message for everyone.
    Delete,
    /// Show who has this message and who read it.
    Info,
    /// Add (or take back, `true`) a reaction.
    React(String, bool),
    /// Vote these options.
    Vote(Vec<u32>),
    /// Close this poll.
    ClosePoll,
    /// Open voting in this anonymous poll now.
    OpenVoting,
    /// Open this conditional message with a password and/or a position.
    OpenConditional(Option<String>, Option<(f64, f64)>),
    /// Agree to open this conditional message (release this account's share).
    ReleaseShare,
    /// Check in on this message's dead man's switch.
    CheckIn,
    /// Download or cancel the file.
    File(FileAction),
    /// Put the text on the clipboard.
    Copy(String),
    /// Forward this to another chat.
    Forward(super::forward::Forwarding),
}

/// Draws one message; returns what was clicked.
pub fn bubble(
    ui: &mut egui::Ui,
    m: &MessageView,
    all: &[MessageView],
    file: Option<&FileView>,
    thumb: Option<&egui::TextureHandle>,
    bx: &mut BubbleCtx<'_>,
) -> Option<Bubble> {
    let mut action = None;
    let layout = if m.outgoing {
        egui::Layout::right_to_left(egui::Align::TOP)
    } else {
        egui::Layout::left_to_right(egui::Align::TOP)
    };
    ui.with_layout(layout, |ui| {
        let fill = match (m.outgoing, ui.visuals().dark_mode) {
            // The accent's hue (style.rs), dimmed to carry text.
            (true, true) => Color32::from_rgb(84, 60, 18),
            (true, false) => Color32::from_rgb(255, 236, 196),
            (false, _) => ui.visuals().faint_bg_color,
        };
        egui::Frame::new()
            .fill(fill)
            .corner_radius(10.0)
            .inner_margin(egui::Margin::symmetric(10, 6))
            .show(ui, |ui| {
                ui.set_max_width(ui.available_width() * 0.7);
                // Outgoing bubbles hug the right: their content is laid out
                // from the right too (else the bubble spans its whole width).
                let inner = egui::Layout::top_down(if m.outgoing {
                    egui::Align::Max
                } else {
                    egui::Align::Min
                });
                ui.with_layout(inner, |ui| {
                    if let Some(r) = &m.reply_to {
                        let quoted = all
                            .iter()
                            .find(|x| &x.id == r)
                            .and_then(|x| x.text.clone())
                            .unwrap_or_else(|| tr!("chat-earlier-message"));
                        small_weak(ui, bx.emoji, &format!("↪ {}", short(&quoted, 50)));
                    }
                    let body = match m.kind {
                        // A conditional message's text once opened; while
                        // sealed its card says what it waits for.
                        "text" | "conditional" => m.text.clone().unwrap_or_default(),
                        "deleted" => tr!("chat-deleted"),
                        "unsupported" => tr!("chat-unsupported"),
                        "call" => crate::screens::call::record_text(m),
                        "file" | "image" | "voice" => {
                            m.file.as_ref().map_or_else(String::new, |f| {
                                let (name, caption) = (f.name.as_str(), f.caption.as_str());
                                match m.kind {
                                    "image" => {
                                        tr!("chat-body-image", name = name, caption = caption)
                                    }
                                    "voice" => {
                                        tr!("chat-body-voice", name = name, caption = caption)
                                    }
                                    // A file's name is on its card; the
                                    // words are the caption.
                                    _ => caption.to_owned(),
                                }
                            })
                        }
                        "poll" => tr!("chat-body-poll", text = m.text.clone().unwrap_or_default()),
                        "location" => m.location.as_ref().map_or_else(String::new, |l| {
                            let name = if l.label.is_empty() {
                                tr!("chat-location")
                            } else {
                                l.label.clone()
                            };
                            format!("📍 {name}")
                        }),
                        other => format!("[{other}]"),
                    };
                    let style = if m.emoji_only {
                        emoji::Style::sized(ui, 28.0)
                    } else {
                        emoji::Style::body(ui)
                    };
                    if bx.group && !m.outgoing {
                        ui.label(RichText::new(bx.name(&m.sender)).small().strong());
                    }
                    if let Some(f) = m.file.as_ref().filter(|_| m.kind == "file") {
                        file_card(ui, f);
                    }
                    if !body.is_empty() {
                        emoji::label(ui, bx.emoji, &body, style);
                    }
                    if let Some(t) = thumb {
                        let name = m.file.as_ref().map_or("", |f| f.name.as_str());
                        let img = egui::Image::new((t.id(), t.size_vec2()))
                            .sense(egui::Sense::click())
                            .alt_text(tr!("chat-open-image", name = name));
                        if ui.add(img).on_hover_text(tr!("chat-full-size")).clicked()
                            && let Some(f) = &m.file
                        {
                            action = Some(Bubble::View(f.id.clone()));
                        }
                    }
                    if let Some((meta, v)) =
                        m.file.as_ref().and_then(|f| Some((f, f.voice.as_ref()?)))
                        && let Some(a) = voice::note(ui, meta, v, file, &bx.playing)
                    {
                        action = Some(a);
                    }
                    if let Some(a) =
                        m.file.as_ref().and_then(|f| file_line(ui, f, file, m.outgoing))
                    {
                        action = Some(Bubble::File(a));
                    }
                    if let Some(l) = &m.location
                        && let Some(a) = location::card(ui, l, m.outgoing, bx.here)
                    {
                        action = Some(a);
                    }
                    if let Some(p) = &m.poll
                        && let Some(a) = poll::card(ui, p, m.outgoing)
                    {
                        action = Some(a);
                    }
                    if let Some(c) = &m.conditional
                        && let Some(a) = super::conditional::card(ui, m, c)
                    {
                        action = Some(a);
                    }
                    let saved = file.and_then(|f| f.path.as_deref()).map(PathBuf::from);
                    footer(ui, m, saved, bx, &mut action);
                });
            });
    });
    action
}

/// A file as a card: an icon for its kind, its name and its size (what
/// can be done with it follows on its line).
fn file_card(ui: &mut egui::Ui, f: &kovan_node::node::FileMeta) {
    let icon = match f.mime.split('/').next().unwrap_or_default() {
        "audio" => "🎵",
        "video" => "🎬",
        "text" => "📝",
        _ if f.mime == "application/pdf" => "📝",
        _ if f.mime.contains("zip") || f.mime.contains("tar") || f.mime.contains("compressed") => {
            "📦"
        }
        _ => "📄",
    };
    egui::Frame::new()
        .stroke(ui.visuals().widgets.noninteractive.bg_stroke)
        .corner_radius(8.0)
        .inner_margin(egui::Margin::symmetric(8, 6))
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label(RichText::new(icon).size(24.0));
                ui.vertical(|ui| {
                    ui.strong(&f.name);
                    ui.weak(crate::widgets::human_size(f.size));
                });
            });
        });
}

/// Time, ticks, reaction chips and the "…" menu.
fn footer(
    ui: &mut egui::Ui,
    m: &MessageView,
    saved: Option<PathBuf>,
    bx: &mut BubbleCtx<'_>,
    action: &mut Option<Bubble>,
) {
    ui.horizontal(|ui| {
        let edited = if m.edited_at.is_some() {
            format!("{} · ", tr!("chat-edited"))
        } else {
            String::new()
        };
        let tick = match m.state {
            "pending" => "🕓".to_owned(),
            "sent" => "✔".to_owned(),
            "delivered" => "✔✔".to_owned(),
            "seen" => tr!("chat-tick-seen"),
            _ => String::new(),
        };
        ui.label(RichText::new(format!("{edited}{} {tick}", clock(m.sent_at))).weak().small());
        for r in &m.reactions {
            let label = format!("{} {}", r.emoji, r.count);
            let who = bx.who(&r.by);
            let chip =
                emoji::button(ui, bx.emoji, &r.emoji, &format!(" {}", r.count), r.mine, &label)
                    .on_hover_text(who);
            if chip.clicked() {
                *action = Some(Bubble::React(r.emoji.clone(), r.mine));
            }
        }
        ui.menu_button("…", |ui| {
            if ui.button(tr!("chat-reply")).clicked() {
                *action = Some(Bubble::Reply);
                ui.close();
            }
            if let Some(text) = m.text.clone().filter(|_| m.kind == "text") {
                if ui.button(tr!("chat-copy")).clicked() {
                    *action = Some(Bubble::Copy(text.clone()));
                    ui.close();
                }
                if !m.sealed && ui.button(tr!("chat-forward")).clicked() {
                    *action = Some(Bubble::Forward(super::forward::Forwarding::Text(text)));
                    ui.close();
                }
            }
            if let Some(path) = saved.clone()
                && ui.button(tr!("chat-forward")).clicked()
            {
                let image = m.kind == "image";
                *action = Some(Bubble::Forward(super::forward::Forwarding::File { path, image }));
                ui.close();
            }
            if m.outgoing && ui.button(tr!("chat-message-info")).clicked() {
                *action = Some(Bubble::Info);
                ui.close();
            }
            if m.outgoing && m.kind == "text" {
                if ui.button(tr!("chat-edit")).clicked() {
                    *action = Some(Bubble::Edit);
                    ui.close();
                }
                if ui.button(tr!("chat-delete-for-everyone")).clicked() {
                    *action = Some(Bubble::Delete);
                    ui.close();
                }
            }
            ui.horizontal(|ui| {
                for e in QUICK {
                    let b = emoji::button(ui, bx.emoji, e, "", false, e)
                        .on_hover_text(tr!("chat-react", emoji = e));
                    if b.clicked() {
                        *action = Some(Bubble::React(e.into(), false));
                        ui.close();
                    }
                }
            });
            if ui.button(tr!("chat-more-reactions")).clicked() {
                *action = Some(Bubble::MoreReactions);
                ui.close();
            }
            if !m.reactions.is_empty() {
                ui.separator();
                ui.label(RichText::new(tr!("chat-reacted")).weak().small());
                for r in &m.reactions {
                    let line = format!("{} {}", r.emoji, bx.who(&r.by));
                    emoji::label(ui, bx.emoji, &line, emoji::Style::body(ui));
                }
            }
        });
    });
}

/// The full emoji picker for reacting to one message (`reacting`); closes
/// once an emoji is picked.
pub fn reaction_window(
    ui: &mut egui::Ui,
    reacting: &mut Option<String>,
    picker: &mut emoji::Picker,
    cache: &mut emoji::Emoji,
    conv: &str,
    cmds: &mut Vec<Cmd>,
) {
    let Some(message) = reacting.clone() else { return };
    let mut open = true;
    let mut picked = None;
    egui::Window::new(tr!("chat-react-with"))
        .id(egui::Id::new("react-with"))
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .show(ui.ctx(), |ui| picked = picker.show(ui, cache));
    if let Some(e) = picked {
        cmds.push(Cmd::React {
            conversation: conv.to_owned(),
            message,
            emoji: e.to_owned(),
            remove: false,
        });
        open = false;
    }
    if !open {
        *reacting = None;
    }
}
