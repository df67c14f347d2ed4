//! `/api/esb/admin/grants/`, `/skip-user-auth/`, `/ratelimits/`.

use axum::extract::{Path, State};
use axum::response::Response;
use bk_core::ApiError;
use bk_core::http::ApiContext;
use bk_core::http::docs::{Envelope, Failure};
use bk_core::http::extract::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AdminState, Authed};
use crate::model::{Grant, RateLimit};

pub(super) fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(list_grants, put_grant))
        .routes(routes!(delete_grant))
        .routes(routes!(list_skip))
        .routes(routes!(add_skip, remove_skip))
        .routes(routes!(list_limits, put_limit))
        .routes(routes!(delete_limit))
}

fn done<T>(r: crate::error::Result<T>) -> Result<T, ApiError> {
    r.map_err(ApiError::from)
}

/// Every grant.
#[utoipa::path(get, path = "/api/esb/admin/grants/", tag = "access",
    responses((status = 200, body = Envelope<Vec<Grant>>), (status = 401, body = Failure), (status = 403, body = Failure)))]
pub(super) async fn list_grants(
    ctx: ApiContext,
    Authed(who): Authed,
    State(s): State<AdminState>,
) -> Response {
    ctx.reply(done(s.svc.grants(&who).await))
}

/// Let an app call a component of `perm_level` > 0 (until `expires_at`, ms, if given).
#[utoipa::path(post, path = "/api/esb/admin/grants/", tag = "access", request_body = Grant,
    responses((status = 200, body = Envelope<Grant>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure)))]
pub(super) async fn put_grant(
    ctx: ApiContext,
    Authed(who): Authed,
    State(s): State<AdminState>,
    Json(body): Json<Grant>,
) -> Response {
    ctx.reply(done(s.svc.put_grant(&who, body).await))
}

/// Revoke a grant.
#[utoipa::path(delete, path = "/api/esb/admin/grants/{app_code}/{component}/", tag = "access",
    params(("app_code" = String, Path), ("component" = String, Path, description = "`<SYSTEM>.<name>`")),
    responses((status = 200, body = Envelope<bool>), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn delete_grant(
    ctx: ApiContext,
    Authed(who): Authed,
    State(s): State<AdminState>,
    Path((app, comp)): Path<(String, String)>,
) -> Response {
    ctx.reply(done(
        s.svc.delete_grant(&who, &app, &comp).await.map(|()| true),
    ))
}

/// Apps that may name a user with `bk_username` alone.
#[utoipa::path(get, path = "/api/esb/admin/skip-user-auth/", tag = "access",
    responses((status = 200, body = Envelope<Vec<String>>), (status = 401, body = Failure), (status = 403, body = Failure)))]
pub(super) async fn list_skip(
    ctx: ApiContext,
    Authed(who): Authed,
    State(s): State<AdminState>,
) -> Response {
    ctx.reply(done(s.svc.skip_user_auth(&who).await))
}

/// Put an app on the allow-list.
#[utoipa::path(put, path = "/api/esb/admin/skip-user-auth/{app_code}/", tag = "access", params(("app_code" = String, Path)),
    responses((status = 200, body = Envelope<bool>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure)))]
pub(super) async fn add_skip(
    ctx: ApiContext,
    Authed(who): Authed,
    State(s): State<AdminState>,
    Path(app): Path<String>,
) -> Response {
    ctx.reply(done(
        s.svc.add_skip_user_auth(&who, &app).await.map(|()| true),
    ))
}

/// Take an app off the allow-list.
#[utoipa::path(delete, path = "/api/esb/admin/skip-user-auth/{app_code}/", tag = "access", params(("app_code" = String, Path)),
    responses((status = 200, body = Envelope<bool>), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn remove_skip(
    ctx: ApiContext,
    Authed(who): Authed,
    State(s): State<AdminState>,
    Path(app): Path<String>,
) -> Response {
    ctx.reply(done(
        s.svc.remove_skip_user_auth(&who, &app).await.map(|()| true),
    ))
}

/// Rate limits of every component that has some.
#[utoipa::path(get, path = "/api/esb/admin/ratelimits/", tag = "access",
    responses((status = 200, body = Envelope<Vec<RateLimit>>), (status = 401, body = Failure), (status = 403, body = Failure)))]
pub(super) async fn list_limits(
    ctx: ApiContext,
    Authed(who): Authed,
    State(s): State<AdminState>,
) -> Response {
    ctx.reply(done(s.svc.rate_limits(&who).await))
}

/// Set a component's rules: `{"component": "BK_LOGIN.get_user", "conf": {"app_ratelimit":
/// {"__default": [{"tokens": 100, "minute": 1}]}}}`.
#[utoipa::path(post, path = "/api/esb/admin/ratelimits/", tag = "access", request_body = RateLimit,
    responses((status = 200, body = Envelope<RateLimit>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure)))]
pub(super) async fn put_limit(
    ctx: ApiContext,
    Authed(who): Authed,
    State(s): State<AdminState>,
    Json(body): Json<RateLimit>,
) -> Response {
    ctx.reply(done(s.svc.put_rate_limit(&who, body).await))
}

/// Remove a component's rules.
#[utoipa::path(delete, path = "/api/esb/admin/ratelimits/{component}/", tag = "access", params(("component" = String, Path)),
    responses((status = 200, body = Envelope<bool>), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn delete_limit(
    ctx: ApiContext,
    Authed(who): Authed,
    State(s): State<AdminState>,
    Path(comp): Path<String>,
) -> Response {
    ctx.reply(done(
        s.svc.delete_rate_limit(&who, &comp).await.map(|()| true),
    ))
}
