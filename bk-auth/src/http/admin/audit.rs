//! `/login/api/admin/audit/`: the login audit log.

use axum::extract::State;
use axum::response::Response;
use bk_core::ApiError;
use bk_core::http::ApiContext;
use bk_core::http::extract::Query;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Authed;
use crate::http::AppState;
use crate::http::replies::{Envelope, Failure};
use crate::model::{AuditQuery, LoginResult};

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct AuditParams {
    /// Exact username.
    username: Option<String>,
    /// `success`, `bad_credentials`, `throttled`, `disabled`, `provider_error`, `logout`.
    result: Option<String>,
    /// From (ms since epoch, inclusive).
    since: Option<i64>,
    /// Until (ms since epoch, exclusive).
    until: Option<i64>,
    /// 1-based page.
    page: Option<u32>,
    /// Page size 1..=1000 (default 100).
    page_size: Option<u32>,
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct EntryView {
    id: i64,
    /// Milliseconds since the epoch.
    at: i64,
    username: String,
    address: String,
    user_agent: String,
    result: String,
    provider: String,
}

/// A page of entries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct AuditPage {
    count: u64,
    page: u32,
    page_size: u32,
    results: Vec<EntryView>,
}

/// Read the login audit log (superusers and auditors).
#[utoipa::path(get, path = "/api/admin/audit/", tag = "admin", params(AuditParams),
    responses((status = 200, body = Envelope<AuditPage>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure)))]
pub(super) async fn list(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Query(p): Query<AuditParams>,
) -> Response {
    let r = async {
        let result = match p.result.as_deref().filter(|r| !r.is_empty()) {
            None => None,
            Some(r) => Some(
                LoginResult::parse(r)
                    .ok_or_else(|| ApiError::invalid(format!("result: unknown value {r:?}")))?,
            ),
        };
        let q = AuditQuery {
            username: p.username.filter(|u| !u.is_empty()),
            result,
            since: p.since,
            until: p.until,
            page: p.page.unwrap_or(1),
            page_size: p.page_size.unwrap_or(100),
        };
        let page = svc.audit_log(&who, &q).await?;
        Ok::<_, ApiError>(AuditPage {
            count: page.count,
            page: page.page,
            page_size: page.page_size,
            results: page
                .results
                .into_iter()
                .map(|e| EntryView {
                    id: e.id,
                    at: e.at,
                    username: e.username,
                    address: e.address,
                    user_agent: e.user_agent,
                    result: e.result.as_str().to_owned(),
                    provider: e.provider,
                })
                .collect(),
        })
    }
    .await;
    ctx.reply(r)
}
