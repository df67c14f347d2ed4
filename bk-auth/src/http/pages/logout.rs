//! `GET <prefix>/logout/`: revoke the token, clear the cookie, redirect.

use axum::extract::State;
use axum::response::Response;
use bk_core::http::extract::Query;
use serde::Deserialize;
use utoipa::IntoParams;

use super::login::redirect;
use crate::http::cookies;
use crate::http::redirect::is_allowed;
use crate::http::{AppState, Client};

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct LogoutQuery {
    /// Where to go afterwards; when missing or not allowed, the login page.
    c_url: Option<String>,
}

/// Log out.
#[utoipa::path(get, path = "/logout/", tag = "pages", params(LogoutQuery),
    responses((status = 302, description = "Token revoked and cookie cleared; redirect to `c_url` or the login page")))]
pub(super) async fn logout(
    State(svc): State<AppState>,
    client: Client,
    Query(q): Query<LogoutQuery>,
) -> Response {
    if let Some(token) = &client.cookie_token
        && let Err(e) = svc.logout(token, &client.info).await
    {
        // The cookie is cleared anyway; the token may outlive this failure until it expires.
        tracing::warn!(error = %e, "could not revoke a token at logout");
    }
    let target = match q.c_url.as_deref() {
        Some(c) if is_allowed(svc.config(), &client.origin(), c) => c.to_owned(),
        _ => client.mount.page(),
    };
    redirect(
        &target,
        Some(cookies::clear_token(&svc.config().cookie, client.https)),
    )
}
