//! `<prefix>/oidc/<provider>/{start,callback}/`: redirect logins through external
//! identity providers.
//!
//! The start sets a short-lived state cookie (HttpOnly, SameSite=Lax, path limited to
//! this provider's callback) whose hash the service stored with the pending login; the
//! callback requires it and clears it whatever the outcome. Lax, because the provider
//! sends the browser back with a top-level cross-site GET.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bk_core::http::extract::Query;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::pages::escape;
use super::{AppState, Client, cookies};
use crate::config::check_c_url_len;
use crate::error::AuthError;
use crate::http::redirect::safe_target;

/// Name of the cookie binding a pending external login to the browser.
const STATE_COOKIE: &str = "bk_oidc_state";

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(callback))
}

#[derive(Debug, Deserialize, IntoParams)]
struct StartQuery {
    /// Where to go after login (at most 2048 bytes).
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

/// The callback's path under the mount; every URL of the external login is built from it.
fn callback_path(client: &Client, provider: &str) -> String {
    client.mount.path(&format!("/oidc/{provider}/callback/"))
}

/// The callback as the provider must send the browser to it (`redirect_uri`): under the
/// configured public URL, else the origin the client used.
fn callback_url(client: &Client, provider: &str) -> String {
    format!("{}{}", client.origin(), callback_path(client, provider))
}

fn state_cookie(
    svc: &AppState,
    client: &Client,
    provider: &str,
    value: &str,
    max_age_secs: i64,
) -> String {
    let secure = if cookies::secure(&svc.config().cookie, client.https) {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{STATE_COOKIE}={value}; Max-Age={max_age_secs}; Path={}; HttpOnly; SameSite=Lax{secure}",
        callback_path(client, provider)
    )
}

/// Start a login at an external provider.
#[utoipa::path(get, path = "/oidc/{provider}/start/", tag = "providers", params(("provider" = String, Path), StartQuery),
    responses((status = 302, description = "To the provider's authorization page; sets the `bk_oidc_state` cookie for the callback"),
              (status = 400, description = "Unknown provider, or `c_url` too long", content_type = "text/html"),
              (status = 429, description = "Too many logins in progress from this address", content_type = "text/html"),
              (status = 502, description = "The provider failed", content_type = "text/html")))]
async fn start(
    State(svc): State<AppState>,
    client: Client,
    Path(provider): Path<String>,
    Query(q): Query<StartQuery>,
) -> Response {
    if !svc.providers().iter().any(|p| p.id() == provider) {
        return error_page(
            &client,
            &AuthError::Invalid(format!("unknown identity provider {provider:?}")),
        );
    }
    // Checked before `safe_target` may replace it, so an overlong one always says so.
    if let Err(why) = check_c_url_len(q.c_url.as_deref().unwrap_or_default()) {
        return error_page(&client, &AuthError::Invalid(why));
    }
    let c_url = safe_target(svc.config(), &client.origin(), q.c_url.as_deref());
    match svc
        .start_external(
            &provider,
            &c_url,
            &callback_url(&client, &provider),
            &client.info,
        )
        .await
    {
        Ok(s) => {
            let cookie = state_cookie(&svc, &client, &provider, &s.browser_secret, s.ttl_secs);
            super::pages_redirect(&s.authorize_url, Some(cookie))
        }
        Err(e) => error_page(&client, &e),
    }
}

/// The provider sends the browser back here.
#[utoipa::path(get, path = "/oidc/{provider}/callback/", tag = "providers", params(("provider" = String, Path), CallbackQuery),
    responses((status = 302, description = "Logged in: `Set-Cookie: bk_token`, redirect to `c_url`"),
              (status = 400, description = "Unknown provider, or unknown or expired state", content_type = "text/html"),
              (status = 403, description = "The provider refused the login, the login was started in another browser, or the account belongs to someone else", content_type = "text/html"),
              (status = 502, description = "The provider failed", content_type = "text/html")))]
async fn callback(
    State(svc): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Path(provider): Path<String>,
    Query(q): Query<CallbackQuery>,
) -> Response {
    if !svc.providers().iter().any(|p| p.id() == provider) {
        return error_page(
            &client,
            &AuthError::Invalid(format!("unknown identity provider {provider:?}")),
        );
    }
    let clear = state_cookie(&svc, &client, &provider, "", 0);
    if let Some(err) = q.error {
        // The user declined, or the provider refused this client: not a gateway failure.
        return with_cookie(
            error_page(
                &client,
                &AuthError::Forbidden(format!("the provider refused the login: {err}")),
            ),
            &clear,
        );
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return with_cookie(
            error_page(
                &client,
                &AuthError::Invalid("code and state are required".into()),
            ),
            &clear,
        );
    };
    let browser_secret = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| cookies::get(c, STATE_COOKIE));
    let result = svc
        .finish_external(
            &provider,
            &code,
            &state,
            browser_secret.as_deref(),
            &callback_url(&client, &provider),
            &client.info,
        )
        .await;
    let resp = match result {
        Ok((issued, c_url)) => {
            let cookie = cookies::set_token(
                &svc.config().cookie,
                client.https,
                &issued.token,
                svc.config().token_ttl_secs,
            );
            super::pages_redirect(&c_url, Some(cookie))
        }
        Err(e) => error_page(&client, &e),
    };
    with_cookie(resp, &clear)
}

fn with_cookie(mut resp: Response, cookie: &str) -> Response {
    if let Ok(v) = header::HeaderValue::from_str(cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

fn error_page(client: &Client, e: &AuthError) -> Response {
    let status = match e {
        AuthError::Provider(_) | AuthError::Db(_) | AuthError::Internal(_) => {
            StatusCode::BAD_GATEWAY
        }
        AuthError::Forbidden(_) | AuthError::Disabled => StatusCode::FORBIDDEN,
        AuthError::Locked { .. } => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::BAD_REQUEST,
    };
    if matches!(e, AuthError::Db(_) | AuthError::Internal(_)) {
        tracing::error!(error = %e, "external login failed");
    }
    let msg = match e {
        AuthError::Db(_) | AuthError::Internal(_) => {
            "the login could not be completed; try again".to_owned()
        }
        AuthError::Locked { retry_after_secs } => format!(
            "too many logins are in progress from your address; finish one or try again in {retry_after_secs} s"
        ),
        other => other.to_string(),
    };
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Login failed</title></head><body><h1>Login failed</h1><p>{}</p><p><a href=\"{}\">Back to login</a></p></body></html>",
        escape(&msg),
        escape(&client.mount.page())
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}
