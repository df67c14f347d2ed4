//! The V6 appengine releases/events and the V7 deploy paths, over the same engine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use bk_engine::testing::SERVICE_TOKEN;
use serde_json::{Value, json};

use super::support::*;

async fn v6(
    p: &Platform,
    method: reqwest::Method,
    path: &str,
    code: &str,
    token: &str,
    body: Option<Value>,
) -> Value {
    let mut req = p
        .http
        .request(method, p.url(path))
        .header("x-app-code", code)
        .header("x-app-token", token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn v6_releases_and_events() {
    let p = platform().await;
    p.create_app("alice", "hello").await;
    let digest = p.upload("alice", "hello", "default", "hello").await;
    // Without credentials: refused in the V6 envelope.
    let r = v6(
        &p,
        reqwest::Method::POST,
        "/v1/apps/hello/test/releases/",
        "hello",
        "wrong",
        Some(json!({"package": digest})),
    )
    .await;
    assert_eq!(r["result"], false, "{r}");
    // The app's own code and secret.
    let secret = p
        .post(
            "alice",
            "/paas/api/v1/apps/hello/secrets/current/reveal/",
            json!({}),
        )
        .await;
    let secret = secret.data()["secret"].as_str().unwrap().to_owned();
    let r = v6(
        &p,
        reqwest::Method::POST,
        "/v1/apps/hello/test/releases/",
        "hello",
        &secret,
        Some(json!({"package": digest})),
    )
    .await;
    assert_eq!(r["result"], true, "{r}");
    let event = r["data"]["event_id"].as_str().unwrap().to_owned();
    let until = Instant::now() + PATIENCE;
    let logs = loop {
        let l = v6(
            &p,
            reqwest::Method::GET,
            &format!("/v1/apps/hello/events/{event}/logs/"),
            "paas",
            SERVICE_TOKEN,
            None,
        )
        .await;
        let status = l["data"]["status"].as_str().unwrap().to_owned();
        assert!(
            ["PENDING", "STARTED", "SUCCESS"].contains(&status.as_str()),
            "{l}"
        );
        if status == "SUCCESS" {
            break l;
        }
        assert!(Instant::now() < until);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(logs["data"]["event_type"], "deploy");
    assert!(
        logs["data"]["logs"]
            .as_str()
            .unwrap()
            .contains("draining -> succeeded"),
        "{logs}"
    );
    assert_eq!(p.app_get("/t/hello/").await.0, 200);
    // Without a body: the newest release again.
    let r = v6(
        &p,
        reqwest::Method::POST,
        "/v1/apps/hello/test/releases/",
        "paas",
        SERVICE_TOKEN,
        None,
    )
    .await;
    assert_eq!(r["result"], true, "{r}");
    let again = r["data"]["event_id"].as_str().unwrap().to_owned();
    assert_eq!(
        p.wait_deployment("hello", "default", &again).await["state"],
        "succeeded"
    );
    // Offline.
    let r = v6(
        &p,
        reqwest::Method::DELETE,
        "/v1/apps/hello/test/releases/",
        "paas",
        SERVICE_TOKEN,
        None,
    )
    .await;
    let off = r["data"]["event_id"].as_str().unwrap().to_owned();
    assert_eq!(
        p.wait_deployment("hello", "default", &off).await["state"],
        "succeeded"
    );
    assert_eq!(p.app_get("/t/hello/").await.0, 404);
    let l = v6(
        &p,
        reqwest::Method::GET,
        &format!("/v1/apps/hello/events/{off}/logs/"),
        "paas",
        SERVICE_TOKEN,
        None,
    )
    .await;
    assert_eq!(
        (
            l["data"]["status"].as_str(),
            l["data"]["event_type"].as_str()
        ),
        (Some("SUCCESS"), Some("offline"))
    );
    let l = v6(
        &p,
        reqwest::Method::POST,
        "/v1/apps/hello/staging/releases/",
        "paas",
        SERVICE_TOKEN,
        None,
    )
    .await;
    assert_eq!(l["result"], false);
}

#[tokio::test]
async fn v7_deploy_paths_have_bk_shapes() {
    let p = platform().await;
    p.create_app("alice", "hello").await;
    let base = "/paas/api/bkapps/applications/hello/modules/default";
    p.get("alice", &format!("{base}/envs/stag/released_state/"))
        .await;
    let resp = p
        .http
        .post(p.url(&format!("{base}/source_package/")))
        .header("authorization", "Bearer tok-alice")
        .body(sample("hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let pkg: Value = resp.json().await.unwrap();
    let digest = pkg["sha256_signature"].as_str().unwrap().to_owned();
    assert_eq!(pkg["version"], "1.0.0");
    let r = p
        .post(
            "alice",
            &format!("{base}/envs/stag/deployments/"),
            json!({"version_type": "package", "version_name": "1.0.0", "revision": digest}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["deployment_id"].as_str().unwrap().to_owned();
    let until = Instant::now() + PATIENCE;
    loop {
        let res = p
            .get("alice", &format!("{base}/deployments/{id}/result/"))
            .await;
        assert_eq!(res.status, 200, "{}", res.body);
        match res.body["status"].as_str().unwrap() {
            "successful" => {
                assert!(res.body["logs"].as_str().unwrap().contains("succeeded"));
                break;
            }
            "pending" => {}
            other => panic!("{other}: {}", res.body),
        }
        assert!(Instant::now() < until);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let list = p.get("alice", &format!("{base}/deployments/lists/")).await;
    assert_eq!(list.body["count"], 1, "{}", list.body);
    assert_eq!(list.body["results"][0]["status"], "successful");
    assert_eq!(list.body["results"][0]["operator"]["username"], "alice");
    let state = p
        .get("alice", &format!("{base}/envs/stag/released_state/"))
        .await;
    assert_eq!(state.status, 200, "{}", state.body);
    assert_eq!(state.body["is_offlined"], false);
    assert_eq!(state.body["exposed_link"]["url"], "/t/hello/");
    let info = p
        .get("alice", &format!("{base}/envs/stag/released_info/"))
        .await;
    assert_eq!(info.body["processes"][0]["name"], "web", "{}", info.body);
    // Never deployed: 404 with BK's error shape.
    let prod = p
        .get("alice", &format!("{base}/envs/prod/released_state/"))
        .await;
    assert_eq!(prod.status, 404);
    assert_eq!(prod.body["code"], "NOT_FOUND", "{}", prod.body);

    let r = p
        .post("alice", &format!("{base}/envs/stag/offlines/"), json!({}))
        .await;
    let off = r.body["offline_operation_id"].as_str().unwrap().to_owned();
    p.wait_deployment("hello", "default", &off).await;
    let res = p
        .get("alice", &format!("{base}/offlines/{off}/result/"))
        .await;
    assert_eq!(res.body["status"], "successful", "{}", res.body);
    let state = p
        .get("alice", &format!("{base}/envs/stag/released_state/"))
        .await;
    assert_eq!(state.body["is_offlined"], true);
}
