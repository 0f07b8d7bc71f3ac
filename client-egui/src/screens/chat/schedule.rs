//! Messages for later: the list of this chat's scheduled messages (above
//! it: edit, cancel), and the "Send at" form that schedules the draft or
//! saves an edited one. The time is picked on a calendar with the hour and
//! minute beside it, or with "In an hour" and "Tomorrow morning", or typed
//! ("+2h", "2026-12-24 18:30" in local time).

use std::collections::HashMap;

use eframe::egui;
use kovan_node::node::{ScheduledContent, ScheduledView};

use crate::app::Ctx;
use crate::backend::Cmd;
use crate::widgets::{clock, field, local, local_ms, short};
use egui_extras::DatePickerButton;

/// The "Send at" field, the picker's day and time, and the scheduled
/// message being edited.
#[derive(Debug, Default)]
pub struct ScheduleForm {
    send_at: String,
    /// The calendar's day and the hour and minute beside it (set from
    /// the clock the first time the form shows).
    picked: Option<(jiff::civil::Date, i8, i8)>,
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
        now: i64,
        conv: &str,
        drafts: &mut HashMap<String, String>,
        cmds: &mut Vec<Cmd>,
    ) {
        self.picker(ui, now);
        ui.horizontal(|ui| {
            let (label, hint) = (tr!("chat-send-at"), tr!("chat-send-at-hint"));
            field(ui, &label, &mut self.send_at, &hint, 200.0);
            let draft = drafts.get(conv).cloned().unwrap_or_default();
            let when = due_at(&self.send_at, now);
            match self.editing.clone() {
                // Editing: the text, and the time if a new one is typed.
                Some(id) => {
                    let ok =
                        !draft.trim().is_empty() && (self.send_at.is_empty() || when.is_some());
                    if ui.add_enabled(ok, egui::Button::new(tr!("chat-save-scheduled"))).clicked() {
                        cmds.push(Cmd::ScheduleEdit { id, text: draft, due_at: when });
                        drafts.insert(conv.to_owned(), String::new());
                        self.send_at.clear();
                        self.editing = None;
                    }
                    if ui.button(tr!("chat-stop-editing")).clicked() {
                        drafts.insert(conv.to_owned(), String::new());
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
                        drafts.insert(conv.to_owned(), String::new());
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

impl ScheduleForm {
    /// The calendar, the hour and the minute, and two quick choices; each
    /// sets "Send at".
    fn picker(&mut self, ui: &mut egui::Ui, now: i64) {
        let soon = local(now + 3_600_000);
        let (mut day, mut hour, mut minute) =
            self.picked.unwrap_or((soon.date(), soon.hour(), soon.minute() / 5 * 5));
        let before = (day, hour, minute);
        ui.horizontal(|ui| {
            ui.label(tr!("chat-pick-time"));
            ui.add(DatePickerButton::new(&mut day).id_salt("send-day").calendar_week(false));
            let h = ui.add(egui::DragValue::new(&mut hour).range(0..=23).suffix(" h"));
            h.on_hover_text(tr!("chat-pick-hour"));
            let m =
                ui.add(egui::DragValue::new(&mut minute).range(0..=59).speed(0.2).suffix(" min"));
            m.on_hover_text(tr!("chat-pick-minute"));
        });
        ui.horizontal(|ui| {
            if ui.small_button(tr!("chat-in-an-hour")).clicked() {
                (day, hour, minute) = (soon.date(), soon.hour(), soon.minute());
            }
            if ui.small_button(tr!("chat-tomorrow-morning")).clicked()
                && let Ok(tomorrow) = local(now).date().tomorrow()
            {
                (day, hour, minute) = (tomorrow, 9, 0);
            }
        });
        self.picked = Some((day, hour, minute));
        if (day, hour, minute) != before {
            self.send_at = day.at(hour, minute, 0, 0).strftime("%Y-%m-%d %H:%M").to_string();
        }
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

/// "+10m", "+1h 30m" from `now`, a local "2026-12-24 18:30", or an RFC
/// 3339 time with its zone, as ms since the epoch; only a time after `now`.
pub fn due_at(s: &str, now: i64) -> Option<i64> {
    due_at_with(s, now, local_ms)
}

/// [`due_at`], with `local` turning a local date and time into ms.
fn due_at_with(
    s: &str,
    now: i64,
    local: impl Fn(jiff::civil::DateTime) -> Option<i64>,
) -> Option<i64> {
    let s = s.trim();
    let at = if let Some(rel) = s.strip_prefix('+') {
        let d = humantime::parse_duration(rel.trim()).ok()?;
        now.checked_add(i64::try_from(d.as_millis()).ok()?)?
    } else if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
        // "2026-12-24 18:30": the user's own clock.
        local(dt)?
    } else {
        // With a zone ("…Z", "…+03:00"): that moment.
        let t = humantime::parse_rfc3339_weak(s).ok()?;
        i64::try_from(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis()).ok()?
    };
    (at > now).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_relative_local_or_with_their_zone_and_only_ahead() {
        let istanbul = jiff::tz::TimeZone::fixed(jiff::tz::offset(3));
        let local = |dt: jiff::civil::DateTime| {
            dt.to_zoned(istanbul.clone()).ok().map(|z| z.timestamp().as_millisecond())
        };
        // 2026-12-01 09:41 UTC.
        let now = 1_796_118_060_000;
        assert_eq!(due_at_with("+2h", now, local), Some(now + 7_200_000));
        assert_eq!(due_at_with(" +1h 30m ", now, local), Some(now + 5_400_000));
        // 18:30 in Istanbul is 15:30 UTC.
        let evening = "2026-12-24T15:30:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond();
        assert_eq!(due_at_with("2026-12-24 18:30", now, local), Some(evening));
        assert_eq!(due_at_with("2026-12-24T15:30:00Z", now, local), Some(evening));
        assert_eq!(due_at_with("2026-11-30 10:00", now, local), None, "the past");
        assert_eq!(due_at_with("yarın", now, local), None);
        assert_eq!(due_at_with("+", now, local), None);
    }
}
