//! The developer API accepts a `bk_token` issued by the REAL login service: login logs a
//! user in through its form, the engine resolves the token through `LoginService` itself
//! (it implements bk-core's `TokenVerifier` and `UserDirectory`: how `bk up` wires the two
//! in one process), and checks members against login's users. Logging out at login is
//! seen by the engine at once.

use bk_auth::testing::{ADMIN_PASSWORD, spawn_login};
use bk_core::types::Role;
use bk_engine::app::Identity;
use bk_engine::config::EngineConfig;
use bk_engine::testing::spawn_engine;
use serde_json::{Value, json};

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_bk_token_from_login_opens_the_developer_api() {
    let login = spawn_login().await;
    let svc = login.service.clone();
    let adapter = svc.clone();
    let engine = spawn_engine(
        EngineConfig::default(),
        Identity {
            tokens: adapter.clone(),
            users: adapter,
        },
        bk_core::clock::system(),
    )
    .await;
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", engine.base_url);

    // Users made through login's own admin service.
    let admin_token = login.login("admin", ADMIN_PASSWORD).await.unwrap();
    let admin_caller = svc.caller(Some(&admin_token)).await.unwrap();
    for (name, role) in [("devel1", Role::Developer), ("staff1", Role::Staff)] {
        svc.create_user(
            &admin_caller,
            serde_json::from_value(
                json!({"username": name, "password": "Passw0rd!-long", "roles": [role.code()]}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    }
    let dev = login.login("devel1", "Passw0rd!-long").await.unwrap();
    let staff = login.login("staff1", "Passw0rd!-long").await.unwrap();

    let (status, v) = call(
        &http,
        reqwest::Method::POST,
        url("/paas/api/v1/apps/"),
        &dev,
        Some(json!({"code": "real-login", "name": "Real login"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"]["app"]["creator"], "devel1");
    // Members are checked against login's users and roles.
    let members = url("/paas/api/v1/apps/real-login/members/");
    let (status, v) = call(
        &http,
        reqwest::Method::POST,
        members.clone(),
        &dev,
        Some(json!({"username": "admin"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = call(
        &http,
        reqwest::Method::POST,
        members.clone(),
        &dev,
        Some(json!({"username": "nobody1"})),
    )
    .await;
    assert_eq!(status, 400, "{v}");
    let (status, v) = call(
        &http,
        reqwest::Method::POST,
        members,
        &dev,
        Some(json!({"username": "staff1"})),
    )
    .await;
    assert_eq!(status, 400, "{v}");
    // Login's roles decide who may use the API at all.
    let (status, _) = call(
        &http,
        reqwest::Method::GET,
        url("/paas/api/v1/apps/"),
        &staff,
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &http,
        reqwest::Method::GET,
        url("/paas/api/v1/apps/"),
        "not-a-token",
        None,
    )
    .await;
    assert_eq!(status, 401);
    // The browser's cookie works too.
    let r = http
        .get(url("/paas/api/v1/apps/real-login/"))
        .header("cookie", format!("bk_token={dev}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Logging out at login closes the engine to that token.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/login/logout/", login.base_url))
        .header("cookie", format!("bk_token={dev}"))
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_redirection() || r.status().is_success(),
        "{}",
        r.status()
    );
    let (status, _) = call(
        &http,
        reqwest::Method::GET,
        url("/paas/api/v1/apps/"),
        &dev,
        None,
    )
    .await;
    assert_eq!(status, 401, "a revoked token is refused at once");
}
