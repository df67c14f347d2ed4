//! `/paas/api/v1/apps/`: list, create, read, update.

use axum::extract::State;
use axum::response::Response;
use bk_core::http::ApiContext;
use bk_core::http::extract::Json;
use bk_core::http::extract::Path;

use crate::http::AppState;
use crate::http::auth::Authed;
use crate::http::docs::{Envelope, Failure};
use crate::http::views::{AppDetailView, AppView, CreatedView};
use crate::service::{CreateApp, UpdateApp};

/// The apps the caller may see (superusers: all).
#[utoipa::path(get, path = "/paas/api/v1/apps/", tag = "apps",
    responses((status = 200, body = Envelope<Vec<AppView>>), (status = 401, body = Failure), (status = 403, body = Failure)))]
pub(super) async fn list(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
) -> Response {
    let r = svc
        .list_apps(&who)
        .await
        .map(|apps| apps.iter().map(AppView::from).collect::<Vec<_>>());
    ctx.reply(r)
}

/// Create an app: the caller becomes its developer; it gets the module `default` and an
/// app secret (in the answer).
#[utoipa::path(post, path = "/paas/api/v1/apps/", tag = "apps", request_body = CreateApp,
    responses((status = 200, body = Envelope<CreatedView>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 409, description = "Code or name taken", body = Failure)))]
pub(super) async fn create(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Json(body): Json<CreateApp>,
) -> Response {
    ctx.reply(
        svc.create_app(&who, body)
            .await
            .map(|c| CreatedView::from(&c)),
    )
}

/// One app with its modules and members. Apps the caller may not see answer 404.
#[utoipa::path(get, path = "/paas/api/v1/apps/{code}/", tag = "apps", params(("code" = String, Path)),
    responses((status = 200, body = Envelope<AppDetailView>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn get(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path(code): Path<String>,
) -> Response {
    ctx.reply(
        svc.app_detail(&who, &code)
            .await
            .map(|d| AppDetailView::from(&d)),
    )
}

/// Change name, description, language; superusers also `prod_protected`.
#[utoipa::path(patch, path = "/paas/api/v1/apps/{code}/", tag = "apps", params(("code" = String, Path)),
    request_body = UpdateApp,
    responses((status = 200, body = Envelope<AppView>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, body = Failure)))]
pub(super) async fn update(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path(code): Path<String>,
    Json(body): Json<UpdateApp>,
) -> Response {
    ctx.reply(
        svc.update_app(&who, &code, body)
            .await
            .map(|a| AppView::from(&a)),
    )
}
