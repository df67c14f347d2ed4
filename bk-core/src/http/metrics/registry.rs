//! The process-wide series: route metrics by (service, route), labelled counters by name
//! and label set, error counts by code. Made under a lock on first sight, read without
//! one afterwards (handles are kept by their users).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::Counter;
use super::route::RouteMetrics;
use super::text::escape;
use crate::error::ErrorCode;

/// `bk_errors_total` by code, indexed by the code's position in [`ErrorCode::ALL`].
pub(super) static ERRORS: [AtomicU64; ErrorCode::ALL.len()] =
    [const { AtomicU64::new(0) }; ErrorCode::ALL.len()];

#[derive(Default)]
pub(super) struct Registry {
    /// Route metrics, leaked: they live as long as the process, like the routes.
    pub(super) routes: HashMap<(&'static str, Box<str>), &'static RouteMetrics>,
    /// Counters by name, then by rendered label set (`a="x",b="y"`).
    pub(super) counters: BTreeMap<&'static str, BTreeMap<String, Counter>>,
}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);

pub(super) fn with<T>(f: impl FnOnce(&mut Registry) -> T) -> T {
    let mut g: MutexGuard<'_, Option<Registry>> =
        REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    f(g.get_or_insert_with(Registry::default))
}

pub(super) fn route(service: &'static str, route: &str) -> &'static RouteMetrics {
    with(|r| {
        if let Some(m) = r.routes.get(&(service, Box::<str>::from(route))) {
            return *m;
        }
        let labels = format!(
            "service=\"{}\",route=\"{}\"",
            escape(service),
            escape(route)
        );
        let m: &'static RouteMetrics = Box::leak(Box::new(RouteMetrics::new(route, labels)));
        r.routes.insert((service, route.into()), m);
        m
    })
}

pub(super) fn counter(name: &'static str, labels: &[(&'static str, &str)]) -> Counter {
    let rendered = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect::<Vec<_>>()
        .join(",");
    with(|r| {
        r.counters
            .entry(name)
            .or_default()
            .entry(rendered)
            .or_insert_with(|| Counter(Arc::new(AtomicU64::new(0))))
            .clone()
    })
}

pub(super) fn series() -> usize {
    let errors = ERRORS
        .iter()
        .filter(|c| c.load(Ordering::Relaxed) > 0)
        .count();
    with(|r| {
        r.routes.values().map(|m| m.series()).sum::<usize>()
            + r.counters.values().map(BTreeMap::len).sum::<usize>()
            + errors
    })
}
