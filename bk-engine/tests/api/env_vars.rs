//! Env vars through the developer API.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;

use crate::http_support::env;

#[tokio::test]
async fn set_list_filter_unset() {
    let e = env().await;
    e.create_app("alice", "demo").await;
    e.post(
        "alice",
        "/paas/api/v1/apps/demo/modules/",
        json!({"name": "web"}),
    )
    .await
    .data();
    let r = e
        .post(
            "alice",
            "/paas/api/v1/apps/demo/env_vars/",
            json!({"vars": [
                {"key": "DB_URL", "value": "mysql://all", "description": "数据库"},
                {"key": "DB_URL", "value": "mysql://prod", "scope": "prod"},
                {"key": "DB_URL", "value": "mysql://web-test", "scope": "test", "module": "web"},
            ]}),
        )
        .await;
    assert_eq!(r.data()["set"], 3);
    let all = e.get("alice", "/paas/api/v1/apps/demo/env_vars/").await;
    let all = all.data().as_array().unwrap().clone();
    assert_eq!(all.len(), 3);
    let web = all.iter().find(|v| v["module"] == "web").unwrap();
    assert_eq!(
        (web["scope"].as_str(), web["value"].as_str()),
        (Some("stag"), Some("mysql://web-test"))
    );
    let global = all.iter().find(|v| v["scope"] == "all").unwrap();
    assert_eq!(global["description"], "数据库");
    assert_eq!(global["module"], serde_json::Value::Null);
    let prod = e
        .get("alice", "/paas/api/v1/apps/demo/env_vars/?scope=prod")
        .await;
    assert_eq!(prod.data().as_array().unwrap().len(), 1);
    let web_only = e
        .get("alice", "/paas/api/v1/apps/demo/env_vars/?module=web")
        .await;
    assert_eq!(web_only.data().as_array().unwrap().len(), 1);
    let app_wide = e
        .get("alice", "/paas/api/v1/apps/demo/env_vars/?module=")
        .await;
    assert_eq!(app_wide.data().as_array().unwrap().len(), 2);
    // Replace one value.
    e.post(
        "alice",
        "/paas/api/v1/apps/demo/env_vars/",
        json!({"vars": [{"key": "DB_URL", "value": "mysql://prod2", "scope": "prod"}]}),
    )
    .await
    .data();
    let prod = e
        .get("alice", "/paas/api/v1/apps/demo/env_vars/?scope=prod")
        .await;
    assert_eq!(prod.data()[0]["value"], "mysql://prod2");
    e.delete(
        "alice",
        "/paas/api/v1/apps/demo/env_vars/DB_URL/?scope=test&module=web",
    )
    .await
    .data();
    e.delete("alice", "/paas/api/v1/apps/demo/env_vars/DB_URL/")
        .await
        .data();
    let left = e.get("alice", "/paas/api/v1/apps/demo/env_vars/").await;
    assert_eq!(left.data().as_array().unwrap().len(), 1);
    assert_eq!(left.data()[0]["scope"], "prod");
}
