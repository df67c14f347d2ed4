//! Deploy, failed deploys keeping the previous release, rollback, restart mid-deploy,
//! modules, RBAC.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use serde_json::json;

use super::support::*;

#[tokio::test]
async fn hello_deploys_to_stag_and_serves_at_t() {
    let p = platform().await;
    p.create_app("alice", "hello").await;
    let d = p.deploy("hello", "default", "stag", "hello").await;
    assert_eq!(d["state"], "succeeded", "{d}");
    let (status, body) = p.app_get("/t/hello/some/path?q=1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["app"], "hello");
    assert_eq!(body["env"], "stag");
    assert_eq!(body["module"], "default");
    assert_eq!(body["process"], "web");
    assert_eq!(body["sub_path"], "/t/hello/");
    assert_eq!(body["message"], "hello from app_desc");
    assert_eq!(body["secret_set"], true);
    assert_eq!(body["path"], "/some/path?q=1");
    assert_eq!(body["script_name"], "/t/hello");
    // Prod is not deployed: the router does not know it.
    assert_eq!(p.app_get("/o/hello/").await.0, 404);

    let log = p
        .deploy_log("hello", "default", d["id"].as_str().unwrap())
        .await;
    let text = log.join("\n");
    for step in [
        "pending -> validating",
        "starting -> health_checking",
        "switching -> draining",
        "draining -> succeeded",
    ] {
        assert!(text.contains(step), "{step} missing in:\n{text}");
    }
    let app = p.get("alice", "/paas/api/v1/apps/hello/").await;
    assert_eq!(
        app.data()["app"]["state"],
        3,
        "in test after a stag deploy: {}",
        app.body
    );

    let procs = p
        .get(
            "alice",
            "/paas/api/v1/apps/hello/modules/default/envs/stag/processes/",
        )
        .await;
    let list = procs.data().as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["state"], "ready");
    assert_eq!(list[0]["serving"], true);
    assert!(list[0]["port"].as_u64().unwrap() > 0);
    let releases = p
        .get("alice", "/paas/api/v1/apps/hello/modules/default/releases/")
        .await;
    assert_eq!(releases.data().as_array().unwrap().len(), 1);
    // The instance log holds the request the app served.
    let inst = list[0]["id"].as_str().unwrap();
    let logs = p
        .get(
            "alice",
            &format!("/paas/api/v1/apps/hello/modules/default/envs/stag/instances/{inst}/logs/"),
        )
        .await;
    assert!(
        logs.data()["text"]
            .as_str()
            .unwrap()
            .contains("GET /some/path"),
        "{}",
        logs.body
    );
    p.engine().service.wait_for_deployments().await;
}

#[tokio::test]
async fn failed_deploys_leave_the_previous_release_serving() {
    let mut settings = bk_engine::testing::test_deploy_settings();
    settings.ready_timeout = Duration::from_secs(6);
    let p = platform_with(settings).await;
    p.create_app("alice", "hello").await;
    let first = p.deploy("hello", "default", "stag", "hello").await;
    assert_eq!(first["state"], "succeeded", "{first}");
    let (status, before) = p.app_get("/t/hello/").await;
    assert_eq!(status, 200, "{before}");

    // Readiness never passes.
    let d = p.deploy("hello", "default", "stag", "unhealthy").await;
    assert_eq!(d["state"], "failed", "{d}");
    let reason = d["reason"].as_str().unwrap();
    assert!(
        reason.contains("not ready within 6 s") && reason.contains("status 503"),
        "{reason}"
    );
    let (status, after) = p.app_get("/t/hello/").await;
    assert_eq!(status, 200);
    assert_eq!(
        after["pid"], before["pid"],
        "the same instance still serves"
    );

    // The process exits with status 3.
    let d = p.deploy("hello", "default", "stag", "crasher").await;
    assert_eq!(d["state"], "failed", "{d}");
    let reason = d["reason"].as_str().unwrap();
    assert!(
        reason.contains("exited with code 3") || reason.contains("code 3"),
        "{reason}"
    );
    // The crashed instance's own words are in the deploy log.
    let log = p
        .deploy_log("hello", "default", d["id"].as_str().unwrap())
        .await;
    assert!(
        log.iter()
            .any(|l| l.ends_with("crasher: exiting with status 3")),
        "{log:?}"
    );
    let (status, after) = p.app_get("/t/hello/").await;
    assert_eq!(status, 200);
    assert_eq!(after["pid"], before["pid"]);
    // Failed deploys put the app state back (in test after the first deploy).
    assert_eq!(
        p.get("alice", "/paas/api/v1/apps/hello/").await.data()["app"]["state"],
        3
    );
    // Only the serving instance is left.
    let procs = p
        .get(
            "alice",
            "/paas/api/v1/apps/hello/modules/default/envs/stag/processes/",
        )
        .await;
    assert_eq!(
        procs
            .data()
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["state"] != "stopped")
            .count(),
        1,
        "{}",
        procs.body
    );
}

