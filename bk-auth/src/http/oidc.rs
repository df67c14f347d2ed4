//! `/login/oidc/{provider}/start/` and `/callback/`: redirect logins through external
//! identity providers.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bk_core::http::extract::Query;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::pages::escape;
use super::{AppState, Client, cookies};
use crate::error::AuthError;
use crate::http::redirect::safe_target;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(callback))
}

#[derive(Debug, Deserialize, IntoParams)]
struct StartQuery {
    /// Where to go after login.
    c_url: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
struct CallbackQuery {
    /// Authorization code.
    code: Option<String>,
    /// The `state` we sent.
    state: Option<String>,
    /// Error reported by the provider.
    error: Option<String>,
}

fn callback_url(client: &Client, provider: &str) -> String {
    let scheme = if client.https { "https" } else { "http" };
    format!("{scheme}://{}/login/oidc/{provider}/callback/", client.host)
}

/// Start a login at an external provider.
#[utoipa::path(get, path = "/login/oidc/{provider}/start/", tag = "providers", params(("provider" = String, Path), StartQuery),
    responses((status = 302, description = "To the provider's authorization page")))]
async fn start(
    State(svc): State<AppState>,
    client: Client,
    Path(provider): Path<String>,
    Query(q): Query<StartQuery>,
) -> Response {
    if !svc.providers().iter().any(|p| p.id() == provider) {
        return error_page(&AuthError::Invalid(format!(
            "unknown identity provider {provider:?}"
        )));
    }
    let c_url = safe_target(svc.config(), &client.host, q.c_url.as_deref());
    match svc
        .start_external(&provider, &c_url, &callback_url(&client, &provider))
        .await
    {
        Ok(url) => super::pages_redirect(&url, None),
        Err(e) => error_page(&e),
    }
}

/// The provider sends the browser back here.
#[utoipa::path(get, path = "/login/oidc/{provider}/callback/", tag = "providers", params(("provider" = String, Path), CallbackQuery),
    responses((status = 302, description = "Logged in: `Set-Cookie: bk_token`, redirect to `c_url`"),
              (status = 400, description = "Unknown provider, or unknown or expired state", content_type = "text/html"),
              (status = 403, description = "The provider refused the login", content_type = "text/html"),
              (status = 502, description = "The provider failed", content_type = "text/html")))]
async fn callback(
    State(svc): State<AppState>,
    client: Client,
    Path(provider): Path<String>,
    Query(q): Query<CallbackQuery>,
) -> Response {
    if !svc.providers().iter().any(|p| p.id() == provider) {
        return error_page(&AuthError::Invalid(format!(
            "unknown identity provider {provider:?}"
        )));
    }
    if let Some(err) = q.error {
        // The user declined, or the provider refused this client: not a gateway failure.
        return error_page(&AuthError::Forbidden(format!(
            "the provider refused the login: {err}"
        )));
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return error_page(&AuthError::Invalid("code and state are required".into()));
    };
    match svc
        .finish_external(
            &provider,
            &code,
            &state,
            &callback_url(&client, &provider),
            &client.info,
        )
        .await
    {
        Ok((issued, c_url)) => {
            let cookie = cookies::set_token(
                &svc.config().cookie,
                client.https,
                &issued.token,
                svc.config().token_ttl_secs,
            );
            super::pages_redirect(&c_url, Some(cookie))
        }
        Err(e) => error_page(&e),
    }
}

fn error_page(e: &AuthError) -> Response {
    let status = match e {
        AuthError::Provider(_) | AuthError::Db(_) | AuthError::Internal(_) => {
            StatusCode::BAD_GATEWAY
        }
        AuthError::Forbidden(_) | AuthError::Disabled => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    };
    if matches!(e, AuthError::Db(_) | AuthError::Internal(_)) {
        tracing::error!(error = %e, "external login failed");
    }
    let msg = match e {
        AuthError::Db(_) | AuthError::Internal(_) => {
            "the login could not be completed; try again".to_owned()
        }
        other => other.to_string(),
    };
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Login failed</title></head><body><h1>Login failed</h1><p>{}</p><p><a href=\"/login/\">Back to login</a></p></body></html>",
        escape(&msg)
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}
