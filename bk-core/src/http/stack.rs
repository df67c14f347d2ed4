//! The middleware every service router gets: request id, access log, metrics, panic
//! catching, envelope 404/405, `/healthz/` and `/metrics`.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tracing::Instrument;

use super::context::ApiContext;
use super::envelope::{self, Style};
use super::request_id::RequestId;
use crate::error::{ApiError, ErrorCode};
use crate::lang::Lang;

/// Wrap a service router with the common stack. `service` labels metrics and logs.
pub fn wrap(router: Router, service: &'static str) -> Router {
    let _ = super::metrics::handle();
    router
        .route_layer(middleware::from_fn(label_route))
        .fallback(not_found)
        .layer(CatchPanicLayer::custom(|_| panic_response()))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            observe(service, req, next)
        }))
}

/// Routes every service exposes: `GET /healthz/` and `GET /metrics`.
pub fn ops_routes() -> Router {
    Router::new()
        .route(
            "/healthz/",
            axum::routing::get(|| async {
                axum::Json(serde_json::json!({"result": true, "status": "ok"}))
            }),
        )
        .route(
            "/healthz",
            axum::routing::get(|| async {
                axum::Json(serde_json::json!({"result": true, "status": "ok"}))
            }),
        )
        .route(
            "/metrics",
            axum::routing::get(|| async {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4",
                    )],
                    super::metrics::render(),
                )
            }),
        )
}

async fn observe(service: &'static str, mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = RequestId::from_header(
        req.headers()
            .get(RequestId::HEADER)
            .and_then(|v| v.to_str().ok()),
    );
    req.extensions_mut().insert(id.clone());
    let method = req.method().clone();
    // Only the path: query strings carry bk_token and secrets and are never logged.
    let path = req.uri().path().to_owned();
    // With debug logging every line of the request carries its id. At the default `info`
    // the span is disabled and costs nothing on this hot path; the access line and every
    // 5xx error line name the id themselves.
    let span = tracing::debug_span!("request", request_id = id.as_str());
    let mut resp = next.run(req).instrument(span).await;
    let route = resp.extensions_mut().remove::<RouteLabel>().map(|r| r.0);
    let elapsed = start.elapsed();
    let status = resp.status().as_u16();
    if let Ok(v) = HeaderValue::from_str(id.as_str()) {
        resp.headers_mut().insert(RequestId::HEADER, v);
    }
    // Only route templates become labels, so label cardinality stays bounded.
    let route = route.unwrap_or_else(|| "<unmatched>".to_owned());
    metrics::counter!("bk_http_requests_total", "service" => service, "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!("bk_http_request_duration_seconds", "service" => service, "route" => route)
        .record(elapsed.as_secs_f64());
    crate::telemetry::access::log(&crate::telemetry::access::AccessLine {
        service,
        request_id: id.as_str(),
        method: method.as_str(),
        path: &path,
        status,
        latency_us: elapsed.as_micros() as u64,
    });
    resp
}

/// The matched route template, carried from routing to the outer observer.
#[derive(Clone)]
struct RouteLabel(String);

async fn label_route(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let mut resp = next.run(req).await;
    if let Some(r) = route {
        resp.extensions_mut().insert(RouteLabel(r));
    }
    resp
}

async fn not_found(req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let ctx = ApiContext::from_parts(&parts);
    ctx.err(ApiError::with_detail(
        ErrorCode::NotFound,
        format!("no route for {} {}", parts.method, parts.uri.path()),
    ))
}

/// The envelope for a request to a known path with the wrong method.
pub async fn method_not_allowed(req: Request) -> Response {
    let (parts, _) = req.into_parts();
    ApiContext::from_parts(&parts).err(ErrorCode::MethodNotAllowed)
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
