//! `/paas/api/v1/apps/{code}/env_vars/`: list, bulk set, unset.

use axum::extract::State;
use axum::response::Response;
use bk_core::http::ApiContext;
use bk_core::http::extract::Path;
use bk_core::http::extract::{Json, Query};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::AppState;
use crate::http::auth::Authed;
use crate::http::docs::{Envelope, Failure};
use crate::http::views::EnvVarView;
use crate::service::{EnvVarQuery, SetEnvVar, UnsetEnvVar};

/// Vars to set, all or none.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SetVars {
    /// 1-500 vars; (module, scope, key) must not repeat.
    vars: Vec<SetEnvVar>,
}

/// How many were set.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SetResult {
    set: usize,
}

/// The app's env vars (values included: the caller is a developer of the app).
#[utoipa::path(get, path = "/paas/api/v1/apps/{code}/env_vars/", tag = "env_vars",
    params(("code" = String, Path), EnvVarQuery),
    responses((status = 200, body = Envelope<Vec<EnvVarView>>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn list(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path(code): Path<String>,
    Query(q): Query<EnvVarQuery>,
) -> Response {
    ctx.reply(
        svc.env_vars(&who, &code, &q)
            .await
            .map(|vs| vs.iter().map(EnvVarView::from).collect::<Vec<_>>()),
    )
}

/// Set (insert or replace) vars in one transaction.
#[utoipa::path(post, path = "/paas/api/v1/apps/{code}/env_vars/", tag = "env_vars",
    params(("code" = String, Path)), request_body = SetVars,
    responses((status = 200, body = Envelope<SetResult>), (status = 400, description = "The message names the var and field", body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn set(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path(code): Path<String>,
    Json(body): Json<SetVars>,
) -> Response {
    ctx.reply(
        svc.set_env_vars(&who, &code, body.vars)
            .await
            .map(|set| SetResult { set }),
    )
}

/// Remove one var.
#[utoipa::path(delete, path = "/paas/api/v1/apps/{code}/env_vars/{key}/", tag = "env_vars",
    params(("code" = String, Path), ("key" = String, Path), UnsetEnvVar),
    responses((status = 200, body = Envelope<utoipa::TupleUnit>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn unset(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, key)): Path<(String, String)>,
    Query(q): Query<UnsetEnvVar>,
) -> Response {
    ctx.reply(svc.unset_env_var(&who, &code, &key, &q).await)
}
