//! A tower layer that requires a BK login in front of an app's routes.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # fn demo(verifier: Arc<dyn bk_core::identity::TokenVerifier>) {
//! use axum::{Router, routing::get};
//! use bk_auth::sdk::{CurrentUser, LoginLayer};
//!
//! let app: Router = Router::new()
//!     .route("/", get(|CurrentUser(u): CurrentUser| async move { format!("hello {}", u.username) }))
//!     .route("/healthz/", get(|| async { "ok" }))
//!     .layer(LoginLayer::new(verifier, "https://paas.example.com/login/"));
//! # }
//! ```
//!
//! A request with a live `bk_token` cookie reaches the inner service with the
//! [`UserInfo`] in its extensions. Otherwise browsers get `302` to the login page with
//! `c_url` set to the URL they asked for, scripts (XHR, JSON clients) get `401` JSON, and
//! when login cannot be asked everyone gets `503` JSON: an outage must not look like a
//! logout. The original URL is rebuilt from `X-Forwarded-Proto`/`X-Forwarded-Host` (or
//! `Host`) and `X-Script-Name`; these are client-controlled without a proxy, but login
//! checks `c_url` against its allow-list, so a forged value cannot make it an open redirect.
//!
//! **`.layer` guards the fallback too**: with `Router::layer(LoginLayer…)`, every path —
//! unknown ones included — requires a login, so a 404 becomes a redirect to the login
//! page. To guard only some routes, put them in their own router and use
//! `Router::route_layer`, which wraps matched routes only:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # fn demo(verifier: Arc<dyn bk_core::identity::TokenVerifier>) {
//! use axum::{Router, routing::get};
//! use bk_auth::sdk::LoginLayer;
//!
//! let private = Router::new()
//!     .route("/app/", get(|| async { "members only" }))
//!     .route_layer(LoginLayer::new(verifier, "/auth/"));
//! let app: Router = Router::new().route("/", get(|| async { "public" })).merge(private);
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Json;
use axum::extract::OriginalUri;
use axum::response::{IntoResponse, Response};
use bk_core::ErrorCode;
use bk_core::identity::{TokenVerifier, UserInfo};
use http::header::{ACCEPT, CACHE_CONTROL, COOKIE, HOST, LOCATION};
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use serde_json::{Value, json};
use tower::{Layer, Service};

#[derive(Clone)]
struct Settings {
    verifier: Arc<dyn TokenVerifier>,
    login_url: String,
    cookie_name: String,
    open_paths: Vec<String>,
}

/// Requires a login for every request except those on the allow-list.
#[derive(Clone)]
pub struct LoginLayer {
    settings: Arc<Settings>,
}

impl std::fmt::Debug for LoginLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginLayer")
            .field("login_url", &self.settings.login_url)
            .field("cookie_name", &self.settings.cookie_name)
            .field("open_paths", &self.settings.open_paths)
            .finish_non_exhaustive()
    }
}

impl LoginLayer {
    /// Check tokens with `verifier`; send browsers to `login_url` (the login page, e.g.
    /// `https://paas.example.com/login/`). Reads cookie `bk_token`; `/healthz/` is open.
    pub fn new(verifier: Arc<dyn TokenVerifier>, login_url: impl Into<String>) -> Self {
        Self {
            settings: Arc::new(Settings {
                verifier,
                login_url: login_url.into(),
                cookie_name: "bk_token".into(),
                open_paths: vec!["/healthz/".into()],
            }),
        }
    }

    /// Read the token from another cookie.
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.settings).cookie_name = name.into();
        self
    }

    /// Let `path` through without a login: an exact path, or a prefix when it ends in `*`
    /// (`/static/*`). Paths are as this layer sees them (below any `nest` prefix).
    pub fn allow_path(mut self, path: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.settings)
            .open_paths
            .push(path.into());
        self
    }

    /// The login page browsers are sent to.
    pub fn login_url(&self) -> &str {
        &self.settings.login_url
    }
}

impl<S> Layer<S> for LoginLayer {
    type Service = RequireLogin<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireLogin {
            inner,
            settings: self.settings.clone(),
        }
    }
}

