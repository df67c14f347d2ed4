//! Bad input gets a clear error in the route's envelope, never a 500 or a panic.

use bk_auth::testing::spawn_login;

use crate::http_support::{admin_token, client};

#[tokio::test]
async fn malformed_requests_answer_in_the_envelope() {
    let svc = spawn_login().await;
    let admin = admin_token(&svc).await;
    let base = &svc.base_url;
    let http = client();

    // Bad JSON on a V2 API: HTTP 200 with bk_error_code 1302100.
    let r = http
        .post(format!("{base}/login/api/v2/get_batch_users/"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let b: serde_json::Value = r.json().await.unwrap();
    assert_eq!(b["bk_error_code"], 1302100);
    assert!(b["bk_error_msg"].as_str().unwrap().contains("JSON"), "{b}");

    // Bad UTF-8 in JSON on V1.
    let r = http
        .post(format!("{base}/login/accounts/get_batch_user/"))
        .header("content-type", "application/json")
        .body(vec![b'{', b'"', 0xff, 0xfe, b'"', b'}'])
        .send()
        .await
        .unwrap();
    let b: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (b["result"].clone(), b["code"].clone()),
        (serde_json::json!(false), serde_json::json!("1300"))
    );

    // Oversized body on the admin API: 413 in the platform envelope.
    let big = format!("{{\"username\": \"{}\"}}", "a".repeat(200_000));
    let r = http
        .post(format!("{base}/login/api/admin/users/"))
        .header("cookie", format!("bk_token={admin}"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let b: serde_json::Value = r.json().await.unwrap();
    assert_eq!(b["code"], 1302413);

    // Missing content type, unknown fields, wrong types.
    let r = http
        .post(format!("{base}/login/api/admin/users/"))
        .header("cookie", format!("bk_token={admin}"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = http
        .post(format!("{base}/login/api/admin/users/"))
        .header("cookie", format!("bk_token={admin}"))
        .json(&serde_json::json!({"username": "okname", "is_god": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("is_god"));
    let r = http
        .get(format!("{base}/login/api/admin/users/?page=zero"))
        .header("cookie", format!("bk_token={admin}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // A huge garbage form and a non-UTF-8 form on the login page: a page, not a crash.
    let r = http
        .post(format!("{base}/login/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 100_000])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let r = http
        .post(format!("{base}/login/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'u', b'=', 0xff])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());

    // Unknown routes and wrong methods.
    let r = http
        .get(format!("{base}/login/api/v2/nope/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let b: serde_json::Value = r.json().await.unwrap();
    assert_eq!(b["result"], false);
    let r = http
        .delete(format!("{base}/login/accounts/is_login/"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());

    // Nothing above broke the service.
    assert_eq!(
        svc.service.is_login(&admin).await.unwrap().as_deref(),
        Some("admin")
    );
}
