//! `bk-core` is the foundation every BK service builds on.
//!
//! It owns what must be the same across login, esb, appengine, paas and the agent:
//! the error-code table and the BK wire envelopes ([`error`], [`http::envelope`]),
//! validated domain values ([`types`]), an injectable [`clock`], secret helpers
//! ([`crypto`]), layered configuration ([`config`]), the identity traits other services
//! use to verify a `bk_token` and look users up ([`identity`]), the app directory
//! ([`apps`]), and, behind features, storage through sqlx
//! with a per-component migration runner (`db`), safe `.tar.gz` unpacking (`archive`), and the HTTP plumbing (`server`:
//! request ids, metrics, structured logs, envelope-aware extractors).
//!
//! Default features bring only serde, thiserror and http types, so SDK users and the
//! agent do not compile the server stack.

pub mod agent_proto;
pub mod apps;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod error;
pub mod identity;
pub mod instance;
pub mod lang;
pub mod types;

#[cfg(feature = "archive")]
pub mod archive;
#[cfg(feature = "db")]
pub mod db;
#[cfg(feature = "server")]
pub mod http;
#[cfg(feature = "server")]
pub mod telemetry;

pub use error::{ApiError, ErrorCode};
