//! Helpers for tests that talk HTTP to a real login service.

use bk_auth::testing::TestLogin;
use serde_json::Value;

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn admin_token(svc: &TestLogin) -> String {
    svc.login("admin", bk_auth::testing::ADMIN_PASSWORD)
        .await
        .expect("admin can log in")
}

pub async fn get_json(url: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = client().get(url);
    if let Some(t) = token {
        req = req.header("cookie", format!("bk_token={t}"));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

pub async fn send_json(
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: Value,
) -> (u16, Value) {
    let resp = client()
        .request(method, url)
        .header("cookie", format!("bk_token={token}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

/// Create a user through the admin API; returns its password.
pub async fn create_user(svc: &TestLogin, admin: &str, username: &str, roles: &[i64]) -> String {
    let password = format!("Pw-{}-0000", username.len() * 7919);
    let (status, body) = send_json(
        reqwest::Method::POST,
        &format!("{}/login/api/admin/users/", svc.base_url),
        admin,
        serde_json::json!({"username": username, "chname": format!("{username} 中文"), "email": format!("{username}@corp.example"), "roles": roles, "password": password}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    password
}
