//! `bk-auth` is the BK login service and the SDK that lets any app require a login.
//!
//! **Service** (feature `server`, default): [`service::LoginService`] composes the stores
//! ([`store`]), password hashing ([`password`]), sessions ([`session`]), brute-force
//! throttling ([`throttle`]) and identity providers ([`idp`]); [`http::router`] exposes the
//! pages and APIs of the BK login contract plus an admin API, documented with OpenAPI.
//! A binary builds the router and serves it; tests bind it on port 0.
//!
//! **SDK** ([`sdk`]): a client for the login APIs with a short cache, and a tower layer /
//! axum extractor that sends browsers to the login page, answers 401 to XHR, and hands
//! handlers the user.

pub mod sdk;

#[cfg(feature = "server")]
pub mod app;
#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
pub mod error;
#[cfg(feature = "server")]
pub mod http;
#[cfg(feature = "server")]
pub mod idp;
#[cfg(feature = "server")]
pub mod model;
#[cfg(feature = "server")]
pub mod password;
#[cfg(feature = "server")]
pub mod service;
#[cfg(feature = "server")]
pub mod session;
#[cfg(feature = "server")]
pub mod store;
#[cfg(all(feature = "server", any(test, feature = "test-utils")))]
pub mod testing;
#[cfg(feature = "server")]
pub mod throttle;

/// Name of the service in logs and metrics.
pub const SERVICE: &str = "login";
