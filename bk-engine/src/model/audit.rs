//! The engine's audit log: who changed what, when, from where. Every write of the engine
//! stores its entry in the same transaction as the change, so the log cannot miss a
//! change or record one that did not happen. Details never hold secrets or env var values.

use bk_core::clock::Millis;
use serde::Serialize;

/// One entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Assigned by the store (ignored when writing).
    pub id: i64,
    /// When (ms).
    pub at: Millis,
    /// Username of who did it (`system` for the engine itself).
    pub actor: String,
    /// Client address.
    pub address: String,
    /// The app, when the change concerns one.
    pub app_code: Option<String>,
    /// What, as `resource.verb` (`app.create`, `env_var.set`, `secret.reveal`...).
    pub action: String,
    /// Which thing inside the app (`module web`, `member alice`, `secret 2`).
    pub target: String,
    /// More facts, as JSON (never secrets or env var values).
    pub detail: serde_json::Value,
}

/// Which entries to read, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only this app.
    pub app_code: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// 1-based page.
    pub page: u32,
    /// Entries per page, 1..=1000 (0: 100).
    pub page_size: u32,
}

impl Default for AuditQuery {
    fn default() -> Self {
        Self {
            app_code: None,
            action: None,
            page: 1,
            page_size: 100,
        }
    }
}

/// A page of results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    /// Total matching.
    pub count: u64,
    /// 1-based page number.
    pub page: u32,
    /// Page size used.
    pub page_size: u32,
    /// This page.
    pub results: Vec<T>,
}
