//! `bk-engine`: App engine: app lifecycle, releases as persisted state machines, scheduling and deploy backends.
//!
//! Not built yet: this crate reserves its place in the workspace layout and its
//! dependency edge (`bk-core` only). Later issues fill it in.

/// Name of the service in logs, metrics and the public layout.
pub const SERVICE: &str = "engine";

pub mod router;
