use super::*;
use crate::router::snapshot::Registry;
use crate::router::table::{BackendSpec, HostSettings, RouteTable};

fn b(id: &str) -> BackendSpec {
    BackendSpec::new(id, "127.0.0.1:9").unwrap()
}

/// demo: default module `default` in stag and prod, module `api` in stag only.
/// multi: default module `web` (explicit), module `worker` in prod.
/// stagonly: stag only. apionly: one module `api`, no default.
/// my--app: an app code with `--`; app: module `my` (collides with `my--app` in V7 paths).
/// a-dot-b: an app code with `-dot-`.
fn snapshot(hosts: HostSettings) -> Snapshot {
    let t = RouteTable::builder(hosts)
        .route("demo", "default", Env::Stag, [b("d-s")])
        .route("demo", "default", Env::Prod, [b("d-p")])
        .route("demo", "api", Env::Stag, [b("d-api-s")])
        .route("multi", "web", Env::Stag, [b("m-web-s")])
        .route("multi", "worker", Env::Prod, [b("m-wk-p")])
        .default_module("multi", "web")
        .route("stagonly", "default", Env::Stag, [b("so")])
        .route("apionly", "api", Env::Prod, [b("ao")])
        .route("my--app", "default", Env::Stag, [b("myapp")])
        .route("app", "my", Env::Stag, [b("app-my")])
        .route("a-dot-b", "default", Env::Prod, [b("adotb")])
        .route("empty", "default", Env::Prod, [])
        .build()
        .unwrap();
    Registry::default().compile(t)
}

/// The route as `app/module/env form prefix_len`, or the kind of miss.
fn show(snap: &Snapshot, host: Option<&str>, path: &str) -> String {
    match resolve(snap, host, path) {
        Resolution::Proxy {
            route,
            form,
            prefix_len,
        } => format!(
            "{}/{}/{} {:?} {}",
            route.meta.app,
            route.meta.module,
            route.meta.env.as_str(),
            form,
            prefix_len
        ),
        Resolution::AddSlash => "add-slash".into(),
        Resolution::NotDeployed { app, env } => format!("not-deployed {app} {}", env.as_str()),
        Resolution::NoApp { app } => format!("no-app {app:?}"),
        Resolution::WrongHost => "wrong-host".into(),
        Resolution::Unrouted => "unrouted".into(),
        Resolution::Platform => "platform".into(),
    }
}

#[test]
fn legacy_paths() {
    let s = snapshot(HostSettings::default());
    let cases = [
        ("/t/demo/", "demo/default/stag Legacy 7"),
        ("/t/demo/a/b", "demo/default/stag Legacy 7"),
        ("/o/demo/", "demo/default/prod Legacy 7"),
        ("/o/demo//x", "demo/default/prod Legacy 7"),
        ("/t/demo", "add-slash"),
        ("/o/demo", "add-slash"),
        ("/t/multi/", "multi/web/stag Legacy 8"),
        ("/o/multi/", "not-deployed multi prod"),
        ("/o/stagonly/", "not-deployed stagonly prod"),
        ("/o/stagonly", "not-deployed stagonly prod"),
        ("/o/apionly/", "not-deployed apionly prod"),
        ("/t/nosuch/", "no-app \"nosuch\""),
        ("/t/nosuch", "no-app \"nosuch\""),
        ("/t/Demo/", "no-app \"Demo\""),
        ("/t/", "no-app \"\""),
        ("/t", "no-app \"\""),
        ("/o//demo/", "no-app \"\""),
        ("/o/empty/", "empty/default/prod Legacy 8"),
        ("/tea/", "platform"),
        ("/login/", "platform"),
        ("/", "platform"),
        ("", "platform"),
        ("/T/demo/", "platform"),
    ];
    for (path, want) in cases {
        assert_eq!(show(&s, Some("paas.example.com"), path), want, "{path}");
        assert_eq!(show(&s, None, path), want, "{path} without a host");
    }
}

#[test]
fn v7_paths() {
    let s = snapshot(HostSettings::default());
    let cases = [
        ("/stag--demo/", "demo/default/stag Env 11"),
        ("/prod--demo/x?y", "demo/default/prod Env 11"),
        ("/stag--demo", "add-slash"),
        ("/stag--api--demo/", "demo/api/stag EnvModule 16"),
        ("/stag--api--demo", "add-slash"),
        ("/prod--api--demo/", "not-deployed demo prod"),
        ("/stag--default--demo/", "demo/default/stag EnvModule 20"),
        ("/stag--web--multi/", "multi/web/stag EnvModule 17"),
        ("/prod--worker--multi/", "multi/worker/prod EnvModule 20"),
        ("/prod--multi/", "not-deployed multi prod"),
        ("/stag--nosuch--demo/", "not-deployed demo stag"),
        // The whole spec as an app code wins over module `my` of app `app`.
        ("/stag--my--app/", "my--app/default/stag Env 14"),
        ("/stag--nosuch/", "no-app \"nosuch\""),
        ("/stag--a--b--c/", "no-app \"a--b--c\""),
        ("/stag--/", "no-app \"\""),
        ("/dev--demo/", "platform"),
        ("/test--demo/", "platform"),
        ("/stag-demo/", "platform"),
    ];
    for (path, want) in cases {
        assert_eq!(show(&s, Some("localhost:8000"), path), want, "{path}");
    }
}

