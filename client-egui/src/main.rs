//! `kovan-desktop`: the kovan desktop client. This first version opens the
//! application window; the screens land with the node API they drive.

use eframe::egui;

fn main() -> eframe::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("kovan")
            .with_inner_size([960.0, 640.0])
            .with_min_inner_size([480.0, 320.0]),
        ..Default::default()
    };
    eframe::run_native("kovan", options, Box::new(|_cc| Ok(Box::new(KovanApp))))
}

#[derive(Default)]
struct KovanApp;

impl eframe::App for KovanApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.vertical_centered(|ui| {
                ui.add_space(ui.available_height() / 3.0);
                ui.heading("kovan");
                ui.label("End-to-end encrypted, peer-to-peer messaging.");
            });
        });
    }
}
