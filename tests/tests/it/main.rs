//! kovan's integration tests: one binary, a module per area.

mod relay_client;
mod vectors;
