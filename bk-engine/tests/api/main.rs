//! The one integration test binary of bk-engine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod apps;
mod bad_input;
mod deploy;
mod env_vars;
mod http_support;
mod origin;
mod rbac;
mod secrets;
mod storage;
mod support;
mod v6;
mod v7;
