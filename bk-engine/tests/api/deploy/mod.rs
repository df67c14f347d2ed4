//! Deploying over real HTTP with the repo's sample packages: real python processes under
//! the local backend, served through the app router. Nothing is mocked but login.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bench;
mod compat;
mod flows;
mod processes;
mod support;
