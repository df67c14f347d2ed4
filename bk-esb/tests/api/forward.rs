//! Self-service components forwarded to a real HTTP backend on 127.0.0.1:0.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, RawQuery};
use axum::http::HeaderMap;
use axum::routing::{any, get};
use bk_esb::model::{BodyFormat, PermLevel, SelfServiceApi};
use serde_json::{Value, json};

use crate::support::*;

async fn echo(
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: String,
) -> Json<Value> {
    let h: BTreeMap<String, String> = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    Json(json!({"id": id, "query": q, "headers": h, "body": body}))
}

async fn backend() -> String {
    let app = axum::Router::new()
        .route("/echo/{id}/", any(echo))
        .route(
            "/slow/",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                "late"
            }),
        )
        .route(
            "/text/",
            get(|| async { (axum::http::StatusCode::IM_A_TEAPOT, "plain words") }),
        );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}")
}

fn api(name: &str, path: &str, method: &str, dest: String) -> SelfServiceApi {
    let mut a = SelfServiceApi {
        system: "DEMO".into(),
        name: name.into(),
        label: String::new(),
        registed_path: path.into(),
        registed_http_method: method.into(),
        dest_url: dest,
        dest_http_method: String::new(),
        body_format: BodyFormat::Json,
        extra_headers: BTreeMap::from([("X-Extra".into(), "1".into())]),
        timeout: None,
        perm_level: PermLevel::None,
        is_active: true,
        need_user: false,
    };
    a.validate().unwrap();
    a
}

#[tokio::test]
async fn get_and_post_are_forwarded_without_credentials_and_with_the_caller() {
    let env = spawn().await;
    let b = backend().await;
    let s = &env.stores.self_service;
    s.put_self_service(&api(
        "get_thing",
        "/demo/things/{id}",
        "GET",
        format!("{b}/echo/{{id}}/"),
    ))
    .await
    .unwrap();
    s.put_self_service(&api(
        "post_thing",
        "/demo/things/{id}",
        "POST",
        format!("{b}/echo/{{id}}/"),
    ))
    .await
    .unwrap();
    env.reload().await;

    let r = env
        .http
        .get(format!("{}/api/c/self-service-api/demo/things/42/?a=1&bk_app_code=demo&bk_token=token-of-alice", env.base))
        .header("X-Bkapi-Authorization", format!(r#"{{"bk_app_secret": "{SECRET}"}}"#))
        .header("X-Custom", "kept")
        .header("Blueking-Language", "zh-cn")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["id"], "42", "{v}");
    assert_eq!(v["query"], "a=1");
    let h = &v["headers"];
    assert_eq!(h["bk-username"], "alice");
    assert_eq!(h["x-custom"], "kept");
    assert_eq!(h["x-extra"], "1");
    assert_eq!(h["blueking-language"], "zh-cn");
    assert!(h.get("x-bkapi-authorization").is_none(), "{h}");
    let rid = v["request_id"].as_str().unwrap();
    assert_eq!(h["x-bkapi-request-id"], rid);
    assert_eq!(rid.len(), 32);

    let v: Value = env
        .http
        .post(format!("{}/api/c/self-service-api/demo/things/7/", env.base))
        .json(&json!({"bk_app_code": "demo", "bk_app_secret": SECRET, "bk_username": "x", "payload": {"k": [1]}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(v["body"].as_str().unwrap()).unwrap(),
        json!({"payload": {"k": [1]}}),
        "{v}"
    );
    assert_eq!(v["headers"]["content-type"], "application/json");

    // A registered path with another method.
    let (s, v) = env
        .get(&format!(
            "/api/c/self-service-api/demo/things/7/?bk_app_code=demo&bk_app_secret={SECRET}"
        ))
        .await;
    assert_eq!(s, 200, "{v}");
    let r = env
        .http
        .delete(format!(
            "{}/api/c/self-service-api/demo/things/7/?bk_app_code=demo&bk_app_secret={SECRET}",
            env.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

#[tokio::test]
async fn timeouts_down_backends_and_non_json_answers() {
    let env = spawn().await;
    let b = backend().await;
    let s = &env.stores.self_service;
    let mut slow = api("slow", "/demo/slow/", "GET", format!("{b}/slow/"));
    slow.timeout = Some(1);
    s.put_self_service(&slow).await.unwrap();
    s.put_self_service(&api(
        "down",
        "/demo/down/",
        "GET",
        "http://127.0.0.1:9/".into(),
    ))
    .await
    .unwrap();
    s.put_self_service(&api("text", "/demo/text/", "GET", format!("{b}/text/")))
        .await
        .unwrap();
    env.reload().await;
    let q = format!("bk_app_code=demo&bk_app_secret={SECRET}");

    let started = std::time::Instant::now();
    let r = env
        .get(&format!("/api/c/self-service-api/demo/slow/?{q}"))
        .await;
    assert_eq!(code(&r), 1306201);
    assert!(r.1["message"].as_str().unwrap().contains("1 s"), "{r:?}");
    assert!(started.elapsed() < Duration::from_millis(2500));

    let r = env
        .get(&format!("/api/c/self-service-api/demo/down/?{q}"))
        .await;
    assert_eq!(code(&r), 1306201, "{r:?}");

    let r = env
        .http
        .get(format!(
            "{}/api/c/self-service-api/demo/text/?{q}",
            env.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 418);
    assert_eq!(r.text().await.unwrap(), "plain words");
}
