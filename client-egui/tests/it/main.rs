//! UI tests: the real app, driven through its accessibility tree with
//! `egui_kittest`, against real nodes (each client runs its own) and a real
//! relay on loopback. Queries go by the labels a screen reader would read.
//! One module per area; each test sets up its own relay and clients with
//! the helpers in `ui.rs`, so one failure does not hide the others.

mod account;
mod calls;
mod communities;
mod composer;
mod desktop;
mod errors;
mod flows;
mod forms;
mod groups;
mod human;
mod info;
mod invites;
mod keyboard;
mod layout;
mod lock;
mod look;
mod people;
mod presence;
mod private;
mod restart;
mod snapshots;
mod spreads;
mod title;
mod typing;
mod ui;
