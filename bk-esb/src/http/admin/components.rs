//! `/api/esb/admin/systems/`, `/channels/`, `/apis/` (self-service components).

use axum::extract::{Path, State};
use axum::response::Response;
use bk_core::ApiError;
use bk_core::http::ApiContext;
use bk_core::http::docs::{Envelope, Failure};
use bk_core::http::extract::{Json, Query};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AdminState, Authed};
use crate::model::{Channel, SelfServiceApi, System};

pub(super) fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(list_systems, put_system))
        .routes(routes!(delete_system))
        .routes(routes!(list_channels, put_channel, delete_channel))
        .routes(routes!(list_apis, put_api))
        .routes(routes!(delete_api))
}

fn done<T>(r: crate::error::Result<T>) -> Result<T, ApiError> {
    r.map_err(ApiError::from)
}

/// Every stored system (the built-in ones too when replaced).
#[utoipa::path(get, path = "/api/esb/admin/systems/", tag = "components",
    responses((status = 200, body = Envelope<Vec<System>>), (status = 401, body = Failure), (status = 403, body = Failure)))]
pub(super) async fn list_systems(
    ctx: ApiContext,
    Authed(who): Authed,
    State(s): State<AdminState>,
) -> Response {
    ctx.reply(done(s.svc.systems(&who).await))
}

/// Create or replace a system (by name).
#[utoipa::path(post, path = "/api/esb/admin/systems/", tag = "components", request_body = System,
    responses((status = 200, body = Envelope<System>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure)))]
pub(super) async fn put_system(
    ctx: ApiContext,
    Authed(who): Authed,
    State(s): State<AdminState>,
    Json(body): Json<System>,
) -> Response {
    ctx.reply(done(s.svc.put_system(&who, body).await))
}

/// Delete a system that has no stored components.
#[utoipa::path(delete, path = "/api/esb/admin/systems/{name}/", tag = "components", params(("name" = String, Path)),
    responses((status = 200, body = Envelope<bool>), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, body = Failure)))]
pub(super) async fn delete_system(
    ctx: ApiContext,
    Authed(who): Authed,
    State(s): State<AdminState>,
    Path(name): Path<String>,
) -> Response {
    ctx.reply(done(s.svc.delete_system(&who, &name).await.map(|()| true)))
}

/// Stored channels (built-in channels not replaced are not listed: see `esb/get_components`).
#[utoipa::path(get, path = "/api/esb/admin/channels/", tag = "components",
    responses((status = 200, body = Envelope<Vec<Channel>>), (status = 401, body = Failure), (status = 403, body = Failure)))]
pub(super) async fn list_channels(
    ctx: ApiContext,
    Authed(who): Authed,
    State(s): State<AdminState>,
) -> Response {
    ctx.reply(done(s.svc.channels(&who).await))
}

/// Create or replace the channel at a path (replacing a built-in one changes its level,
/// timeout, activity...; `component_codename` must name a compiled component).
#[utoipa::path(post, path = "/api/esb/admin/channels/", tag = "components", request_body = Channel,
    responses((status = 200, body = Envelope<Channel>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure)))]
pub(super) async fn put_channel(
    ctx: ApiContext,
    Authed(who): Authed,
    State(s): State<AdminState>,
    Json(body): Json<Channel>,
) -> Response {
    ctx.reply(done(s.svc.put_channel(&who, body).await))
}

/// Which channel.
#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct ChannelPath {
    /// The channel's path, e.g. `/bk_login/get_user/`.
    path: String,
}

/// Delete the stored channel at `path` (a built-in channel returns to its defaults).
#[utoipa::path(delete, path = "/api/esb/admin/channels/", tag = "components", params(ChannelPath),
    responses((status = 200, body = Envelope<bool>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn delete_channel(
    ctx: ApiContext,
    Authed(who): Authed,
    State(s): State<AdminState>,
    Query(q): Query<ChannelPath>,
) -> Response {
    ctx.reply(done(
        s.svc.delete_channel(&who, &q.path).await.map(|()| true),
    ))
}

/// Self-service HTTP components.
#[utoipa::path(get, path = "/api/esb/admin/apis/", tag = "components",
    responses((status = 200, body = Envelope<Vec<SelfServiceApi>>), (status = 401, body = Failure), (status = 403, body = Failure)))]
pub(super) async fn list_apis(
    ctx: ApiContext,
    Authed(who): Authed,
    State(s): State<AdminState>,
) -> Response {
    ctx.reply(done(s.svc.apis(&who).await))
}

/// Create or replace a self-service component (by system and name), served at
/// `/api/c/self-service-api/<registed_path>`.
#[utoipa::path(post, path = "/api/esb/admin/apis/", tag = "components", request_body = SelfServiceApi,
    responses((status = 200, body = Envelope<SelfServiceApi>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 409, body = Failure)))]
pub(super) async fn put_api(
    ctx: ApiContext,
    Authed(who): Authed,
    State(s): State<AdminState>,
    Json(body): Json<SelfServiceApi>,
) -> Response {
    ctx.reply(done(s.svc.put_api(&who, body).await))
}

/// Delete a self-service component.
#[utoipa::path(delete, path = "/api/esb/admin/apis/{system}/{name}/", tag = "components",
    params(("system" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = Envelope<bool>), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn delete_api(
    ctx: ApiContext,
    Authed(who): Authed,
    State(s): State<AdminState>,
    Path((system, name)): Path<(String, String)>,
) -> Response {
    ctx.reply(done(
        s.svc.delete_api(&who, &system, &name).await.map(|()| true),
    ))
}
