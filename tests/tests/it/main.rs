//! kovan's integration tests: one binary, a module per area.

mod chat;
mod cli;
mod files;
mod friends;
mod groups;
mod harness;
mod relay_client;
mod vectors;
