//! `/paas/api/v1/apps/{code}/modules/{module}/...`: packages, releases, deployments
//! (create, get, list, cancel, logs with `?follow=1` as SSE), rollback, offline.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use bk_core::http::ApiContext;
use bk_core::http::extract::Path;
use bk_core::http::extract::{Json, Query};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::AppState;
use crate::http::auth::Authed;
use crate::http::docs::{Envelope, Failure};
use crate::model::Release;
use crate::service::{DeployRequest, DeploymentView, LogsView, UploadedView};

/// A release as clients see it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReleaseView {
    id: String,
    module: String,
    env: String,
    version: String,
    package_digest: String,
    package_size: u64,
    /// Process types with replicas from the package.
    processes: Vec<ProcessSummary>,
    /// `upload` or `rollback`.
    source: String,
    /// For a rollback: the release copied.
    rollback_of: Option<String>,
    created_by: String,
    created_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProcessSummary {
    name: String,
    command: String,
    replicas: u32,
}

impl From<&Release> for ReleaseView {
    fn from(r: &Release) -> Self {
        let (source, rollback_of) = match &r.source {
            crate::model::ReleaseSource::Upload => ("upload", None),
            crate::model::ReleaseSource::Rollback { from } => ("rollback", Some(from.clone())),
        };
        Self {
            id: r.id.clone(),
            module: r.module.as_str().to_owned(),
            env: r.env.v7_name().to_owned(),
            version: r.version.clone(),
            package_digest: r.package_digest.clone(),
            package_size: r.package_size,
            processes: r
                .formation
                .processes
                .iter()
                .map(|p| ProcessSummary {
                    name: p.name.clone(),
                    command: p.command.clone(),
                    replicas: p.replicas,
                })
                .collect(),
            source: source.to_owned(),
            rollback_of,
            created_by: r.created_by.clone(),
            created_at: r.created_at,
        }
    }
}

/// Upload a package (the raw `.tar.gz` as the body, `Content-Type: application/gzip`).
#[utoipa::path(post, path = "/paas/api/v1/apps/{code}/modules/{module}/packages/", tag = "deploy",
    params(("code" = String, Path), ("module" = String, Path)),
    request_body(content = Vec<u8>, content_type = "application/gzip"),
    responses((status = 200, body = Envelope<UploadedView>), (status = 400, description = "The message names the file and field", body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn upload(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    ctx.reply(
        svc.upload_package(&who, &code, &module, body.to_vec())
            .await,
    )
}

/// Releases of the module, newest first.
#[utoipa::path(get, path = "/paas/api/v1/apps/{code}/modules/{module}/releases/", tag = "deploy",
    params(("code" = String, Path), ("module" = String, Path)),
    responses((status = 200, body = Envelope<Vec<ReleaseView>>), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn releases(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module)): Path<(String, String)>,
) -> Response {
    ctx.reply(
        svc.list_releases(&who, &code, &module)
            .await
            .map(|rs| rs.iter().map(ReleaseView::from).collect::<Vec<_>>()),
    )
}

/// Deploy an uploaded package or an earlier release; answers at once with the deployment
/// (state `pending`), which the engine drives to `succeeded`, `failed`, `cancelled` or
/// `timed_out`.
#[utoipa::path(post, path = "/paas/api/v1/apps/{code}/modules/{module}/envs/{env}/deployments/", tag = "deploy",
    params(("code" = String, Path), ("module" = String, Path), ("env" = String, Path, description = "stag (or test) or prod")),
    request_body = DeployRequest,
    responses((status = 200, body = Envelope<DeploymentView>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, description = "Another operation of the slot runs, or the app state forbids it", body = Failure)))]
pub(super) async fn create(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module, env)): Path<(String, String, String)>,
    Json(body): Json<DeployRequest>,
) -> Response {
    ctx.reply(svc.deploy(&who, &code, &module, &env, body).await)
}

/// Which release to roll back to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RollbackBody {
    /// An earlier release of the module.
    release: String,
}

/// Deploy a copy of an earlier release (code and config) as a new release.
#[utoipa::path(post, path = "/paas/api/v1/apps/{code}/modules/{module}/envs/{env}/rollback/", tag = "deploy",
    params(("code" = String, Path), ("module" = String, Path), ("env" = String, Path)),
    request_body = RollbackBody,
    responses((status = 200, body = Envelope<DeploymentView>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, body = Failure)))]
pub(super) async fn rollback(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module, env)): Path<(String, String, String)>,
    Json(body): Json<RollbackBody>,
) -> Response {
    ctx.reply(
        svc.rollback(&who, &code, &module, &env, &body.release)
            .await,
    )
}

/// Take the module offline in this environment.
#[utoipa::path(post, path = "/paas/api/v1/apps/{code}/modules/{module}/envs/{env}/offline/", tag = "deploy",
    params(("code" = String, Path), ("module" = String, Path), ("env" = String, Path)),
    responses((status = 200, body = Envelope<DeploymentView>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, body = Failure)))]
