//! Bad input answers 4xx in the envelope, naming the field, and writes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;

use crate::http_support::env;

#[tokio::test]
async fn app_fields_are_named() {
    let e = env().await;
    let cases = [
        (json!({"code": "A", "name": "x"}), "app_code:"),
        (json!({"code": "ab_c", "name": "x"}), "app_code:"),
        (json!({"code": "console", "name": "x"}), "reserved"),
        (json!({"code": "a--b", "name": "x"}), "app_code:"),
        (
            json!({"code": "abcdefghijklmnopq", "name": "x"}),
            "app_code:",
        ),
        (json!({"code": "good", "name": ""}), "name:"),
        (
            json!({"code": "good", "name": "123456789012345678901"}),
            "name:",
        ),
        (
            json!({"code": "good", "name": "x", "language": "cobol"}),
            "language:",
        ),
        (
            json!({"code": "good", "name": "x", "description": "d".repeat(501)}),
            "description:",
        ),
        (json!({"code": "good"}), "name"),
        (json!({"code": "good", "name": "x", "extra": 1}), "extra"),
        (json!({"code": 5, "name": "x"}), "code"),
    ];
    for (body, field) in cases {
        let m = e
            .post("alice", "/paas/api/v1/apps/", body.clone())
            .await
            .failed(400);
        assert!(m.contains(field), "{body}: {m}");
    }
    assert!(
        e.get("admin", "/paas/api/v1/apps/")
            .await
            .data()
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Not JSON, wrong content type, too large.
    let r = e
        .http
        .post(e.url("/paas/api/v1/apps/"))
        .bearer_auth("tok-alice")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["result"],
        false
    );
    let r = e
        .http
        .post(e.url("/paas/api/v1/apps/"))
        .bearer_auth("tok-alice")
        .header("content-type", "text/plain")
        .body("code=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let big = json!({"code": "big", "name": "x", "description": "d".repeat(100_000)});
    let r = e.post("alice", "/paas/api/v1/apps/", big).await;
    assert_eq!(r.status, 413, "{:?}", r.body);
    // Updates.
    e.create_app("alice", "demo").await;
    let m = e
        .patch("alice", "/paas/api/v1/apps/demo/", json!({}))
        .await
        .failed(400);
    assert!(m.contains("nothing to change"), "{m}");
    let m = e
        .patch("alice", "/paas/api/v1/apps/demo/", json!({"name": " "}))
        .await
        .failed(400);
    assert!(m.contains("name:"), "{m}");
    let m = e
        .get("alice", "/paas/api/v1/apps/Bad_Code!/")
        .await
        .failed(400);
    assert!(m.contains("app_code:"), "{m}");
}

#[tokio::test]
async fn module_member_and_secret_fields_are_named() {
    let e = env().await;
    e.create_app("alice", "demo").await;
    for (body, field) in [
        (json!({"name": "Web"}), "module:"),
        (json!({"name": "a--b"}), "module:"),
        (
            json!({"name": "web", "source_dir": "../etc"}),
            "source_dir:",
        ),
        (json!({"name": "web", "language": "cobol"}), "language:"),
    ] {
        let m = e
            .post("alice", "/paas/api/v1/apps/demo/modules/", body.clone())
            .await
            .failed(400);
        assert!(m.contains(field), "{body}: {m}");
    }
    let m = e
        .patch(
            "alice",
            "/paas/api/v1/apps/demo/modules/default/",
            json!({"is_default": false}),
        )
        .await
        .failed(400);
    assert!(m.contains("is_default:"), "{m}");
    let m = e
        .post(
            "alice",
            "/paas/api/v1/apps/demo/members/",
            json!({"username": "x y"}),
        )
        .await
        .failed(400);
    assert!(m.contains("username:"), "{m}");
    let m = e
        .post(
            "alice",
            "/paas/api/v1/apps/demo/secrets/abc/reveal/",
            json!(null),
        )
        .await
        .failed(400);
    assert!(m.contains("id:"), "{m}");
    let m = e
        .delete("alice", "/paas/api/v1/apps/demo/secrets/1x/")
        .await
        .failed(400);
    assert!(m.contains("id:"), "{m}");
    e.post(
        "alice",
        "/paas/api/v1/apps/demo/secrets/99/reveal/",
        json!(null),
    )
    .await
    .failed(404);
    let m = e
        .get("alice", "/paas/api/v1/apps/demo/audit/?page=x")
        .await
        .failed(400);
    assert!(m.contains("page"), "{m}");
}

#[tokio::test]
async fn env_var_items_are_named_by_index_and_nothing_is_written() {
    let e = env().await;
    e.create_app("alice", "demo").await;
    let ok = json!({"key": "GOOD", "value": "1"});
    for (item, expect) in [
        (json!({"key": "bad", "value": "1"}), "vars[1].key:"),
        (json!({"key": "BKPAAS_APP_ID", "value": "1"}), "reserved"),
        (
            json!({"key": "A", "value": "1", "scope": "qa"}),
            "vars[1].scope:",
        ),
        (
            json!({"key": "A", "value": "1", "module": "Web"}),
            "vars[1].module:",
        ),
        (
            json!({"key": "A", "value": "1", "module": "ghost"}),
            "module ghost",
        ),
        (json!({"key": "A", "value": "x".repeat(8193)}), "vars[1].A"),
        (
            json!({"key": "A", "value": "1", "description": "d".repeat(201)}),
            "description:",
        ),
        (json!({"key": "GOOD", "value": "2"}), "set twice"),
        (json!({"value": "1"}), "key"),
    ] {
        let r = e
            .post(
                "alice",
                "/paas/api/v1/apps/demo/env_vars/",
                json!({"vars": [ok, item]}),
            )
            .await;
        let m = r.failed(if expect == "module ghost" { 404 } else { 400 });
        assert!(m.contains(expect), "{expect}: {m}");
    }
    let m = e
        .post(
            "alice",
            "/paas/api/v1/apps/demo/env_vars/",
            json!({"vars": []}),
        )
        .await
        .failed(400);
    assert!(m.contains("at least one"), "{m}");
    let many: Vec<_> = (0..501)
        .map(|i| json!({"key": format!("K{i}"), "value": "v"}))
        .collect();
    let m = e
        .post(
            "alice",
            "/paas/api/v1/apps/demo/env_vars/",
            json!({"vars": many}),
        )
        .await
        .failed(400);
    assert!(m.contains("at most 500"), "{m}");
    assert!(
        e.get("alice", "/paas/api/v1/apps/demo/env_vars/")
            .await
            .data()
            .as_array()
            .unwrap()
            .is_empty()
    );
    let m = e
        .get("alice", "/paas/api/v1/apps/demo/env_vars/?scope=qa")
        .await
        .failed(400);
    assert!(m.contains("scope:"), "{m}");
    let m = e
        .delete("alice", "/paas/api/v1/apps/demo/env_vars/bad-key/")
        .await
        .failed(400);
    assert!(m.contains("key:"), "{m}");
    let m = e
        .delete("alice", "/paas/api/v1/apps/demo/env_vars/GOOD/?scope=all")
        .await
        .failed(404);
    assert!(m.contains("env var GOOD"), "{m}");
}

#[tokio::test]
async fn unknown_routes_answer_in_the_envelope() {
    let e = env().await;
    let r = e.get("alice", "/paas/api/v1/nothing/").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["result"], false);
    let r = e
        .call(
            Some("alice"),
            reqwest::Method::PUT,
            "/paas/api/v1/apps/",
            None,
        )
        .await;
    assert_eq!(r.status, 405);
}

#[tokio::test]
async fn a_path_segment_that_is_not_utf8_answers_in_each_apis_envelope() {
    let e = env().await;
    // Developer API: 400 in the platform envelope, naming the parameter.
    let r = e
        .http
        .get(e.url("/paas/api/v1/apps/%FF/"))
        .bearer_auth("tok-alice")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["result"], false, "{v}");
    assert!(v["message"].as_str().unwrap().contains("code"), "{v}");
    // V7: 400 with BK's `{code, detail}`.
    let r = e
        .http
        .get(e.url("/paas/api/bkapps/applications/%FF/modules/default/deployments/lists/"))
        .bearer_auth("tok-alice")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(v["detail"].as_str().unwrap().contains("UTF-8"), "{v}");
    // V6: HTTP 200 with `result: false`, as every V6 client error.
    let r = e
        .http
        .get(e.url("/v1/apps/%FF/events/x/logs/"))
        .header("x-app-code", "paas")
        .header("x-app-token", bk_engine::testing::SERVICE_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["result"], false, "{v}");
}
