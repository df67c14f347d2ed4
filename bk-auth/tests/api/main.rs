//! The one integration test binary of bk-auth.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod bad_input;
mod django;
mod embed_example;
mod embedding;
mod forwarded;
mod http_support;
mod legacy_api;
mod login_flow;
mod oidc;
mod oidc_login;
mod oidc_tokens;
mod permissions;
mod revocation;
mod sdk;
mod storage;
mod support;
mod throttle;
mod tokens;
