//! Enterprise login end to end through the login service's own routes: the login page
//! offers the provider, `/login/oidc/<id>/start/` sends the browser to a real OIDC
//! provider (`oidc-provider-mock`), the callback creates the user with the configured
//! role on first login and sets `bk_token`. A local account is never taken over, a
//! callback URL only logs in the browser that started the login, and accounts are
//! matched by subject.

use std::sync::Arc;

use bk_auth::testing::{self, spawn_login_with, test_config};
use bk_core::clock::{Clock, ManualClock, SystemClock};
use bk_core::types::Role;
use serde_json::json;

use crate::http_support::{admin_token, client, create_user};
use crate::oidc::{config, set_user, start_mock};

/// A browser: keeps its cookies, does not follow redirects.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

/// Start a login in `browser` and authorize as `sub` at the provider; returns the
/// callback URL the provider sends the browser to.
async fn to_callback(browser: &reqwest::Client, base: &str, sub: &str, c_url: &str) -> String {
    let start = browser
        .get(format!("{base}/login/oidc/mock/start/?c_url={c_url}"))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 302, "{:?}", start.text().await);
    let state_cookie = start
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("bk_oidc_state="))
        .expect("state cookie")
        .to_owned();
    assert!(
        state_cookie.contains("; HttpOnly")
            && state_cookie.contains("SameSite=Lax")
            && state_cookie.contains("Path=/login/oidc/mock/callback/")
            && state_cookie.contains("Max-Age=600"),
        "{state_cookie}"
    );
    let authorize = start.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        authorize.contains("code_challenge=") && authorize.contains("code_challenge_method=S256"),
        "PKCE: {authorize}"
    );
    let page = browser.get(&authorize).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let back = browser
        .post(&authorize)
        .form(&[("sub", sub)])
        .send()
        .await
        .unwrap();
    assert!(back.status().is_redirection(), "{}", back.status());
    let callback = back.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        callback.starts_with(&format!("{base}/login/oidc/mock/callback/")),
        "{callback}"
    );
    callback
}

/// Follow one login through one browser: start, the provider's form, our callback.
async fn browser_login(base: &str, sub: &str, c_url: &str) -> reqwest::Response {
    let b = browser();
    let callback = to_callback(&b, base, sub, c_url).await;
    b.get(&callback).send().await.unwrap()
}

async fn spawn_with_mock(
    username_claim: &str,
) -> (crate::oidc::MockOidc, bk_auth::testing::TestLogin) {
    let mock = start_mock().await;
    let mut cfg = test_config();
    cfg.oidc = vec![config(&mock.issuer, username_claim)];
    let svc = spawn_login_with(cfg, bk_core::clock::system()).await;
    (mock, svc)
}

