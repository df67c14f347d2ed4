//! The V1 and V2 login APIs of the BK contract, with their envelopes and codes.

use bk_auth::testing::{self, spawn_login};
use serde_json::json;

use crate::http_support::{admin_token, client, create_user, get_json};

#[tokio::test]
async fn v1_envelopes_and_codes() {
    let svc = spawn_login().await;
    let admin = admin_token(&svc).await;
    let base = &svc.base_url;

    let (s, b) = get_json(
        &format!("{base}/login/accounts/is_login/?bk_token={admin}"),
        None,
    )
    .await;
    assert_eq!(
        (s, &b["result"], &b["code"], &b["data"]["username"]),
        (200, &json!(true), &json!("00"), &json!("admin"))
    );

    let (s, b) = get_json(
        &format!("{base}/login/accounts/is_login/?bk_token=nope"),
        None,
    )
    .await;
    assert_eq!(
        (s, &b["result"], &b["code"]),
        (200, &json!(false), &json!("1200"))
    );
    assert!(b["message"].as_str().unwrap().len() > 5);

    let (_, b) = get_json(
        &format!("{base}/login/accounts/get_user/?bk_token={admin}"),
        None,
    )
    .await;
    assert_eq!(b["data"]["username"], "admin");
    assert_eq!(b["data"]["role"], "1", "role is the code as a string in V1");
    for k in [
        "chname",
        "qq",
        "phone",
        "email",
        "wx_userid",
        "language",
        "time_zone",
    ] {
        assert!(b["data"].get(k).is_some(), "missing {k}");
    }

    create_user(&svc, &admin, "dev01", &[2]).await;
    create_user(&svc, &admin, "audit01", &[4, 0]).await;
    let (_, b) = get_json(
        &format!("{base}/login/accounts/get_all_user/?bk_token={admin}&role=2"),
        None,
    )
    .await;
    let names: Vec<_> = b["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, vec!["dev01"]);
    let (_, b) = get_json(
        &format!("{base}/login/accounts/get_all_user/?bk_token={admin}&role=x"),
        None,
    )
    .await;
    assert_eq!(
        (b["result"].clone(), b["code"].clone()),
        (json!(false), json!("1300"))
    );

    let resp = client()
        .post(format!("{base}/login/accounts/get_batch_user/"))
        .json(&json!({"bk_token": admin, "username_list": ["dev01", "ghost", "audit01"]}))
        .send()
        .await
        .unwrap();
    let b: serde_json::Value = resp.json().await.unwrap();
    let map = b["data"].as_object().unwrap();
    assert_eq!(map.len(), 2, "unknown names omitted: {b}");
    assert_eq!(map["audit01"]["role"], "4");
    assert_eq!(map["dev01"]["chname"], "dev01 中文");
}

#[tokio::test]
async fn v2_envelopes_codes_and_language() {
    let svc = spawn_login().await;
    let admin = admin_token(&svc).await;
    let base = &svc.base_url;
    let (_, b) = get_json(
        &format!("{base}/login/api/v2/is_login/?bk_token={admin}"),
        None,
    )
    .await;
    assert_eq!(
        b,
        json!({"result": true, "bk_error_code": 0, "bk_error_msg": "", "data": {"bk_username": "admin"}})
    );

    let resp = client()
        .get(format!("{base}/login/api/v2/is_login/?bk_token=bad"))
        .header("Blueking-Language", "zh-cn")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let b: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(b["bk_error_code"], 1302100);
    assert!(b["bk_error_msg"].as_str().unwrap().contains("登录"), "{b}");

    let (_, b) = get_json(
        &format!("{base}/login/api/v2/get_user/?bk_token={admin}"),
        None,
    )
    .await;
    assert_eq!(
        (
            b["data"]["bk_username"].clone(),
            b["data"]["bk_role"].clone()
        ),
        (json!("admin"), json!(1))
    );

    create_user(&svc, &admin, "ops01", &[3]).await;
    let (_, b) = get_json(
        &format!("{base}/login/api/v2/get_all_users/?bk_token={admin}&bk_role=3"),
        None,
    )
    .await;
    assert_eq!(b["data"][0]["bk_username"], "ops01");
    assert_eq!(b["data"].as_array().unwrap().len(), 1);

    let resp = client()
        .post(format!("{base}/login/api/v2/get_batch_users/"))
        .json(&json!({"bk_token": admin, "bk_username_list": ["ops01", "nobody"]}))
        .send()
        .await
        .unwrap();
    let b: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        b["data"].as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["ops01"]
    );
    assert_eq!(b["data"]["ops01"]["bk_role"], 3);
}

#[tokio::test]
async fn esb_service_trust() {
    let svc = spawn_login().await;
    let admin = admin_token(&svc).await;
    create_user(&svc, &admin, "someone", &[0]).await;
    let base = &svc.base_url;
    let trusted = |url: String, token: &'static str| {
        client()
            .get(url)
            .header("X-APP-CODE", "esb")
            .header("X-APP-TOKEN", token)
            .send()
    };
    let b: serde_json::Value = trusted(
        format!("{base}/login/api/v2/get_user/?bk_username=someone"),
        testing::ESB_TOKEN,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(b["data"]["bk_username"], "someone");
    let b: serde_json::Value = trusted(
        format!("{base}/login/api/v2/get_user/?bk_username=ghost"),
        testing::ESB_TOKEN,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        b["bk_error_code"], 1302103,
        "get_user answers 1302103 for unknown users"
    );
    let b: serde_json::Value = trusted(
        format!("{base}/login/accounts/get_user/?username=someone"),
        testing::ESB_TOKEN,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(b["data"]["username"], "someone");
    let b: serde_json::Value = trusted(
        format!("{base}/login/accounts/get_user/?username=ghost"),
        testing::ESB_TOKEN,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(b["code"], "1201");
    // A wrong token grants nothing.
    let b: serde_json::Value = trusted(
        format!("{base}/login/api/v2/get_user/?bk_username=someone"),
        "wrong",
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(b["result"], false);
    assert_eq!(b["bk_error_code"], 1302100);
    let b: serde_json::Value = trusted(
        format!("{base}/login/api/v2/get_all_users/"),
        testing::ESB_TOKEN,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert!(b["data"].as_array().unwrap().len() >= 2);
}
