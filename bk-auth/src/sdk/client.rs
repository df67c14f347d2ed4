//! HTTP client of the BK login V2 APIs, as a [`TokenVerifier`] with a short cache.
//!
//! ```no_run
//! # async fn demo() -> Result<(), bk_core::ApiError> {
//! use bk_auth::sdk::HttpLoginClient;
//! use bk_core::identity::TokenVerifier;
//!
//! let login = HttpLoginClient::builder("http://paas.example.com/login/").build()?;
//! if let Some(user) = login.verify("token-from-the-cookie").await? {
//!     println!("hello {}", user.username);
//! }
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bk_core::clock::{self, Clock};
use bk_core::identity::{TokenVerifier, UserInfo};
use bk_core::types::Role;
use bk_core::{ApiError, ErrorCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::cache::TokenCache;

/// Tokens longer than this are not forwarded to login (ours are 43 characters).
const MAX_TOKEN_LEN: usize = 512;

/// Login V2 codes meaning "no such session or user": an answer, not a failure.
const NOT_LOGGED_IN: [i64; 4] = [1302100, 1302101, 1302103, 1302401];
const NO_SUCH_USER: [i64; 2] = [1302101, 1302103];

/// Settings of an [`HttpLoginClient`]; see [`HttpLoginClient::builder`].
#[derive(Debug)]
pub struct HttpLoginClientBuilder {
    base_url: String,
    app: Option<(String, String)>,
    cache_ttl: Duration,
    max_entries: usize,
    timeout: Duration,
    clock: Arc<dyn Clock>,
    http: Option<reqwest::Client>,
}

impl HttpLoginClientBuilder {
    /// Credentials for service trust (`X-APP-CODE` / `X-APP-TOKEN`), needed by
    /// [`HttpLoginClient::get_user`].
    pub fn app_credentials(
        mut self,
        app_code: impl Into<String>,
        app_token: impl Into<String>,
    ) -> Self {
        self.app = Some((app_code.into(), app_token.into()));
        self
    }

    /// How long a "logged in" answer is reused (default 10 s; zero disables the cache).
    /// A logout elsewhere is seen here after at most this long.
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// How many tokens the cache remembers (default 10 000).
    pub fn max_entries(mut self, n: usize) -> Self {
        self.max_entries = n;
        self
    }

    /// Time limit of one call to login (default 3 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The clock of the cache (tests pass a manual one).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Share an existing HTTP client. It should not follow redirects: a redirect would
    /// carry the token to wherever it points.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Check the settings and build the client.
    pub fn build(self) -> Result<HttpLoginClient, ApiError> {
        let root = login_root(&self.base_url)?;
        let http = match self.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(self.timeout)
                .user_agent(concat!("bk-auth-sdk/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| ApiError::new(ErrorCode::Internal).caused_by(e))?,
        };
        let ttl_ms = i64::try_from(self.cache_ttl.as_millis()).unwrap_or(i64::MAX);
        Ok(HttpLoginClient {
            root,
            app: self.app,
            timeout: self.timeout,
            http,
            cache: TokenCache::new(self.clock, ttl_ms, self.max_entries),
        })
    }
}

/// Where the login service lives: `base` as given, without a trailing `/`. The login
/// page is `<base>/`, the APIs `<base>/api/v2/...`: `https://paas.example.com/login/`
/// (V7 `BK_LOGIN_URL`), `https://tools.corp.example/auth/` (a login mounted by a host
/// app), or `http://login:8001` (the standalone `bk-login`, which also answers without
/// its prefix).
fn login_root(base: &str) -> Result<String, ApiError> {
    let bad = |why: &str| ApiError::invalid(format!("login base URL {base:?}: {why}"));
    let url = url::Url::parse(base).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad("must be an http(s) URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Verifies `bk_token`s and looks users up through the login service's V2 API.
pub struct HttpLoginClient {
    root: String,
    app: Option<(String, String)>,
    timeout: Duration,
    http: reqwest::Client,
    cache: TokenCache,
}

impl std::fmt::Debug for HttpLoginClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Hand-written so the app token never reaches a log line.
        f.debug_struct("HttpLoginClient")
            .field("root", &self.root)
            .field("app_code", &self.app.as_ref().map(|(c, _)| c))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The V2 envelope.
#[derive(Debug, Deserialize)]
struct Envelope {
    result: bool,
    #[serde(default)]
    bk_error_code: i64,
    #[serde(default)]
    bk_error_msg: String,
    #[serde(default)]
    data: Value,
}

/// A user as V2 describes it.
#[derive(Debug, Deserialize)]
struct V2User {
    bk_username: String,
    #[serde(default)]
    bk_role: Option<Role>,
    #[serde(default)]
    chname: Option<String>,
    #[serde(default)]
    qq: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    wx_userid: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    time_zone: Option<String>,
}

impl From<V2User> for UserInfo {
    fn from(u: V2User) -> Self {
        UserInfo {
            username: u.bk_username,
            chname: u.chname.unwrap_or_default(),
            qq: u.qq.unwrap_or_default(),
            phone: u.phone.unwrap_or_default(),
            email: u.email.unwrap_or_default(),
            role: u.bk_role.unwrap_or_default(),
            wx_userid: u.wx_userid.unwrap_or_default(),
            language: u.language.unwrap_or_default(),
            time_zone: u.time_zone.unwrap_or_default(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct V2Username {
    bk_username: String,
}

fn unavailable(detail: &'static str) -> ApiError {
    ApiError::with_detail(ErrorCode::Unavailable, detail)
}

impl Envelope {
    /// `Ok(Some(data))` on success, `Ok(None)` when the code is one of `absent`, else the
    /// code as an error.
    fn into_data<T: DeserializeOwned>(self, absent: &[i64]) -> Result<Option<T>, ApiError> {
        if !self.result {
            if absent.contains(&self.bk_error_code) {
                return Ok(None);
            }
            let code = ErrorCode::ALL
                .iter()
                .copied()
                .find(|c| c.info().num == self.bk_error_code)
                .unwrap_or(ErrorCode::Unavailable);
            return Err(ApiError::with_detail(
                code,
                format!(
                    "login answered {}: {}",
                    self.bk_error_code, self.bk_error_msg
                ),
            ));
        }
        serde_json::from_value(self.data)
            .map(Some)
            .map_err(|e| unavailable("login answered data of an unexpected shape").caused_by(e))
    }
}

impl HttpLoginClient {
    /// Start configuring a client of the login service at `base_url`
    /// (`http://login:8001` or `https://paas.example.com/login/`).
    pub fn builder(base_url: impl Into<String>) -> HttpLoginClientBuilder {
        HttpLoginClientBuilder {
            base_url: base_url.into(),
            app: None,
            cache_ttl: Duration::from_secs(10),
            max_entries: 10_000,
            timeout: Duration::from_secs(3),
            clock: clock::system(),
            http: None,
        }
    }

    /// The login page, where browsers are sent (`<base>/`).
    pub fn login_page_url(&self) -> String {
        format!("{}/", self.root)
    }

    /// The logout page (`<base>/logout/`).
    pub fn logout_url(&self) -> String {
        format!("{}/logout/", self.root)
    }

    /// Drop the cached answer for `bk_token` (after sending the user to logout).
    pub fn forget(&self, bk_token: &str) {
        self.cache.forget(bk_token);
    }

    async fn call(
        &self,
        api: &str,
        query: &[(&str, &str)],
        trusted: bool,
    ) -> Result<Envelope, ApiError> {
        let url = format!("{}/api/v2/{api}/", self.root);
        let mut req = self.http.get(url).query(query).timeout(self.timeout);
        if trusted {
            let (code, token) = self.app.as_ref().ok_or_else(|| {
                ApiError::invalid("looking users up by name needs app credentials (HttpLoginClientBuilder::app_credentials)")
            })?;
            req = req.header("X-APP-CODE", code).header("X-APP-TOKEN", token);
        }
        // `without_url`: the URL holds the token, and errors end up in logs.
        let resp = req
            .send()
            .await
            .map_err(|e| unavailable("login service unreachable").caused_by(e.without_url()))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(ApiError::with_detail(
                ErrorCode::Unavailable,
                format!("login service answered HTTP {status}"),
            ));
        }
        resp.json().await.map_err(|e| {
            unavailable("login service answered something other than the BK envelope")
                .caused_by(e.without_url())
        })
    }

    /// Whose session `bk_token` is (V2 `is_login`); `Ok(None)` when not logged in.
    pub async fn is_login(&self, bk_token: &str) -> Result<Option<String>, ApiError> {
        if bk_token.is_empty() || bk_token.len() > MAX_TOKEN_LEN {
            return Ok(None);
        }
        if let Some(Some(user)) = self.cache.get(bk_token) {
            return Ok(Some(user.username));
        }
        let env = self
            .call("is_login", &[("bk_token", bk_token)], false)
            .await?;
        Ok(env
            .into_data::<V2Username>(&NOT_LOGGED_IN)?
            .map(|d| d.bk_username))
    }

    /// Any user by name, through service trust (needs app credentials); `Ok(None)` when
    /// the user does not exist. Not cached.
    pub async fn get_user(&self, username: &str) -> Result<Option<UserInfo>, ApiError> {
        let env = self
            .call("get_user", &[("bk_username", username)], true)
            .await?;
        Ok(env.into_data::<V2User>(&NO_SUCH_USER)?.map(UserInfo::from))
    }
}

#[async_trait]
impl TokenVerifier for HttpLoginClient {
    async fn verify(&self, bk_token: &str) -> Result<Option<UserInfo>, ApiError> {
        if bk_token.is_empty() || bk_token.len() > MAX_TOKEN_LEN {
            return Ok(None);
        }
        if let Some(hit) = self.cache.get(bk_token) {
            return Ok(hit);
        }
        let env = self
            .call("get_user", &[("bk_token", bk_token)], false)
            .await?;
        let user = env.into_data::<V2User>(&NOT_LOGGED_IN)?.map(UserInfo::from);
        self.cache.put(bk_token, user.clone());
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base_urls_are_taken_as_given() {
        assert_eq!(
            login_root("http://login:8001").unwrap(),
            "http://login:8001"
        );
        assert_eq!(
            login_root("http://login:8001/").unwrap(),
            "http://login:8001"
        );
        assert_eq!(
            login_root("https://paas.example.com/login/").unwrap(),
            "https://paas.example.com/login"
        );
        assert_eq!(
            login_root("https://x.example.com/bk/auth").unwrap(),
            "https://x.example.com/bk/auth"
        );
        assert!(login_root("ftp://x").is_err());
        assert!(login_root("not a url").is_err());
        assert!(login_root("http://x/?a=b").is_err());
        let c = HttpLoginClient::builder("http://paas.example.com/login/")
            .build()
            .unwrap();
        assert_eq!(c.login_page_url(), "http://paas.example.com/login/");
        assert_eq!(c.logout_url(), "http://paas.example.com/login/logout/");
        let c = HttpLoginClient::builder("http://tools.example.com/auth/")
            .build()
            .unwrap();
        assert_eq!(c.login_page_url(), "http://tools.example.com/auth/");
        assert_eq!(c.logout_url(), "http://tools.example.com/auth/logout/");
    }

    #[test]
    fn envelope_outcomes() {
        let ok: Envelope = serde_json::from_value(json!({
            "result": true, "bk_error_code": 0, "bk_error_msg": "",
            "data": {"bk_username": "admin", "bk_role": 1, "chname": "Admin", "qq": "", "phone": "1",
                     "email": "a@x.io", "wx_userid": "", "language": "en", "time_zone": "Asia/Shanghai"}
        }))
        .unwrap();
        let u = UserInfo::from(ok.into_data::<V2User>(&NOT_LOGGED_IN).unwrap().unwrap());
        assert_eq!(
            (u.username.as_str(), u.role, u.time_zone.as_str()),
            ("admin", Role::Superuser, "Asia/Shanghai")
        );

        let invalid: Envelope = serde_json::from_value(
            json!({"result": false, "bk_error_code": 1302100, "bk_error_msg": "bad", "data": {}}),
        )
        .unwrap();
        assert!(
            invalid
                .into_data::<V2User>(&NOT_LOGGED_IN)
                .unwrap()
                .is_none()
        );

        let other: Envelope = serde_json::from_value(
            json!({"result": false, "bk_error_code": 1302403, "bk_error_msg": "no", "data": null}),
        )
        .unwrap();
        let e = other.into_data::<V2User>(&NOT_LOGGED_IN).unwrap_err();
        assert_eq!(e.code, ErrorCode::PermissionDenied);
    }

    #[test]
    fn debug_hides_the_app_token() {
        let c = HttpLoginClient::builder("http://login")
            .app_credentials("esb", "tok-secret")
            .build()
            .unwrap();
        let d = format!("{c:?}");
        assert!(d.contains("esb") && !d.contains("tok-secret"));
    }

    /// Test double of the login V2 API: `good` is alice's token, `boom` makes it fail with
    /// HTTP 500; it counts the calls it gets.
    async fn fake_login() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use axum::extract::Query;
        use axum::response::IntoResponse;
        use axum::routing::get;
        use std::collections::HashMap;
        use std::sync::atomic::{AtomicUsize, Ordering};

        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let handler = move |Query(q): Query<HashMap<String, String>>| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                match q.get("bk_token").map(String::as_str) {
                    Some("boom") => {
                        (http::StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response()
                    }
                    Some("good") => axum::Json(
                        json!({"result": true, "bk_error_code": 0, "bk_error_msg": "",
                        "data": {"bk_username": "alice", "bk_role": 2, "chname": "Alice"}}),
                    )
                    .into_response(),
                    _ => axum::Json(json!({"result": false, "bk_error_code": 1302100,
                        "bk_error_msg": "invalid token", "data": {}}))
                    .into_response(),
                }
            }
        };
        let app = axum::Router::new().route("/login/api/v2/get_user/", get(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}/login"), calls)
    }

    #[tokio::test]
    async fn answers_are_cached_and_outages_are_errors() {
        use bk_core::clock::ManualClock;
        use std::sync::atomic::Ordering;

        let (base, calls) = fake_login().await;
        let clock = ManualClock::new(0);
        let c = HttpLoginClient::builder(base)
            .cache_ttl(Duration::from_secs(10))
            .clock(clock.clone())
            .build()
            .unwrap();

        let u = c.verify("good").await.unwrap().unwrap();
        assert_eq!(
            (u.username.as_str(), u.role, u.chname.as_str()),
            ("alice", Role::Developer, "Alice")
        );
        c.verify("good").await.unwrap();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "second answer from the cache"
        );
        clock.advance_secs(10);
        c.verify("good").await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2, "expired: asked again");

        assert_eq!(c.verify("stale").await.unwrap(), None);
        assert_eq!(c.verify("stale").await.unwrap(), None);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "negative answer cached briefly"
        );
        clock.advance_secs(1);
        assert_eq!(c.verify("stale").await.unwrap(), None);
        assert_eq!(calls.load(Ordering::SeqCst), 4);

        let e = c.verify("boom").await.unwrap_err();
        assert_eq!(e.code, ErrorCode::Unavailable);
        c.verify("boom").await.unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 6, "failures are not cached");
    }

    #[tokio::test]
    async fn unreachable_login_is_an_error_not_a_logout() {
        // Port 1 on loopback refuses connections.
        let c = HttpLoginClient::builder("http://127.0.0.1:1")
            .build()
            .unwrap();
        let e = c.verify("some-token").await.unwrap_err();
        assert_eq!(e.code, ErrorCode::Unavailable);
        assert!(!format!("{e:?}").contains("some-token"), "{e:?}");
        assert_eq!(
            c.verify("").await.unwrap(),
            None,
            "an empty token needs no call"
        );
    }
}