#[tokio::test]
async fn rollback_makes_a_new_release_from_an_earlier_one() {
    let p = platform().await;
    p.create_app("alice", "hello").await;
    let d1 = p.deploy("hello", "default", "stag", "hello").await;
    let r1 = d1["release_id"].as_str().unwrap().to_owned();
    let d2 = p.deploy("hello", "default", "stag", "hello-v3").await;
    assert_eq!(d2["state"], "succeeded", "{d2}");
    assert_eq!(p.app_get("/t/hello/").await.1["message"], "hello from v3");
    let r = p
        .post(
            "alice",
            "/paas/api/v1/apps/hello/modules/default/envs/stag/rollback/",
            json!({"release": r1}),
        )
        .await;
    let id = r.data()["id"].as_str().unwrap().to_owned();
    let d3 = p.wait_deployment("hello", "default", &id).await;
    assert_eq!(d3["state"], "succeeded", "{d3}");
    assert_ne!(d3["release_id"], r1, "a rollback is a new release");
    assert_eq!(
        p.app_get("/t/hello/").await.1["message"],
        "hello from app_desc"
    );
    let releases = p
        .get("alice", "/paas/api/v1/apps/hello/modules/default/releases/")
        .await;
    let newest = &releases.data()[0];
    assert_eq!(newest["source"], "rollback");
    assert_eq!(newest["rollback_of"], r1.as_str());
    let bad = p
        .post(
            "alice",
            "/paas/api/v1/apps/hello/modules/default/envs/stag/rollback/",
            json!({"release": "no-such"}),
        )
        .await;
    bad.failed(404);
}

#[tokio::test]
async fn engine_restart_mid_deploy_ends_the_deployment_truly() {
    let mut settings = bk_engine::testing::test_deploy_settings();
    settings.ready_timeout = Duration::from_secs(60);
    let mut p = platform_with(settings).await;
    p.create_app("alice", "hello").await;
    let first = p.deploy("hello", "default", "stag", "hello").await;
    assert_eq!(first["state"], "succeeded");
    // Never ready: the deployment waits in health_checking while the engine "crashes".
    let digest = p.upload("alice", "hello", "default", "unhealthy").await;
    let id = p
        .start_deploy("alice", "hello", "default", "stag", &digest)
        .await;
    let until = std::time::Instant::now() + PATIENCE;
    loop {
        let d = p
            .get(
                "alice",
                &format!("/paas/api/v1/apps/hello/modules/default/deployments/{id}/"),
            )
            .await;
        if d.data()["state"] == "health_checking" {
            break;
        }
        assert!(std::time::Instant::now() < until, "{}", d.body);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        p.get("alice", "/paas/api/v1/apps/hello/").await.data()["app"]["state"],
        8,
        "deploying to test"
    );
    p.restart().await;
    // Ended by the new engine's reconciler at start-up, with the reason.
    let d = p
        .get(
            "alice",
            &format!("/paas/api/v1/apps/hello/modules/default/deployments/{id}/"),
        )
        .await;
    let d = d.data();
    assert_eq!(d["state"], "failed", "{d}");
    assert!(
        d["reason"]
            .as_str()
            .unwrap()
            .contains("engine restarted while the deploy was health_checking"),
        "{d}"
    );
    assert_eq!(
        p.get("alice", "/paas/api/v1/apps/hello/").await.data()["app"]["state"],
        3,
        "back to in test"
    );
    // The previous release serves again once its instance, restarted with the platform,
    // is ready; nothing of the failed release runs.
    let body = p.app_wait_ok("/t/hello/").await;
    assert_eq!(body["message"], "hello from app_desc");
    let procs = p
        .get(
            "alice",
            "/paas/api/v1/apps/hello/modules/default/envs/stag/processes/",
        )
        .await;
    assert_eq!(procs.data().as_array().unwrap().len(), 1, "{}", procs.body);
    let again = p.deploy("hello", "default", "stag", "hello-v3").await;
    assert_eq!(again["state"], "succeeded", "{again}");
}

