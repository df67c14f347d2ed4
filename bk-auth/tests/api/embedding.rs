//! The login embedded in a host app: mounted at a prefix, with a renamed cookie, served
//! with or without `ConnectInfo`; and the hardening of the form (signed CSRF, `Origin`,
//! same-origin `c_url`, `cookie.secure`).

use bk_auth::app::LoginApp;
use bk_auth::config::LoginConfig;
use bk_auth::testing::{self, ADMIN_PASSWORD};
use bk_core::db::{Db, DbOptions};

use crate::http_support::client;

/// A login built with the builder at `prefix` on a fresh SQLite file, served on port 0
/// with (or without) connect info.
pub(crate) struct Hosted {
    pub(crate) base: String,
    pub(crate) app: LoginApp,
    _dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hosted {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) async fn host(cfg: LoginConfig, prefix: &str, connect_info: bool) -> Hosted {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("login.db").display());
    let db = Db::connect(&url, &DbOptions::default()).await.unwrap();
    let app = LoginApp::builder(db)
        .config(cfg)
        .admin_password(ADMIN_PASSWORD)
        .prefix(prefix)
        .build()
        .await
        .unwrap();
    let router = app.router.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        if connect_info {
            let _ = LoginApp::serve(listener, router).await;
        } else {
            // What a host app forgetting `into_make_service_with_connect_info` does.
            let _ = axum::serve(listener, router).await;
        }
    });
    Hosted {
        base: format!("http://{addr}"),
        app,
        _dir: dir,
        task,
    }
}

fn set_cookies(resp: &reqwest::Response) -> Vec<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn cookie_line(resp: &reqwest::Response, name: &str) -> Option<String> {
    set_cookies(resp)
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
}

/// GET the form at `page`: (CSRF cookie value, hidden field value, page HTML).
async fn form(page: &str, headers: &[(&str, &str)]) -> (String, String, String) {
    let mut req = client().get(page);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let cookie = testing::cookie(&resp, "bk_csrftoken").expect("csrf cookie");
    let html = resp.text().await.unwrap();
    let marker = r#"name="csrfmiddlewaretoken" value=""#;
    let start = html.find(marker).unwrap() + marker.len();
    let field = html[start..].split('"').next().unwrap().to_owned();
    (cookie, field, html)
}

