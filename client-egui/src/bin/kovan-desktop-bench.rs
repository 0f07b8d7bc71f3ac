//! The desktop client measured in a real eframe window (run it under a
//! display, e.g. `xvfb-run`; `scripts/desktop-bench` does): time from start
//! to the unlocked chat list, frame time while scrolling a chat of 10,000
//! messages, and resident memory idle with 20 chats — next to the same
//! figures for a bare eframe window (a label and a scrolled list of as
//! many lines) in the same run.
//!
//! `kovan-desktop-bench [--messages 10000] [--chats 20] [--json]`

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eframe::egui;
use kovan_desktop::app::{App, Screen};
use kovan_desktop::backend::BackendConfig;
use kovan_node::history::{History, NewMessage, State};
use kovan_node::home::Home;
use kovan_node::identity::Identity;
use kovan_node::store::Database;

const PASSPHRASE: &str = "desktop bench passphrase";
/// Frames measured while scrolling.
const SCROLL_FRAMES: usize = 300;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// A home with an identity, `chats` conversations, the first holding
/// `messages` messages.
fn fill(home: &Path, chats: usize, messages: u64) -> anyhow::Result<()> {
    let h = Home::at(home);
    h.ensure()?;
    let id = Identity::create(&h, PASSPHRASE.as_bytes(), "bench")?;
    let db = Database::open(&h.database())?;
    let history = History::new(&db, id.storage_key());
    for c in 0..chats {
        let conv = format!("bench-conversation-{c:02}").into_bytes();
        history.ensure_conversation(&conv, None, 0)?;
        history.set_group(&conv, &format!("chat {c:02}"), "active")?;
        let n = if c == 0 { messages } else { 5 };
        let mut i = 0;
        while i < n {
            let end = (i + 5000).min(n);
            db.atomic(|| -> kovan_node::Result<()> {
                for k in i..end {
                    let mut mid = [0u8; 16];
                    mid[..8].copy_from_slice(&k.to_be_bytes());
                    mid[8] = c as u8;
                    let body = kovan_spec::encode(&kovan_spec::wire::AppEnvelope {
                        version: 1,
                        message_id: mid.to_vec(),
                        sender_device: vec![1; 38],
                        sequence: k + 1,
                        timestamp_ms: 1_796_083_200_000 + k * 1000,
                        reply_to: vec![],
                        content: Some(kovan_spec::wire::app_envelope::Content::Text(
                            kovan_spec::wire::Text {
                                body: format!("message {k}: a line of ordinary chat text"),
                            },
                        )),
                    });
                    history.insert(&NewMessage {
                        conversation_id: &conv,
                        message_id: mid,
                        sender_account: &[2; 32],
                        sender_device: "12D3KooWBench",
                        sent_at: 1_796_083_200_000 + k as i64 * 1000,
                        received_at: 1_796_083_200_000 + k as i64 * 1000,
                        outgoing: k % 3 == 0,
                        state: State::Received,
                        body: &body,
                    })?;
                }
                Ok(())
            })?;
            i = end;
        }
    }
    Ok(())
}

/// What a measured window reports.
#[derive(Debug, Default)]
struct Figures {
    ready_ms: f64,
    frame_ms: Vec<f32>,
    rss_idle_kib: u64,
}

fn summary(name: &str, f: &Figures) -> serde_json::Value {
    let mut v = f.frame_ms.clone();
    v.sort_by(f32::total_cmp);
    let pct = |p: f64| v.get(((v.len() as f64 - 1.0) * p) as usize).copied().unwrap_or(0.0);
    serde_json::json!({
        "window": name,
        "ready_ms": f.ready_ms,
        "frame_p50_ms": pct(0.5),
        "frame_p99_ms": pct(0.99),
        "rss_idle_mib": f.rss_idle_kib as f64 / 1024.0,
    })
}

enum Phase {
    Starting,
    Scrolling(usize),
    Idle(Instant),
    Done,
}

/// The real client, driven: unlock, open the long chat, scroll it.
struct Driven {
    app: App,
    started: Instant,
    phase: Phase,
    unlocked_sent: bool,
    figures: Figures,
    out: PathBuf,
}

