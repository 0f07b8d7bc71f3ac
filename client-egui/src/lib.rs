//! The kovan desktop client (egui/eframe): [`app::App`] draws the window
//! from its state; [`backend::Backend`] runs the node on its own runtime
//! thread. The binary wraps the app in eframe; the UI tests drive the same
//! app with `egui_kittest` against real nodes and a relay.

pub mod app;
pub mod audio;
pub mod backend;
pub mod emoji;
pub mod widgets;