/// POST the form with the given CSRF cookie/field and extra headers.
async fn post(
    page: &str,
    csrf_cookie: &str,
    csrf_field: &str,
    user: &str,
    password: &str,
    c_url: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = client()
        .post(page)
        .header("cookie", format!("bk_csrftoken={csrf_cookie}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.form(&[
        ("username", user),
        ("password", password),
        ("c_url", c_url),
        ("csrfmiddlewaretoken", csrf_field),
    ])
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn mounted_at_auth_every_url_follows_the_prefix() {
    let h = host(testing::test_config(), "/auth/", true).await;
    let page = format!("{}/auth/", h.base);
    let resp = client().get(&page).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let csrf = cookie_line(&resp, "bk_csrftoken").unwrap();
    assert!(csrf.contains("Path=/auth/;"), "{csrf}");
    assert!(resp.text().await.unwrap().contains(r#"action="/auth/""#));

    let (c, f, _) = form(&page, &[]).await;
    let resp = post(&page, &c, &f, "admin", ADMIN_PASSWORD, "/home/", &[]).await;
    assert_eq!(resp.status(), 302, "a login at /auth/ is not refused");
    let token = testing::cookie(&resp, "bk_token").unwrap();

    // The APIs and docs live under the prefix; /login/ is not there at all.
    let v2 = client()
        .get(format!("{}/auth/api/v2/is_login/?bk_token={token}", h.base))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = v2.json().await.unwrap();
    assert_eq!(body["data"]["bk_username"], "admin");
    let doc: serde_json::Value = client()
        .get(format!("{}/auth/openapi.json", h.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["paths"]["/auth/api/v2/is_login/"].is_object(),
        "{}",
        doc["paths"]
    );
    let old = client()
        .get(format!("{}/login/", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 404);

    // Logout without c_url returns to this login page.
    let out = client()
        .get(format!("{}/auth/logout/", h.base))
        .header("cookie", format!("bk_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.headers()["location"], "/auth/");
    assert_eq!(h.app.service.is_login(&token).await.unwrap(), None);

    // The SDK client takes the base URL as given: a logged-in user is not a 503.
    let sdk = bk_auth::sdk::HttpLoginClient::builder(format!("{}/auth/", h.base))
        .build()
        .unwrap();
    let (c, f, _) = form(&page, &[]).await;
    let token = testing::cookie(
        &post(&page, &c, &f, "admin", ADMIN_PASSWORD, "/", &[]).await,
        "bk_token",
    )
    .unwrap();
    assert_eq!(
        sdk.is_login(&token).await.unwrap().as_deref(),
        Some("admin")
    );
    assert_eq!(sdk.login_page_url(), page);
}

#[tokio::test]
async fn at_the_root_the_login_page_is_slash() {
    let h = host(testing::test_config(), "", true).await;
    let page = format!("{}/", h.base);
    let (c, f, html) = form(&page, &[]).await;
    assert!(html.contains(r#"action="/""#));
    let resp = post(&page, &c, &f, "admin", ADMIN_PASSWORD, "/x/", &[]).await;
    assert_eq!(resp.headers()["location"], "/x/");
    let api = client()
        .get(format!("{}/accounts/is_login/?bk_token=nope", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);
}

#[tokio::test]
async fn the_service_verifies_tokens_in_process() {
    use bk_core::identity::{TokenVerifier, UserDirectory};
    let h = host(testing::test_config(), "/login", true).await;
    let page = format!("{}/login/", h.base);
    let (c, f, _) = form(&page, &[]).await;
    let token = testing::cookie(
        &post(&page, &c, &f, "admin", ADMIN_PASSWORD, "/", &[]).await,
        "bk_token",
    )
    .unwrap();
    let verifier: std::sync::Arc<dyn TokenVerifier> = h.app.service.clone();
    let user = verifier.verify(&token).await.unwrap().expect("live token");
    assert_eq!(user.username, "admin");
    assert_eq!(verifier.verify("forged").await.unwrap(), None);
    let dir: std::sync::Arc<dyn UserDirectory> = h.app.service.clone();
    assert!(dir.get_user("admin").await.unwrap().is_some());
    assert!(dir.get_user("nobody").await.unwrap().is_none());
}

#[tokio::test]
async fn unsigned_or_cross_origin_csrf_is_refused() {
    let h = host(testing::test_config(), "/login", true).await;
    let page = format!("{}/login/", h.base);

    // Equal cookie and field the server did not sign (the old check passed these).
    let forged = "A".repeat(87);
    let resp = post(&page, &forged, &forged, "admin", ADMIN_PASSWORD, "/", &[]).await;
    assert_eq!(resp.status(), 403);
    assert!(testing::cookie(&resp, "bk_token").is_none());
    // The re-rendered form replaces the forged cookie with a signed one.
    assert!(cookie_line(&resp, "bk_csrftoken").is_some());

    // A signed token with a truncated field, or another length: refused.
    let (c, f, _) = form(&page, &[]).await;
    let short = &f[..f.len() - 1];
    let resp = post(&page, short, short, "admin", ADMIN_PASSWORD, "/", &[]).await;
    assert_eq!(resp.status(), 403);

    // Origin, when sent, must be the login's own origin (scheme, host and port).
    let other_port = format!("{}9", h.base);
    for origin in ["https://evil.example", other_port.as_str(), "null"] {
        let resp = post(
            &page,
            &c,
            &f,
            "admin",
            ADMIN_PASSWORD,
            "/",
            &[("origin", origin)],
        )
        .await;
        assert_eq!(resp.status(), 403, "{origin}");
    }
    let resp = post(
        &page,
        &c,
        &f,
        "admin",
        ADMIN_PASSWORD,
        "/",
        &[("origin", &h.base)],
    )
    .await;
    assert_eq!(resp.status(), 302, "own origin passes");
}

#[tokio::test]
async fn c_url_on_the_login_host_but_another_port_is_not_followed() {
    let h = host(testing::test_config(), "/login", true).await;
    let page = format!("{}/login/", h.base);
    let port: u16 = h.base.rsplit(':').next().unwrap().parse().unwrap();
    let other = format!("http://127.0.0.1:{}/steal", port.wrapping_add(1).max(1));
    let (c, f, _) = form(&page, &[]).await;
    let resp = post(&page, &c, &f, "admin", ADMIN_PASSWORD, &other, &[]).await;
    assert_eq!(resp.headers()["location"], "/console/");
    let same = format!("{}/o/app/", h.base);
    let (c, f, _) = form(&page, &[]).await;
    let resp = post(&page, &c, &f, "admin", ADMIN_PASSWORD, &same, &[]).await;
    assert_eq!(resp.headers()["location"], same.as_str());
}

#[tokio::test]
async fn a_renamed_cookie_is_read_everywhere_and_logout_revokes() {
    let mut cfg = testing::test_config();
    cfg.cookie.name = "corp_token".into();
    let h = host(cfg, "/login", true).await;
    let page = format!("{}/login/", h.base);
    let (c, f, _) = form(&page, &[]).await;
    let resp = post(&page, &c, &f, "admin", ADMIN_PASSWORD, "/", &[]).await;
    assert!(testing::cookie(&resp, "bk_token").is_none());
    let token = testing::cookie(&resp, "corp_token").expect("corp_token set");
    let jar = format!("corp_token={token}");
    let get = |path: &str| {
        client()
            .get(format!("{}{path}", h.base))
            .header("cookie", jar.clone())
            .send()
    };

    // is_login without a parameter falls back to the renamed cookie (V1 and V2).
    let v2: serde_json::Value = get("/login/api/v2/is_login/")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v2["data"]["bk_username"], "admin", "{v2}");
    let v1: serde_json::Value = get("/login/accounts/is_login/")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v1["result"], true, "{v1}");
    // Profile and admin APIs read it too.
    assert_eq!(get("/login/api/profile/").await.unwrap().status(), 200);
    assert_eq!(get("/login/api/admin/users/").await.unwrap().status(), 200);
    // The login page sees the session and goes straight on.
    assert_eq!(get("/login/?c_url=/x/").await.unwrap().status(), 302);
    // The SDK layer built from the app reads the same cookie.
    assert!(format!("{:?}", h.app.layer()).contains("corp_token"));

    // Logout clears the cookie and revokes the session.
    let out = get("/login/logout/").await.unwrap();
    assert!(
        cookie_line(&out, "corp_token")
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(h.app.service.is_login(&token).await.unwrap(), None);
}

#[tokio::test]
async fn cookie_secure_always_never_auto() {
    async fn token_cookie(secure: &str, headers: &[(&str, &str)]) -> String {
        let mut cfg = testing::test_config();
        cfg.cookie.secure = secure.into();
        let h = host(cfg, "/login", true).await;
        let page = format!("{}/login/", h.base);
        let (c, f, _) = form(&page, headers).await;
        let resp = post(&page, &c, &f, "admin", ADMIN_PASSWORD, "/", headers).await;
        cookie_line(&resp, "bk_token").expect("token cookie")
    }
    let https = [("x-forwarded-proto", "https")];
    assert!(token_cookie("always", &[]).await.contains("; Secure"));
    assert!(!token_cookie("never", &https).await.contains("Secure"));
    // auto: Secure when a trusted proxy (loopback, by default) says the client used https.
    assert!(token_cookie("auto", &https).await.contains("; Secure"));
    assert!(!token_cookie("auto", &[]).await.contains("Secure"));

    // A bad value stops the start with a message naming the key and the choices.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("l.db").display());
    let db = Db::connect(&url, &DbOptions::default()).await.unwrap();
    let mut cfg = testing::test_config();
    cfg.cookie.secure = "sometimes".into();
    let err = LoginApp::builder(db).config(cfg).build().await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("login.cookie.secure") && msg.contains("always"),
        "{msg}"
    );
}

/// A log writer the test can read.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn without_connect_info_it_says_so_and_never_shares_one_address_key() {
    // Served on this thread (current-thread runtime), so the scoped subscriber sees the
    // server's log lines.
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let h = host(testing::test_config(), "/login", false).await;
    let page = format!("{}/login/", h.base);
    // Many failures, each on another account: with one shared `ip:unknown` key these
    // would delay everyone after 15 (free_failures × address_factor).
    for i in 0..20 {
        let (c, f, _) = form(&page, &[]).await;
        let resp = post(
            &page,
            &c,
            &f,
            &format!("user{i}"),
            "wrong-password",
            "/",
            &[],
        )
        .await;
        assert_eq!(resp.status(), 200, "attempt {i} was judged, not delayed");
    }
    let (c, f, _) = form(&page, &[]).await;
    let resp = post(&page, &c, &f, "admin", ADMIN_PASSWORD, "/", &[]).await;
    assert_eq!(
        resp.status(),
        302,
        "an account with no failures is not delayed"
    );

    // Per-account keys only: no address key is blocked (listed as administrators see it).
    let token = testing::cookie(&resp, "bk_token").unwrap();
    let locks: serde_json::Value = client()
        .get(format!("{}/login/api/admin/locks/", h.base))
        .header("cookie", format!("bk_token={token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!locks.to_string().contains("ip:"), "{locks}");

    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        text.matches("into_make_service_with_connect_info").count(),
        1,
        "one clear error naming the fix: {text}"
    );
}
