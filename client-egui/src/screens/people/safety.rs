//! Comparing a safety number with a friend: what it is for, in plain
//! words; the digits in groups of five; the same as a QR code (for a phone
//! or a second screen to scan); and two ways to mark the friend verified:
//! "We compared these numbers" (in person or on a call), or pasting the
//! number they sent through another channel, which must match.

use eframe::egui::{self, Color32, RichText, Sense};
use qrcode::{Color, QrCode};

use crate::backend::{Action, Cmd};

/// The window's state: whose number is shown, what was pasted.
#[derive(Debug, Default)]
pub struct SafetyWindow {
    /// The friend whose number is shown (account key).
    pub open: Option<String>,
    pasted: String,
}

impl SafetyWindow {
    /// Shows `account`'s number once it comes.
    pub fn show_for(&mut self, account: String) {
        self.open = Some(account);
        self.pasted.clear();
    }

    /// Draws the window while open.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        name: &str,
        digits: &str,
        verified: bool,
        cmds: &mut Vec<Cmd>,
    ) {
        let Some(account) = self.open.clone() else { return };
        let mut close = false;
        let modal = egui::Modal::new(egui::Id::new("safety-number")).show(ui.ctx(), |ui| {
            ui.set_max_width(380.0);
            ui.heading(tr!("people-safety-title", name = name));
            ui.label(tr!("people-safety-explain", name = name));
            ui.add_space(6.0);
            ui.label(RichText::new(grouped(digits)).monospace().size(16.0));
            ui.add_space(6.0);
            qr(ui, digits, &tr!("people-safety-qr", name = name));
            ui.add_space(6.0);
            if verified {
                ui.label(tr!("people-safety-verified", name = name));
            } else {
                if ui.button(tr!("people-mark-verified", name = name)).clicked() {
                    cmds.push(Cmd::Act(Action::Verify(account.clone())));
                }
                ui.label(tr!("people-safety-paste-explain", name = name));
                let label = ui.label(tr!("people-safety-paste"));
                ui.add(egui::TextEdit::singleline(&mut self.pasted).desired_width(300.0))
                    .labelled_by(label.id);
                let typed = self.pasted.chars().filter(char::is_ascii_digit).count();
                let button = egui::Button::new(tr!("people-safety-check"));
                if ui.add_enabled(typed > 0, button).clicked() {
                    let digits = self.pasted.clone();
                    cmds.push(Cmd::Act(Action::VerifyDigits(account.clone(), digits)));
                }
            }
            ui.add_space(6.0);
            close = ui.button(tr!("people-safety-close")).clicked();
        });
        let open = !(close || modal.should_close());
        if !open {
            self.open = None;
        }
    }
}

/// "12345 67890 …", in lines of four groups.
fn grouped(digits: &str) -> String {
    let d: Vec<char> = digits.chars().filter(char::is_ascii_digit).collect();
    d.chunks(5)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|line| line.join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The digits as a QR code, dark on white whatever the theme (scanners
/// expect it so).
fn qr(ui: &mut egui::Ui, digits: &str, label: &str) {
    let Ok(code) = QrCode::new(digits.as_bytes()) else { return };
    let width = code.width();
    let colours = code.to_colors();
    let module = 4.0;
    let quiet = 4.0 * module;
    let side = width as f32 * module + 2.0 * quiet;
    let (rect, r) = ui.allocate_exact_size(egui::vec2(side, side), Sense::hover());
    r.widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::Image, true, label));
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, Color32::WHITE);
    for (i, c) in colours.iter().enumerate() {
        if *c == Color::Dark {
            let (x, y) = ((i % width) as f32, (i / width) as f32);
            let min = rect.min + egui::vec2(quiet + x * module, quiet + y * module);
            painter.rect_filled(
                egui::Rect::from_min_size(min, egui::vec2(module, module)),
                0.0,
                Color32::BLACK,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_grouped_by_five_four_groups_a_line() {
        let d: String = (0..60).map(|i| char::from(b'0' + (i % 10) as u8)).collect();
        let g = grouped(&d);
        assert_eq!(g.lines().count(), 3);
        assert_eq!(g.lines().next().unwrap(), "01234 56789 01234 56789");
        // A QR code for a 60-digit number fits the window.
        let code = QrCode::new(d.as_bytes()).unwrap();
        assert!(code.width() <= 33, "{}", code.width());
    }
}
