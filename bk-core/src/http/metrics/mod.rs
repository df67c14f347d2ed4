//! Prometheus metrics: `bk_http_requests_total{service,route,status}`,
//! `bk_http_request_duration_seconds{service,route}` (histogram) and
//! `bk_errors_total{code}` (counted where errors become envelopes), plus labelled counters
//! other crates register ([`counter`]: the app router's per-route counts).
//!
//! A fixed registry of our own rather than a generic recorder: every series is an atomic
//! counter or a fixed-bucket histogram made once, when its (service, route) or label set
//! is first seen, and found again by the request stack without building a key. Nothing
//! is buffered between scrapes, so memory stays flat however long nobody reads
//! `/metrics` (the generic recorder kept every latency sample until the next scrape).
//! Cardinality is bounded by what labels are made of: route templates (never raw
//! paths), status codes, error codes, and the router's route table.

mod registry;
mod route;
mod text;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::ErrorCode;

pub use route::RouteMetrics;

/// A monotonically increasing count, shared by every handle of the same series.
#[derive(Debug, Clone)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// Add `n`.
    pub fn increment(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The counter `name{labels}`, made on first use (later calls return the same series).
/// Callers make handles once (per route table entry, per process), not per request, and
/// keep label values bounded.
pub fn counter(name: &'static str, labels: &[(&'static str, &str)]) -> Counter {
    registry::counter(name, labels)
}

/// The request metrics of `route` (a route template, or `<unmatched>`) of `service`,
/// made on first sight and kept for the life of the process.
pub fn route(service: &'static str, route: &str) -> &'static RouteMetrics {
    registry::route(service, route)
}

/// Count an error answered with `code` (`bk_errors_total{code}`).
pub fn count_error(code: ErrorCode) {
    if let Some(c) = registry::ERRORS.get(code as usize) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// How many series exist (counters, histogram label sets, error codes seen): constant
/// once every route, status and code in use has been seen.
pub fn series() -> usize {
    registry::series()
}

/// The text exposition of all metrics (Prometheus text format 0.0.4).
pub fn render() -> String {
    text::render()
}