impl eframe::App for Driven {
    fn raw_input_hook(&mut self, _ctx: &egui::Context, raw: &mut egui::RawInput) {
        if matches!(self.phase, Phase::Scrolling(_)) {
            // Scroll up through the history, a few lines a frame.
            raw.events.push(egui::Event::MouseWheel {
                unit: egui::MouseWheelUnit::Point,
                delta: egui::vec2(0.0, 120.0),
                phase: egui::TouchPhase::Move,
                modifiers: egui::Modifiers::NONE,
            });
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        self.app.ui(ui);
        if !self.unlocked_sent && self.app.screen == Screen::Unlock {
            self.app.unlock_with(PASSPHRASE);
            self.unlocked_sent = true;
        }
        match self.phase {
            Phase::Starting => {
                if self.app.screen == Screen::Main && self.app.conversation_count() > 0 {
                    self.figures.ready_ms = self.started.elapsed().as_secs_f64() * 1e3;
                    self.app.open_by_title("chat 00");
                    self.phase = Phase::Scrolling(0);
                }
            }
            Phase::Scrolling(n) => {
                if n > 10 {
                    // Frames once the chat is open; the first ones load it.
                    self.figures.frame_ms.extend(frame.info().cpu_usage.map(|s| s * 1e3));
                }
                self.phase = if n == SCROLL_FRAMES {
                    Phase::Idle(Instant::now())
                } else {
                    Phase::Scrolling(n + 1)
                };
            }
            Phase::Idle(since) => {
                if since.elapsed() > Duration::from_secs(2) {
                    self.figures.rss_idle_kib = status_kib("VmRSS:");
                    let _ = std::fs::write(
                        &self.out,
                        summary("kovan-desktop", &self.figures).to_string(),
                    );
                    self.phase = Phase::Done;
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            }
            Phase::Done => {}
        }
        ui.ctx().request_repaint();
    }
}

/// A bare eframe window: a label and a scrolled list of as many lines.
struct Bare {
    lines: Vec<String>,
    started: Instant,
    frames: usize,
    idle: Option<Instant>,
    figures: Figures,
    out: PathBuf,
}

impl eframe::App for Bare {
    fn raw_input_hook(&mut self, _ctx: &egui::Context, raw: &mut egui::RawInput) {
        if self.idle.is_none() {
            raw.events.push(egui::Event::MouseWheel {
                unit: egui::MouseWheelUnit::Point,
                delta: egui::vec2(0.0, 120.0),
                phase: egui::TouchPhase::Move,
                modifiers: egui::Modifiers::NONE,
            });
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.label("bare eframe window");
            egui::ScrollArea::vertical().stick_to_bottom(true).show_rows(
                ui,
                18.0,
                self.lines.len(),
                |ui, range| {
                    for l in &self.lines[range] {
                        ui.label(l);
                    }
                },
            );
        });
        if self.frames == 0 {
            self.figures.ready_ms = self.started.elapsed().as_secs_f64() * 1e3;
        }
        self.frames += 1;
        if self.frames > 10 && self.idle.is_none() {
            self.figures.frame_ms.extend(frame.info().cpu_usage.map(|s| s * 1e3));
        }
        if self.frames == SCROLL_FRAMES + 11 {
            self.idle = Some(Instant::now());
        }
        if let Some(t) = self.idle
            && t.elapsed() > Duration::from_secs(2)
            && self.figures.rss_idle_kib == 0
        {
            self.figures.rss_idle_kib = status_kib("VmRSS:");
            let _ = std::fs::write(&self.out, summary("bare eframe", &self.figures).to_string());
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
        }
        ui.ctx().request_repaint();
    }
}

fn window(which: &str, home: &Path, out: PathBuf, messages: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_inner_size([1000.0, 700.0]),
        ..Default::default()
    };
    let res = if which == "bare" {
        let lines =
            (0..messages).map(|k| format!("message {k}: a line of ordinary chat text")).collect();
        eframe::run_native(
            "bare",
            options,
            Box::new(move |_| {
                Ok(Box::new(Bare {
                    lines,
                    started,
                    frames: 0,
                    idle: None,
                    figures: Figures::default(),
                    out,
                }))
            }),
        )
    } else {
        let config = BackendConfig { home: home.to_owned(), loopback: true, ..Default::default() };
        eframe::run_native(
            "kovan",
            options,
            Box::new(move |_| {
                Ok(Box::new(Driven {
                    app: App::new(config),
                    started,
                    phase: Phase::Starting,
                    unlocked_sent: false,
                    figures: Figures::default(),
                    out,
                }))
            }),
        )
    };
    res.map_err(|e| anyhow::anyhow!("{e}"))
}

fn main() -> anyhow::Result<()> {
    let messages: u64 = arg("--messages").map_or(Ok(10_000), |s| s.parse())?;
    let chats: usize = arg("--chats").map_or(Ok(20), |s| s.parse())?;
    if let Some(which) = arg("--window") {
        let home = PathBuf::from(arg("--home").unwrap_or_default());
        let out = PathBuf::from(arg("--out").unwrap_or_default());
        return window(&which, &home, out, messages);
    }
    let dir = tempfile::tempdir()?;
    let home = dir.path().join("home");
    eprintln!("filling {chats} chats, one of {messages} messages…");
    fill(&home, chats, messages)?;
    let exe = std::env::current_exe()?;
    let mut rows = Vec::new();
    for which in ["bare", "kovan"] {
        let out = dir.path().join(format!("{which}.json"));
        let status = std::process::Command::new(&exe)
            .args(["--window", which, "--messages", &messages.to_string()])
            .arg("--home")
            .arg(&home)
            .arg("--out")
            .arg(&out)
            .status()?;
        anyhow::ensure!(status.success(), "the {which} window failed");
        rows.push(serde_json::from_slice::<serde_json::Value>(&std::fs::read(&out)?)?);
    }
    if flag("--json") {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        println!(
            "{:<14} {:>9} {:>13} {:>13} {:>13}",
            "window", "ready ms", "frame p50 ms", "frame p99 ms", "RSS idle MiB"
        );
        for r in &rows {
            println!(
                "{:<14} {:>9.0} {:>13.2} {:>13.2} {:>13.1}",
                r["window"].as_str().unwrap_or(""),
                r["ready_ms"].as_f64().unwrap_or(0.0),
                r["frame_p50_ms"].as_f64().unwrap_or(0.0),
                r["frame_p99_ms"].as_f64().unwrap_or(0.0),
                r["rss_idle_mib"].as_f64().unwrap_or(0.0),
            );
        }
    }
    Ok(())
}
