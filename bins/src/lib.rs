//! Composition of the stock binaries: configuration, the `bk` command line, and
//! `bk up` (the whole platform on one listener) / `bk-login` (login alone).
//! Everything here only wires crates together; behaviour lives in the crates.

pub mod agent;
pub mod cli;
pub mod client;
pub mod config;
pub mod datadir;
pub mod engine;
pub mod esb;
pub mod platform;
pub mod remote_login;
pub mod secrets;