/// The service [`LoginLayer`] wraps around an app.
#[derive(Clone)]
pub struct RequireLogin<S> {
    inner: S,
    settings: Arc<Settings>,
}

impl<S> std::fmt::Debug for RequireLogin<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequireLogin")
            .field("login_url", &self.settings.login_url)
            .finish_non_exhaustive()
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S, B> Service<Request<B>> for RequireLogin<S>
where
    S: Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        // The clone is the one polled ready above; keep it and leave a fresh clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let settings = self.settings.clone();
        Box::pin(async move {
            if settings.is_open(req.uri().path()) {
                return inner.call(req).await;
            }
            let verdict = match cookie(req.headers(), &settings.cookie_name) {
                Some(token) => settings.verifier.verify(token).await,
                None => Ok(None),
            };
            match verdict {
                Ok(Some(user)) => {
                    req.extensions_mut().insert::<UserInfo>(user);
                    inner.call(req).await
                }
                Ok(None) => Ok(settings.login_required(&req)),
                Err(e) => {
                    tracing::warn!(error = ?e, "cannot verify bk_token: login unavailable");
                    Ok(login_unavailable())
                }
            }
        })
    }
}

impl Settings {
    fn is_open(&self, path: &str) -> bool {
        self.open_paths.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path == p,
        })
    }

    fn login_required<B>(&self, req: &Request<B>) -> Response {
        if wants_json(req.headers()) {
            return unauthenticated(Some(&self.login_url));
        }
        let location = login_redirect(&self.login_url, &original_url(req));
        let mut resp = StatusCode::FOUND.into_response();
        match HeaderValue::from_str(&location) {
            Ok(v) => {
                resp.headers_mut().insert(LOCATION, v);
            }
            // Only a login_url with control characters gets here: a configuration bug.
            Err(_) => return unauthenticated(Some(&self.login_url)),
        }
        resp.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}

/// The value of cookie `name`, if present and not empty.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().trim_matches('"'))
        .filter(|v| !v.is_empty())
}

/// Whether the caller is a script that wants a status code rather than a login page.
pub(crate) fn wants_json(headers: &HeaderMap) -> bool {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    if text("x-requested-with").eq_ignore_ascii_case("XMLHttpRequest") {
        return true;
    }
    let accept = text(ACCEPT.as_str()).to_ascii_lowercase();
    accept.contains("application/json") && !accept.contains("text/html")
}

/// The absolute URL the client asked for, as far as the headers tell.
pub(crate) fn original_url<B>(req: &Request<B>) -> String {
    let headers = req.headers();
    let first = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let uri = req
        .extensions()
        .get::<OriginalUri>()
        .map_or(req.uri(), |o| &o.0);
    let scheme = first("x-forwarded-proto")
        .filter(|s| matches!(*s, "http" | "https"))
        .or(uri.scheme_str())
        .unwrap_or("http");
    let host = first("x-forwarded-host")
        .or_else(|| first(HOST.as_str()))
        .or(uri.authority().map(|a| a.as_str()));
    let prefix = first("x-script-name")
        .filter(|p| p.starts_with('/'))
        .map_or("", |p| p.trim_end_matches('/'));
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    match host {
        Some(host) => format!("{scheme}://{host}{prefix}{path}"),
        None => format!("{prefix}{path}"),
    }
}

/// `login_url` with `c_url` set to `c_url`.
pub(crate) fn login_redirect(login_url: &str, c_url: &str) -> String {
    let sep = if login_url.contains('?') { '&' } else { '?' };
    let encoded: String = url::form_urlencoded::byte_serialize(c_url.as_bytes()).collect();
    format!("{login_url}{sep}c_url={encoded}")
}

