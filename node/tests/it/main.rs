//! kovan-node integration tests: one binary, a module per area.

mod cli;
mod conversation;
mod groups;
mod history;
mod interaction;
mod net;
