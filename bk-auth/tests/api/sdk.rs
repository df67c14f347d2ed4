//! The SDK against the real login service: `HttpLoginClient` over HTTP, and the example
//! SaaS app (`examples/saas.rs`) behind `LoginLayer`, driven as a browser would.
#![cfg(feature = "server")]
// Test code: a failed expectation should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use bk_auth::sdk::HttpLoginClient;
use bk_auth::testing::{self, ADMIN_PASSWORD, ESB_TOKEN, TestLogin, spawn_login};
use bk_core::ErrorCode;
use bk_core::clock::ManualClock;
use bk_core::identity::TokenVerifier;
use bk_core::types::Role;
use serde_json::Value;

#[path = "../../examples/saas.rs"]
mod saas;

/// The example app on 127.0.0.1:0, asking `login` through an `HttpLoginClient` whose
/// cache runs on `clock` with a 5 s TTL. Returns the app's base URL.
async fn spawn_saas(login_base: &str, clock: Arc<ManualClock>) -> String {
    let client = HttpLoginClient::builder(login_base)
        .cache_ttl(Duration::from_secs(5))
        .clock(clock)
        .build()
        .unwrap();
    let login_page = client.login_page_url();
    let app = saas::app(Arc::new(client), login_page);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers()["location"].to_str().unwrap().to_owned()
}

/// The hidden CSRF field of the login form.
fn csrf_field(html: &str) -> String {
    let marker = r#"name="csrfmiddlewaretoken" value=""#;
    let start = html.find(marker).expect("csrf field in the login form") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn sdk_browser_is_sent_to_login_and_back() {
    // The app is another origin (another port): login must be told to redirect there.
    let login = testing::spawn_login_with(
        bk_auth::config::LoginConfig {
            allowed_redirect_hosts: vec!["127.0.0.1".into()],
            ..testing::test_config()
        },
        bk_core::clock::system(),
    )
    .await;
    let clock = ManualClock::new(0);
    let saas = spawn_saas(&format!("{}/login/", login.base_url), clock.clone()).await;
    // A browser: keeps cookies (host-only cookies of 127.0.0.1 reach both ports, as in a
    // real one), follows redirects by hand so each step can be checked.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let health = browser
        .get(format!("{saas}/healthz/"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "the health check needs no login");

    // 1. Not logged in: to the login page, with the page asked for as c_url.
    let resp = browser.get(format!("{saas}/?tab=1")).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    let to_login = location(&resp);
    let expected_c_url = format!("{saas}/?tab=1");
    let encoded: String = url::form_urlencoded::byte_serialize(expected_c_url.as_bytes()).collect();
    assert_eq!(
        to_login,
        format!("{}/login/?c_url={encoded}", login.base_url)
    );

    // 2. The login form carries c_url and a CSRF token.
    let page = browser.get(&to_login).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let csrf = csrf_field(&html);

    // 3. Submit it: the cookie is set and the browser is sent back to the app.
    let resp = browser
        .post(format!("{}/login/", login.base_url))
        .form(&[
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
            ("c_url", expected_c_url.as_str()),
            ("csrfmiddlewaretoken", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(location(&resp), expected_c_url);
    let token = testing::cookie(&resp, "bk_token").expect("bk_token set");

    // 4. Back at the app: greeted, and the JSON API knows the user.
    let resp = browser.get(&expected_c_url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Hello, "), "{html}");
    let me: Value = browser
        .get(format!("{saas}/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "admin");
    assert_eq!(me["role"], Role::Superuser.code());
    let expected_name = if me["chname"] == "" {
        "admin"
    } else {
        me["chname"].as_str().unwrap()
    };
    assert!(
        html.contains(&format!("Hello, {}!", saas::escape_html(expected_name))),
        "{html}"
    );

    // 5. Log out at login. The app may serve its cached answer until the TTL runs out,
    // then refuses the old token.
    let resp = browser
        .get(format!("{}/login/logout/", login.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let stale = || {
        no_redirects()
            .get(format!("{saas}/api/me"))
            .header("cookie", format!("bk_token={token}"))
    };
    assert_eq!(
        stale().send().await.unwrap().status(),
        200,
        "within the cache TTL"
    );
    clock.advance_secs(5);
    let resp = stale()
        .header("x-requested-with", "XMLHttpRequest")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        401,
        "after the TTL the revoked token is refused"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], 1302401);
    assert_eq!(
        body["data"]["login_url"],
        format!("{}/login/", login.base_url)
    );
    // The browser itself lost its cookie at logout and is sent to the login page again.
    let resp = browser.get(format!("{saas}/")).send().await.unwrap();
    assert_eq!(resp.status(), 302);
}

#[tokio::test]
async fn sdk_scripts_get_401_and_login_outage_503() {
    let login = spawn_login().await;
    let saas = spawn_saas(&login.base_url, ManualClock::new(0)).await;
    let http = no_redirects();

    for (name, value) in [
        ("x-requested-with", "XMLHttpRequest"),
        ("accept", "application/json"),
    ] {
        let resp = http
            .get(format!("{saas}/api/me"))
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{name}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["result"], false);
        assert_eq!(body["message"], "login required");
    }
    let resp = http
        .get(format!("{saas}/api/me"))
        .header("cookie", "bk_token=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302, "an unknown token is not logged in");

    // Login unreachable: a token cannot be checked, which is not the same as a logout.
    // (Port 1 on loopback refuses connections.)
    let token = login.login("admin", ADMIN_PASSWORD).await.unwrap();
    let orphan = spawn_saas("http://127.0.0.1:1", ManualClock::new(0)).await;
    let resp = http
        .get(format!("{orphan}/api/me"))
        .header("cookie", format!("bk_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], ErrorCode::Unavailable.info().num);
    let health = http.get(format!("{orphan}/healthz/")).send().await.unwrap();
    assert_eq!(health.status(), 200, "open paths do not depend on login");
}

async fn admin_token(login: &TestLogin) -> String {
    login
        .login("admin", ADMIN_PASSWORD)
        .await
        .expect("admin logs in")
}

#[tokio::test]
async fn sdk_client_speaks_the_v2_api() {
    let login = spawn_login().await;
    let token = admin_token(&login).await;
    // Also works with the V7 `BK_LOGIN_URL` form of the base URL.
    let client = HttpLoginClient::builder(format!("{}/login/", login.base_url))
        .app_credentials("esb", ESB_TOKEN)
        .build()
        .unwrap();

    let user = client.verify(&token).await.unwrap().expect("live token");
    assert_eq!(
        (user.username.as_str(), user.role),
        ("admin", Role::Superuser)
    );
    assert_eq!(client.verify("no-such-token").await.unwrap(), None);
    assert_eq!(
        client.is_login(&token).await.unwrap().as_deref(),
        Some("admin")
    );
    assert_eq!(client.is_login("no-such-token").await.unwrap(), None);

    let admin = client
        .get_user("admin")
        .await
        .unwrap()
        .expect("admin exists");
    assert_eq!(admin.role, Role::Superuser);
    assert_eq!(client.get_user("nobody1").await.unwrap(), None);

    let untrusted = HttpLoginClient::builder(&login.base_url).build().unwrap();
    assert_eq!(
        untrusted.get_user("admin").await.unwrap_err().code,
        ErrorCode::InvalidParameter
    );
    let wrong = HttpLoginClient::builder(&login.base_url)
        .app_credentials("esb", "wrong-token")
        .build()
        .unwrap();
    assert!(
        wrong.get_user("admin").await.is_err(),
        "a wrong app token earns no trust"
    );
}
