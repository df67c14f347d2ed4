//! The V6 appengine API: `POST /v1/apps/` with the platform's service token, `/v1/healthz/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bk_core::apps::AppDirectory;
use bk_engine::testing::SERVICE_TOKEN;
use serde_json::{Value, json};

use crate::http_support::{Env, env};

async fn create(e: &Env, code: Option<&str>, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = e.http.post(e.url("/v1/apps/")).json(&body);
    if let Some(c) = code {
        req = req.header("X-APP-CODE", c);
    }
    if let Some(t) = token {
        req = req.header("X-APP-TOKEN", t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn the_platform_creates_apps_with_a_token() {
    let e = env().await;
    let body =
        json!({"app_code": "legacy", "name": "老应用", "app_lang": "python", "creator": "bobby"});
    let (status, v) = create(&e, Some("paas"), Some(SERVICE_TOKEN), body.clone()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["result"], true);
    assert_eq!(v["message"], "");
    let d = &v["data"];
    assert_eq!(
        (
            d["app_code"].as_str(),
            d["name"].as_str(),
            d["app_lang"].as_str(),
            d["state"].as_i64()
        ),
        (Some("legacy"), Some("老应用"), Some("python"), Some(1))
    );
    let token = d["token"].as_str().unwrap();
    let dir: &dyn AppDirectory = e.engine.service.as_ref();
    assert!(dir.verify_secret("legacy", token).await.unwrap());
    assert_eq!(
        dir.app("legacy").await.unwrap().unwrap().developers,
        vec!["bobby"]
    );
    // Bob sees it in the developer API.
    e.get("bobby", "/paas/api/v1/apps/legacy/").await.data();

    // Without a creator the configured default (admin) is the developer.
    let (_, v) = create(
        &e,
        Some("paas"),
        Some(SERVICE_TOKEN),
        json!({"app_code": "legacy2", "name": "L2", "app_lang": "java"}),
    )
    .await;
    assert_eq!(v["result"], true, "{v}");
    assert_eq!(
        dir.app("legacy2").await.unwrap().unwrap().developers,
        vec!["admin"]
    );
    let log = e.get("admin", "/paas/api/v1/apps/legacy2/audit/").await;
    assert_eq!(log.data()["results"][0]["actor"], "paas");

    // Client errors: HTTP 200 with result false and a message naming the field.
    let (status, v) = create(&e, Some("paas"), Some(SERVICE_TOKEN), body).await;
    assert_eq!((status, &v["result"]), (200, &json!(false)), "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("app code legacy is taken"),
        "{v}"
    );
    let (_, v) = create(
        &e,
        Some("paas"),
        Some(SERVICE_TOKEN),
        json!({"app_code": "Bad", "name": "x"}),
    )
    .await;
    assert!(v["message"].as_str().unwrap().contains("app_code:"), "{v}");
    let (_, v) = create(
        &e,
        Some("paas"),
        Some(SERVICE_TOKEN),
        json!({"app_code": "ok-code", "name": "x", "creator": "sammy"}),
    )
    .await;
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("creator: sammy has the role staff"),
        "{v}"
    );
    let (_, v) = create(&e, Some("paas"), Some(SERVICE_TOKEN), json!({"name": "x"})).await;
    assert_eq!(v["result"], false, "{v}");
    assert_eq!(v["data"], Value::Null);
}

#[tokio::test]
async fn only_the_service_token_may_create() {
    let e = env().await;
    let body = json!({"app_code": "sneaky", "name": "S"});
    for (code, token) in [
        (None, None),
        (Some("paas"), None),
        (Some("paas"), Some("wrong")),
        (Some("esb"), Some(SERVICE_TOKEN)),
        (None, Some(SERVICE_TOKEN)),
    ] {
        let (status, v) = create(&e, code, token, body.clone()).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["result"], false, "{code:?} {token:?}: {v}");
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("service credentials"),
            "{v}"
        );
    }
    assert!(
        e.get("admin", "/paas/api/v1/apps/")
            .await
            .data()
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn healthz_in_the_v6_envelope() {
    let e = env().await;
    let r = e.http.get(e.url("/v1/healthz/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v,
        json!({"result": true, "message": "", "data": {"status": "ok"}})
    );
    // Once the database is gone the answer is a 5xx, still in the envelope.
    e.engine.db.close().await;
    let r = e.http.get(e.url("/v1/healthz/")).send().await.unwrap();
    assert!(r.status().is_server_error(), "{}", r.status());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["result"], false);
}

#[tokio::test]
async fn the_documents_are_served_with_a_swagger_ui() {
    let e = env().await;
    let served: Value = e
        .http
        .get(e.url("/paas/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let generated: Value =
        serde_json::from_str(&bk_engine::http::openapi().to_json().unwrap()).unwrap();
    assert_eq!(served, generated);
    let served: Value = e
        .http
        .get(e.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let generated: Value =
        serde_json::from_str(&bk_engine::http::appengine_openapi().to_json().unwrap()).unwrap();
    assert_eq!(served, generated);
    for ui in ["/paas/api/docs/", "/v1/docs/"] {
        let r = e.http.get(e.url(ui)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{ui}");
        assert!(r.text().await.unwrap().contains("swagger"), "{ui}");
    }
}
