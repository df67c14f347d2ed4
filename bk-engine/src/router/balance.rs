//! Load balancing: least requests in flight (weighted), ties broken round-robin.
//!
//! Why least-in-flight rather than plain round-robin: the router must count requests in
//! flight per instance anyway (draining waits for that count to reach zero), and with the
//! count at hand a slow or stuck instance stops receiving new requests while the others
//! take them, which round-robin would not notice. The rotating start index spreads load
//! evenly when every instance is idle (the common case at low load).
//!
//! Per-instance state outlives table publications (an instance in the old and the new
//! snapshot keeps its counter), so a deploy switch cannot lose track of requests in flight.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use bk_core::clock::Clock;
use http::uri::Authority;
use tokio::sync::Notify;

use super::snapshot::RouteMeta;

/// The router's view of one instance.
pub(crate) struct BackendState {
    pub(crate) instance: Box<str>,
    pub(crate) authority: Authority,
    pub(crate) route: Arc<RouteMeta>,
    in_flight: AtomicUsize,
    /// Set by `drain`: never chosen again, and `idle` is notified when the count hits 0.
    draining: AtomicBool,
    /// Passive health: after a failed connect the instance is skipped until this time
    /// (ms, from the injected clock); 0 when healthy, so the common path reads no clock.
    down_until: AtomicI64,
    idle: Notify,
}

impl BackendState {
    pub(crate) fn new(instance: &str, authority: Authority, route: Arc<RouteMeta>) -> Self {
        Self {
            instance: instance.into(),
            authority,
            route,
            in_flight: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
            down_until: AtomicI64::new(0),
            idle: Notify::new(),
        }
    }

    /// Requests (and upgraded connections) currently using this instance.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Skip this instance for new requests for `for_ms` (a connect to it just failed).
    pub(crate) fn mark_down(&self, clock: &dyn Clock, for_ms: i64) {
        self.down_until.store(
            clock.now_ms().saturating_add(for_ms).max(1),
            Ordering::Relaxed,
        );
    }

    /// A connect succeeded: the instance is healthy again.
    pub(crate) fn mark_up(&self) {
        if self.down_until.load(Ordering::Relaxed) != 0 {
            self.down_until.store(0, Ordering::Relaxed);
        }
    }

    /// Count a request in. Fails when the instance started draining: the increment comes
    /// before the check and `drain` sets the flag before reading the count (both SeqCst),
    /// so either the request backs off or `drain` sees it and waits for it.
    fn try_enter(self: &Arc<Self>) -> Option<InFlight> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let guard = InFlight {
            backend: Arc::clone(self),
        };
        if self.draining.load(Ordering::SeqCst) {
            return None; // the guard's drop counts the request out again
        }
        Some(guard)
    }

    /// Stop choosing this instance and wait until nothing uses it, or `deadline` passes.
    pub(crate) async fn drain(&self, deadline: Duration) -> Result<(), usize> {
        self.draining.store(true, Ordering::SeqCst);
        let expired = tokio::time::sleep(deadline);
        tokio::pin!(expired);
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            // Registered before the count is read, so a drop in between still wakes us.
            idle.as_mut().enable();
            let n = self.in_flight();
            if n == 0 {
                return Ok(());
            }
            tokio::select! {
                () = &mut idle => {}
                () = &mut expired => return Err(self.in_flight()),
            }
        }
    }
}

/// A request counted against an instance; counts it out when dropped (after the response
/// body ended or the upgraded connection closed).
pub(crate) struct InFlight {
    pub(crate) backend: Arc<BackendState>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let b = &self.backend;
        if b.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 && b.draining.load(Ordering::SeqCst) {
            b.idle.notify_waiters();
        }
    }
}

/// One instance in a route of a snapshot.
pub(crate) struct Live {
    pub(crate) state: Arc<BackendState>,
    pub(crate) weight: u32,
}

/// The instances of a route and the round-robin cursor for ties.
pub(crate) struct Pool {
    pub(crate) backends: Box<[Live]>,
    cursor: AtomicUsize,
}

impl Pool {
    pub(crate) fn new(backends: Vec<Live>) -> Self {
        Self {
            backends: backends.into_boxed_slice(),
            cursor: AtomicUsize::new(0),
        }
    }

    /// Choose an instance and count the request in. `avoid` holds instances that already
    /// failed this request. Instances marked down are used only when nothing else is left
    /// (they may be back), draining and zero-weight ones never.
    pub(crate) fn pick(&self, avoid: &[Arc<BackendState>], clock: &dyn Clock) -> Option<InFlight> {
        let n = self.backends.len();
        if n == 0 {
            return None;
        }
        let start = self.cursor.fetch_add(1, Ordering::Relaxed);
        // An instance found draining while entering is skipped by the next scan (this
        // thread has seen its flag set), so at most n + 1 scans.
        for _ in 0..=n {
            let mut now = None;
            let mut best: Option<(usize, usize)> = None; // (index, load)
            let mut fallback: Option<usize> = None;
            for i in 0..n {
                let idx = start.wrapping_add(i) % n;
                let live = &self.backends[idx];
                let s = &live.state;
                if live.weight == 0
                    || s.draining.load(Ordering::Relaxed)
                    || avoid.iter().any(|a| Arc::ptr_eq(a, s))
                {
                    continue;
                }
                let down = s.down_until.load(Ordering::Relaxed);
                if down != 0 && down > *now.get_or_insert_with(|| clock.now_ms()) {
                    fallback.get_or_insert(idx);
                    continue;
                }
                let load = s.in_flight.load(Ordering::Relaxed);
                let better = match best {
                    None => true,
                    // load/weight < best_load/best_weight, without division.
                    Some((b, b_load)) => {
                        (load as u128) * u128::from(self.backends[b].weight)
                            < (b_load as u128) * u128::from(live.weight)
                    }
                };
                if better {
                    best = Some((idx, load));
                }
            }
            let idx = best.map(|(i, _)| i).or(fallback)?;
            if let Some(guard) = self.backends[idx].state.try_enter() {
                return Some(guard);
            }
        }
        None
    }
}

#[cfg(test)]
#[path = "balance_tests.rs"]
mod tests;
