//! The admin API at `/api/esb/admin/` (superusers; `Authorization: Bearer <bk_token>` or
//! the login cookie), platform envelope with HTTP statuses, documented in
//! `openapi/esb.json`. Routes by resource: `components.rs` (systems, channels,
//! self-service components), `access.rs` (grants, allow-list, rate limits).

mod access;
mod components;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;
use bk_core::http::{ApiContext, Style};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::admin::{Admin, AdminService};

/// Shared state of the admin handlers.
#[derive(Clone)]
pub(crate) struct AdminState {
    pub svc: Arc<AdminService>,
    pub cookie: Arc<str>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "BK API gateway (ESB) admin API",
        description = "Systems, channels of compiled components, self-service HTTP components, grants, the \
                       skip-user-auth allow-list and rate limits of the ESB gateway (`/api/c/compapi/`, \
                       `/api/c/self-service-api/`). Superusers only, authenticated by the `bk_token` cookie or \
                       `Authorization: Bearer <bk_token>`. Platform envelope `{result, code, message, data, \
                       request_id}` with HTTP statuses. Changes apply at once, without a restart."
    ),
    tags(
        (name = "components", description = "Systems, channels and self-service components"),
        (name = "access", description = "Grants, the skip-user-auth allow-list, rate limits"),
    )
)]
struct EsbDoc;

fn api() -> OpenApiRouter<AdminState> {
    OpenApiRouter::with_openapi(EsbDoc::openapi())
        .merge(components::routes())
        .merge(access::routes())
        .layer(axum::Extension(Style::Platform))
}

/// The admin API's OpenAPI document (`openapi/esb.json`), at the public `/api` prefix.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api().into_openapi();
    bk_core::http::extractor_docs::complete(&mut doc);
    doc
}

/// The admin routes (at `/api/esb/admin/…`; documented at that prefix).
pub(crate) fn router(state: AdminState) -> Router {
    let (router, _) = api().split_for_parts();
    router.with_state(state)
}

/// The superuser calling, or the 401/403 answer.
pub(crate) struct Authed(pub Admin);

impl FromRequestParts<AdminState> for Authed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        s: &AdminState,
    ) -> Result<Self, Self::Rejection> {
        let token = bk_core::http::token::request_token(&parts.headers, &s.cookie);
        s.svc
            .caller(token.as_deref())
            .await
            .map(Authed)
            .map_err(|e| ApiContext::from_parts(parts).err(e))
    }
}
