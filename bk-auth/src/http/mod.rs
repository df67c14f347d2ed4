//! HTTP surface of the login service: the BK pages and APIs at their contract paths
//! (`/login/...`, or under any [`Mount`] prefix), the admin and profile JSON APIs, external-provider callbacks, and the
//! OpenAPI document with a Swagger UI. Every route is registered together with its
//! OpenAPI description, so none exists undocumented.

mod admin;
mod client;
mod cookies;
mod csrf;
mod docs;
mod legacy;
mod mount;
mod oidc;
mod pages;
mod profile;
mod redirect;
mod replies;
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
pub use mount::Mount;
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

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(pages::routes())
        .merge(v1::routes().layer(axum::Extension(Style::LoginV1)))
        .merge(v2::routes().layer(axum::Extension(Style::LoginV2)))
        .merge(admin::routes())
        .merge(profile::routes())
        .merge(tokens::routes())
        .merge(oidc::routes())
}

/// The routes at `mount` (nested, or merged at the root), with their document.
fn mounted(mount: &Mount) -> OpenApiRouter<AppState> {
    match mount.prefix() {
        "" => routes(),
        // Nesting at `/login/` (with the slash) keeps the contract's trailing slashes:
        // the page `/` becomes `/login/`, not `/login`.
        _ => OpenApiRouter::with_openapi(ApiDoc::openapi()).nest(&mount.page(), routes()),
    }
}

/// The OpenAPI document of the login service at the BK layout (`/login/...`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    mounted(&Mount::default()).into_openapi()
}

/// The login router at the BK layout (`/login/...`), with its docs at `/login/docs/`.
/// Compose it with other services' routers and wrap it with `bk_core::http::stack::wrap`.
pub fn router(svc: AppState) -> Router {
    router_at(svc, &Mount::default())
}

/// The login router mounted at `mount` (`/auth` serves `/auth/`, `/auth/logout/`,
/// `/auth/api/v2/...`, docs at `/auth/docs/`). Every URL it writes uses the same prefix.
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()`: without the
/// client's address, the brute-force throttle can only count per account (see
/// [`Client`]).
pub fn router_at(svc: AppState, mount: &Mount) -> Router {
    let (router, doc) = mounted(mount).split_for_parts();
    router
        .with_state(svc)
        .merge(docs::routes(mount, doc))
        .layer(axum::Extension(mount.clone()))
}

/// Make a (wrapped) router whose login is mounted at `mount` also answer without the
/// prefix, as the stock `bk-login` binary does on its own port
/// (`/accounts/is_login/` = `/login/accounts/is_login/`). Apply it outermost: it rewrites
/// the path before routing. Pages still write URLs under the prefix.
pub fn also_unprefixed(router: Router, mount: &Mount) -> Router {
    let prefix = mount.prefix().to_owned();
    if prefix.is_empty() {
        return router;
    }
    // `Router::layer` runs after routing, so the rewrite wraps the router as a service.
    Router::new().fallback_service(
        tower::ServiceBuilder::new()
            .map_request(move |req| add_prefix(req, &prefix))
            .service(router),
    )
}

fn add_prefix(mut req: Request, prefix: &str) -> Request {
    let path = req.uri().path();
    let under = path
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    let keep = under || path.starts_with("/healthz") || path == "/metrics";
    if !keep {
        let pq = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        if let Ok(uri) = format!("{prefix}{pq}").parse() {
            *req.uri_mut() = uri;
        }
    }
    req
}
