//! `/login/api/admin/export/` and `/login/api/admin/import/`: users as JSON or CSV.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use bk_core::http::ApiContext;
use bk_core::http::extract::Query;
use bk_core::{ApiError, ErrorCode};
use serde::Deserialize;
use utoipa::IntoParams;

use super::Authed;
use crate::http::AppState;
use crate::http::replies::{Envelope, Failure};
use crate::service::transfer::Format;
use crate::store::ImportReport;

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct ExportQuery {
    /// `json` (default) or `csv`.
    #[param(inline)]
    format: Option<Format>,
    /// Include password hashes (for moving users to another deployment).
    #[serde(default)]
    include_hashes: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct ImportQuery {
    /// Overwrite existing users (default: leave them and count them as skipped).
    #[serde(default)]
    overwrite: bool,
}

/// Export every user.
#[utoipa::path(get, path = "/api/admin/export/", tag = "admin", params(ExportQuery),
    responses((status = 200, description = "A JSON array or CSV file of users", content_type = "text/csv"), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure)))]
pub(super) async fn export(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Query(q): Query<ExportQuery>,
) -> Response {
    let format = q.format.unwrap_or_default();
    let r =
        async { Ok::<_, ApiError>(svc.export_users(&who, format, q.include_hashes).await?) }.await;
    match r {
        Ok(body) => {
            let (ct, name) = match format {
                Format::Json => ("application/json", "users.json"),
                Format::Csv => ("text/csv; charset=utf-8", "users.csv"),
            };
            (
                [
                    (header::CONTENT_TYPE, ct.to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                ],
                body,
            )
                .into_response()
        }
        Err(e) => ctx.err(e),
    }
}

/// Import users from a JSON array (`Content-Type: application/json`) or CSV with a header
/// row (`text/csv`). All or nothing: any bad row rejects the whole file.
#[utoipa::path(post, path = "/api/admin/import/", tag = "admin", params(ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = Envelope<ImportReport>), (status = 400, description = "Rows rejected; nothing written", body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 415, body = Failure)))]
pub(super) async fn import(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    headers: HeaderMap,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Response {
    let r = async {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let format = if ct.starts_with("application/json") {
            Format::Json
        } else if ct.starts_with("text/csv") {
            Format::Csv
        } else {
            return Err(ApiError::with_detail(
                ErrorCode::UnsupportedMediaType,
                "send application/json or text/csv",
            ));
        };
        let text = std::str::from_utf8(&body).map_err(|e| {
            ApiError::invalid(format!("body is not UTF-8 (at byte {})", e.valid_up_to()))
        })?;
        Ok::<_, ApiError>(svc.import_users(&who, format, text, q.overwrite).await?)
    }
    .await;
    ctx.reply(r)
}
