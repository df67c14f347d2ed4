//! HTTP surface of the login service: the BK pages and APIs at their contract paths
//! (`/login/...`), the admin and profile JSON APIs, external-provider callbacks, and the
//! OpenAPI document with a Swagger UI. Every route is registered together with its
//! OpenAPI description, so none exists undocumented.

mod admin;
mod client;
mod cookies;
mod docs;
mod legacy;
mod oidc;
mod pages;
mod profile;
mod redirect;
mod tokens;
mod v1;
mod v2;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use bk_core::http::Style;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::service::LoginService;

pub use client::Client;
pub(crate) use pages::redirect as pages_redirect;

/// Shared state of every handler.
pub type AppState = Arc<LoginService>;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "BK login",
        description = "Unified login of the BK platform: pages, the V1/V2 login APIs of the BK contract, \
                       user administration and self-service. Legacy APIs answer HTTP 200 with their \
                       envelope for client errors; the admin and profile APIs use HTTP statuses and \
                       the platform envelope `{result, code, message, data, request_id}`."
    ),
    tags(
        (name = "pages", description = "Server-rendered login and logout"),
        (name = "v1", description = "BK login API V1 (`code` strings)"),
        (name = "v2", description = "BK login API V2 (`bk_error_code`)"),
        (name = "admin", description = "User administration (superusers; auditors read)"),
        (name = "profile", description = "Self-service"),
        (name = "providers", description = "External identity providers"),
    )
)]
struct ApiDoc;

fn api(svc: AppState) -> (Router, utoipa::openapi::OpenApi) {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(pages::routes())
        .merge(v1::routes().layer(axum::Extension(Style::LoginV1)))
        .merge(v2::routes().layer(axum::Extension(Style::LoginV2)))
        .merge(admin::routes())
        .merge(profile::routes())
        .merge(tokens::routes())
        .merge(oidc::routes())
        .split_for_parts();
    (router.with_state(svc), doc)
}

/// The OpenAPI document of the login service.
pub fn openapi() -> utoipa::openapi::OpenApi {
    OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .merge(pages::routes())
        .merge(v1::routes())
        .merge(v2::routes())
        .merge(admin::routes())
        .merge(profile::routes())
        .merge(tokens::routes())
        .merge(oidc::routes())
        .into_openapi()
}

/// The login router at the public paths (`/login/...`), with its docs at `/login/docs/`.
/// Compose it with other services' routers and wrap it with `bk_core::http::stack::wrap`.
pub fn router(svc: AppState) -> Router {
    let (router, doc) = api(svc);
    router.merge(docs::routes(doc))
}

/// Make a (wrapped) login router also answer without the `/login` prefix, as the
/// standalone login service does on its own port (`/accounts/is_login/` =
/// `/login/accounts/is_login/`). Apply it outermost: it rewrites the path before routing.
pub fn standalone(router: Router) -> Router {
    // `Router::layer` runs after routing, so the rewrite wraps the router as a service.
    Router::new().fallback_service(
        tower::ServiceBuilder::new()
            .map_request(add_prefix)
            .service(router),
    )
}

fn add_prefix(mut req: Request) -> Request {
    let path = req.uri().path();
    let keep = path == "/login"
        || path.starts_with("/login/")
        || path.starts_with("/healthz")
        || path == "/metrics";
    if !keep {
        let pq = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        if let Ok(uri) = format!("/login{pq}").parse() {
            *req.uri_mut() = uri;
        }
    }
    req
}
