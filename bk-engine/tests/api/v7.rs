//! The V7 resource paths answer with BK's shapes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bk_engine::config::EngineConfig;
use serde_json::json;

use crate::http_support::{env, env_with};

#[tokio::test]
async fn minimal_and_detailed_lists() {
    let e = env_with(EngineConfig {
        public_url: "https://bk.example.com".into(),
        ..EngineConfig::default()
    })
    .await;
    let demo = e.create_app("alice", "demo").await;
    e.create_app("alice", "another").await;
    e.create_app("bobby", "bobs").await;
    let r = e
        .get("alice", "/paas/api/bkapps/applications/lists/minimal")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["count"], 2);
    assert_eq!(
        r.body["results"][1],
        json!({"application": {"id": demo["app"]["id"], "code": "demo", "name": "demo app"}, "product": null})
    );

    let r = e
        .get(
            "alice",
            "/paas/api/bkapps/applications/lists/detailed?limit=1",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["count"], 2);
    assert_eq!(r.body["previous"], serde_json::Value::Null);
    assert_eq!(
        r.body["next"],
        "/paas/api/bkapps/applications/lists/detailed?limit=1&offset=1"
    );
    let item = &r.body["results"][0];
    assert_eq!(item["marked"], false);
    assert_eq!(item["product"], serde_json::Value::Null);
    let a = &item["application"];
    assert_eq!(a["code"], "another");
    for field in [
        "id",
        "region",
        "region_name",
        "logo_url",
        "deploy_status",
        "deploy_info",
        "created",
        "updated",
        "owner",
        "code",
        "name",
        "language",
        "source_init_template",
        "source_type",
        "source_repo_id",
        "app_type",
        "is_active",
        "last_deployed_date",
        "creator",
        "is_deleted",
    ] {
        assert!(
            a.get(field).is_some(),
            "application.{field} is missing: {a}"
        );
    }
    assert_eq!(
        a["deploy_info"]["stag"],
        json!({"url": null, "deployed": false})
    );
    let created = a["created"].as_str().unwrap();
    assert_eq!(
        (created.len(), &created[4..5], &created[10..11]),
        (19, "-", " "),
        "{created}"
    );

    let r = e
        .get(
            "alice",
            "/paas/api/bkapps/applications/lists/detailed?offset=1&limit=1",
        )
        .await;
    assert_eq!(r.body["results"][0]["application"]["code"], "demo");
    assert_eq!(r.body["next"], serde_json::Value::Null);
    assert_eq!(
        r.body["previous"],
        "/paas/api/bkapps/applications/lists/detailed?limit=1&offset=0"
    );
    let r = e
        .get(
            "alice",
            "/paas/api/bkapps/applications/lists/detailed?search_term=DEM&order_by=-code",
        )
        .await;
    assert_eq!(r.body["count"], 1);
    let r = e
        .get(
            "admin",
            "/paas/api/bkapps/applications/lists/detailed?exclude_collaborated=true",
        )
        .await;
    assert_eq!(r.body["count"], 0, "admin created none");
    let r = e
        .get(
            "alice",
            "/paas/api/bkapps/applications/lists/detailed?order_by=size",
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["code"], "INVALID_PARAMETER");
    assert!(
        r.body["detail"].as_str().unwrap().contains("order_by"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn modules_and_module_info() {
    let e = env().await;
    e.create_app("alice", "demo").await;
    e.post(
        "alice",
        "/paas/api/v1/apps/demo/modules/",
        json!({"name": "api", "language": "go"}),
    )
    .await
    .data();
    let r = e
        .get("alice", "/paas/api/bkapps/applications/demo/modules/")
        .await;
    assert_eq!(r.status, 200);
    let list = r.body.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["name"], "default");
    assert_eq!(list[0]["is_default"], true);
    assert_eq!(list[0]["source_origin"], 1);
    assert!(list[0]["id"].as_str().unwrap().len() == 36);
    let r = e
        .get("alice", "/paas/api/bkapps/applications/demo/modules/api/")
        .await;
    assert_eq!(r.status, 200);
    let m = &r.body;
    assert_eq!(
        (
            m["name"].as_str(),
            m["is_default"].as_bool(),
            m["language"].as_str()
        ),
        (Some("api"), Some(false), Some("Go"))
    );
    assert_eq!(m["creator"], "alice");
    assert_eq!(m["exposed_url_type"], 1);
    assert!(m["web_config"].is_object() && m["clusters"].is_object() && m["repo"].is_null());
    let r = e
        .get("alice", "/paas/api/bkapps/applications/demo/modules/ghost/")
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["code"], "NOT_FOUND");
    let r = e
        .get("bobby", "/paas/api/bkapps/applications/demo/modules/")
        .await;
    assert_eq!(r.status, 404);
}
