//! Scale, restart, stop/start, offline, with a client that must never see a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::json;

use super::support::*;

/// Requests `/t/hello/` in a loop until stopped; counts answers and failures.
struct Client {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicUsize>,
    failures: Arc<std::sync::Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

fn client_loop(url: String) -> Client {
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (s, o, f) = (stop.clone(), ok.clone(), failures.clone());
    let task = tokio::spawn(async move {
        let http = reqwest::Client::new();
        while !s.load(Ordering::Relaxed) {
            match http.get(&url).send().await {
                Ok(r) if r.status() == 200 => {
                    o.fetch_add(1, Ordering::Relaxed);
                }
                Ok(r) => f.lock().unwrap().push(format!("status {}", r.status())),
                Err(e) => f.lock().unwrap().push(e.to_string()),
            }
        }
    });
    Client {
        stop,
        ok,
        failures,
        task,
    }
}

impl Client {
    async fn finish(self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap();
        let failures = self.failures.lock().unwrap().clone();
        assert!(failures.is_empty(), "failed requests: {failures:?}");
        self.ok.load(Ordering::Relaxed)
    }
}

async fn running(p: &Platform) -> Vec<serde_json::Value> {
    p.get(
        "alice",
        "/paas/api/v1/apps/hello/modules/default/envs/stag/processes/",
    )
    .await
    .data()
    .as_array()
    .unwrap()
    .iter()
    .filter(|i| i["state"] == "ready")
    .cloned()
    .collect()
}

#[tokio::test]
async fn scale_restart_and_redeploy_fail_no_request() {
    let p = platform().await;
    p.create_app("alice", "hello").await;
    assert_eq!(
        p.deploy("hello", "default", "stag", "hello").await["state"],
        "succeeded"
    );
    let client = client_loop(p.url("/t/hello/"));
    let base = "/paas/api/v1/apps/hello/modules/default/envs/stag/processes";

    let r = p
        .post(
            "alice",
            &format!("{base}/web/scale/"),
            json!({"replicas": 3}),
        )
        .await;
    assert_eq!(r.data()["replicas"]["web"], 3);
    assert_eq!(running(&p).await.len(), 3);
    let r = p
        .post(
            "alice",
            &format!("{base}/web/scale/"),
            json!({"replicas": 1}),
        )
        .await;
    assert_eq!(r.data()["replicas"]["web"], 1);
    let left = running(&p).await;
    assert_eq!(left.len(), 1, "{left:?}");

    let before = left[0]["id"].clone();
    let r = p
        .post("alice", &format!("{base}/restart/"), json!({}))
        .await;
    assert_eq!(r.data()["generation"], 1);
    let after = running(&p).await;
    assert_eq!(after.len(), 1);
    assert_ne!(after[0]["id"], before, "a restart runs new instances");

    assert_eq!(
        p.deploy("hello", "default", "stag", "hello").await["state"],
        "succeeded"
    );
    let served = client.finish().await;
    assert!(served > 0);

    // Bad input.
    p.post(
        "alice",
        &format!("{base}/web/scale/"),
        json!({"replicas": 99}),
    )
    .await
    .failed(400);
    p.post(
        "alice",
        &format!("{base}/nope/scale/"),
        json!({"replicas": 1}),
    )
    .await
    .failed(400);
    p.post(
        "bobby",
        &format!("{base}/web/scale/"),
        json!({"replicas": 1}),
    )
    .await
    .failed(404);
}

#[tokio::test]
async fn stop_start_and_offline() {
    let p = platform().await;
    p.create_app("alice", "hello").await;
    assert_eq!(
        p.deploy("hello", "default", "stag", "hello").await["state"],
        "succeeded"
    );
    let base = "/paas/api/v1/apps/hello/modules/default/envs/stag/processes";
    assert_eq!(
        p.post("alice", &format!("{base}/stop/"), json!({}))
            .await
            .data()["stopped"],
        true
    );
    assert_eq!(
        p.app_get("/t/hello/").await.0,
        503,
        "stopped: the route exists, nothing serves"
    );
    assert_eq!(
        p.post("alice", &format!("{base}/start/"), json!({}))
            .await
            .data()["stopped"],
        false
    );
    assert_eq!(p.app_get("/t/hello/").await.0, 200);

    let r = p
        .post(
            "alice",
            "/paas/api/v1/apps/hello/modules/default/envs/stag/offline/",
            json!({}),
        )
        .await;
    let id = r.data()["id"].as_str().unwrap().to_owned();
    let d = p.wait_deployment("hello", "default", &id).await;
    assert_eq!(
        (d["kind"].as_str(), d["state"].as_str()),
        (Some("offline"), Some("succeeded")),
        "{d}"
    );
    assert_eq!(p.app_get("/t/hello/").await.0, 404);
    assert!(running(&p).await.is_empty());
}

#[tokio::test]
async fn prod_goes_online_then_offline_with_the_v6_states() {
    let p = platform().await;
    p.create_app("alice", "hello").await;
    let state = || async {
        p.get("alice", "/paas/api/v1/apps/hello/").await.data()["app"]["state"].clone()
    };
    assert_eq!(
        p.deploy("hello", "default", "stag", "hello").await["state"],
        "succeeded"
    );
    assert_eq!(state().await, 3);
    assert_eq!(
        p.deploy("hello", "default", "prod", "hello-v3").await["state"],
        "succeeded"
    );
    assert_eq!(state().await, 4, "online");
    let (s, body) = p.app_get("/o/hello/").await;
    assert_eq!(
        (s, body["message"].as_str(), body["env"].as_str()),
        (200, Some("hello from v3 prod"), Some("prod"))
    );
    let r = p
        .post(
            "alice",
            "/paas/api/v1/apps/hello/modules/default/envs/prod/offline/",
            json!({}),
        )
        .await;
    let id = r.data()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        p.wait_deployment("hello", "default", &id).await["state"],
        "succeeded"
    );
    assert_eq!(state().await, 0, "offline");
    assert_eq!(p.app_get("/o/hello/").await.0, 404);
    assert_eq!(p.app_get("/t/hello/").await.0, 200, "stag is untouched");
}

#[tokio::test]
async fn a_restarted_platform_runs_what_served_and_keeps_stopped_slots_stopped() {
    let mut p = platform().await;
    p.create_app("alice", "hello").await;
    p.create_app("alice", "other").await;
    assert_eq!(
        p.deploy("hello", "default", "stag", "hello").await["state"],
        "succeeded"
    );
    assert_eq!(
        p.deploy("other", "default", "stag", "hello").await["state"],
        "succeeded"
    );
    let base = "/paas/api/v1/apps/other/modules/default/envs/stag/processes";
    p.post(
        "alice",
        &format!("{base}/web/scale/"),
        json!({"replicas": 2}),
    )
    .await
    .data();
    p.post("alice", &format!("{base}/stop/"), json!({}))
        .await
        .data();
    p.restart().await;
    assert_eq!(p.app_wait_ok("/t/hello/").await["app"], "hello");
    assert_eq!(p.app_get("/t/other/").await.0, 503, "stopped stays stopped");
    p.post("alice", &format!("{base}/start/"), json!({}))
        .await
        .data();
    let ready: Vec<_> = p
        .get("alice", &format!("{base}/"))
        .await
        .data()
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["state"] == "ready")
        .cloned()
        .collect();
    assert_eq!(ready.len(), 2, "the scale survived the restart");
    assert_eq!(p.app_get("/t/other/").await.0, 200);
}
