//! `GET /v1/healthz/`: the appengine answers and its storage does.

use axum::extract::State;
use axum::response::Response;
use bk_core::http::ApiContext;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Health {
    /// `ok`.
    status: &'static str,
}

/// The V6 envelope of [`Health`] (documentation); `data: null` when unhealthy.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(super) struct HealthReply {
    result: bool,
    message: String,
    data: Option<Health>,
}

/// Health of the appengine (503 when its database does not answer).
#[utoipa::path(get, path = "/v1/healthz/", tag = "appengine",
    responses((status = 200, body = HealthReply), (status = 500, body = HealthReply), (status = 503, body = HealthReply)))]
pub(super) async fn healthz(State(svc): State<AppState>, ctx: ApiContext) -> Response {
    ctx.reply(svc.ping().await.map(|()| Health { status: "ok" }))
}