pub(super) async fn offline(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module, env)): Path<(String, String, String)>,
) -> Response {
    ctx.reply(svc.offline(&who, &code, &module, &env).await)
}

/// Paging of lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    /// Most entries (default 20, at most 1000).
    #[serde(default)]
    limit: Option<u32>,
    /// Entries to skip.
    #[serde(default)]
    offset: Option<u32>,
}

/// Deployments and offline operations of the module, newest first.
#[utoipa::path(get, path = "/paas/api/v1/apps/{code}/modules/{module}/deployments/", tag = "deploy",
    params(("code" = String, Path), ("module" = String, Path), ListQuery),
    responses((status = 200, body = Envelope<Vec<DeploymentView>>), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn list(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Response {
    ctx.reply(
        svc.list_deployments(
            &who,
            &code,
            Some(&module),
            q.limit.unwrap_or(20),
            q.offset.unwrap_or(0),
        )
        .await,
    )
}

/// One deployment: state and the reason for it.
#[utoipa::path(get, path = "/paas/api/v1/apps/{code}/modules/{module}/deployments/{id}/", tag = "deploy",
    params(("code" = String, Path), ("module" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Envelope<DeploymentView>), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn get(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, _module, id)): Path<(String, String, String)>,
) -> Response {
    ctx.reply(svc.get_deployment(&who, &code, &id).await)
}

/// Stop a running deployment; the previous release keeps serving.
#[utoipa::path(post, path = "/paas/api/v1/apps/{code}/modules/{module}/deployments/{id}/cancel/", tag = "deploy",
    params(("code" = String, Path), ("module" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Envelope<DeploymentView>), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, description = "Already ended", body = Failure)))]
pub(super) async fn cancel(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, _module, id)): Path<(String, String, String)>,
) -> Response {
    ctx.reply(svc.cancel_deployment(&who, &code, &id).await)
}

/// Where to read a deployment log from.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct LogQuery {
    /// Lines after this sequence number (0: from the start).
    #[serde(default)]
    after: Option<i64>,
    /// `1`: a `text/event-stream` of `line` events (`{seq, at, line}`) and `state` events
    /// (`{state}`, whenever the state changes) until the deployment ends, then an `end`
    /// event with the final state.
    #[serde(default)]
    follow: Option<u8>,
}

/// The deployment log (JSON), or followed as server-sent events.
#[utoipa::path(get, path = "/paas/api/v1/apps/{code}/modules/{module}/deployments/{id}/logs/", tag = "deploy",
    params(("code" = String, Path), ("module" = String, Path), ("id" = String, Path), LogQuery),
    responses((status = 200, body = Envelope<LogsView>, description = "JSON, or `text/event-stream` with `follow=1`"), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn logs(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, _module, id)): Path<(String, String, String)>,
    Query(q): Query<LogQuery>,
) -> Response {
    let after = q.after.unwrap_or(0);
    let first = match svc.deployment_logs(&who, &code, &id, after).await {
        Ok(v) => v,
        Err(e) => return ctx.err(e),
    };
    if q.follow != Some(1) {
        return ctx.reply(Ok::<_, crate::error::EngineError>(first));
    }
    let state = FollowState {
        svc,
        who,
        code,
        id,
        after: first.next,
        pending: Some(first),
        ended: false,
        announced: None,
    };
    let stream =
        futures_util::stream::unfold(state, follow_step).flat_map(futures_util::stream::iter);
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

struct FollowState {
    svc: AppState,
    who: crate::service::Caller,
    code: String,
    id: String,
    after: i64,
    pending: Option<LogsView>,
    ended: bool,
    /// The state last announced with a `state` event.
    announced: Option<crate::model::DeployState>,
}

/// One step of a follow: the next lines, or the `end` event, or a short wait.
async fn follow_step(mut st: FollowState) -> Option<(Vec<Result<Event, Infallible>>, FollowState)> {
    if st.ended {
        return None;
    }
    loop {
        let view = match st.pending.take() {
            Some(v) => v,
            None => match st
                .svc
                .deployment_logs(&st.who, &st.code, &st.id, st.after)
                .await
            {
                Ok(v) => v,
                Err(_) => return None,
            },
        };
        st.after = view.next;
        let mut events: Vec<Result<Event, Infallible>> = Vec::new();
        if st.announced != Some(view.state) && !view.finished {
            st.announced = Some(view.state);
            events.push(Ok(Event::default()
                .event("state")
                .data(serde_json::json!({"state": view.state}).to_string())));
        }
        events.extend(view.lines.iter().map(|l| {
            Ok(Event::default()
                .event("line")
                .id(l.seq.to_string())
                .data(serde_json::to_string(l).unwrap_or_default()))
        }));
        if view.finished && view.lines.len() < 1000 {
            events.push(Ok(Event::default()
                .event("end")
                .data(serde_json::json!({"state": view.state}).to_string())));
            st.ended = true;
        }
        if !events.is_empty() {
            return Some((events, st));
        }
        // The log lives in the database, which other engine processes may write: a short
        // server-side wait rather than a notification that only this process would see.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
