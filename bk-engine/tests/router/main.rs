//! The app router over real HTTP: real instances and clients on 127.0.0.1:0.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod balancing;
mod deploy;
mod load;
mod metrics;
mod paths;
mod perf;
mod streaming;
mod support;
mod websocket;
