//! Integration tests of bk-auth: one test binary, one module per concern.

mod admin;
mod bad_input;
mod http_support;
mod legacy_api;
mod login_flow;
mod throttle;
