//! The built-in components' shapes (contracts §3).

use serde_json::json;

use crate::support::*;

fn q(extra: &str) -> String {
    format!("bk_app_code=demo&bk_app_secret={SECRET}&bk_token=token-of-alice{extra}")
}

#[tokio::test]
async fn bk_login_components() {
    let env = spawn().await;
    let r = env
        .get(&format!("/api/c/compapi/v2/bk_login/is_login/?{}", q("")))
        .await;
    assert_eq!(r.1["data"], json!({"bk_username": "alice"}));
    let r = env
        .get(&format!("/api/c/compapi/bk_login/is_login/?{}", q("")))
        .await;
    assert_eq!(r.1["data"], json!({"username": "alice"}));

    let r = env
        .get(&format!(
            "/api/c/compapi/v2/bk_login/get_user/?{}",
            q("&bk_username=bob")
        ))
        .await;
    assert_eq!(r.1["data"]["bk_username"], "bob");

    let r = env
        .get(&format!(
            "/api/c/compapi/v2/bk_login/get_all_users/?{}",
            q("")
        ))
        .await;
    let names: Vec<&str> = r.1["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["bk_username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "alice", "bob"]);
    let r = env
        .get(&format!(
            "/api/c/compapi/v2/bk_login/get_all_users/?{}",
            q("&bk_role=1")
        ))
        .await;
    assert_eq!(r.1["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        code(
            &env.get(&format!(
                "/api/c/compapi/v2/bk_login/get_all_users/?{}",
                q("&bk_role=9")
            ))
            .await
        ),
        1306406
    );

    let v: serde_json::Value = env
        .http
        .post(format!("{}/api/c/compapi/v2/bk_login/get_batch_users/", env.base))
        .json(&json!({"bk_app_code": "demo", "bk_app_secret": SECRET, "bk_token": "token-of-alice", "bk_username_list": ["bob", "ghost", "admin"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys: Vec<&String> = v["data"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["admin", "bob"], "{v}");
    assert_eq!(v["data"]["admin"]["bk_role"], 1);
    let r = env
        .get(&format!(
            "/api/c/compapi/bk_login/get_batch_users/?{}",
            q("&username_list=bob;admin")
        ))
        .await;
    assert_eq!(r.1["data"]["bob"]["username"], "bob", "{r:?}");
}

#[tokio::test]
async fn bk_paas_and_esb_components() {
    let env = spawn().await;
    let r = env
        .get(&format!(
            "/api/c/compapi/v2/bk_paas/get_app_info/?{}",
            q("&target_app_code=demo;other;ghost")
        ))
        .await;
    assert_eq!(
        r.1["data"],
        json!([
            {"bk_app_code": "demo", "bk_app_name": "demo app", "introduction": "", "creator": "", "developer": "alice"},
            {"bk_app_code": "other", "bk_app_name": "other app", "introduction": "", "creator": "", "developer": "bob;alice"},
        ])
    );
    // Without a user and without target_app_code: the calling app.
    let r = env
        .get(&format!(
            "/api/c/compapi/bk_paas/get_app_info/?bk_app_code=demo&bk_app_secret={SECRET}"
        ))
        .await;
    assert_eq!(r.1["data"][0]["app_code"], "demo", "{r:?}");

    let r = env
        .get(&format!("/api/c/compapi/v2/esb/get_systems/?{}", q("")))
        .await;
    let names: Vec<&str> = r.1["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["BK_LOGIN", "BK_PAAS", "ESB"]);
    assert!(r.1["data"][0]["id"].is_number());

    let r = env
        .get(&format!(
            "/api/c/compapi/v2/esb/get_components/?{}",
            q("&system_names=BK_LOGIN")
        ))
        .await;
    let comps = r.1["data"].as_array().unwrap();
    assert_eq!(comps.len(), 4, "{r:?}");
    assert_eq!(
        comps.iter().find(|c| c["name"] == "get_user").unwrap(),
        &json!({"name": "get_user", "label": "Get a user", "method": "GET", "path": "/api/c/compapi/v2/bk_login/get_user/", "system_name": "BK_LOGIN", "type": 2, "version": "v2"})
    );
}
