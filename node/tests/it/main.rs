//! kovan-node integration tests: one binary, a module per area.

mod cli;
mod conversation;
mod history;
mod net;
