//! `POST|DELETE /v1/apps/{code}/{env}/releases/` → `{event_id}`, and
//! `GET /v1/apps/{code}/events/{id}/logs/` → `{status, logs, event_type}` (V6 appengine).
//! Callers: the platform's service credentials or the app's own code and secret, in
//! `X-APP-CODE` / `X-APP-TOKEN`. The work runs in the engine; the event is its deployment.

use axum::extract::State;
use axum::http::request::Parts;
use axum::response::Response;
use bk_core::http::ApiContext;
use bk_core::http::extract::Path;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::{AppState, client};
use crate::service::{Caller, DeployRequest};

/// The started operation.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct EventId {
    /// Poll `/v1/apps/{code}/events/{event_id}/logs/`.
    event_id: String,
}

/// An event's state and log.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct EventLogs {
    /// `PENDING`, `STARTED`, `SUCCESS` or `FAILURE`.
    status: String,
    /// The log, lines joined with `\n` (the reason of a failure last).
    logs: String,
    /// `deploy` or `offline`.
    event_type: String,
}

/// V6 envelope of [`EventId`] (documentation).
#[derive(ToSchema)]
#[allow(dead_code)]
pub(super) struct EventIdReply {
    result: bool,
    message: String,
    data: Option<EventId>,
}

/// V6 envelope of [`EventLogs`] (documentation).
#[derive(ToSchema)]
#[allow(dead_code)]
pub(super) struct EventLogsReply {
    result: bool,
    message: String,
    data: Option<EventLogs>,
}

async fn caller(svc: &AppState, parts: &Parts, code: &str) -> crate::error::Result<Caller> {
    let h = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    svc.v6_caller(
        h("x-app-code"),
        h("x-app-token"),
        code,
        &client::address(parts),
    )
    .await
}

/// Release (deploy) the app's default module to `test` or `prod`: an uploaded package
/// (`package`), an earlier release (`release`), or without a body the newest release again.
#[utoipa::path(post, path = "/v1/apps/{code}/{env}/releases/", tag = "appengine",
    params(("code" = String, Path), ("env" = String, Path, description = "test (stag) or prod"), ("X-APP-CODE" = String, Header), ("X-APP-TOKEN" = String, Header)),
    request_body(content = Option<DeployRequest>, description = "Optional"),
    responses((status = 200, description = "`result: false` with a message for client errors", body = EventIdReply), (status = 500, body = EventIdReply), (status = 503, body = EventIdReply)))]
pub(super) async fn release(
    State(svc): State<AppState>,
    ctx: ApiContext,
    parts: Parts,
    Path((code, env)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let who = match caller(&svc, &parts, &code).await {
        Ok(w) => w,
        Err(e) => return ctx.err(e),
    };
    let req = if body.iter().all(u8::is_ascii_whitespace) {
        DeployRequest::default()
    } else {
        match serde_json::from_slice::<DeployRequest>(&body) {
            Ok(r) => r,
            Err(e) => {
                return ctx.err(crate::error::EngineError::Invalid(format!("body: {e}")));
            }
        }
    };
    ctx.reply(
        svc.v6_deploy(&who, &code, &env, req)
            .await
            .map(|d| EventId { event_id: d.id }),
    )
}

/// Take the app's default module offline in `test` or `prod`.
#[utoipa::path(delete, path = "/v1/apps/{code}/{env}/releases/", tag = "appengine",
    params(("code" = String, Path), ("env" = String, Path), ("X-APP-CODE" = String, Header), ("X-APP-TOKEN" = String, Header)),
    responses((status = 200, description = "`result: false` with a message for client errors", body = EventIdReply), (status = 500, body = EventIdReply)))]
pub(super) async fn offline(
    State(svc): State<AppState>,
    ctx: ApiContext,
    parts: Parts,
    Path((code, env)): Path<(String, String)>,
) -> Response {
    let who = match caller(&svc, &parts, &code).await {
        Ok(w) => w,
        Err(e) => return ctx.err(e),
    };
    ctx.reply(
        svc.v6_offline(&who, &code, &env)
            .await
            .map(|d| EventId { event_id: d.id }),
    )
}

/// The state and log of a release or offline event.
#[utoipa::path(get, path = "/v1/apps/{code}/events/{id}/logs/", tag = "appengine",
    params(("code" = String, Path), ("id" = String, Path), ("X-APP-CODE" = String, Header), ("X-APP-TOKEN" = String, Header)),
    responses((status = 200, description = "`result: false` with a message for client errors", body = EventLogsReply), (status = 500, body = EventLogsReply)))]
pub(super) async fn event_logs(
    State(svc): State<AppState>,
    ctx: ApiContext,
    parts: Parts,
    Path((code, id)): Path<(String, String)>,
) -> Response {
    let who = match caller(&svc, &parts, &code).await {
        Ok(w) => w,
        Err(e) => return ctx.err(e),
    };
    ctx.reply(svc.event_log(&who, &code, &id).await.map(|e| EventLogs {
        status: e.deployment.state.v6_status().to_owned(),
        logs: e.text,
        event_type: e.deployment.kind.as_str().to_owned(),
    }))
}
