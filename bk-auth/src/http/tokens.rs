//! `/login/api/tokens/`: a `bk_token` for scripts and the `bk` CLI, by username and password
//! in a JSON body, and its revocation. The same login path as the form (throttle, audit,
//! providers, disabled accounts answering like wrong passwords); no cookie is set, so the
//! answer cannot log a browser in (no login CSRF), and a JSON body cannot be posted by a
//! cross-site form.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::response::Response;
use bk_core::ApiError;
use bk_core::http::ApiContext;
use bk_core::http::extract::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, Client};
use crate::error::AuthError;
use crate::http::replies::{Envelope, Failure, Revoked};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(revoke_current))
        .layer(DefaultBodyLimit::max(8 * 1024))
}

/// Credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TokenRequest {
    /// Username.
    username: String,
    /// Password.
    password: String,
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A new token.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TokenView {
    /// The `bk_token`: send it as `Authorization: Bearer <bk_token>` or the cookie.
    bk_token: String,
    /// Whose it is.
    username: String,
    /// Hard expiry, milliseconds since the epoch.
    expires_at: i64,
}

/// Log in with a password and get a `bk_token` (no cookie is set).
#[utoipa::path(post, path = "/api/tokens/", tag = "profile", request_body = TokenRequest,
    responses((status = 200, body = Envelope<TokenView>, description = "Logged in"),
              (status = 400, body = Failure, description = "Bad body, or wrong username or password (also for disabled accounts; code 1302100)"),
              (status = 415, body = Failure, description = "Body not sent as JSON"),
              (status = 423, body = Failure, description = "Account locked for a while after too many failures"),
              (status = 429, body = Failure, description = "Too many failures: wait before the next attempt")))]
async fn create(
    State(svc): State<AppState>,
    ctx: ApiContext,
    client: Client,
    Json(b): Json<TokenRequest>,
) -> Response {
    let r = async {
        let issued = svc
            .login_password(&b.username, &b.password, &client.info)
            .await?;
        Ok::<_, ApiError>(TokenView {
            bk_token: issued.token,
            username: issued.session.username,
            expires_at: issued.session.expires_at,
        })
    }
    .await;
    ctx.reply(r)
}

/// Revoke the token the request carries (`Authorization: Bearer` or the cookie).
#[utoipa::path(delete, path = "/api/tokens/current/", tag = "profile",
    responses((status = 200, description = "Revoked", body = Envelope<Revoked>), (status = 401, description = "No live token", body = Failure)))]
async fn revoke_current(
    State(svc): State<AppState>,
    ctx: ApiContext,
    client: Client,
    headers: HeaderMap,
) -> Response {
    let token = bk_core::http::token::request_token(&headers, &svc.config().cookie.name);
    let r = async {
        let token = token.ok_or(AuthError::Unauthenticated)?;
        if svc.is_login(&token).await?.is_none() {
            return Err(AuthError::Unauthenticated.into());
        }
        svc.logout(&token, &client.info).await?;
        Ok::<_, ApiError>(serde_json::json!({ "revoked": true }))
    }
    .await;
    ctx.reply(r)
}
