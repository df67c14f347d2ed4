//! Apps, modules and members through the developer API.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;

use crate::http_support::env;

#[tokio::test]
async fn create_read_update_list() {
    let e = env().await;
    let created = e
        .post(
            "alice",
            "/paas/api/v1/apps/",
            json!({"code": "demo", "name": "  Demo 应用 ", "language": "python", "description": "hi"}),
        )
        .await;
    let d = created.data();
    assert_eq!(d["app"]["code"], "demo");
    assert_eq!(d["app"]["name"], "Demo 应用");
    assert_eq!(d["app"]["language"], "Python");
    assert_eq!(d["app"]["state"], 1);
    assert_eq!(d["app"]["state_name"], "developing");
    assert_eq!(d["app"]["creator"], "alice");
    assert_eq!(d["app"]["prod_protected"], false);
    assert_eq!(d["modules"][0]["name"], "default");
    assert_eq!(d["modules"][0]["is_default"], true);
    assert_eq!(d["members"][0]["username"], "alice");
    let secret = d["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 36);
    assert!(created.body["request_id"].as_str().is_some());

    let info = e.get("alice", "/paas/api/v1/apps/demo/").await;
    assert_eq!(info.data()["app"]["id"], d["app"]["id"]);
    assert!(
        info.data().get("secret").is_none(),
        "only the create answer carries it"
    );

    let up = e
        .patch(
            "alice",
            "/paas/api/v1/apps/demo/",
            json!({"name": "Renamed", "description": "new"}),
        )
        .await;
    assert_eq!(up.data()["name"], "Renamed");
    assert_eq!(up.data()["description"], "new");

    e.create_app("bobby", "bobs").await;
    let mine: Vec<String> = e
        .get("alice", "/paas/api/v1/apps/")
        .await
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(mine, vec!["demo"]);
    let all: Vec<String> = e
        .get("admin", "/paas/api/v1/apps/")
        .await
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(all, vec!["bobs", "demo"]);

    // Taken code and name.
    let m = e
        .post(
            "bobby",
            "/paas/api/v1/apps/",
            json!({"code": "demo", "name": "X"}),
        )
        .await
        .failed(409);
    assert!(m.contains("app code demo is taken"), "{m}");
    let m = e
        .post(
            "bobby",
            "/paas/api/v1/apps/",
            json!({"code": "demo3", "name": "Renamed"}),
        )
        .await
        .failed(409);
    assert!(m.contains("app name Renamed is taken"), "{m}");
}

#[tokio::test]
async fn prod_protection_is_for_superusers() {
    let e = env().await;
    e.create_app("alice", "demo").await;
    let m = e
        .patch(
            "alice",
            "/paas/api/v1/apps/demo/",
            json!({"prod_protected": true}),
        )
        .await
        .failed(403);
    assert!(m.contains("only superusers"), "{m}");
    // Restating the current value is not a change.
    e.patch(
        "alice",
        "/paas/api/v1/apps/demo/",
        json!({"prod_protected": false, "name": "D"}),
    )
    .await
    .data();
    let r = e
        .patch(
            "admin",
            "/paas/api/v1/apps/demo/",
            json!({"prod_protected": true}),
        )
        .await;
    assert_eq!(r.data()["prod_protected"], true);
    // The guard the deploy entry points use.
    let svc = &e.engine.service;
    let alice = svc.caller(Some("tok-alice"), "test").await.unwrap();
    let admin = svc.caller(Some("tok-admin"), "test").await.unwrap();
    let app = svc.visible_app(&alice, "demo").await.unwrap();
    assert!(svc.check_prod_deploy(&alice, &app).is_err());
    assert!(svc.check_prod_deploy(&admin, &app).is_ok());
}

#[tokio::test]
async fn modules_through_the_api() {
    let e = env().await;
    e.create_app("alice", "demo").await;
    let m = e
        .post(
            "alice",
            "/paas/api/v1/apps/demo/modules/",
            json!({"name": "api", "source_dir": "./backend/"}),
        )
        .await;
    assert_eq!(m.data()["name"], "api");
    assert_eq!(m.data()["language"], "Other", "inherits the app's language");
    assert_eq!(m.data()["source_dir"], "backend");
    let m = e
        .post(
            "alice",
            "/paas/api/v1/apps/demo/modules/",
            json!({"name": "api"}),
        )
        .await
        .failed(409);
    assert!(m.contains("module api already exists"), "{m}");
    e.patch(
        "alice",
        "/paas/api/v1/apps/demo/modules/api/",
        json!({"is_default": true}),
    )
    .await
    .data();
    let list = e.get("alice", "/paas/api/v1/apps/demo/modules/").await;
    assert_eq!(list.data()[0]["name"], "api");
    assert_eq!(list.data()[0]["is_default"], true);
    assert_eq!(list.data()[1]["is_default"], false);
    let m = e
        .delete("alice", "/paas/api/v1/apps/demo/modules/api/")
        .await
        .failed(409);
    assert!(m.contains("default module"), "{m}");
    e.delete("alice", "/paas/api/v1/apps/demo/modules/default/")
        .await
        .data();
    e.get("alice", "/paas/api/v1/apps/demo/modules/default/")
        .await
        .failed(404);
    assert_eq!(
        e.get("alice", "/paas/api/v1/apps/demo/modules/api/")
            .await
            .data()["is_default"],
        true
    );
}

#[tokio::test]
async fn members_through_the_api() {
    let e = env().await;
    e.create_app("alice", "demo").await;
    // Bob cannot see the app until he is a member.
    e.get("bobby", "/paas/api/v1/apps/demo/").await.failed(404);
    let m = e
        .post(
            "alice",
            "/paas/api/v1/apps/demo/members/",
            json!({"username": "bobby"}),
        )
        .await;
    assert_eq!(m.data()["added_by"], "alice");
    assert_eq!(
        e.get("bobby", "/paas/api/v1/apps/demo/").await.data()["app"]["code"],
        "demo"
    );
    let msg = e
        .post(
            "alice",
            "/paas/api/v1/apps/demo/members/",
            json!({"username": "bobby"}),
        )
        .await
        .failed(409);
    assert!(msg.contains("already a member"), "{msg}");
    let msg = e
        .post(
            "alice",
            "/paas/api/v1/apps/demo/members/",
            json!({"username": "nobody"}),
        )
        .await
        .failed(400);
    assert!(msg.contains("username: no user named nobody"), "{msg}");
    let msg = e
        .post(
            "alice",
            "/paas/api/v1/apps/demo/members/",
            json!({"username": "sammy"}),
        )
        .await
        .failed(400);
    assert!(msg.contains("username: sammy has the role staff"), "{msg}");
    // Bob removes Alice; then Bob is the last developer.
    e.delete("bobby", "/paas/api/v1/apps/demo/members/alice/")
        .await
        .data();
    e.get("alice", "/paas/api/v1/apps/demo/").await.failed(404);
    let msg = e
        .delete("bobby", "/paas/api/v1/apps/demo/members/bobby/")
        .await
        .failed(409);
    assert!(msg.contains("last developer"), "{msg}");
    let list = e.get("bobby", "/paas/api/v1/apps/demo/members/").await;
    assert_eq!(list.data().as_array().unwrap().len(), 1);
    e.delete("bobby", "/paas/api/v1/apps/demo/members/carol/")
        .await
        .failed(404);
}

#[tokio::test]
async fn concurrent_creates_answer_one_409() {
    let e = env().await;
    let body = |i: usize| json!({"code": "race", "name": format!("Race {i}")});
    let (a, b, c) = tokio::join!(
        e.post("alice", "/paas/api/v1/apps/", body(1)),
        e.post("bobby", "/paas/api/v1/apps/", body(2)),
        e.post("admin", "/paas/api/v1/apps/", body(3)),
    );
    let statuses = [a.status, b.status, c.status];
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        2,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn the_audit_log_records_who_what_and_from_where() {
    let e = env().await;
    e.create_app("alice", "demo").await;
    e.post(
        "alice",
        "/paas/api/v1/apps/demo/members/",
        json!({"username": "bobby"}),
    )
    .await
    .data();
    e.post(
        "bobby",
        "/paas/api/v1/apps/demo/env_vars/",
        json!({"vars": [{"key": "DB_PASSWORD", "value": "hunter2-value"}]}),
    )
    .await
    .data();
    e.patch(
        "alice",
        "/paas/api/v1/apps/demo/",
        json!({"description": "x"}),
    )
    .await
    .data();
    let log = e.get("alice", "/paas/api/v1/apps/demo/audit/").await;
    let entries = log.data()["results"].as_array().unwrap().clone();
    let actions: Vec<&str> = entries
        .iter()
        .map(|x| x["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["app.update", "env_var.set", "member.add", "app.create"]
    );
    assert_eq!(entries[1]["actor"], "bobby");
    assert_eq!(entries[1]["address"], "127.0.0.1");
    assert_eq!(entries[1]["detail"]["vars"][0]["key"], "DB_PASSWORD");
    assert!(
        !log.body.to_string().contains("hunter2-value"),
        "values stay out of the audit log"
    );
    let only = e
        .get(
            "alice",
            "/paas/api/v1/apps/demo/audit/?action=member.add&page_size=5",
        )
        .await;
    assert_eq!(only.data()["count"], 1);
    assert_eq!(only.data()["page_size"], 5);
}
