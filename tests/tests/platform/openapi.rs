//! The committed OpenAPI documents must match what the code generates. After an
//! intended API change, regenerate with `BK_BLESS=1 cargo test -p bk-tests openapi`.

use std::path::PathBuf;

fn committed(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("openapi")
        .join(name)
}

fn check(name: &str, generated: String) {
    let path = committed(name);
    if std::env::var_os("BK_BLESS").is_some() {
        std::fs::write(&path, format!("{generated}\n")).unwrap();
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk.trim_end() == generated.trim_end(),
        "openapi/{name} is out of date with the code; regenerate it with `BK_BLESS=1 cargo test -p bk-tests openapi` and commit it"
    );
}

#[test]
fn login_document_is_committed_and_current() {
    let doc = bk_auth::http::openapi();
    let json = doc.to_pretty_json().unwrap();
    check("login.json", json.clone());
    // Every contract path is documented.
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for p in [
        "/login/",
        "/login/logout/",
        "/login/accounts/is_login/",
        "/login/accounts/get_user/",
        "/login/accounts/get_all_user/",
        "/login/accounts/get_batch_user/",
        "/login/api/v2/is_login/",
        "/login/api/v2/get_user/",
        "/login/api/v2/get_all_users/",
        "/login/api/v2/get_batch_users/",
    ] {
        assert!(v["paths"].get(p).is_some(), "{p} is not documented");
    }
}

#[tokio::test]
async fn the_running_service_serves_the_same_document() {
    let svc = bk_auth::testing::spawn_login().await;
    let served: serde_json::Value = reqwest::get(format!("{}/login/openapi.json", svc.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let generated: serde_json::Value =
        serde_json::from_str(&bk_auth::http::openapi().to_json().unwrap()).unwrap();
    assert_eq!(served, generated);
    let ui = reqwest::get(format!("{}/login/docs/", svc.base_url))
        .await
        .unwrap();
    assert_eq!(ui.status(), 200);
    assert!(
        ui.text().await.unwrap().contains("swagger"),
        "Swagger UI is vendored and served"
    );
}

#[test]
fn paas_document_is_committed_and_current() {
    let json = bk_engine::http::openapi().to_pretty_json().unwrap();
    check("paas.json", json.clone());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for p in [
        "/paas/api/v1/apps/",
        "/paas/api/v1/apps/{code}/",
        "/paas/api/v1/apps/{code}/modules/",
        "/paas/api/v1/apps/{code}/members/",
        "/paas/api/v1/apps/{code}/env_vars/",
        "/paas/api/v1/apps/{code}/secrets/",
        "/paas/api/v1/apps/{code}/audit/",
        "/paas/api/bkapps/applications/lists/minimal",
        "/paas/api/bkapps/applications/lists/detailed",
        "/paas/api/bkapps/applications/{code}/modules/",
        "/paas/api/bkapps/applications/{code}/modules/{module}/",
    ] {
        assert!(v["paths"].get(p).is_some(), "{p} is not documented");
    }
}

#[test]
fn appengine_document_is_committed_and_current() {
    let json = bk_engine::http::appengine_openapi()
        .to_pretty_json()
        .unwrap();
    check("appengine.json", json.clone());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for p in ["/v1/apps/", "/v1/healthz/"] {
        assert!(v["paths"].get(p).is_some(), "{p} is not documented");
    }
}

#[test]
fn esb_admin_document_is_committed_and_current() {
    let json = bk_esb::http::admin::openapi().to_pretty_json().unwrap();
    check("esb.json", json.clone());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for p in [
        "/api/esb/admin/systems/",
        "/api/esb/admin/channels/",
        "/api/esb/admin/apis/",
        "/api/esb/admin/grants/",
        "/api/esb/admin/skip-user-auth/",
        "/api/esb/admin/ratelimits/",
    ] {
        assert!(v["paths"].get(p).is_some(), "{p} is not documented");
    }
}
