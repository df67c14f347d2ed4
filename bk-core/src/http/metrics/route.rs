//! The request metrics of one (service, route): a counter per status code and a latency
//! histogram, all atomics, recorded without locks or allocation.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, seconds (as rendered in `le`).
pub(super) const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The same bounds in nanoseconds, compared against without floating point.
const BOUNDS_NS: [u64; 14] = [
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// Counters of the statuses of one class (`2xx`), made when the class is first seen.
type Class = Box<[AtomicU64; 100]>;

/// Request counts and latencies of one route.
#[derive(Debug)]
pub struct RouteMetrics {
    /// The route template (label value).
    route: Box<str>,
    /// `service="…",route="…"`, escaped once.
    pub(super) labels: Box<str>,
    /// Counts by status: class (1xx … 9xx), then status within the class.
    classes: [OnceLock<Class>; 9],
    /// Observations per bucket (not cumulative), then above the last bound.
    buckets: [AtomicU64; 15],
    sum_ns: AtomicU64,
}

impl RouteMetrics {
    pub(super) fn new(route: &str, labels: String) -> Self {
        Self {
            route: route.into(),
            labels: labels.into(),
            classes: Default::default(),
            buckets: Default::default(),
            sum_ns: AtomicU64::new(0),
        }
    }

    /// The route template these metrics are for.
    pub fn route(&self) -> &str {
        &self.route
    }

    /// Count one answer with `status` that took `elapsed`.
    pub fn record(&self, status: u16, elapsed: Duration) {
        let class = usize::from(status / 100).clamp(1, 9) - 1;
        let counts = self.classes[class]
            .get_or_init(|| Box::new(std::array::from_fn(|_| AtomicU64::new(0))));
        counts[usize::from(status % 100)].fetch_add(1, Ordering::Relaxed);
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BOUNDS_NS
            .iter()
            .position(|b| ns <= *b)
            .unwrap_or(BOUNDS_NS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// `(status, count)` of every status seen, in order.
    pub(super) fn statuses(&self) -> Vec<(u16, u64)> {
        let mut out = Vec::new();
        for (class, counts) in self.classes.iter().enumerate() {
            let Some(counts) = counts.get() else { continue };
            for (i, c) in counts.iter().enumerate() {
                let n = c.load(Ordering::Relaxed);
                if n > 0 {
                    // class < 9 and i < 100: the status fits in u16.
                    out.push(((class as u16 + 1) * 100 + i as u16, n));
                }
            }
        }
        out
    }

    /// Cumulative bucket counts (one per bound, then +Inf = the count) and the sum in
    /// seconds.
    pub(super) fn histogram(&self) -> ([u64; 15], f64) {
        let mut cumulative = [0u64; 15];
        let mut total = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            total += b.load(Ordering::Relaxed);
            cumulative[i] = total;
        }
        let sum = self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        (cumulative, sum)
    }

    /// Whether anything was recorded.
    pub(super) fn is_used(&self) -> bool {
        self.classes.iter().any(|c| c.get().is_some())
    }

    /// Series this route holds: one counter per status seen, one histogram.
    pub(super) fn series(&self) -> usize {
        let statuses = self.statuses().len();
        statuses + usize::from(statuses > 0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn statuses_and_buckets() {
        let m = RouteMetrics::new("/x", String::new());
        m.record(200, Duration::from_micros(400));
        m.record(200, Duration::from_micros(500));
        m.record(404, Duration::from_millis(3));
        m.record(503, Duration::from_secs(20));
        assert_eq!(m.statuses(), vec![(200, 2), (404, 1), (503, 1)]);
        let (b, sum) = m.histogram();
        // ≤ 0.5 ms: both 200s (the bound is inclusive); ≤ 5 ms: the 404; +Inf: all.
        assert_eq!(&b[..4], &[2, 2, 2, 3]);
        assert_eq!(b[13], 3);
        assert_eq!(b[14], 4);
        assert!((sum - 20.0039).abs() < 1e-9, "{sum}");
    }
}
