//! The real `bk` and `bk-login` binaries, started as processes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod config;
mod support;
mod up;
