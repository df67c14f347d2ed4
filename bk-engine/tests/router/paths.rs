//! Every URL form reaches the right instance with the prefix stripped and the forwarded
//! headers set; `apps_host` keeps apps and the platform on separate origins.

use bk_engine::router::{Env, HostSettings, RouteTable};
use http::StatusCode;

use crate::support::*;

fn hosts() -> HostSettings {
    HostSettings {
        root_domain: Some("apps.test".into()),
        apps_host: None,
        platform_hosts: vec!["paas.apps.test".into()],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_reaches_its_instance_with_script_name_and_forwarded_headers() {
    let stag = Backend::start("stag");
    let prod = Backend::start("prod");
    let api = Backend::start("api-stag");
    let r = spawn_router(options()).await;
    r.handle.publish(
        RouteTable::builder(hosts())
            .route("demo", "default", Env::Stag, [stag.spec()])
            .route("demo", "default", Env::Prod, [prod.spec()])
            .route("demo", "api", Env::Stag, [api.spec()])
            .build()
            .unwrap(),
    );
    let c = client();
    // (host, path, backend, path seen, query seen, X-Script-Name)
    let cases = [
        (
            "paas.apps.test",
            "/t/demo/a/b?x=1&y=%2F",
            "stag",
            "/a/b",
            Some("x=1&y=%2F"),
            Some("/t/demo"),
        ),
        (
            "paas.apps.test",
            "/o/demo/",
            "prod",
            "/",
            None,
            Some("/o/demo"),
        ),
        (
            "paas.apps.test",
            "/stag--demo/v7",
            "stag",
            "/v7",
            None,
            Some("/stag--demo"),
        ),
        (
            "paas.apps.test",
            "/prod--demo/",
            "prod",
            "/",
            None,
            Some("/prod--demo"),
        ),
        (
            "paas.apps.test",
            "/stag--api--demo/c",
            "api-stag",
            "/c",
            None,
            Some("/stag--api--demo"),
        ),
        ("demo.apps.test", "/x?q", "prod", "/x", Some("q"), None),
        ("Demo.Apps.Test:8080", "/x", "prod", "/x", None, None),
        (
            "stag-dot-demo.apps.test",
            "/t/demo/",
            "stag",
            "/t/demo/",
            None,
            None,
        ),
        (
            "stag-dot-api-dot-demo.apps.test",
            "/",
            "api-stag",
            "/",
            None,
            None,
        ),
    ];
    for (host, path, backend, seen_path, seen_query, script) in cases {
        let got = send(
            &c,
            r.addr,
            "GET",
            host,
            path,
            &[
                ("x-script-name", "/spoofed"),
                ("x-forwarded-for", "10.1.1.1"),
                ("x-forwarded-proto", "https"),
                ("connection", "keep-alive, x-hop"),
                ("x-hop", "secret"),
            ],
            empty(),
        )
        .await
        .unwrap();
        assert_eq!(got.status, StatusCode::OK, "{host}{path}: {}", got.text);
        let j = got.json();
        let h = &j["headers"];
        assert_eq!(j["backend"], backend, "{host}{path}");
        assert_eq!(j["path"], seen_path, "{host}{path}");
        assert_eq!(j["query"].as_str(), seen_query, "{host}{path}");
        match script {
            Some(s) => assert_eq!(h["x-script-name"], serde_json::json!([s]), "{host}{path}"),
            None => assert!(h.get("x-script-name").is_none(), "{host}{path}: {h}"),
        }
        assert_eq!(
            h["x-forwarded-for"],
            serde_json::json!(["10.1.1.1, 127.0.0.1"])
        );
        assert_eq!(h["x-forwarded-proto"], serde_json::json!(["http"]));
        assert_eq!(h["x-forwarded-host"], serde_json::json!([host]));
        assert_eq!(
            h["host"],
            serde_json::json!([host]),
            "the app sees the public host"
        );
        assert!(
            h.get("x-hop").is_none(),
            "Connection-listed headers are hop-by-hop"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefix_without_slash_redirects_and_bodies_pass_through() {
    let stag = Backend::start("stag");
    let r = spawn_router(options()).await;
    r.handle
        .publish(table(HostSettings::default(), Env::Stag, &[&stag]));
    let c = client();
    let got = get(&c, r.addr, "localhost", "/t/demo?a=1").await;
    assert_eq!(got.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(got.headers["location"], "/t/demo/?a=1");
    let got = get(&c, r.addr, "localhost", "/stag--demo").await;
    assert_eq!(got.headers["location"], "/stag--demo/");

    let got = send(
        &c,
        r.addr,
        "POST",
        "localhost",
        "/t/demo/form",
        &[],
        full("a=1&b=2"),
    )
    .await
    .unwrap();
    let j = got.json();
    assert_eq!(
        (j["method"].as_str(), j["body_len"].as_u64()),
        (Some("POST"), Some(7))
    );
    // The platform keeps its own routes beside the apps.
    let got = get(&c, r.addr, "localhost", "/login/").await;
    assert_eq!(
        (got.status, got.text.as_str()),
        (StatusCode::OK, "platform login")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apps_host_serves_apps_and_nothing_else() {
    let prod = Backend::start("prod");
    let r = spawn_router(options()).await;
    let settings = HostSettings {
        root_domain: None,
        apps_host: Some("apps.example.test".into()),
        platform_hosts: vec![],
    };
    r.handle.publish(table(settings, Env::Prod, &[&prod]));
    let c = client();

    let got = get(&c, r.addr, "apps.example.test", "/o/demo/").await;
    assert_eq!(got.json()["backend"], "prod");
    // The platform's pages are not on the apps host (another origin than /login/).
    let got = get(&c, r.addr, "apps.example.test", "/login/").await;
    assert_eq!(got.status, StatusCode::NOT_FOUND);
    assert!(!got.text.contains("platform login"));
    // App paths are not on the platform host.
    for path in ["/o/demo/", "/prod--demo/", "/o/nosuch/"] {
        let got = get(&c, r.addr, "paas.example.test", path).await;
        assert_eq!(got.status, StatusCode::NOT_FOUND, "{path}");
        let msg = got.json()["message"].as_str().unwrap().to_owned();
        assert!(msg.contains("apps.example.test"), "{msg}");
    }
    let got = get(&c, r.addr, "paas.example.test", "/login/").await;
    assert_eq!(got.text, "platform login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_apps_and_instances_get_clear_404_and_503() {
    let r = spawn_router(options()).await;
    // `gone` listens nowhere: its port was bound and released.
    let gone = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    r.handle.publish(
        RouteTable::builder(HostSettings::default())
            .route("demo", "default", Env::Prod, [])
            .route(
                "demo",
                "default",
                Env::Stag,
                [bk_engine::router::BackendSpec::new("dead-1", &gone.to_string()).unwrap()],
            )
            .build()
            .unwrap(),
    );
    let c = client();

    let got = get(&c, r.addr, "localhost", "/t/nosuch/").await;
    assert_eq!(got.status, StatusCode::NOT_FOUND);
    let j = got.json();
    assert_eq!(
        (j["result"].as_bool(), j["code"].as_i64()),
        (Some(false), Some(1302404))
    );
    assert!(j["message"].as_str().unwrap().contains("`nosuch`"), "{j}");

    let got = send(
        &c,
        r.addr,
        "GET",
        "localhost",
        "/t/a'b&c/",
        &[("accept", "text/html")],
        empty(),
    )
    .await
    .unwrap();
    assert_eq!(got.status, StatusCode::NOT_FOUND);
    assert!(
        got.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        got.text.contains("a&#39;b&amp;c") && !got.text.contains("a'b&c"),
        "{}",
        got.text
    );

    let got = get(&c, r.addr, "localhost", "/o/demo/").await;
    assert_eq!(got.status, StatusCode::SERVICE_UNAVAILABLE);
    let msg = got.json()["message"].as_str().unwrap().to_owned();
    assert!(
        msg.contains("`demo`") && msg.contains("prod") && msg.contains("no running instance"),
        "{msg}"
    );
    assert_eq!(got.headers["retry-after"], "5");

    let got = get(&c, r.addr, "localhost", "/t/demo/").await;
    assert_eq!(got.status, StatusCode::SERVICE_UNAVAILABLE);
    let msg = got.json()["message"].as_str().unwrap().to_owned();
    assert!(
        msg.contains("`demo`") && msg.contains("stag") && msg.contains("accepted a connection"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_mounts_as_the_platform_fallback() {
    let stag = Backend::start("stag");
    let handle = bk_engine::router::RouterHandle::new(options());
    handle.publish(table(HostSettings::default(), Env::Stag, &[&stag]));
    let app = platform().fallback_service(bk_engine::router::service(handle));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let c = client();
    let got = get(&c, addr, "localhost", "/t/demo/x").await;
    let j = got.json();
    assert_eq!(
        (j["backend"].as_str(), j["path"].as_str()),
        (Some("stag"), Some("/x"))
    );
    assert_eq!(
        j["headers"]["x-forwarded-for"],
        serde_json::json!(["127.0.0.1"])
    );
    assert_eq!(
        get(&c, addr, "localhost", "/login/").await.text,
        "platform login"
    );
    // What neither the platform nor an app serves gets the router's 404.
    let got = get(&c, addr, "localhost", "/nowhere").await;
    assert_eq!(got.status, StatusCode::NOT_FOUND);
    assert!(
        got.json()["message"]
            .as_str()
            .unwrap()
            .contains("/t/<app_code>/")
    );
    server.abort();
}
