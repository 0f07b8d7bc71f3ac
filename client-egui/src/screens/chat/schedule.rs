//! Messages for later: the list of this chat's scheduled messages (above
//! it: edit, cancel), and the "Send at" form that schedules the draft or
//! saves an edited one.

use std::collections::HashMap;

use eframe::egui;
use kovan_node::node::{ScheduledContent, ScheduledView};

use crate::app::Ctx;
use crate::backend::Cmd;
use crate::widgets::{clock, field, short};

/// The "Send at" field, and the scheduled message being edited.
#[derive(Debug, Default)]
pub struct ScheduleForm {
    send_at: String,
    /// The scheduled message whose text is in the composer.
    editing: Option<String>,
}

impl ScheduleForm {
    /// Puts a scheduled message's text in the composer to edit it.
    pub fn edit(&mut self, id: String) {
        self.editing = Some(id);
    }

    /// "Send at" and "Schedule" (or, while editing, "Save scheduled" and
    /// "Stop editing"); the text is the chat's draft.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        conv: &str,
        drafts: &mut HashMap<String, String>,
        cmds: &mut Vec<Cmd>,
    ) {
        ui.horizontal(|ui| {
            let (label, hint) = (tr!("chat-send-at"), tr!("chat-send-at-hint"));
            field(ui, &label, &mut self.send_at, &hint, 200.0);
            let draft = drafts.get(conv).cloned().unwrap_or_default();
            let when = due_at(&self.send_at);
            match self.editing.clone() {
                // Editing: the text, and the time if a new one is typed.
                Some(id) => {
                    let ok =
                        !draft.trim().is_empty() && (self.send_at.is_empty() || when.is_some());
                    if ui.add_enabled(ok, egui::Button::new(tr!("chat-save-scheduled"))).clicked() {
                        cmds.push(Cmd::ScheduleEdit { id, text: draft, due_at: when });
                        drafts.remove(conv);
                        self.send_at.clear();
                        self.editing = None;
                    }
                    if ui.button(tr!("chat-stop-editing")).clicked() {
                        drafts.remove(conv);
                        self.editing = None;
                    }
                }
                None => {
                    let ok = when.is_some() && !draft.trim().is_empty();
                    if ui.add_enabled(ok, egui::Button::new(tr!("chat-schedule"))).clicked()
                        && let Some(due_at) = when
                    {
                        cmds.push(Cmd::Schedule {
                            conversation: conv.to_owned(),
                            text: draft,
                            due_at,
                        });
                        drafts.remove(conv);
                        self.send_at.clear();
                    }
                }
            }
            if !self.send_at.is_empty() && when.is_none() {
                ui.label(tr!("chat-bad-time"));
            }
        });
    }
}

/// This chat's scheduled messages, each with "Edit scheduled" (texts) and
/// "Cancel scheduled"; returns the one to edit (its id and text).
pub fn list(
    ui: &mut egui::Ui,
    ctx: &Ctx,
    conv: &str,
    cmds: &mut Vec<Cmd>,
) -> Option<(String, String)> {
    let due: Vec<&ScheduledView> =
        ctx.scheduled.iter().filter(|s| s.conversation == conv && s.state == "scheduled").collect();
    let mut edit = None;
    for sch in due {
        ui.horizontal(|ui| {
            let what = match &sch.content {
                ScheduledContent::Text { text, .. } => short(text, 40),
                ScheduledContent::Poll { question, .. } => {
                    tr!("chat-scheduled-poll", question = short(question, 30))
                }
            };
            ui.label(tr!("chat-scheduled-for", time = clock(sch.due_at), what = what));
            if let ScheduledContent::Text { text, .. } = &sch.content
                && ui.small_button(tr!("chat-edit-scheduled")).clicked()
            {
                edit = Some((sch.id.clone(), text.clone()));
            }
            if ui.small_button(tr!("chat-cancel-scheduled")).clicked() {
                cmds.push(Cmd::ScheduleCancel(sch.id.clone()));
            }
        });
    }
    edit
}

/// "+10m", "+1h 30m" from now, or an RFC 3339 time, as ms since the epoch.
pub fn due_at(s: &str) -> Option<i64> {
    let s = s.trim();
    let now = kovan_node::clock::system_now_ms();
    if let Some(rel) = s.strip_prefix('+') {
        let d = humantime::parse_duration(rel.trim()).ok()?;
        return i64::try_from(d.as_millis()).ok().map(|d| now + d);
    }
    let t = humantime::parse_rfc3339_weak(s).ok()?;
    let ms = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis();
    i64::try_from(ms).ok().filter(|&t| t > now)
}
