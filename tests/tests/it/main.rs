//! kovan's integration tests: one binary, a module per area.

mod account_events;
mod anonymous_polls;
mod at_rest;
mod calls;
mod chat;
mod cli;
mod communities;
mod conditional;
mod conditional_files;
mod conditional_relays;
mod faults;
mod files;
mod friends;
mod groups;
mod harness;
mod interactive;
mod media;
mod modes;
mod relay_client;
mod screens;
mod seals;
mod spreads;
mod vectors;
mod verifiable;
