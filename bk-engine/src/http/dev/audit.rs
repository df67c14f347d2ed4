//! `/paas/api/v1/apps/{code}/audit/`: the app's audit log.

use axum::extract::State;
use axum::response::Response;
use bk_core::http::ApiContext;
use bk_core::http::extract::Path;
use bk_core::http::extract::Query;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::AppState;
use crate::http::auth::Authed;
use crate::http::docs::{Envelope, Failure};
use crate::http::views::{AuditPage, AuditView};

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct AuditParams {
    /// Only this action (`app.create`, `env_var.set`, `secret.reveal`...).
    action: Option<String>,
    /// 1-based page.
    page: Option<u32>,
    /// Page size 1..=1000 (default 100).
    page_size: Option<u32>,
}

/// Who changed what in the app, newest first.
#[utoipa::path(get, path = "/paas/api/v1/apps/{code}/audit/", tag = "audit",
    params(("code" = String, Path), AuditParams),
    responses((status = 200, body = Envelope<AuditPage>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn list(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path(code): Path<String>,
    Query(p): Query<AuditParams>,
) -> Response {
    let r = svc
        .audit_log(
            &who,
            &code,
            p.action,
            p.page.unwrap_or(1),
            p.page_size.unwrap_or(100),
        )
        .await
        .map(|page| AuditPage {
            count: page.count,
            page: page.page,
            page_size: page.page_size,
            results: page.results.into_iter().map(AuditView::from).collect(),
        });
    ctx.reply(r)
}
