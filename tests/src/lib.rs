//! # kovan-tests
//!
//! The multi-node integration tests (`tests/it/`), their harness, and the
//! generator of the spec's test vectors ([`vectors`], written to
//! `spec/vectors/` by `cargo run -p kovan-tests --bin kovan-vectors`).
#![warn(missing_docs)]

pub mod data;
pub mod mls_vectors;
pub mod powercut;
pub mod proc;
pub mod relay_proc;
pub mod vectors;
