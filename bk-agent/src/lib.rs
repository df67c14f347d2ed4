//! `bk-agent`: Agent that runs on each app host: runs, supervises, health-checks and logs app processes.
//!
//! Not built yet: this crate reserves its place in the workspace layout and its
//! dependency edge (`bk-core` only). Later issues fill it in.

/// Name of the service in logs, metrics and the public layout.
pub const SERVICE: &str = "agent";
