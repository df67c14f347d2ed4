//! Every service exposes Prometheus metrics and carries request ids end to end.

#[tokio::test]
async fn metrics_count_requests_latency_and_errors_by_code() {
    let svc = bk_auth::testing::spawn_login().await;
    let http = reqwest::Client::new();
    for _ in 0..3 {
        let r = http
            .get(format!(
                "{}/login/api/v2/is_login/?bk_token=nope",
                svc.base_url
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let text = http
        .get(format!("{}/metrics", svc.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle) && !l.starts_with('#'))
            .map(str::to_owned)
    };
    let requests = line("bk_http_requests_total{").expect("request counter");
    assert!(
        text.contains(r#"route="/login/api/v2/is_login/""#),
        "route templates label the metrics:\n{text}"
    );
    assert!(requests.contains("service=\"login\""));
    assert!(
        line("bk_http_request_duration_seconds_bucket").is_some(),
        "latency histogram:\n{text}"
    );
    let errors = line(r#"bk_errors_total{code="invalid_token"}"#).expect("errors by code");
    let n: f64 = errors.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n >= 3.0, "{errors}");
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let svc = bk_auth::testing::spawn_login().await;
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/healthz/", svc.base_url))
        .header("x-request-id", "caller-supplied-id-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "caller-supplied-id-1");
    let r = http
        .get(format!("{}/login/api/admin/users/", svc.base_url))
        .send()
        .await
        .unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body["request_id"],
        id.as_str(),
        "the envelope carries the same id"
    );
}
