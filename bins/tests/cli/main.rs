//! The real `bk` and `bk-login` binaries, started as processes.

mod config;
mod support;
mod up;
