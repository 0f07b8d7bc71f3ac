//! The kovan desktop client (egui/eframe): [`app::App`] is the shell that
//! routes to the screens in [`screens`] (each with its own state), which
//! draw with the shared [`widgets`]; [`backend::Backend`] runs the node on
//! its own runtime thread. The binary wraps the app in eframe; the UI
//! tests drive the same app with `egui_kittest` against real nodes and a
//! relay.

#[macro_use]
pub mod i18n;
pub mod app;
pub mod audio;
pub mod backend;
pub mod call_audio;
pub mod desktop;
pub mod emoji;
pub mod errors;
pub mod notify;
pub mod places;
pub mod prefs;
pub mod screens;
pub mod widgets;
