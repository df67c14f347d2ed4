//! The gateway's integration tests: the real router served on 127.0.0.1:0 over a fresh
//! SQLite database (the engine and login are stood in for by `bk_esb::testing`; the
//! platform test in `tests/` composes the real ones), real HTTP backends for self-service
//! components, and the storage suite on every database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod auth;
mod builtins;
mod forward;
mod policy;
mod routing;
mod storage;
mod support;
