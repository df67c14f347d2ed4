//! `/paas/api/v1/apps/{code}/members/`: list, add, remove.

use axum::extract::State;
use axum::response::Response;
use bk_core::http::ApiContext;
use bk_core::http::extract::Json;
use bk_core::http::extract::Path;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::AppState;
use crate::http::auth::Authed;
use crate::http::docs::{Envelope, Failure};
use crate::http::views::MemberView;

/// A user to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AddMember {
    /// An existing superuser or developer.
    username: String,
}

/// The members of an app.
#[utoipa::path(get, path = "/paas/api/v1/apps/{code}/members/", tag = "members", params(("code" = String, Path)),
    responses((status = 200, body = Envelope<Vec<MemberView>>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn list(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path(code): Path<String>,
) -> Response {
    ctx.reply(
        svc.members(&who, &code)
            .await
            .map(|ms| ms.iter().map(MemberView::from).collect::<Vec<_>>()),
    )
}

/// Add a developer.
#[utoipa::path(post, path = "/paas/api/v1/apps/{code}/members/", tag = "members", params(("code" = String, Path)),
    request_body = AddMember,
    responses((status = 200, body = Envelope<MemberView>), (status = 400, description = "Unknown user or wrong role", body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, body = Failure)))]
pub(super) async fn add(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path(code): Path<String>,
    Json(body): Json<AddMember>,
) -> Response {
    ctx.reply(
        svc.add_member(&who, &code, &body.username)
            .await
            .map(|m| MemberView::from(&m)),
    )
}

/// Remove a member (not the last developer).
#[utoipa::path(delete, path = "/paas/api/v1/apps/{code}/members/{username}/", tag = "members",
    params(("code" = String, Path), ("username" = String, Path)),
    responses((status = 200, body = Envelope<utoipa::TupleUnit>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, description = "The last developer", body = Failure)))]
pub(super) async fn remove(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, username)): Path<(String, String)>,
) -> Response {
    ctx.reply(svc.remove_member(&who, &code, &username).await)
}
