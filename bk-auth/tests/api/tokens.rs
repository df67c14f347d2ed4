//! `/login/api/tokens/`: the JSON login of scripts and the CLI goes through the same
//! checks as the form (throttle, disabled accounts alike), sets no cookie, and its token is
//! revocable by itself.

use bk_auth::testing::{self, spawn_login};
use serde_json::{Value, json};

async fn post(base: &str, body: Value) -> (u16, Option<String>, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/login/api/tokens/"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let cookie = r
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, cookie, r.json().await.unwrap())
}

#[tokio::test]
async fn password_gives_a_token_without_a_cookie_and_it_can_be_revoked() {
    let svc = spawn_login().await;
    let base = &svc.base_url;
    let (status, cookie, body) = post(
        base,
        json!({"username": "admin", "password": testing::ADMIN_PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(cookie.is_none(), "no cookie: {cookie:?}");
    assert_eq!(body["result"], true);
    assert_eq!(body["data"]["username"], "admin");
    let token = body["data"]["bk_token"].as_str().unwrap().to_owned();
    assert!(body["data"]["expires_at"].as_i64().unwrap() > 0);
    assert_eq!(
        svc.service.is_login(&token).await.unwrap().as_deref(),
        Some("admin")
    );

    let http = reqwest::Client::new();
    let r = http
        .delete(format!("{base}/login/api/tokens/current/"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(svc.service.is_login(&token).await.unwrap().is_none());
    // Revoking again, or without a token: 401 in the envelope.
    for req in [
        http.delete(format!("{base}/login/api/tokens/current/"))
            .bearer_auth(&token),
        http.delete(format!("{base}/login/api/tokens/current/")),
    ] {
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["result"], false);
    }
}

#[tokio::test]
async fn wrong_passwords_and_bad_bodies_are_refused_in_the_envelope_and_throttled() {
    let svc = spawn_login().await;
    let base = &svc.base_url;
    let (status, _, body) = post(base, json!({"username": "admin", "password": "nope"})).await;
    // The error table's "wrong username or password": 400, code 1302100.
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], 1302100);
    assert_eq!(body["result"], false);
    assert!(!body.to_string().contains("nope"));
    for bad in [
        json!({"username": "admin"}),
        json!({"username": "a", "password": "b", "x": 1}),
    ] {
        let (status, _, body) = post(base, bad).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["result"], false);
    }
    // Repeated failures end throttled, as for the form.
    let mut last = 0;
    for _ in 0..20 {
        last = post(base, json!({"username": "admin", "password": "nope"}))
            .await
            .0;
        if last == 429 || last == 423 {
            break;
        }
    }
    // Delayed (429) or locked (423), as the form would be.
    assert!(last == 429 || last == 423, "{last}");
}
