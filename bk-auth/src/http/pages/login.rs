//! `GET <prefix>/` shows the form; `POST <prefix>/` checks it, sets the token cookie,
//! redirects.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bk_core::http::extract::Query;
use serde::Deserialize;
use utoipa::IntoParams;

use super::html::{LoginPage, login_page, texts};
use crate::error::AuthError;
use crate::http::redirect::safe_target;
use crate::http::{AppState, Client};
use crate::http::{cookies, csrf};
use crate::idp::ProviderFlow;

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct ShowQuery {
    /// Where to go after login (relative, the login host, or an allowed host).
    c_url: Option<String>,
    /// The app asking for the login.
    app_id: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct LoginForm {
    username: String,
    password: String,
    c_url: String,
    app_id: String,
    csrfmiddlewaretoken: String,
}

/// Show the login form (or go straight to `c_url` when already logged in).
#[utoipa::path(get, path = "/", tag = "pages", params(ShowQuery),
    responses((status = 200, description = "The login form", content_type = "text/html"),
              (status = 302, description = "Already logged in: redirect to `c_url`")))]
pub(super) async fn show(
    State(svc): State<AppState>,
    client: Client,
    Query(q): Query<ShowQuery>,
) -> Response {
    if let Some(token) = &client.cookie_token
        && let Ok(Some(_)) = svc.is_login(token).await
    {
        return redirect(
            &safe_target(svc.config(), &client.origin(), q.c_url.as_deref()),
            None,
        );
    }
    render(
        &svc,
        &client,
        q.c_url.as_deref().unwrap_or_default(),
        q.app_id.as_deref().unwrap_or_default(),
        "",
        None,
        StatusCode::OK,
    )
}

/// Check the form; on success set `bk_token` and redirect to `c_url`.
#[utoipa::path(post, path = "/", tag = "pages",
    request_body(content_type = "application/x-www-form-urlencoded", description = "username, password, c_url, app_id, csrfmiddlewaretoken"),
    responses((status = 302, description = "Logged in: `Set-Cookie: bk_token`, redirect to `c_url`"),
              (status = 200, description = "Wrong credentials: the form again with an error", content_type = "text/html"),
              (status = 403, description = "CSRF check failed or account disabled", content_type = "text/html"),
              (status = 429, description = "Too many failures: throttled", content_type = "text/html")))]
pub(super) async fn submit(State(svc): State<AppState>, client: Client, body: Bytes) -> Response {
    let t = texts(client.lang);
    let Ok(form) = serde_urlencoded::from_bytes::<LoginForm>(&body) else {
        return render(
            &svc,
            &client,
            "",
            "",
            "",
            Some(t.bad_form.into()),
            StatusCode::BAD_REQUEST,
        );
    };
    let csrf_ok = csrf::check(
        svc.csrf_key(),
        client.csrf_cookie.as_deref(),
        &form.csrfmiddlewaretoken,
    ) && csrf::origin_ok(client.origin_header.as_deref(), &client.origin());
    if !csrf_ok {
        return render(
            &svc,
            &client,
            &form.c_url,
            &form.app_id,
            &form.username,
            Some(t.expired_form.into()),
            StatusCode::FORBIDDEN,
        );
    }
    if svc.config().disable_password_login {
        return render(
            &svc,
            &client,
            &form.c_url,
            &form.app_id,
            "",
            Some(t.wrong.into()),
            StatusCode::FORBIDDEN,
        );
    }
    match svc
        .login_password(form.username.trim(), &form.password, &client.info)
        .await
    {
        Ok(issued) => {
            let cookie = cookies::set_token(
                &svc.config().cookie,
                client.https,
                &issued.token,
                svc.config().token_ttl_secs,
            );
            redirect(
                &safe_target(svc.config(), &client.origin(), Some(&form.c_url)),
                Some(cookie),
            )
        }
        Err(e) => {
            let (msg, status) = match &e {
                AuthError::BadCredentials => (t.wrong.to_owned(), StatusCode::OK),
                AuthError::Locked { retry_after_secs } => (
                    t.locked.replace("{}", &retry_after_secs.to_string()),
                    StatusCode::TOO_MANY_REQUESTS,
                ),
                AuthError::Disabled => (t.disabled.to_owned(), StatusCode::FORBIDDEN),
                _ => {
                    tracing::error!(error = %e, "login failed");
                    (t.unavailable.to_owned(), StatusCode::SERVICE_UNAVAILABLE)
                }
            };
            render(
                &svc,
                &client,
                &form.c_url,
                &form.app_id,
                &form.username,
                Some(msg),
                status,
            )
        }
    }
}

fn render(
    svc: &AppState,
    client: &Client,
    c_url: &str,
    app_id: &str,
    username: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    // Keep a valid CSRF cookie across re-renders; replace a missing or forged one.
    let valid = client
        .csrf_cookie
        .clone()
        .filter(|c| csrf::is_signed(svc.csrf_key(), c));
    let (csrf, set) = match valid {
        Some(c) => (c, None),
        None => {
            let c = csrf::issue(svc.csrf_key()).unwrap_or_default();
            let cookie =
                cookies::set_csrf(&svc.config().cookie, &c, client.https, &client.mount.page());
            (c, Some(cookie))
        }
    };
    let providers = svc
        .providers()
        .iter()
        .filter(|p| p.flow() == ProviderFlow::Redirect)
        .map(|p| (p.id().to_owned(), p.display_name().to_owned()))
        .collect();
    let page = login_page(&LoginPage {
        lang: client.lang,
        action: &client.mount.page(),
        oidc_base: &client.mount.path("/oidc/"),
        c_url,
        app_id,
        csrf: &csrf,
        username,
        error,
        password_form: !svc.config().disable_password_login,
        providers,
    });
    let mut resp = (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        page,
    )
        .into_response();
    if let Some(c) = set.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp.headers_mut()
        .insert("x-frame-options", HeaderValue::from_static("DENY"));
    resp
}

/// A 302 to `target`, optionally setting a cookie.
pub(crate) fn redirect(target: &str, cookie: Option<String>) -> Response {
    let mut resp = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(target) {
        resp.headers_mut().insert(header::LOCATION, v);
    } else {
        resp.headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static("/"));
    }
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
