//! [`RouterHandle`]: what the engine holds to feed the router and to drain instances.
//!
//! The current snapshot sits behind `arc-swap`: a request does one atomic load, takes no
//! lock and reads no database; `publish` swaps in a new snapshot atomically, so every
//! request sees either the old table or the new one, never a mix.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwap;
use bk_core::clock::{self, Clock};
use bk_core::http::metrics::{self, Counter};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::body::UpBody;
use super::snapshot::{Registry, Snapshot};
use super::table::RouteTable;

/// How the router talks to instances.
#[derive(Debug, Clone)]
pub struct ProxyOptions {
    /// Give up connecting to an instance after this long (then try another one).
    pub connect_timeout: Duration,
    /// Give up waiting for an instance's response head after this long (504); `None`: wait.
    pub response_timeout: Option<Duration>,
    /// Close pooled keep-alive connections idle for this long.
    pub pool_idle_timeout: Duration,
    /// Idle keep-alive connections kept per instance.
    pub pool_max_idle_per_backend: usize,
    /// Instances tried for one request (connect failures; idempotent requests without a
    /// body also after a failure before the response head).
    pub max_attempts: usize,
    /// After a failed connect an instance gets no new requests for this long, unless no
    /// other instance is left.
    pub eject_for: Duration,
    /// Keep incoming `X-Forwarded-Proto`/`X-Forwarded-Host` (set when a trusted proxy,
    /// e.g. a TLS terminator, sits in front); otherwise this hop sets them.
    pub trust_forwarded_headers: bool,
    /// Time for passive health checks.
    pub clock: Arc<dyn Clock>,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(3),
            response_timeout: Some(Duration::from_secs(60)),
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_backend: 256,
            max_attempts: 3,
            eject_for: Duration::from_secs(2),
            trust_forwarded_headers: false,
            clock: clock::system(),
        }
    }
}

/// Whether [`RouterHandle::drain`] saw the instance go idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drained {
    /// No request uses the instance any more: it can be stopped without failing one.
    Idle,
    /// The deadline passed with this many requests (or upgraded connections) still open.
    TimedOut {
        /// Requests still in flight.
        in_flight: usize,
    },
}

/// Counters not tied to one app, made once.
pub(crate) struct Counters {
    pub(crate) not_found: Counter,
    pub(crate) unavailable: Counter,
}

pub(crate) struct Inner {
    pub(crate) snapshot: ArcSwap<Snapshot>,
    registry: Mutex<Registry>,
    pub(crate) client: Client<HttpConnector, UpBody>,
    pub(crate) options: ProxyOptions,
    pub(crate) counters: Counters,
}

/// The app router's shared state; cheap to clone.
#[derive(Clone)]
pub struct RouterHandle {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for RouterHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterHandle")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl RouterHandle {
    /// A router serving nothing until the first [`publish`](Self::publish).
    pub fn new(options: ProxyOptions) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(options.connect_timeout));
        connector.set_keepalive(Some(Duration::from_secs(60)));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(options.pool_idle_timeout)
            .pool_max_idle_per_host(options.pool_max_idle_per_backend)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(connector);
        Self {
            inner: Arc::new(Inner {
                snapshot: ArcSwap::from_pointee(Snapshot::empty()),
                registry: Mutex::new(Registry::default()),
                client,
                options,
                counters: Counters {
                    not_found: metrics::counter("bk_router_not_found_total", &[]),
                    unavailable: metrics::counter("bk_router_unavailable_total", &[]),
                },
            }),
        }
    }

    /// Serve `table` from now on. Instances in both the old and the new table keep their
    /// in-flight counts; requests already running finish on the instance they started on.
    pub fn publish(&self, table: RouteTable) {
        // Publishers are serialised, so two publications cannot interleave their
        // registry updates; requests never take this lock.
        let mut registry = self
            .inner
            .registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let snapshot = registry.compile(table);
        self.inner.snapshot.store(Arc::new(snapshot));
    }

    /// Take `instance` out of rotation (even while a table still lists it) and wait until
    /// no request uses it, or `deadline` passes. The engine calls this after publishing a
    /// table without the instance and before stopping it.
    pub async fn drain(&self, instance: &str, deadline: Duration) -> Drained {
        let state = self
            .inner
            .registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .backend(instance);
        // Unknown or already released by every snapshot and request: nothing in flight.
        let Some(state) = state else {
            return Drained::Idle;
        };
        match state.drain(deadline).await {
            Ok(()) => Drained::Idle,
            Err(in_flight) => Drained::TimedOut { in_flight },
        }
    }

    /// Requests in flight on `instance` now.
    pub fn in_flight(&self, instance: &str) -> usize {
        self.inner
            .registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .backend(instance)
            .map_or(0, |b| b.in_flight())
    }
}