#[tokio::test]
async fn modules_deploy_on_their_own() {
    let p = platform().await;
    p.create_app("alice", "two-modules").await;
    p.post(
        "alice",
        "/paas/api/v1/apps/two-modules/modules/",
        json!({"name": "api"}),
    )
    .await
    .data();
    let d = p
        .deploy("two-modules", "default", "stag", "two-modules")
        .await;
    assert_eq!(d["state"], "succeeded", "{d}");
    assert_eq!(
        p.app_get("/stag--api--two-modules/").await.0,
        404,
        "api not deployed yet"
    );
    let d = p.deploy("two-modules", "api", "stag", "two-modules").await;
    assert_eq!(d["state"], "succeeded", "{d}");
    let (s, front) = p.app_get("/t/two-modules/").await;
    assert_eq!(
        (s, front["message"].as_str(), front["module"].as_str()),
        (200, Some("front"), Some("default"))
    );
    let (s, api) = p.app_get("/stag--api--two-modules/").await;
    assert_eq!(
        (s, api["message"].as_str(), api["module"].as_str()),
        (200, Some("api"), Some("api")),
        "{api}"
    );
    assert_eq!(api["sub_path"], "/stag--api--two-modules/");
}

#[tokio::test]
async fn only_members_deploy_and_protected_prod_is_for_superusers() {
    let p = platform().await;
    p.create_app("alice", "hello").await;
    // A developer who is not a member sees nothing.
    p.upload_raw("bobby", "hello", "default", sample("hello"))
        .await
        .failed(404);
    let digest = p.upload("alice", "hello", "default", "hello").await;
    p.post(
        "bobby",
        "/paas/api/v1/apps/hello/modules/default/envs/stag/deployments/",
        json!({"package": digest}),
    )
    .await
    .failed(404);
    p.get(
        "bobby",
        "/paas/api/v1/apps/hello/modules/default/deployments/",
    )
    .await
    .failed(404);
    // Bad input names what is wrong.
    let m = p
        .upload_raw("alice", "hello", "default", b"not a tarball".to_vec())
        .await
        .failed(400);
    assert!(m.contains("package rejected"), "{m}");
    let m = p
        .upload_raw("alice", "hello", "default", sample("bad-desc"))
        .await
        .failed(400);
    assert!(m.contains("replicas"), "{m}");
    let m = p
        .post(
            "alice",
            "/paas/api/v1/apps/hello/modules/default/envs/dev/deployments/",
            json!({"package": digest}),
        )
        .await
        .failed(400);
    assert!(m.contains("env"), "{m}");
    p.post(
        "alice",
        "/paas/api/v1/apps/hello/modules/default/envs/stag/deployments/",
        json!({"package": "00"}),
    )
    .await
    .failed(404);
    // Prod from "developing" is refused by the V6 state rules (deploy to test first).
    let m = p
        .post(
            "alice",
            "/paas/api/v1/apps/hello/modules/default/envs/prod/deployments/",
            json!({"package": digest}),
        )
        .await
        .failed(409);
    assert!(m.contains("deploy to test first"), "{m}");
    // Protected prod: only superusers.
    p.call(
        "admin",
        reqwest::Method::PATCH,
        "/paas/api/v1/apps/hello/",
        Some(json!({"prod_protected": true})),
    )
    .await
    .data();
    p.post(
        "alice",
        "/paas/api/v1/apps/hello/modules/default/envs/prod/deployments/",
        json!({"package": digest}),
    )
    .await
    .failed(403);
}

#[tokio::test]
async fn pre_release_hook_output_goes_to_the_deploy_log_and_a_failing_hook_stops_the_deploy() {
    let p = platform().await;
    p.create_app("alice", "hello").await;
    let ok = p
        .upload_raw(
            "alice",
            "hello",
            "default",
            hello_with_hook("echo migrating $BKPAAS_APP_ID in $BKPAAS_ENVIRONMENT"),
        )
        .await;
    let digest = ok.data()["digest"].as_str().unwrap().to_owned();
    let id = p
        .start_deploy("alice", "hello", "default", "stag", &digest)
        .await;
    // Follow the log as server-sent events: the stream ends with the deployment.
    let resp = p
        .http
        .get(p.url(&format!(
            "/paas/api/v1/apps/hello/modules/default/deployments/{id}/logs/?follow=1"
        )))
        .header("authorization", "Bearer tok-alice")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let sse = tokio::time::timeout(PATIENCE, resp.text())
        .await
        .unwrap()
        .unwrap();
    assert!(sse.contains("hook: migrating hello in stag"), "{sse}");
    assert!(
        sse.contains("event: end") && sse.contains("succeeded"),
        "{sse}"
    );
    assert_eq!(p.app_get("/t/hello/").await.0, 200);

    let bad = p
        .upload_raw(
            "alice",
            "hello",
            "default",
            hello_with_hook("echo cannot migrate; exit 4"),
        )
        .await;
    let digest = bad.data()["digest"].as_str().unwrap().to_owned();
    let id = p
        .start_deploy("alice", "hello", "default", "stag", &digest)
        .await;
    let d = p.wait_deployment("hello", "default", &id).await;
    assert_eq!(d["state"], "failed");
    assert_eq!(
        d["reason"], "pre-release hook failed: exited with code 4",
        "{d}"
    );
    let log = p.deploy_log("hello", "default", &id).await;
    assert!(log.iter().any(|l| l == "hook: cannot migrate"), "{log:?}");
    assert_eq!(
        p.app_get("/t/hello/").await.0,
        200,
        "the previous release serves"
    );
}

