//! The admin API: superusers only, changes served at once.

use serde_json::{Value, json};

use crate::support::*;

async fn call(
    env: &Env,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = env
        .http
        .request(method, format!("{}/api/esb/admin{path}", env.base));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap())
}

#[tokio::test]
async fn only_superusers_and_bad_input_is_a_400() {
    let env = spawn().await;
    let get = reqwest::Method::GET;
    assert_eq!(call(&env, get.clone(), "/grants/", None, None).await.0, 401);
    assert_eq!(
        call(&env, get.clone(), "/grants/", Some("token-of-alice"), None)
            .await
            .0,
        403
    );
    let (s, v) = call(&env, get.clone(), "/grants/", Some("token-of-admin"), None).await;
    assert_eq!((s, v["data"].clone()), (200, json!([])));
    // Cookie works too.
    let r = env
        .http
        .get(format!("{}/api/esb/admin/systems/", env.base))
        .header("Cookie", "bk_token=token-of-admin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);

    let post = reqwest::Method::POST;
    for (path, body) in [
        (
            "/grants/",
            json!({"app_code": "demo", "component": "no-dot"}),
        ),
        (
            "/grants/",
            json!({"app_code": "Bad App", "component": "DEMO.x"}),
        ),
        (
            "/ratelimits/",
            json!({"component": "DEMO.x", "conf": {"app_ratelimit": {"__default": [{"tokens": 1, "fortnight": 1}]}}}),
        ),
        (
            "/apis/",
            json!({"system": "DEMO", "name": "x", "registed_path": "/x/", "registed_http_method": "GET", "dest_url": "ftp://h/"}),
        ),
        ("/systems/", json!({"name": "lower"})),
        ("/systems/", json!("not an object")),
    ] {
        let (s, v) = call(
            &env,
            post.clone(),
            path,
            Some("token-of-admin"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(s, 400, "{path} {body}: {v}");
        assert_eq!(v["result"], false);
    }
    let del = reqwest::Method::DELETE;
    assert_eq!(
        call(
            &env,
            del,
            "/grants/demo/DEMO.x/",
            Some("token-of-admin"),
            None
        )
        .await
        .0,
        404
    );
}

#[tokio::test]
async fn changes_apply_without_a_restart() {
    let env = spawn().await;
    let admin = Some("token-of-admin");
    let post = reqwest::Method::POST;
    // The demo component needs a grant; the admin API grants it, and the next call passes.
    let q = format!("bk_app_code=demo&bk_app_secret={SECRET}");
    assert_eq!(
        code(
            &env.get(&format!("/api/c/compapi/v2/demo/secret/?{q}"))
                .await
        ),
        1306403
    );
    let (s, v) = call(
        &env,
        post.clone(),
        "/grants/",
        admin,
        Some(json!({"app_code": "demo", "component": "DEMO.secret"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        code(
            &env.get(&format!("/api/c/compapi/v2/demo/secret/?{q}"))
                .await
        ),
        0
    );

    let (s, _) = call(
        &env,
        reqwest::Method::PUT,
        "/skip-user-auth/demo/",
        admin,
        None,
    )
    .await;
    assert_eq!(s, 200);
    let r = env
        .get(&format!(
            "/api/c/compapi/v2/bk_login/get_user/?{q}&bk_username=bob"
        ))
        .await;
    assert_eq!(code(&r), 0, "{r:?}");

    let (s, v) = call(&env, post.clone(), "/ratelimits/", admin, Some(json!({"component": "BK_LOGIN.get_user", "conf": {"app_ratelimit": {"__default": [{"tokens": 1, "minute": 1}]}}}))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["data"]["conf"]["app_ratelimit"]["__default"][0]["minute"],
        1
    );
    let limited = format!("/api/c/compapi/v2/bk_login/get_user/?{q}&bk_username=bob");
    assert_eq!(code(&env.get(&limited).await), 0);
    assert_eq!(code(&env.get(&limited).await), 1306429);

    // A built-in channel switched off through its stored replacement, then restored.
    let (s, v) = call(&env, post.clone(), "/channels/", admin, Some(json!({
        "system": "BK_LOGIN", "name": "is_login", "path": "/bk_login/is_login", "component_codename": "bk_login.is_login", "is_active": false
    }))).await;
    assert_eq!(s, 200, "{v}");
    let is_login = format!("/api/c/compapi/v2/bk_login/is_login/?{q}&bk_token=token-of-alice");
    assert_eq!(code(&env.get(&is_login).await), 1306405);
    let (s, _) = call(
        &env,
        reqwest::Method::DELETE,
        "/channels/?path=/bk_login/is_login/",
        admin,
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(code(&env.get(&is_login).await), 0);
}
