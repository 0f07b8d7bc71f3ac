//! kovan's integration tests: one binary, a module per area.

mod account_events;
mod chat;
mod cli;
mod faults;
mod files;
mod friends;
mod groups;
mod harness;
mod interactive;
mod media;
mod relay_client;
mod vectors;
