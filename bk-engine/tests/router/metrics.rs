//! Per-route counters show up in the platform's Prometheus rendering.

use bk_engine::router::{BackendSpec, Env, HostSettings, RouteTable};

use crate::support::*;

/// The value of the series of `name` whose labels include all of `labels`.
fn value(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| {
            l.starts_with(name) && matches!(l.as_bytes().get(name.len()), Some(b'{' | b' '))
        })
        .filter(|l| labels.iter().all(|want| l.contains(want)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_and_upstream_errors_are_counted_per_route() {
    let b = Backend::start("m1");
    let gone = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let r = spawn_router(options()).await;
    r.handle.publish(
        RouteTable::builder(HostSettings::default())
            .route("metered", "default", Env::Prod, [b.spec()])
            .route(
                "broken",
                "default",
                Env::Stag,
                [BackendSpec::new("gone-1", &gone.to_string()).unwrap()],
            )
            .build()
            .unwrap(),
    );
    let c = client();
    for _ in 0..3 {
        assert_eq!(
            get(&c, r.addr, "localhost", "/o/metered/").await.status,
            200
        );
    }
    assert_eq!(get(&c, r.addr, "localhost", "/t/broken/").await.status, 503);
    assert_eq!(get(&c, r.addr, "localhost", "/t/nosuch/").await.status, 404);

    let text = bk_core::http::metrics::render();
    let metered = ["app=\"metered\"", "env=\"prod\"", "module=\"default\""];
    assert_eq!(
        value(&text, "bk_router_requests_total", &metered),
        3.0,
        "{text}"
    );
    assert_eq!(
        value(&text, "bk_router_upstream_errors_total", &metered),
        0.0
    );
    let broken = ["app=\"broken\"", "env=\"stag\""];
    assert_eq!(value(&text, "bk_router_requests_total", &broken), 1.0);
    assert_eq!(
        value(&text, "bk_router_upstream_errors_total", &broken),
        1.0
    );
    assert_eq!(value(&text, "bk_router_not_found_total", &[]), 1.0);
    assert_eq!(value(&text, "bk_router_unavailable_total", &[]), 1.0);
}
