//! The login and logout pages end to end over real HTTP.

use bk_auth::testing::{self, spawn_login};

use crate::http_support::client;

#[tokio::test]
async fn login_sets_a_safe_cookie_and_redirects_to_c_url() {
    let svc = spawn_login().await;
    let http = client();
    let page = http
        .get(format!(
            "{}/login/?c_url=/o/my-app/&app_id=my-app",
            svc.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csrf = testing::cookie(&page, "bk_csrftoken").unwrap();
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"name="c_url" value="/o/my-app/""#),
        "{html}"
    );

    let resp = http
        .post(format!("{}/login/", svc.base_url))
        .header("cookie", format!("bk_csrftoken={csrf}"))
        .form(&[
            ("username", "admin"),
            ("password", testing::ADMIN_PASSWORD),
            ("c_url", "/o/my-app/"),
            ("csrfmiddlewaretoken", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], "/o/my-app/");
    let set_cookie: Vec<_> = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let bk = set_cookie
        .iter()
        .find(|c| c.starts_with("bk_token="))
        .unwrap();
    assert!(
        bk.contains("HttpOnly") && bk.contains("SameSite=Lax") && bk.contains("Path=/"),
        "{bk}"
    );
    assert!(
        !bk.contains("Secure"),
        "plain http must not set Secure: {bk}"
    );
    let token = testing::cookie(&resp, "bk_token").unwrap();
    assert!(token.len() >= 22, "at least 128 bits");

    // The token works, then logout revokes it and clears the cookie.
    assert_eq!(
        svc.service.is_login(&token).await.unwrap().as_deref(),
        Some("admin")
    );
    let out = http
        .get(format!(
            "{}/login/logout/?c_url=http://evil.example/",
            svc.base_url
        ))
        .header("cookie", format!("bk_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 302);
    assert_eq!(
        out.headers()["location"],
        "/login/",
        "disallowed c_url falls back to the login page"
    );
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(svc.service.is_login(&token).await.unwrap(), None);
}

#[tokio::test]
async fn secure_cookie_behind_https_proxy_and_open_redirects_refused() {
    let svc = spawn_login().await;
    let http = client();
    let page = http
        .get(format!("{}/login/", svc.base_url))
        .send()
        .await
        .unwrap();
    let csrf = testing::cookie(&page, "bk_csrftoken").unwrap();
    let resp = http
        .post(format!("{}/login/", svc.base_url))
        .header("cookie", format!("bk_csrftoken={csrf}"))
        .header("x-forwarded-proto", "https")
        .form(&[
            ("username", "admin"),
            ("password", testing::ADMIN_PASSWORD),
            ("c_url", "https://paas.corp.example.evil.com/"),
            ("csrfmiddlewaretoken", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(
        resp.headers()["location"],
        "/console/",
        "V6's second-level-label check is gone"
    );
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("bk_token="))
        .unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn csrf_is_required_and_wrong_password_shows_the_form_again() {
    let svc = spawn_login().await;
    let http = client();
    // No CSRF cookie at all.
    let resp = http
        .post(format!("{}/login/", svc.base_url))
        .form(&[
            ("username", "admin"),
            ("password", testing::ADMIN_PASSWORD),
            ("csrfmiddlewaretoken", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(testing::cookie(&resp, "bk_token").is_none());

    let page = http
        .get(format!("{}/login/", svc.base_url))
        .header("accept-language", "zh-CN")
        .send()
        .await
        .unwrap();
    let csrf = testing::cookie(&page, "bk_csrftoken").unwrap();
    assert!(page.text().await.unwrap().contains("登录"));
    let resp = http
        .post(format!("{}/login/", svc.base_url))
        .header("cookie", format!("bk_csrftoken={csrf}"))
        .form(&[
            ("username", "admin"),
            ("password", "wrong-password"),
            ("csrfmiddlewaretoken", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(testing::cookie(&resp, "bk_token").is_none());
    let html = resp.text().await.unwrap();
    assert!(html.contains("Wrong username or password"), "{html}");
    assert!(
        html.contains(r#"value="admin""#),
        "username kept in the form"
    );
}

#[tokio::test]
async fn logged_in_users_skip_the_form_and_unprefixed_paths_work_standalone() {
    let svc = spawn_login().await;
    let token = svc.login("admin", testing::ADMIN_PASSWORD).await.unwrap();
    let resp = client()
        .get(format!("{}/login/?c_url=/console/apps/", svc.base_url))
        .header("cookie", format!("bk_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], "/console/apps/");
    // The standalone service also answers without the /login prefix.
    let (status, body) = crate::http_support::get_json(
        &format!("{}/accounts/is_login/?bk_token={token}", svc.base_url),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["username"], "admin");
}

/// POST the login form; the status and the page's error text.
async fn submit(svc: &testing::TestLogin, username: &str, password: &str) -> (u16, String) {
    let http = client();
    let page = http
        .get(format!("{}/login/", svc.base_url))
        .send()
        .await
        .unwrap();
    let csrf = testing::cookie(&page, "bk_csrftoken").unwrap();
    let resp = http
        .post(format!("{}/login/", svc.base_url))
        .header("cookie", format!("bk_csrftoken={csrf}"))
        .form(&[
            ("username", username),
            ("password", password),
            ("csrfmiddlewaretoken", &csrf),
        ])
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    assert!(testing::cookie(&resp, "bk_token").is_none());
    let html = resp.text().await.unwrap();
    let error = html
        .split("class=\"error\"")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or(&html)
        .to_owned();
    (status, error)
}

#[tokio::test]
async fn a_disabled_account_answers_exactly_like_a_wrong_password() {
    let svc = spawn_login().await;
    let admin = crate::http_support::admin_token(&svc).await;
    let pw = crate::http_support::create_user(&svc, &admin, "sleeper1", &[0]).await;
    let (s, _) = crate::http_support::send_json(
        reqwest::Method::PATCH,
        &format!("{}/login/api/admin/users/sleeper1/", svc.base_url),
        &admin,
        serde_json::json!({"disabled": true}),
    )
    .await;
    assert_eq!(s, 200);
    let right = submit(&svc, "sleeper1", &pw).await;
    let wrong = submit(&svc, "sleeper1", "not-the-password").await;
    assert_eq!(
        right, wrong,
        "a correct password of a disabled account reveals nothing"
    );
    assert_eq!(right.0, 200);
    assert!(
        right.1.contains("Wrong username or password"),
        "{}",
        right.1
    );
    // The audit log still tells administrators what happened.
    let (_, b) = crate::http_support::get_json(
        &format!("{}/login/api/admin/audit/?username=sleeper1", svc.base_url),
        Some(&admin),
    )
    .await;
    let results: Vec<&str> = b["data"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, vec!["bad_credentials", "disabled"], "newest first");
}
