//! Paths, parameters, envelopes and request ids.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn v2_and_v6_paths_answer_with_their_field_names_and_the_envelope() {
    let env = spawn().await;
    let alice = env.token("alice");
    let (s, v) = env
        .get(&format!("/api/c/compapi/v2/bk_login/get_user/?bk_app_code=demo&bk_app_secret={SECRET}&bk_token={alice}"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        (
            v["result"].as_bool(),
            v["code"].as_i64(),
            v["message"].as_str()
        ),
        (Some(true), Some(0), Some(""))
    );
    assert_eq!(v["data"]["bk_username"], "alice");
    assert_eq!(v["data"]["bk_role"], 2);
    for f in [
        "chname",
        "email",
        "phone",
        "qq",
        "wx_userid",
        "language",
        "time_zone",
    ] {
        assert!(v["data"][f].is_string(), "{f} missing: {v}");
    }
    let rid = v["request_id"].as_str().unwrap();
    assert!(
        rid.len() == 32 && rid.bytes().all(|c| c.is_ascii_hexdigit()),
        "{rid}"
    );

    let (_, v) = env
        .get(&format!(
            "/api/c/compapi/bk_login/get_user?app_code=demo&app_secret={SECRET}&bk_token={alice}"
        ))
        .await;
    assert_eq!(v["data"]["username"], "alice");
    assert_eq!(v["data"]["role"], "2");
    assert!(v["data"].get("bk_username").is_none());
}

#[tokio::test]
async fn multi_segment_names_slashes_and_unknown_paths() {
    let env = spawn().await;
    let q = format!("bk_app_code=demo&bk_app_secret={SECRET}&x=1");
    for p in [
        "/api/c/compapi/v2/itsm/token/verify/",
        "/api/c/compapi/itsm/token/verify",
        "/api/c/compapi//v2//itsm/token/verify",
    ] {
        let r = env.get(&format!("{p}?{q}")).await;
        assert_eq!(code(&r), 0, "{p}: {r:?}");
        assert_eq!(r.1["data"]["params"]["x"], "1");
    }
    for p in [
        "/api/c/compapi/v2/nope/thing/",
        "/api/c/self-service-api/nothing/here/",
        "/api/elsewhere",
    ] {
        let (s, v) = env.get(&format!("{p}?{q}")).await;
        assert_eq!(s, 404, "{p}");
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["data", "message", "result"], "{v}");
        assert_eq!(v["result"], false);
    }
}

#[tokio::test]
async fn bodies_json_without_content_type_form_and_bad_json() {
    let env = spawn().await;
    let url = format!("{}/api/c/compapi/v2/itsm/token/verify/", env.base);
    // JSON with no Content-Type (old clients).
    let v: serde_json::Value = env
        .http
        .post(&url)
        .body(format!(
            r#" {{"bk_app_code": "demo", "bk_app_secret": "{SECRET}", "n": [1, 2]}}"#
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["code"], 0, "{v}");
    assert_eq!(v["data"]["params"]["n"], json!([1, 2]));
    // A form.
    let v: serde_json::Value = env
        .http
        .post(&url)
        .form(&[
            ("bk_app_code", "demo"),
            ("bk_app_secret", SECRET),
            ("f", "v"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"]["params"]["f"], "v", "{v}");
    // Bad JSON: 1306000, HTTP 200.
    let r = env
        .http
        .post(&url)
        .body("{\"bk_app_code\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (v["result"].as_bool(), v["code"].as_i64()),
        (Some(false), Some(1306000)),
        "{v}"
    );
    // Too large: refused with an argument error, not a 500.
    let r = env
        .http
        .post(&url)
        .body(vec![b'a'; 5 << 20])
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["code"], 1306406, "{v}");
}
