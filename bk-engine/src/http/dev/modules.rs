//! `/paas/api/v1/apps/{code}/modules/`: list, create, read, make default, delete.

use axum::extract::State;
use axum::response::Response;
use bk_core::ApiError;
use bk_core::http::ApiContext;
use bk_core::http::extract::Json;
use bk_core::http::extract::Path;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::AppState;
use crate::http::auth::Authed;
use crate::http::docs::{Envelope, Failure};
use crate::http::views::ModuleView;
use crate::service::CreateModule;

/// What to change on a module.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ModulePatch {
    /// `true` makes this module the default (the previous default stops being it).
    is_default: bool,
}

/// The modules of an app, default first.
#[utoipa::path(get, path = "/paas/api/v1/apps/{code}/modules/", tag = "modules", params(("code" = String, Path)),
    responses((status = 200, body = Envelope<Vec<ModuleView>>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn list(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path(code): Path<String>,
) -> Response {
    ctx.reply(
        svc.modules(&who, &code)
            .await
            .map(|ms| ms.iter().map(ModuleView::from).collect::<Vec<_>>()),
    )
}

/// Add a module (deploys also create the modules their app_desc declares).
#[utoipa::path(post, path = "/paas/api/v1/apps/{code}/modules/", tag = "modules", params(("code" = String, Path)),
    request_body = CreateModule,
    responses((status = 200, body = Envelope<ModuleView>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, body = Failure)))]
pub(super) async fn create(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path(code): Path<String>,
    Json(body): Json<CreateModule>,
) -> Response {
    ctx.reply(
        svc.create_module(&who, &code, body)
            .await
            .map(|m| ModuleView::from(&m)),
    )
}

/// One module.
#[utoipa::path(get, path = "/paas/api/v1/apps/{code}/modules/{module}/", tag = "modules",
    params(("code" = String, Path), ("module" = String, Path)),
    responses((status = 200, body = Envelope<ModuleView>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn get(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module)): Path<(String, String)>,
) -> Response {
    ctx.reply(
        svc.module(&who, &code, &module)
            .await
            .map(|m| ModuleView::from(&m)),
    )
}

/// Make a module the default.
#[utoipa::path(patch, path = "/paas/api/v1/apps/{code}/modules/{module}/", tag = "modules",
    params(("code" = String, Path), ("module" = String, Path)), request_body = ModulePatch,
    responses((status = 200, body = Envelope<ModuleView>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn update(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module)): Path<(String, String)>,
    Json(body): Json<ModulePatch>,
) -> Response {
    let r = async {
        if !body.is_default {
            return Err(ApiError::invalid(
                "is_default: only true is accepted; make another module the default instead",
            ));
        }
        svc.set_default_module(&who, &code, &module).await?;
        Ok(ModuleView::from(&svc.module(&who, &code, &module).await?))
    }
    .await;
    ctx.reply(r)
}

/// Delete a module that is not the default, with its env vars.
#[utoipa::path(delete, path = "/paas/api/v1/apps/{code}/modules/{module}/", tag = "modules",
    params(("code" = String, Path), ("module" = String, Path)),
    responses((status = 200, body = Envelope<utoipa::TupleUnit>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, description = "The default module", body = Failure)))]
pub(super) async fn delete(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module)): Path<(String, String)>,
) -> Response {
    ctx.reply(svc.delete_module(&who, &code, &module).await)
}
