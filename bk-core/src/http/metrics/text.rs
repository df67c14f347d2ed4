//! The Prometheus text exposition (format 0.0.4), in the shape the `metrics` exporter
//! wrote before (`# TYPE` line, one line per series, a blank line after each family),
//! sorted so that two scrapes list series in the same order.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use super::registry::{self, ERRORS};
use super::route::{BUCKETS, RouteMetrics};
use crate::error::ErrorCode;

const REQUESTS: &str = "bk_http_requests_total";
const DURATION: &str = "bk_http_request_duration_seconds";
const ERRORS_TOTAL: &str = "bk_errors_total";

/// A label value with `\`, `"` and newlines escaped.
pub(super) fn escape(v: &str) -> std::borrow::Cow<'_, str> {
    if !v.contains(['\\', '"', '\n']) {
        return v.into();
    }
    let mut s = String::with_capacity(v.len() + 2);
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s.into()
}

pub(super) fn render() -> String {
    let (mut routes, counters) = registry::with(|r| {
        let routes: Vec<&'static RouteMetrics> =
            r.routes.values().copied().filter(|m| m.is_used()).collect();
        let counters: BTreeMap<&'static str, Vec<(String, u64)>> = r
            .counters
            .iter()
            .map(|(name, set)| {
                (
                    *name,
                    set.iter().map(|(l, c)| (l.clone(), c.get())).collect(),
                )
            })
            .collect();
        (routes, counters)
    });
    routes.sort_by(|a, b| a.labels.cmp(&b.labels));
    let mut out = String::new();

    let errors: Vec<(&str, u64)> = ErrorCode::ALL
        .iter()
        .zip(ERRORS.iter())
        .map(|(code, n)| (code.info().name, n.load(Ordering::Relaxed)))
        .filter(|(_, n)| *n > 0)
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(out, "# TYPE {ERRORS_TOTAL} counter");
        for (code, n) in errors {
            let _ = writeln!(out, "{ERRORS_TOTAL}{{code=\"{}\"}} {n}", escape(code));
        }
        out.push('\n');
    }

    if !routes.is_empty() {
        let _ = writeln!(out, "# TYPE {REQUESTS} counter");
        for m in &routes {
            for (status, n) in m.statuses() {
                let _ = writeln!(out, "{REQUESTS}{{{},status=\"{status}\"}} {n}", m.labels);
            }
        }
        out.push('\n');
    }

    for (name, set) in counters {
        let _ = writeln!(out, "# TYPE {name} counter");
        for (labels, n) in set {
            if labels.is_empty() {
                let _ = writeln!(out, "{name} {n}");
            } else {
                let _ = writeln!(out, "{name}{{{labels}}} {n}");
            }
        }
        out.push('\n');
    }

    if !routes.is_empty() {
        let _ = writeln!(out, "# TYPE {DURATION} histogram");
        for m in &routes {
            let (cumulative, sum) = m.histogram();
            let l = &m.labels;
            for (le, n) in BUCKETS.iter().zip(cumulative) {
                let _ = writeln!(out, "{DURATION}_bucket{{{l},le=\"{le}\"}} {n}");
            }
            let count = cumulative[BUCKETS.len()];
            let _ = writeln!(out, "{DURATION}_bucket{{{l},le=\"+Inf\"}} {count}");
            let _ = writeln!(out, "{DURATION}_sum{{{l}}} {sum}");
            let _ = writeln!(out, "{DURATION}_count{{{l}}} {count}");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("/plain/"), "/plain/");
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
