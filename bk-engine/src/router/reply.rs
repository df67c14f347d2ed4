//! What the router itself answers: the trailing-slash redirect, and failures that name
//! the app and env and say what to do. Browsers (`Accept: text/html`) get a small page,
//! everything else the platform JSON envelope (made by bk-core's one envelope function).

use std::borrow::Cow;

use axum::body::Body;
use axum::response::Response;
use bk_core::error::{ApiError, ErrorCode};
use bk_core::http::ApiContext;
use http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use http::{HeaderValue, Method, StatusCode, request};

use super::snapshot::RouteMeta;
use super::table::Env;

/// Why the router answers instead of an app.
pub(crate) enum Failure<'a> {
    NoApp {
        app: &'a str,
    },
    NotDeployed {
        app: &'a str,
        env: Env,
    },
    WrongHost {
        apps_host: &'a str,
    },
    Unrouted,
    /// The route has no instance that may take requests.
    NoInstance(&'a RouteMeta),
    /// Every instance tried refused or timed out the connection.
    ConnectFailed(&'a RouteMeta),
    /// The instance failed after the request was sent, before a response head.
    Upstream(&'a RouteMeta),
    /// No response head within the configured time (milliseconds).
    Timeout(&'a RouteMeta, u128),
}

impl Failure<'_> {
    fn status_and_detail(&self) -> (StatusCode, Cow<'static, str>) {
        let route =
            |m: &RouteMeta| format!("app `{}` (module {}, {})", m.app, m.module, m.env.as_str());
        match self {
            Self::NoApp { app: "" } => (
                StatusCode::NOT_FOUND,
                "no app named in the URL: apps are served at /t/<app_code>/ (stag) and /o/<app_code>/ (prod)".into(),
            ),
            Self::NoApp { app } => (
                StatusCode::NOT_FOUND,
                format!("no app `{app}` is served here").into(),
            ),
            Self::NotDeployed { app, env } => (
                StatusCode::NOT_FOUND,
                format!("app `{app}` has nothing deployed to {} for this module", env.as_str()).into(),
            ),
            Self::WrongHost { apps_host } => (
                StatusCode::NOT_FOUND,
                format!("apps are not served on this host; use {apps_host}").into(),
            ),
            Self::Unrouted => (
                StatusCode::NOT_FOUND,
                "no app here: apps are served at /t/<app_code>/ (stag) and /o/<app_code>/ (prod)".into(),
            ),
            Self::NoInstance(m) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{} has no running instance; deploy it or retry later", route(m)).into(),
            ),
            Self::ConnectFailed(m) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("no instance of {} accepted a connection; retry later", route(m)).into(),
            ),
            Self::Upstream(m) => (
                StatusCode::BAD_GATEWAY,
                format!("{} closed the connection before answering", route(m)).into(),
            ),
            Self::Timeout(m, ms) => (
                StatusCode::GATEWAY_TIMEOUT,
                format!("{} did not answer within {ms} ms", route(m)).into(),
            ),
        }
    }
}

/// The answer for `failure` to the request whose head is `parts`.
pub(crate) fn failure(parts: &request::Parts, failure: &Failure<'_>) -> Response {
    let (status, detail) = failure.status_and_detail();
    let mut resp = if wants_html(parts) {
        html(status, &detail)
    } else {
        let code = if status == StatusCode::NOT_FOUND {
            ErrorCode::NotFound
        } else {
            ErrorCode::Unavailable
        };
        let mut r = ApiContext::from_parts(parts).err(ApiError::with_detail(code, detail));
        // 502 and 504 keep the envelope of "unavailable" with the gateway's own status.
        *r.status_mut() = status;
        r
    };
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `/t/<code>` -> `/t/<code>/`, keeping the query. 301 for GET/HEAD as BK does; 308 for
/// other methods so the body is not turned into a GET.
pub(crate) fn add_slash(parts: &request::Parts) -> Response {
    let mut location = String::with_capacity(parts.uri.path().len() + 1);
    location.push_str(parts.uri.path());
    location.push('/');
    if let Some(q) = parts.uri.query() {
        location.push('?');
        location.push_str(q);
    }
    let status = if parts.method == Method::GET || parts.method == Method::HEAD {
        StatusCode::MOVED_PERMANENTLY
    } else {
        StatusCode::PERMANENT_REDIRECT
    };
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(LOCATION, v);
    }
    resp
}

fn wants_html(parts: &request::Parts) -> bool {
    parts
        .headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

fn html(status: StatusCode, detail: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{code} {title}</title></head>\
         <body><h1>{code} {title}</h1><p>{msg}</p></body></html>\n",
        code = status.as_u16(),
        msg = escape(detail),
    );
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp
}

/// The detail can hold text from the URL (an unknown app name): escape it for HTML.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_what_came_from_the_url() {
        assert_eq!(
            escape("<script>a&'\"</script>"),
            "&lt;script&gt;a&amp;&#39;&quot;&lt;/script&gt;"
        );
    }

    #[test]
    fn redirect_keeps_the_query() {
        let (parts, ()) = http::Request::builder()
            .uri("/t/demo?a=1")
            .body(())
            .unwrap()
            .into_parts();
        let r = add_slash(&parts);
        assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(r.headers()[LOCATION], "/t/demo/?a=1");
        let (parts, ()) = http::Request::builder()
            .method("POST")
            .uri("/stag--demo")
            .body(())
            .unwrap()
            .into_parts();
        let r = add_slash(&parts);
        assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(r.headers()[LOCATION], "/stag--demo/");
    }
}
