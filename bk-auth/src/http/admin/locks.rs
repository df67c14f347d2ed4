//! `/login/api/admin/locks/`: throttled and locked accounts and addresses.

use axum::extract::{Path, State};
use axum::response::Response;
use bk_core::ApiError;
use bk_core::http::ApiContext;

use super::Authed;
use crate::http::AppState;
use crate::http::replies::{Envelope, Failure, Unlocked};
use crate::throttle::Block;

/// Keys currently delaying or locking attempts: clients on an account
/// (`pair:<name>@<addr>`, the only ones that lock), accounts (`user:<name>`) and
/// addresses (`ip:<addr>`).
#[utoipa::path(get, path = "/api/admin/locks/", tag = "admin",
    responses((status = 200, description = "Blocked keys and until when", body = Envelope<Vec<Block>>), (status = 401, body = Failure), (status = 403, body = Failure)))]
pub(super) async fn list(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
) -> Response {
    let r = async { Ok::<_, ApiError>(svc.blocks(&who).await?) }.await;
    ctx.reply(r)
}

/// Lift a delay or lock; lifting `user:<name>` also lifts every `pair:<name>@…`.
#[utoipa::path(delete, path = "/api/admin/locks/{key}/", tag = "admin", params(("key" = String, Path, description = "`pair:<name>@<addr>`, `user:<name>` or `ip:<addr>`")),
    responses((status = 200, body = Envelope<Unlocked>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure)))]
pub(super) async fn unlock(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path(key): Path<String>,
) -> Response {
    let r = async {
        svc.unblock(&who, &key).await?;
        Ok::<_, ApiError>(serde_json::json!({ "unlocked": key }))
    }
    .await;
    ctx.reply(r)
}
