//! The one integration test binary of bk-agent: real processes (sh, sleep, python3's
//! http.server), real ports, real files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod converge;
mod runner;
mod scale;
mod supervise;
mod support;