#[tokio::test]
async fn oidc_login_creates_the_user_and_sets_bk_token() {
    let (mock, svc) = spawn_with_mock("preferred_username").await;
    let page = client()
        .get(format!("{}/login/?c_url=/o/app/", svc.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("/login/oidc/mock/start/?c_url=%2Fo%2Fapp%2F") && page.contains("Mock SSO"),
        "{page}"
    );

    set_user(&mock, "sub-carol", json!({"preferred_username": "carol", "name": "Carol 卡罗尔", "email": "carol@corp.example"})).await;
    let done = browser_login(&svc.base_url, "sub-carol", "/o/app/").await;
    assert_eq!(done.status(), 302);
    assert_eq!(done.headers()["location"], "/o/app/");
    let cleared = done
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.starts_with("bk_oidc_state=;") && v.contains("Max-Age=0"));
    assert!(cleared, "the state cookie is cleared after use");
    let token = testing::cookie(&done, "bk_token").expect("bk_token set");
    let user = svc.service.user_of_token(&token).await.unwrap().unwrap();
    assert_eq!(
        (
            user.username.as_str(),
            user.chname.as_str(),
            user.source.as_str()
        ),
        ("carol", "Carol 卡罗尔", "mock")
    );
    assert_eq!(user.role(), Role::Developer, "the configured default role");
    assert!(user.password_hash.is_none());

    // A second login reuses the user; a replayed callback is refused.
    let again = browser_login(&svc.base_url, "sub-carol", "/console/").await;
    assert_eq!(again.status(), 302);
    let http = client();
    let stale = http
        .get(format!(
            "{}/login/oidc/mock/callback/?code=x&state=never-issued",
            svc.base_url
        ))
        .header("cookie", "bk_oidc_state=whatever")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 400);
    let refused = http
        .get(format!(
            "{}/login/oidc/mock/callback/?error=access_denied",
            svc.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let unknown = http
        .get(format!("{}/login/oidc/nope/start/", svc.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
}

#[tokio::test]
async fn oidc_never_takes_over_a_local_account() {
    let (mock, svc) = spawn_with_mock("preferred_username").await;
    let admin = admin_token(&svc).await;
    create_user(&svc, &admin, "dave42", &[1]).await;
    set_user(&mock, "sub-x", json!({"preferred_username": "dave42"})).await;
    let done = browser_login(&svc.base_url, "sub-x", "/").await;
    assert_eq!(done.status(), 403);
    assert!(testing::cookie(&done, "bk_token").is_none());
    assert!(done.text().await.unwrap().contains("belongs to local"));
}

#[tokio::test]
async fn a_finished_callback_url_logs_in_only_the_browser_that_started_it() {
    let (mock, svc) = spawn_with_mock("preferred_username").await;
    set_user(
        &mock,
        "sub-mallory",
        json!({"preferred_username": "mallory"}),
    )
    .await;

    // The attacker finishes a login at the provider and sends the callback URL around.
    let attacker = browser();
    let callback = to_callback(&attacker, &svc.base_url, "sub-mallory", "/").await;
    // A victim's browser without the state cookie: refused, nothing issued.
    let victim = browser().get(&callback).send().await.unwrap();
    assert_eq!(victim.status(), 403);
    assert!(testing::cookie(&victim, "bk_token").is_none());
    assert!(
        victim
            .text()
            .await
            .unwrap()
            .contains("not started in this browser")
    );
    // A victim's browser with its own (other) login in progress: refused too.
    let other = browser();
    let _ = to_callback(&other, &svc.base_url, "sub-mallory", "/").await;
    let with_other_cookie = other.get(&callback).send().await.unwrap();
    assert_eq!(with_other_cookie.status(), 403);
    assert!(testing::cookie(&with_other_cookie, "bk_token").is_none());

    // The browser that started a login finishes it.
    let own = to_callback(&attacker, &svc.base_url, "sub-mallory", "/").await;
    let done = attacker.get(&own).send().await.unwrap();
    assert_eq!(done.status(), 302);
    assert!(testing::cookie(&done, "bk_token").is_some());
}

#[tokio::test]
async fn accounts_are_matched_by_subject_not_by_username() {
    let (mock, svc) = spawn_with_mock("preferred_username").await;
    set_user(&mock, "sub-erin", json!({"preferred_username": "erin"})).await;
    let first = browser_login(&svc.base_url, "sub-erin", "/").await;
    assert_eq!(first.status(), 302);

    // Another subject claiming the same username is refused, never merged.
    set_user(&mock, "sub-impostor", json!({"preferred_username": "erin"})).await;
    let impostor = browser_login(&svc.base_url, "sub-impostor", "/").await;
    assert_eq!(impostor.status(), 403);
    assert!(testing::cookie(&impostor, "bk_token").is_none());
    let page = impostor.text().await.unwrap();
    assert!(page.contains("linked to another mock account"), "{page}");

    // The linked subject keeps its account whatever name the provider sends later.
    set_user(
        &mock,
        "sub-erin",
        json!({"preferred_username": "erin.renamed"}),
    )
    .await;
    let again = browser_login(&svc.base_url, "sub-erin", "/").await;
    assert_eq!(again.status(), 302);
    let token = testing::cookie(&again, "bk_token").unwrap();
    let user = svc.service.user_of_token(&token).await.unwrap().unwrap();
    assert_eq!(user.username, "erin");
    assert!(
        svc.service
            .find_user("erin.renamed")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn email_usernames_need_a_verified_allowed_address() {
    let (mock, svc) = spawn_with_mock("email").await;
    set_user(
        &mock,
        "sub-att",
        json!({"email": "dave.w@attacker.example", "email_verified": true}),
    )
    .await;
    let attacker = browser_login(&svc.base_url, "sub-att", "/").await;
    assert_eq!(attacker.status(), 403);
    assert!(testing::cookie(&attacker, "bk_token").is_none());
    set_user(&mock, "sub-unv", json!({"email": "dave.w@corp.example"})).await;
    let unverified = browser_login(&svc.base_url, "sub-unv", "/").await;
    assert_eq!(unverified.status(), 403);
    assert!(unverified.text().await.unwrap().contains("not verified"));
    assert!(svc.service.find_user("dave.w").await.unwrap().is_none());

    set_user(
        &mock,
        "sub-dave",
        json!({"email": "dave.w@corp.example", "email_verified": true}),
    )
    .await;
    let dave = browser_login(&svc.base_url, "sub-dave", "/").await;
    assert_eq!(dave.status(), 302);
    let token = testing::cookie(&dave, "bk_token").unwrap();
    let user = svc.service.user_of_token(&token).await.unwrap().unwrap();
    assert_eq!(user.username, "dave.w");
}

#[tokio::test]
async fn pending_logins_are_bounded_and_purged() {
    let mock = start_mock().await;
    let mut cfg = test_config();
    cfg.oidc = vec![config(&mock.issuer, "preferred_username")];
    let clock = ManualClock::new(SystemClock.now_ms());
    let svc = spawn_login_with(cfg, clock.clone() as Arc<dyn Clock>).await;
    let http = client();
    let start = |c_url: String| {
        http.get(format!("{}/login/oidc/mock/start/", svc.base_url))
            .query(&[("c_url", c_url)])
            .send()
    };

    let long = format!("/{}", "a".repeat(2048));
    let resp = start(long).await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("at most 2048 bytes are accepted")
    );

    for _ in 0..bk_auth::service::PENDING_PER_ADDRESS {
        assert_eq!(start("/".into()).await.unwrap().status(), 302);
    }
    let refused = start("/".into()).await.unwrap();
    assert_eq!(refused.status(), 429);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("too many logins are in progress")
    );

    // Expired pending logins are purged by maintenance, and no longer count.
    assert_eq!(svc.service.purge().await.unwrap(), 0);
    clock.advance_secs(601);
    assert_eq!(
        svc.service.purge().await.unwrap(),
        bk_auth::service::PENDING_PER_ADDRESS
    );
    assert_eq!(start("/".into()).await.unwrap().status(), 302);
}

#[tokio::test]
async fn oidc_login_under_another_mount_uses_its_callback_url() {
    let mock = start_mock().await;
    let mut cfg = test_config();
    cfg.oidc = vec![config(&mock.issuer, "preferred_username")];
    let h = crate::embedding::host(cfg, "/auth", true).await;
    let page = client()
        .get(format!("{}/auth/?c_url=/x/", h.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"href="/auth/oidc/mock/start/?c_url=%2Fx%2F""#),
        "{page}"
    );

    set_user(&mock, "sub-dan", json!({"preferred_username": "danny"})).await;
    let b = browser();
    let start = b
        .get(format!("{}/auth/oidc/mock/start/?c_url=/x/", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 302, "{:?}", start.text().await);
    let state = start
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("bk_oidc_state="))
        .unwrap()
        .to_owned();
    assert!(state.contains("Path=/auth/oidc/mock/callback/"), "{state}");
    let authorize = start.headers()["location"].to_str().unwrap().to_owned();
    let redirect_uri: String = url::form_urlencoded::byte_serialize(
        format!("{}/auth/oidc/mock/callback/", h.base).as_bytes(),
    )
    .collect();
    assert!(authorize.contains(&redirect_uri), "{authorize}");
    let back = b
        .post(&authorize)
        .form(&[("sub", "sub-dan")])
        .send()
        .await
        .unwrap();
    let callback = back.headers()["location"].to_str().unwrap().to_owned();
    assert!(callback.starts_with(&format!("{}/auth/oidc/mock/callback/", h.base)));
    let done = b.get(&callback).send().await.unwrap();
    assert_eq!(done.status(), 302, "{:?}", done.text().await);
    assert_eq!(done.headers()["location"], "/x/");
    assert!(testing::cookie(&done, "bk_token").is_some());
}
