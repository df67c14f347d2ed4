//! `/paas/api/v1/apps/{code}/secrets/`: list (masked), rotate, reveal, revoke.

use axum::extract::State;
use axum::response::Response;
use bk_core::ApiError;
use bk_core::http::ApiContext;
use bk_core::http::extract::Path;

use crate::http::AppState;
use crate::http::auth::Authed;
use crate::http::docs::{Envelope, Failure};
use crate::http::views::{SecretRevealed, SecretView};

/// The app's secrets, newest first, masked.
#[utoipa::path(get, path = "/paas/api/v1/apps/{code}/secrets/", tag = "secrets", params(("code" = String, Path)),
    responses((status = 200, body = Envelope<Vec<SecretView>>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn list(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path(code): Path<String>,
) -> Response {
    ctx.reply(
        svc.secrets(&who, &code)
            .await
            .map(|ss| ss.iter().map(SecretView::from).collect::<Vec<_>>()),
    )
}

/// Add a new secret (shown once here; revealable later). Refused while two are live:
/// revoke the older first.
#[utoipa::path(post, path = "/paas/api/v1/apps/{code}/secrets/", tag = "secrets", params(("code" = String, Path)),
    responses((status = 200, body = Envelope<SecretRevealed>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, description = "Two live secrets", body = Failure)))]
pub(super) async fn rotate(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path(code): Path<String>,
) -> Response {
    ctx.reply(
        svc.rotate_secret(&who, &code)
            .await
            .map(|s| SecretRevealed::from(&s)),
    )
}

/// Show the newest live secret in full (audited).
#[utoipa::path(post, path = "/paas/api/v1/apps/{code}/secrets/current/reveal/", tag = "secrets",
    params(("code" = String, Path)),
    responses((status = 200, body = Envelope<SecretRevealed>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn reveal_current(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path(code): Path<String>,
) -> Response {
    ctx.reply(
        svc.current_secret(&who, &code)
            .await
            .map(|s| SecretRevealed::from(&s)),
    )
}

/// Show one secret in full (audited).
#[utoipa::path(post, path = "/paas/api/v1/apps/{code}/secrets/{id}/reveal/", tag = "secrets",
    params(("code" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = Envelope<SecretRevealed>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn reveal(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, id)): Path<(String, String)>,
) -> Response {
    let r = async {
        let s = svc.reveal_secret(&who, &code, secret_id(&id)?).await?;
        Ok::<_, ApiError>(SecretRevealed::from(&s))
    }
    .await;
    ctx.reply(r)
}

/// Revoke a live secret (not the last one).
#[utoipa::path(delete, path = "/paas/api/v1/apps/{code}/secrets/{id}/", tag = "secrets",
    params(("code" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = Envelope<utoipa::TupleUnit>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, description = "The last live secret", body = Failure)))]
pub(super) async fn revoke(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, id)): Path<(String, String)>,
) -> Response {
    let r =
        async { Ok::<_, ApiError>(svc.revoke_secret(&who, &code, secret_id(&id)?).await?) }.await;
    ctx.reply(r)
}

/// The `{id}` path segment, parsed here so a bad one answers in the envelope.
fn secret_id(s: &str) -> Result<i64, ApiError> {
    s.parse()
        .map_err(|_| ApiError::invalid(format!("id: {s:?} is not a secret id (an integer)")))
}
