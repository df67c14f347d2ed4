//! `/paas/api/v1/apps/{code}/modules/{module}/envs/{env}/processes/...` and instance logs.

use std::convert::Infallible;
use std::time::Duration;

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
use crate::model::SlotRecord;
use crate::service::{InstanceView, LogRead};

/// The slot after a change.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct FormationView {
    release_id: Option<String>,
    generation: u32,
    /// Replicas set by scaling, per process type (others run as the release says).
    replicas: std::collections::BTreeMap<String, u32>,
    stopped: bool,
}

impl From<SlotRecord> for FormationView {
    fn from(r: SlotRecord) -> Self {
        Self {
            release_id: r.release_id,
            generation: r.generation,
            replicas: r.replicas,
            stopped: r.stopped,
        }
    }
}

type P3 = Path<(String, String, String)>;

/// Instances with state, restarts, port, host and uptime.
#[utoipa::path(get, path = "/paas/api/v1/apps/{code}/modules/{module}/envs/{env}/processes/", tag = "processes",
    params(("code" = String, Path), ("module" = String, Path), ("env" = String, Path)),
    responses((status = 200, body = Envelope<Vec<InstanceView>>), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn list(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module, env)): P3,
) -> Response {
    ctx.reply(svc.instances(&who, &code, &module, &env).await)
}

/// How many instances.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ScaleBody {
    /// 0-20.
    replicas: u32,
}

/// Run this many instances of a process type; returns once they serve (or the previous
/// formation is back, with the reason).
#[utoipa::path(post, path = "/paas/api/v1/apps/{code}/modules/{module}/envs/{env}/processes/{process_type}/scale/", tag = "processes",
    params(("code" = String, Path), ("module" = String, Path), ("env" = String, Path), ("process_type" = String, Path)),
    request_body = ScaleBody,
    responses((status = 200, body = Envelope<FormationView>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, body = Failure)))]
pub(super) async fn scale(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module, env, ptype)): Path<(String, String, String, String)>,
    Json(body): Json<ScaleBody>,
) -> Response {
    ctx.reply(
        svc.scale(&who, &code, &module, &env, &ptype, body.replicas)
            .await
            .map(FormationView::from),
    )
}

/// Replace every instance with a new one, without failing a request.
#[utoipa::path(post, path = "/paas/api/v1/apps/{code}/modules/{module}/envs/{env}/processes/restart/", tag = "processes",
    params(("code" = String, Path), ("module" = String, Path), ("env" = String, Path)),
    responses((status = 200, body = Envelope<FormationView>), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, body = Failure)))]
pub(super) async fn restart(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module, env)): P3,
) -> Response {
    ctx.reply(
        svc.restart(&who, &code, &module, &env)
            .await
            .map(FormationView::from),
    )
}

/// Stop every instance (the release stays; start brings it back).
#[utoipa::path(post, path = "/paas/api/v1/apps/{code}/modules/{module}/envs/{env}/processes/stop/", tag = "processes",
    params(("code" = String, Path), ("module" = String, Path), ("env" = String, Path)),
    responses((status = 200, body = Envelope<FormationView>), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, body = Failure)))]
pub(super) async fn stop(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module, env)): P3,
) -> Response {
    ctx.reply(
        svc.set_stopped(&who, &code, &module, &env, true)
            .await
            .map(FormationView::from),
    )
}

/// Start the stopped instances again.
#[utoipa::path(post, path = "/paas/api/v1/apps/{code}/modules/{module}/envs/{env}/processes/start/", tag = "processes",
    params(("code" = String, Path), ("module" = String, Path), ("env" = String, Path)),
    responses((status = 200, body = Envelope<FormationView>), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, body = Failure)))]
pub(super) async fn start(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module, env)): P3,
) -> Response {
    ctx.reply(
        svc.set_stopped(&who, &code, &module, &env, false)
            .await
            .map(FormationView::from),
    )
}

/// Which part of an instance log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct InstanceLogQuery {
    /// `1`: the previous process of the instance (why it died).
    #[serde(default)]
    previous: Option<u8>,
    /// Byte offset to read from; absent: the last `max` bytes.
    #[serde(default)]
    offset: Option<u64>,
    /// Most bytes (default 64 KiB, at most 1 MiB).
    #[serde(default)]
    max: Option<usize>,
    /// `1`: a `text/event-stream` of `data` events (text chunks) as the log grows.
    #[serde(default)]
    follow: Option<u8>,
}

/// A piece of an instance log.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct InstanceLogView {
    /// The text (invalid UTF-8 replaced).
    text: String,
    /// Offset to read from next.
    next_offset: u64,
    /// Bytes rotation removed before what was asked.
    lost: u64,
}

/// stdout/stderr of an instance: tail, from an offset, previous process, or followed.
#[utoipa::path(get, path = "/paas/api/v1/apps/{code}/modules/{module}/envs/{env}/instances/{instance}/logs/", tag = "processes",
    params(("code" = String, Path), ("module" = String, Path), ("env" = String, Path), ("instance" = String, Path), InstanceLogQuery),
    responses((status = 200, body = Envelope<InstanceLogView>, description = "JSON, or `text/event-stream` with `follow=1`"), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn logs(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module, env, instance)): Path<(String, String, String, String)>,
    Query(q): Query<InstanceLogQuery>,
) -> Response {
    let previous = q.previous == Some(1);
    let max = q.max.unwrap_or(64 * 1024).clamp(1, 1 << 20);
    let read = LogRead {
        previous,
        offset: q.offset,
        max,
    };
    let first = match svc
        .instance_log(&who, &code, &module, &env, &instance, read)
        .await
    {
        Ok(c) => c,
        Err(e) => return ctx.err(e),
    };
    if q.follow != Some(1) {
        return ctx.reply(Ok::<_, crate::error::EngineError>(InstanceLogView {
            text: String::from_utf8_lossy(&first.data).into_owned(),
            next_offset: first.next_offset,
            lost: first.lost,
        }));
    }
    let st = FollowLog {
        svc,
        who,
        code,
        module,
        env,
        instance,
        previous,
        max,
        pending: Some(first),
        next: 0,
    };
    let stream = futures_util::stream::unfold(st, follow_log_step).boxed();
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

struct FollowLog {
    svc: AppState,
    who: crate::service::Caller,
    code: String,
    module: String,
    env: String,
    instance: String,
    previous: bool,
    max: usize,
    pending: Option<crate::deploy::backend::LogChunk>,
    next: u64,
}

/// The next piece of the log as a `data` event, or (nothing new) a comment after a short
/// wait: instance logs are files on the host that runs the instance, offered as reads.
async fn follow_log_step(mut st: FollowLog) -> Option<(Result<Event, Infallible>, FollowLog)> {
    let chunk = match st.pending.take() {
        Some(c) => c,
        None => {
            let read = LogRead {
                previous: st.previous,
                offset: Some(st.next),
                max: st.max,
            };
            st.svc
                .instance_log(&st.who, &st.code, &st.module, &st.env, &st.instance, read)
                .await
                .ok()?
        }
    };
    st.next = chunk.next_offset;
    if !chunk.data.is_empty() {
        let ev = Event::default()
            .event("data")
            .data(String::from_utf8_lossy(&chunk.data));
        return Some((Ok(ev), st));
    }
    tokio::time::sleep(Duration::from_millis(250)).await;
    Some((Ok(Event::default().comment("")), st))
}
