//! `POST /v1/apps/`: the platform creates an app.

use axum::extract::State;
use axum::http::request::Parts;
use axum::response::Response;
use bk_core::http::ApiContext;
use bk_core::http::extract::Json;
use bk_core::{ApiError, ErrorCode};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::{AppState, client};
use crate::service::V6CreateApp;

/// The created app with its token (the app secret).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct V6App {
    app_code: String,
    name: String,
    app_lang: String,
    /// The app secret (V6 `APP_TOKEN`).
    token: String,
    /// V6 state code (1: developing).
    state: i64,
}

/// The V6 envelope of [`V6App`] (documentation): `result: false`, a message and `data:
/// null` for client errors, still HTTP 200.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(super) struct V6AppReply {
    result: bool,
    message: String,
    data: Option<V6App>,
}

/// Create an app (V6). `X-APP-CODE` / `X-APP-TOKEN` must be the platform's service
/// credentials.
#[utoipa::path(post, path = "/v1/apps/", tag = "appengine", request_body = V6CreateApp,
    params(("X-APP-CODE" = String, Header), ("X-APP-TOKEN" = String, Header)),
    responses((status = 200, description = "`result: false` with a message for client errors", body = V6AppReply), (status = 500, body = V6AppReply), (status = 503, body = V6AppReply)))]
pub(super) async fn create(
    State(svc): State<AppState>,
    ctx: ApiContext,
    parts: Parts,
    Json(body): Json<V6CreateApp>,
) -> Response {
    let h = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if !svc.is_trusted_service(h("x-app-code"), h("x-app-token")) {
        return ctx.err(ApiError::with_detail(
            ErrorCode::PermissionDenied,
            "X-APP-CODE / X-APP-TOKEN are not the platform's service credentials",
        ));
    }
    let r = svc
        .create_app_v6(&client::address(&parts), body)
        .await
        .map(|c| V6App {
            app_code: c.detail.app.code.as_str().to_owned(),
            name: c.detail.app.name.as_str().to_owned(),
            app_lang: c.detail.app.language.as_str().to_lowercase(),
            token: c.secret.expose().to_owned(),
            state: i64::from(c.detail.app.state.code()),
        });
    ctx.reply(r)
}
