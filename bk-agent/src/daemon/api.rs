//! The agent's own API, for the engine: instance logs by offset (current or previous run),
//! authenticated by the engine key from the last heartbeat reply; `/healthz/`; and the V6
//! shim `GET /v1/app/healthz` (`X-ID` + `X-TOKEN` → `{"error": 0, "mac": …}`).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bk_core::agent_proto::{HEADER_ENGINE_KEY, HEADER_ID, HEADER_TOKEN};
use bk_core::crypto::constant_time_eq;
use bk_core::instance::InstanceId;
use serde::Deserialize;

use super::Daemon;
use crate::Which;

/// The agent's API router.
pub fn router(daemon: Arc<Daemon>) -> Router {
    Router::new()
        .route("/healthz/", get(|| async { "ok" }))
        .route("/v1/app/healthz", get(v6_healthz))
        .route("/v1/instances/{id}/log", get(log))
        .with_state(daemon)
}

fn refuse(status: StatusCode, msg: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({"result": false, "message": msg})),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct LogQuery {
    #[serde(default)]
    previous: bool,
    #[serde(default)]
    offset: u64,
    #[serde(default = "default_max")]
    max: usize,
}

fn default_max() -> usize {
    64 * 1024
}

async fn log(
    State(d): State<Arc<Daemon>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LogQuery>,
) -> Response {
    let presented = headers
        .get(HEADER_ENGINE_KEY)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    let ok = match d.engine_key().await {
        Some(k) => constant_time_eq(k.as_bytes(), presented),
        None => false,
    };
    if !ok {
        return refuse(StatusCode::FORBIDDEN, "engine key required");
    }
    let Ok(id) = InstanceId::parse(&id) else {
        return refuse(StatusCode::BAD_REQUEST, "not an instance id");
    };
    let which = if q.previous {
        Which::Previous
    } else {
        Which::Current
    };
    match d.supervisor().logs().read(&id, which, q.offset, q.max) {
        Ok(Some(chunk)) => {
            let mut resp = chunk.data.into_response();
            let h = resp.headers_mut();
            h.insert("x-next-offset", HeaderValue::from(chunk.next));
            h.insert("x-lost", HeaderValue::from(chunk.skipped));
            resp
        }
        Ok(None) => refuse(StatusCode::NOT_FOUND, "no such log run"),
        Err(e) => {
            tracing::warn!(error = %e, "reading an instance log");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "could not read the log")
        }
    }
}

/// The first non-loopback interface's MAC address, if the system shows one.
fn mac() -> String {
    let Ok(dir) = std::fs::read_dir("/sys/class/net") else {
        return String::new();
    };
    let mut names: Vec<_> = dir.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    names.sort();
    names
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "lo"))
        .filter_map(|p| std::fs::read_to_string(p.join("address")).ok())
        .map(|s| s.trim().to_owned())
        .find(|s| !s.is_empty() && s != "00:00:00:00:00:00")
        .unwrap_or_default()
}

async fn v6_healthz(State(d): State<Arc<Daemon>>, headers: HeaderMap) -> Response {
    let (id, token) = d.credentials();
    let get = |n: &str| {
        headers
            .get(n)
            .map(HeaderValue::as_bytes)
            .unwrap_or_default()
    };
    let ok = get(HEADER_ID) == id.as_bytes()
        && constant_time_eq(get(HEADER_TOKEN), token.expose().as_bytes());
    if !ok {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(serde_json::json!({"error": 20100, "msg": "agent id or token is wrong"})),
        )
            .into_response();
    }
    axum::Json(serde_json::json!({"error": 0, "mac": mac()})).into_response()
}
