//! Developer API calls coming from app pages are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bk_engine::config::EngineConfig;

use crate::http_support::{env, env_with};

#[tokio::test]
async fn app_pages_on_the_platform_host_are_refused() {
    let e = env().await;
    e.create_app("alice", "demo").await;
    let host = e.engine.base_url.trim_start_matches("http://").to_owned();
    let call = |origin: Option<String>, referer: Option<String>| {
        let mut req = e
            .http
            .get(e.url("/paas/api/v1/apps/demo/"))
            .bearer_auth("tok-alice");
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(r) = referer {
            req = req.header("referer", r);
        }
        req.send()
    };
    // The console and the CLI pass.
    let r = call(
        Some(format!("http://{host}")),
        Some(format!("http://{host}/console/apps/")),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    for path in [
        "/o/demo/",
        "/t/evil/index.html",
        "/stag--demo/",
        "/prod--web--demo/x",
    ] {
        let r = call(
            Some(format!("http://{host}")),
            Some(format!("http://{host}{path}")),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 403, "{path}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("app pages are refused"),
            "{v}"
        );
    }
    let r = call(Some("null".into()), None).await.unwrap();
    assert_eq!(r.status(), 403);
    // V7 paths too, in their own error shape, and before authentication.
    let r = e
        .http
        .get(e.url("/paas/api/bkapps/applications/lists/minimal"))
        .header("referer", format!("http://{host}/o/demo/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["code"], "PERMISSION_DENIED");
}

#[tokio::test]
async fn app_hosts_are_refused() {
    let e = env_with(EngineConfig {
        apps_host: "apps.example.com".into(),
        root_domain: "example.com".into(),
        ..EngineConfig::default()
    })
    .await;
    for origin in [
        "https://apps.example.com",
        "https://demo.example.com",
        "https://stag-dot-demo.example.com:8443",
    ] {
        let r = e
            .http
            .post(e.url("/paas/api/v1/apps/"))
            .bearer_auth("tok-alice")
            .header("origin", origin)
            .json(&serde_json::json!({"code": "x", "name": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{origin}");
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
