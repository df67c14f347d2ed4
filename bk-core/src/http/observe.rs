//! The per-request layer of the common stack: request id, metrics, access log and panic
//! catching in one hand-written service and future (no boxing, no `format!`).
//!
//! axum applies a router's `layer` to each route's endpoint after routing, so the layer
//! sees the [`MatchedPath`] and each endpoint gets its own [`Observe`]: it finds the
//! route's metrics once, on its first request, and keeps them. A panic in the handler
//! (while it is called or polled) becomes the 500 envelope, as `CatchPanicLayer` did,
//! without re-boxing the body.

use std::convert::Infallible;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};
use tracing::Instrument;
use tracing::instrument::Instrumented;

use super::envelope::{self, Style};
use super::metrics::{self, RouteMetrics};
use super::request_id::RequestId;
use crate::error::{ApiError, ErrorCode};
use crate::lang::Lang;
use crate::telemetry::access::{self, AccessLine};

/// Route label of requests no route matched.
const UNMATCHED: &str = "<unmatched>";

/// Adds [`Observe`] to each endpoint; `service` labels metrics and logs.
#[derive(Debug, Clone, Copy)]
pub struct ObserveLayer {
    service: &'static str,
}

impl ObserveLayer {
    /// The layer for `service`.
    pub fn new(service: &'static str) -> Self {
        Self { service }
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            service: self.service,
            metrics: Arc::new(OnceLock::new()),
        }
    }
}

/// One endpoint, observed.
#[derive(Debug, Clone)]
pub struct Observe<S> {
    inner: S,
    service: &'static str,
    /// This endpoint's route metrics, found on its first request.
    metrics: Arc<OnceLock<&'static RouteMetrics>>,
}

impl<S> Observe<S> {
    fn route_metrics(&self, req: &Request) -> &'static RouteMetrics {
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map_or(UNMATCHED, MatchedPath::as_str);
        match self.metrics.get() {
            // One endpoint normally serves one route; compare anyway, in case a router
            // was nested at two places.
            Some(m) if m.route() == route => m,
            _ => {
                let m = metrics::route(self.service, route);
                let _ = self.metrics.set(m);
                m
            }
        }
    }
}

impl<S> Service<Request> for Observe<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ObserveFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let start = Instant::now();
        let id = RequestId::from_header(
            req.headers()
                .get(RequestId::HEADER)
                .and_then(|v| v.to_str().ok()),
        );
        req.extensions_mut().insert(id);
        let metrics = self.route_metrics(&req);
        let method = req.method().clone();
        // Only the path is logged: query strings carry bk_token and secrets. A clone of
        // the URI shares its bytes; the path is cut from it when the line is written.
        let uri = req.uri().clone();
        // With debug logging every line of the request carries its id. At the default
        // `info` the span is disabled and costs a branch per poll.
        let span = tracing::debug_span!("request", request_id = id.as_str());
        let inner = {
            let _entered = span.enter();
            catch_unwind(AssertUnwindSafe(|| self.inner.call(req)))
        };
        ObserveFuture {
            inner: inner.ok().map(|f| f.instrument(span)),
            done: Some(Done {
                service: self.service,
                start,
                id,
                method,
                uri,
                metrics,
            }),
        }
    }
}

/// What the future needs once the answer is there.
struct Done {
    service: &'static str,
    start: Instant,
    id: RequestId,
    method: Method,
    uri: Uri,
    metrics: &'static RouteMetrics,
}

pin_project_lite::pin_project! {
    /// The answer of [`Observe`].
    pub struct ObserveFuture<F> {
        // `None`: the handler panicked when called.
        #[pin]
        inner: Option<Instrumented<F>>,
        done: Option<Done>,
    }
}

impl<F> Future for ObserveFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let resp = match this.inner.as_pin_mut() {
            Some(f) => match catch_unwind(AssertUnwindSafe(|| f.poll(cx))) {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(Ok(r))) => r,
                Ok(Poll::Ready(Err(never))) => match never {},
                Err(_) => panic_response(),
            },
            None => panic_response(),
        };
        Poll::Ready(Ok(match this.done.take() {
            Some(d) => finish(d, resp),
            None => resp,
        }))
    }
}

fn finish(d: Done, mut resp: Response) -> Response {
    let elapsed = d.start.elapsed();
    let status = resp.status().as_u16();
    if let Ok(v) = HeaderValue::from_str(d.id.as_str()) {
        resp.headers_mut().insert(RequestId::HEADER, v);
    }
    d.metrics.record(status, elapsed);
    access::log(&AccessLine {
        service: d.service,
        request_id: d.id.as_str(),
        method: d.method.as_str(),
        path: d.uri.path(),
        status,
        latency_us: elapsed.as_micros() as u64,
    });
    resp
}

fn panic_response() -> Response {
    // Never expected: handlers return errors. Kept so a bug answers in the envelope.
    tracing::error!("handler panicked");
    let mut r = envelope::error(
        Style::Platform,
        Lang::En,
        "",
        &ApiError::new(ErrorCode::Internal),
    );
    *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    r.into_response()
}
