//! kovan's integration tests: one binary, a module per area.

mod chat;
mod harness;
mod relay_client;
mod vectors;