fn json_error(code: ErrorCode, message: &str, data: Value) -> Response {
    let info = code.info();
    let status = StatusCode::from_u16(info.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({"result": false, "code": info.num, "message": message, "data": data});
    let mut resp = (status, Json(body)).into_response();
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `401` with the platform envelope; `data.login_url` when the login page is known.
pub(crate) fn unauthenticated(login_url: Option<&str>) -> Response {
    let data = login_url.map_or(Value::Null, |u| json!({ "login_url": u }));
    json_error(ErrorCode::Unauthenticated, "login required", data)
}

fn login_unavailable() -> Response {
    json_error(
        ErrorCode::Unavailable,
        "login service unavailable, retry later",
        Value::Null,
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use async_trait::async_trait;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use bk_core::ApiError;
    use bk_core::types::Role;
    use tower::ServiceExt;

    use super::*;
    use crate::sdk::CurrentUser;

    /// Test double: knows a fixed set of tokens, or fails like an unreachable login.
    struct FakeVerifier {
        tokens: HashMap<String, UserInfo>,
        down: bool,
    }

    #[async_trait]
    impl TokenVerifier for FakeVerifier {
        async fn verify(&self, bk_token: &str) -> Result<Option<UserInfo>, ApiError> {
            if self.down {
                return Err(ApiError::new(ErrorCode::Unavailable));
            }
            Ok(self.tokens.get(bk_token).cloned())
        }
    }

    fn alice() -> UserInfo {
        UserInfo {
            username: "alice".into(),
            chname: "Alice".into(),
            qq: String::new(),
            phone: String::new(),
            email: String::new(),
            role: Role::Developer,
            wx_userid: String::new(),
            language: "en".into(),
            time_zone: "UTC".into(),
        }
    }

    fn app(down: bool) -> Router {
        let verifier = FakeVerifier {
            tokens: HashMap::from([("good".to_owned(), alice())]),
            down,
        };
        Router::new()
            .route(
                "/",
                get(|CurrentUser(u): CurrentUser| async move { u.username }),
            )
            .route("/healthz/", get(|| async { "ok" }))
            .route("/static/app.js", get(|| async { "js" }))
            .layer(
                LoginLayer::new(Arc::new(verifier), "http://paas.example.com/login/")
                    .allow_path("/static/*"),
            )
    }

    async fn send(app: Router, req: Request<Body>) -> (StatusCode, HeaderMap, String) {
        let resp = app.oneshot(req).await.unwrap();
        let (parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        (
            parts.status,
            parts.headers,
            String::from_utf8(bytes.to_vec()).unwrap(),
        )
    }

    fn get_req(uri: &str) -> http::request::Builder {
        Request::get(uri).header(HOST, "app.example.com:8080")
    }

    #[tokio::test]
    async fn live_token_reaches_the_handler_with_the_user() {
        let req = get_req("/")
            .header(COOKIE, "lang=en; bk_token=good")
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = send(app(false), req).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "alice"));
    }

    #[tokio::test]
    async fn browsers_are_redirected_with_the_original_url() {
        let req = get_req("/?x=1&y=a%20b")
            .header(COOKIE, "bk_token=stale")
            .body(Body::empty())
            .unwrap();
        let (status, headers, _) = send(app(false), req).await;
        assert_eq!(status, StatusCode::FOUND);
        assert_eq!(
            headers[LOCATION],
            "http://paas.example.com/login/?c_url=http%3A%2F%2Fapp.example.com%3A8080%2F%3Fx%3D1%26y%3Da%2520b"
        );
        assert_eq!(headers[CACHE_CONTROL], "no-store");
    }

    #[tokio::test]
    async fn scripts_get_401_json() {
        for (name, value) in [
            ("x-requested-with", "XMLHttpRequest"),
            ("accept", "application/json"),
            ("accept", "application/json, text/plain, */*"),
        ] {
            let req = get_req("/")
                .header(name, value)
                .body(Body::empty())
                .unwrap();
            let (status, _, body) = send(app(false), req).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {value}");
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(
                v,
                json!({"result": false, "code": 1302401, "message": "login required",
                       "data": {"login_url": "http://paas.example.com/login/"}})
            );
        }
        // A browser navigation accepts HTML first: redirect.
        let req = get_req("/")
            .header(ACCEPT, "text/html,application/json;q=0.9")
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(app(false), req).await.0, StatusCode::FOUND);
    }

    #[tokio::test]
    async fn login_outage_is_503_not_a_redirect() {
        let req = get_req("/")
            .header(COOKIE, "bk_token=good")
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = send(app(true), req).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (v["result"].clone(), v["code"].clone()),
            (json!(false), json!(1302503))
        );
    }

    #[tokio::test]
    async fn open_paths_need_no_login_even_when_login_is_down() {
        for path in ["/healthz/", "/static/app.js"] {
            let (status, _, _) = send(app(true), get_req(path).body(Body::empty()).unwrap()).await;
            assert_eq!(status, StatusCode::OK, "{path}");
        }
        let (status, _, _) =
            send(app(false), get_req("/healthz").body(Body::empty()).unwrap()).await;
        assert_ne!(status, StatusCode::OK, "exact paths only");
    }

    #[tokio::test]
    async fn route_layer_guards_only_its_routes_layer_guards_the_fallback() {
        let verifier: Arc<dyn TokenVerifier> = Arc::new(FakeVerifier {
            tokens: HashMap::from([("good".to_owned(), alice())]),
            down: false,
        });
        let private = Router::new()
            .route("/app/", get(|| async { "private" }))
            .route_layer(LoginLayer::new(verifier.clone(), "/auth/"));
        let partial = Router::new()
            .route("/", get(|| async { "public" }))
            .merge(private);
        let status = |app: Router, path: &'static str| async move {
            send(app, get_req(path).body(Body::empty()).unwrap())
                .await
                .0
        };
        assert_eq!(status(partial.clone(), "/").await, StatusCode::OK);
        assert_eq!(
            status(partial.clone(), "/nope").await,
            StatusCode::NOT_FOUND
        );
        assert_eq!(status(partial, "/app/").await, StatusCode::FOUND);

        let whole = Router::new()
            .route("/", get(|| async { "public" }))
            .layer(LoginLayer::new(verifier, "/auth/"));
        assert_eq!(
            status(whole, "/nope").await,
            StatusCode::FOUND,
            "`.layer` also guards the fallback: unknown paths go to login"
        );
    }

    #[tokio::test]
    async fn cookie_name_is_configurable() {
        let verifier = FakeVerifier {
            tokens: HashMap::from([("good".to_owned(), alice())]),
            down: false,
        };
        let app = Router::new()
            .route(
                "/",
                get(|CurrentUser(u): CurrentUser| async move { u.username }),
            )
            .layer(LoginLayer::new(Arc::new(verifier), "/login/").cookie_name("my_token"));
        let req = get_req("/")
            .header(COOKIE, "bk_token=good")
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(app.clone(), req).await.0, StatusCode::FOUND);
        let req = get_req("/")
            .header(COOKIE, "my_token=good")
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(app, req).await.0, StatusCode::OK);
    }

    #[test]
    fn original_url_honours_proxy_headers() {
        let req = Request::get("/a/b?c=d")
            .header(HOST, "10.0.0.5:5000")
            .header("x-forwarded-proto", "https, http")
            .header("x-forwarded-host", "paas.example.com")
            .header("x-script-name", "/o/my-app/")
            .body(())
            .unwrap();
        assert_eq!(
            original_url(&req),
            "https://paas.example.com/o/my-app/a/b?c=d"
        );

        let req = Request::get("/x")
            .header("x-forwarded-proto", "javascript")
            .header(HOST, "h")
            .body(())
            .unwrap();
        assert_eq!(
            original_url(&req),
            "http://h/x",
            "only http(s) schemes are believed"
        );

        let mut req = Request::get("/inner").header(HOST, "h").body(()).unwrap();
        req.extensions_mut()
            .insert(OriginalUri("/nested/inner".parse().unwrap()));
        assert_eq!(
            original_url(&req),
            "http://h/nested/inner",
            "the URI before `nest` stripped it"
        );

        assert_eq!(
            original_url(&Request::get("/p").body(()).unwrap()),
            "/p",
            "no host: relative"
        );
    }

    #[test]
    fn login_redirect_keeps_an_existing_query() {
        assert_eq!(
            login_redirect("/login/", "http://h/"),
            "/login/?c_url=http%3A%2F%2Fh%2F"
        );
        assert_eq!(
            login_redirect("/login/?app_id=x", "/p"),
            "/login/?app_id=x&c_url=%2Fp"
        );
    }
}
