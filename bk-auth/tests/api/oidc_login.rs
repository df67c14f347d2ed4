//! Enterprise login end to end through the login service's own routes: the login page
//! offers the provider, `/login/oidc/<id>/start/` sends the browser to a real OIDC
//! provider (`oidc-provider-mock`), the callback creates the user with the configured
//! role on first login and sets `bk_token`. A local account is never taken over.

use bk_auth::testing::{self, spawn_login_with, test_config};
use bk_core::types::Role;
use serde_json::json;

use crate::http_support::{admin_token, client, create_user};
use crate::oidc::{config, set_user, start_mock};

/// Follow one login through the browser: start, the provider's form, our callback.
async fn browser_login(base: &str, sub: &str, c_url: &str) -> reqwest::Response {
    let http = client();
    let start = http
        .get(format!("{base}/login/oidc/mock/start/?c_url={c_url}"))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 302, "{:?}", start.text().await);
    let authorize = start.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        authorize.contains("code_challenge=") && authorize.contains("code_challenge_method=S256"),
        "PKCE: {authorize}"
    );
    let page = http.get(&authorize).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let back = http
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
    http.get(&callback).send().await.unwrap()
}

#[tokio::test]
async fn oidc_login_creates_the_user_and_sets_bk_token() {
    let mock = start_mock().await;
    let mut cfg = test_config();
    cfg.oidc = vec![config(&mock.issuer, "preferred_username")];
    let svc = spawn_login_with(cfg, bk_core::clock::system()).await;

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
    let mock = start_mock().await;
    let mut cfg = test_config();
    cfg.oidc = vec![config(&mock.issuer, "preferred_username")];
    let svc = spawn_login_with(cfg, bk_core::clock::system()).await;
    let admin = admin_token(&svc).await;
    create_user(&svc, &admin, "dave42", &[1]).await;
    set_user(&mock, "sub-x", json!({"preferred_username": "dave42"})).await;
    let done = browser_login(&svc.base_url, "sub-x", "/").await;
    assert_eq!(done.status(), 403);
    assert!(testing::cookie(&done, "bk_token").is_none());
    assert!(done.text().await.unwrap().contains("belongs to local"));
}