#[test]
fn sub_domains() {
    let s = snapshot(HostSettings {
        root_domain: Some("apps.example.com".into()),
        apps_host: None,
        platform_hosts: vec!["paas.apps.example.com".into()],
    });
    let cases = [
        ("demo.apps.example.com", "/", "demo/default/prod Host 0"),
        (
            "demo.apps.example.com",
            "/t/other/",
            "demo/default/prod Host 0",
        ),
        (
            "stag-dot-demo.apps.example.com",
            "/x",
            "demo/default/stag Host 0",
        ),
        (
            "stag-dot-api-dot-demo.apps.example.com",
            "/",
            "demo/api/stag Host 0",
        ),
        (
            "api-dot-demo.apps.example.com",
            "/",
            "not-deployed demo prod",
        ),
        (
            "worker-dot-multi.apps.example.com",
            "/",
            "multi/worker/prod Host 0",
        ),
        (
            "a-dot-b.apps.example.com",
            "/",
            "a-dot-b/default/prod Host 0",
        ),
        ("nosuch.apps.example.com", "/", "no-app \"nosuch\""),
        ("stag-dot-nosuch.apps.example.com", "/", "no-app \"nosuch\""),
        ("x.demo.apps.example.com", "/", "no-app \"x.demo\""),
        // The platform's own hosts and unrelated hosts keep the path forms.
        ("paas.apps.example.com", "/login/", "platform"),
        (
            "paas.apps.example.com",
            "/t/demo/",
            "demo/default/stag Legacy 7",
        ),
        ("apps.example.com", "/o/demo/", "demo/default/prod Legacy 7"),
        ("otherapps.example.com", "/", "platform"),
        ("demo.example.org", "/", "platform"),
    ];
    for (host, path, want) in cases {
        assert_eq!(show(&s, Some(host), path), want, "{host}{path}");
    }
}

#[test]
fn apps_host_separates_origins() {
    let s = snapshot(HostSettings {
        root_domain: Some("example.com".into()),
        apps_host: Some("apps.example.com".into()),
        platform_hosts: vec!["paas.example.com".into()],
    });
    let cases = [
        (
            Some("apps.example.com"),
            "/t/demo/",
            "demo/default/stag Legacy 7",
        ),
        (
            Some("apps.example.com"),
            "/prod--demo/",
            "demo/default/prod Env 11",
        ),
        (Some("apps.example.com"), "/t/demo", "add-slash"),
        (Some("apps.example.com"), "/login/", "unrouted"),
        (Some("apps.example.com"), "/", "unrouted"),
        (Some("paas.example.com"), "/t/demo/", "wrong-host"),
        (Some("paas.example.com"), "/stag--demo/", "wrong-host"),
        (Some("paas.example.com"), "/t/nosuch/", "wrong-host"),
        (Some("paas.example.com"), "/login/", "platform"),
        (Some("127.0.0.1"), "/o/demo/", "wrong-host"),
        (None, "/o/demo/", "wrong-host"),
        // Sub-domains still work beside the apps host.
        (Some("demo.example.com"), "/", "demo/default/prod Host 0"),
    ];
    for (host, path, want) in cases {
        assert_eq!(show(&s, host, path), want, "{host:?}{path}");
    }
}

#[test]
fn ownership_matches_resolution() {
    let s = snapshot(HostSettings {
        root_domain: Some("example.com".into()),
        apps_host: Some("apps.example.com".into()),
        platform_hosts: vec!["paas.example.com".into()],
    });
    let hosts = [
        None,
        Some("apps.example.com"),
        Some("paas.example.com"),
        Some("demo.example.com"),
        Some("example.com"),
    ];
    let paths = [
        "/",
        "/login/",
        "/t/demo/",
        "/o/x",
        "/stag--demo/",
        "/static/a.js",
    ];
    for h in hosts {
        for p in paths {
            let platform = matches!(resolve(&s, h, p), Resolution::Platform);
            assert_eq!(owns(&s, h, p), !platform, "{h:?}{p}");
        }
    }
}

#[test]
fn hosts_are_normalised() {
    assert_eq!(strip_port("a.example.com:8080"), "a.example.com");
    assert_eq!(strip_port("a.example.com"), "a.example.com");
    assert_eq!(strip_port("[::1]:8080"), "[::1]");
    assert_eq!(strip_port("[::1]"), "[::1]");
    assert_eq!(strip_port("a:"), "a:");
    assert_eq!(normalise_host("a.example.com.:80"), "a.example.com");
    assert_eq!(normalise_host("a.example.com."), "a.example.com");
}