#[tokio::test]
async fn a_deployment_can_be_cancelled() {
    let mut settings = bk_engine::testing::test_deploy_settings();
    settings.ready_timeout = Duration::from_secs(30);
    let p = platform_with(settings).await;
    p.create_app("alice", "hello").await;
    // Readiness never passes, so the deployment waits until cancelled.
    let digest = p.upload("alice", "hello", "default", "unhealthy").await;
    let id = p
        .start_deploy("alice", "hello", "default", "stag", &digest)
        .await;
    // A second operation of the same slot while this one runs is refused.
    let m = p
        .post(
            "alice",
            "/paas/api/v1/apps/hello/modules/default/envs/stag/deployments/",
            json!({"package": digest}),
        )
        .await
        .failed(409);
    assert!(m.contains("wait"), "{m}");
    let m = p
        .post(
            "alice",
            "/paas/api/v1/apps/hello/modules/default/envs/stag/offline/",
            json!({}),
        )
        .await
        .failed(409);
    assert!(m.contains("wait"), "{m}");
    let r = p
        .post(
            "alice",
            &format!("/paas/api/v1/apps/hello/modules/default/deployments/{id}/cancel/"),
            json!({}),
        )
        .await;
    r.data();
    let d = p.wait_deployment("hello", "default", &id).await;
    assert_eq!(d["state"], "cancelled", "{d}");
    // Nothing serves (there was no previous release), the app is back to developing.
    assert_eq!(
        p.get("alice", "/paas/api/v1/apps/hello/").await.data()["app"]["state"],
        1
    );
    p.post(
        "alice",
        &format!("/paas/api/v1/apps/hello/modules/default/deployments/{id}/cancel/"),
        json!({}),
    )
    .await
    .failed(409);
}

#[tokio::test]
async fn instances_get_the_contract_env_with_user_vars_over_the_package() {
    let p = platform().await;
    p.create_app("alice", "hello").await;
    p.post(
        "alice",
        "/paas/api/v1/apps/hello/env_vars/",
        json!({"vars": [
            {"key": "HELLO_MESSAGE", "value": "from the user", "scope": "stag"},
            {"key": "GREETING", "value": "hi there"},
        ]}),
    )
    .await
    .data();
    let hook = "echo env: $GREETING/$BKAPP_GREETING/$APP_ID/$BK_ENV/$BKPAAS_SUB_PATH/${PORT:-noport}/${BKPAAS_APP_SECRET:+secret}";
    let up = p
        .upload_raw("alice", "hello", "default", hello_with_hook(hook))
        .await;
    let digest = up.data()["digest"].as_str().unwrap().to_owned();
    let id = p
        .start_deploy("alice", "hello", "default", "stag", &digest)
        .await;
    assert_eq!(
        p.wait_deployment("hello", "default", &id).await["state"],
        "succeeded"
    );
    let log = p.deploy_log("hello", "default", &id).await;
    assert!(
        log.iter()
            .any(|l| l == "hook: env: hi there/hi there/hello/testing//t/hello//noport/secret"),
        "{log:?}"
    );
    let (_, body) = p.app_get("/t/hello/").await;
    assert_eq!(
        body["message"], "from the user",
        "user vars win over app_desc"
    );
    // The release keeps its snapshot: changing a var later does not change it.
    p.post(
        "alice",
        "/paas/api/v1/apps/hello/env_vars/",
        json!({"vars": [{"key": "HELLO_MESSAGE", "value": "changed", "scope": "stag"}]}),
    )
    .await
    .data();
    let base = "/paas/api/v1/apps/hello/modules/default/envs/stag/processes";
    p.post("alice", &format!("{base}/restart/"), json!({}))
        .await
        .data();
    let (_, body) = p.app_get("/t/hello/").await;
    assert_eq!(
        body["message"], "from the user",
        "a restart keeps the release's snapshot"
    );
}
