//! `bk-esb`: the ESB API gateway (contracts §3). SaaS apps call backend components at
//! `/api/c/compapi/[v2/]<system>/<component>/` and online-registered HTTP components at
//! `/api/c/self-service-api/<path>`; the gateway checks who is calling (app secret or
//! HMAC signature; `bk_token` or an allow-listed `bk_username`), whether they may
//! (permission level and grants), how often (rate limits), calls the component within its
//! timeout, and answers in the ESB envelope.
//!
//! Use [`app::EsbApp`] to compose it: it migrates the `esb_*` tables, builds the registry
//! snapshot of compiled components plus stored configuration, and returns an
//! `axum::Router` the caller mounts (the library never binds). Extension points:
//! [`component::Component`] (compiled components), [`ratelimit::RateLimiter`],
//! [`auth::NonceStore`], and bk-core's `AppDirectory`, `TokenVerifier` and
//! `UserDirectory` for what it asks the engine and login.

pub mod admin;
pub mod app;
pub mod auth;
pub mod builtin;
pub mod component;
pub mod error;
pub mod forward;
pub mod gateway;
pub mod http;
pub mod model;
pub mod params;
pub mod ratelimit;
pub mod registry;
pub mod store;
#[cfg(any(test, feature = "test-utils"))]
pub mod testing;

/// Name of the service in logs, metrics and the public layout.
pub const SERVICE: &str = "esb";
