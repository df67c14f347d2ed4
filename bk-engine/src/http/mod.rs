//! HTTP surface of the engine: the developer API (`/paas/api/v1/`, platform envelope), the
//! V7 resource paths (`/paas/api/bkapps/...`, bare BK shapes) and the V6 appengine API
//! (`/v1/`, `{result, message, data}`), each with its OpenAPI document and a Swagger UI.
//! Every route is registered together with its OpenAPI description, so none exists
//! undocumented. Developer API and V7 calls whose `Origin`/`Referer` is an app's are
//! refused ([`origin`], checked by the extractor that authenticates the caller).

pub mod agent;
mod agents_admin;
mod auth;
pub(crate) mod client;
mod dev;
mod docs;
mod extractor_docs;
pub mod origin;
mod v6;
mod v7;
pub mod views;

use std::sync::Arc;

use axum::Router;
use bk_core::http::Style;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::service::EngineService;

/// Shared state of every handler.
pub type AppState = Arc<EngineService>;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "BK paas developer API",
        description = "Apps, modules, members, env vars, app secrets and the audit log of the BK platform \
                       (`/paas/api/v1/`, platform envelope `{result, code, message, data, request_id}`, \
                       HTTP statuses), and the PaaS V7 resource paths (`/paas/api/bkapps/...`) with BK's own \
                       shapes (bare bodies; errors `{code, detail}`). Authenticated by the `bk_token` cookie \
                       or `Authorization: Bearer <bk_token>`; only superusers and developers. Apps the caller \
                       may not see answer 404, like unknown ones."
    ),
    tags(
        (name = "apps", description = "Apps"),
        (name = "modules", description = "Modules of an app"),
        (name = "members", description = "Developers of an app"),
        (name = "env_vars", description = "Env vars of an app"),
        (name = "secrets", description = "App secrets (`bk_app_secret`)"),
        (name = "audit", description = "Who changed what"),
        (name = "deploy", description = "Packages, releases, deployments, rollback, offline"),
        (name = "processes", description = "Instances of a deployed module: scale, restart, stop, start, logs"),
        (name = "v7", description = "PaaS V7 resource paths (bkapi-paasv3 shapes)"),
        (name = "agents", description = "Hosts running bk-agent (superusers)"),
    )
)]
struct PaasDoc;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "BK appengine (V6)",
        description = "The V6 appengine API at `/v1/`: envelope `{result, message, data}`, HTTP 200 with \
                       `result: false` for client errors, 5xx for server faults."
    ),
    tags((name = "appengine", description = "V6 appengine"))
)]
struct AppengineDoc;

fn paas_api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(PaasDoc::openapi())
        .merge(dev::routes().layer(axum::Extension(Style::Platform)))
        .merge(v7::routes().layer(axum::Extension(Style::Bare)))
        .merge(agents_admin::routes().layer(axum::Extension(Style::Platform)))
}

fn appengine_api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(AppengineDoc::openapi())
        .merge(v6::routes().layer(axum::Extension(Style::V6)))
}

/// The OpenAPI document of the developer API and the V7 paths (`openapi/paas.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = paas_api().into_openapi();
    extractor_docs::complete(&mut doc);
    doc
}

/// The OpenAPI document of the V6 appengine API (`openapi/appengine.json`).
pub fn appengine_openapi() -> utoipa::openapi::OpenApi {
    let mut doc = appengine_api().into_openapi();
    extractor_docs::complete(&mut doc);
    doc
}

/// The developer API and V7 paths, with docs at `/paas/api/docs/`.
pub fn paas_router(svc: AppState) -> Router {
    let (router, mut doc) = paas_api().split_for_parts();
    extractor_docs::complete(&mut doc);
    router
        .with_state(svc)
        .merge(SwaggerUi::new("/paas/api/docs").url("/paas/api/openapi.json", doc))
}

/// The V6 appengine API, with docs at `/v1/docs/`.
pub fn appengine_router(svc: AppState) -> Router {
    let (router, mut doc) = appengine_api().split_for_parts();
    extractor_docs::complete(&mut doc);
    router
        .with_state(svc)
        .merge(SwaggerUi::new("/v1/docs").url("/v1/openapi.json", doc))
}

/// Everything the engine serves at its public paths. Compose it with other services'
/// routers and wrap it with `bk_core::http::stack::wrap`.
pub fn router(svc: AppState) -> Router {
    paas_router(svc.clone()).merge(appengine_router(svc))
}

/// `router` with the agents backend: its admin routes answer, and the agent protocol
/// (`/v1/agent/...`) is served beside them.
pub fn with_agents(router: Router, agents: crate::deploy::agents::AgentsBackend) -> Router {
    router
        .layer(axum::Extension(agents.clone()))
        .merge(agent::agent_router(agents))
}
