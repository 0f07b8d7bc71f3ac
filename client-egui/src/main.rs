//! `kovan-desktop`: the kovan desktop client.

use eframe::egui;
use kovan_desktop::app::App;
use kovan_desktop::backend::BackendConfig;

/// The data directory: `--home DIR`, else the node's default (XDG).
fn home() -> anyhow::Result<std::path::PathBuf> {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--home" {
            return args
                .next()
                .map(Into::into)
                .ok_or_else(|| anyhow::anyhow!("--home needs a directory"));
        }
        if a == "--help" || a == "-h" {
            println!(
                "kovan-desktop [--home DIR] [--relay URL] [kovan:LINK]\n\nThe kovan desktop client. DIR defaults to the node's data directory."
            );
            std::process::exit(0);
        }
        if a == "--version" || a == "-V" {
            println!("kovan-desktop {}", env!("KOVAN_VERSION"));
            std::process::exit(0);
        }
    }
    Ok(kovan_node::home::Home::default_location()?.root().to_owned())
}

fn relay() -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == "--relay").and_then(|i| args.get(i + 1).cloned())
}

/// A `kovan:` link (an invite) the window was opened with: the menu entry
/// registers the desktop for them. Links are not acted on yet, so the
/// window opens as it would without one.
fn link() -> Option<String> {
    std::env::args().skip(1).find(|a| a.starts_with("kovan:"))
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    if link().is_some() {
        // The link itself is not logged: an invite is for its recipient.
        tracing::info!("opened with a kovan: link; links are not handled yet");
    }
    let config = BackendConfig { home: home()?, relay: relay(), ..Default::default() };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("kovan")
            .with_inner_size([960.0, 640.0])
            .with_min_inner_size([480.0, 320.0]),
        ..Default::default()
    };
    eframe::run_native("kovan", options, Box::new(|_cc| Ok(Box::new(Window(App::new(config))))))
        .map_err(|e| anyhow::anyhow!("{e}"))
}

struct Window(App);

impl eframe::App for Window {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.0.ui(ui);
    }

    fn on_exit(&mut self) {
        self.0.closing();
    }
}
