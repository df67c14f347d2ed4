//! `bk-engine`: App engine: app lifecycle, releases as persisted state machines, scheduling and deploy backends.
//!
//! So far it holds [`package`]: reading, checking, unpacking and packing the packages
//! developers deploy. Apps, releases and deployments come in later issues.

pub mod package;

/// Name of the service in logs, metrics and the public layout.
pub const SERVICE: &str = "engine";

pub mod router;
