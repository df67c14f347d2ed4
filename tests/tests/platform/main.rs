//! Tests that look across crates.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod agents;
mod engine_login;
mod memory;
mod observability;
mod openapi;
mod outage;
mod tidy;
