//! Memory stays flat under a long load with nobody scraping `/metrics` (it grew by ~17
//! bytes a request with the generic Prometheus recorder, which kept every latency sample
//! until the next scrape). The boundedness of the registry itself is checked on every
//! run in `bk_core::http::stack`'s tests; this drives the real login router in process.
//!
//! ```text
//! cargo test -p bk-tests --release --test platform -- memory --ignored --nocapture
//! ```

use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

#[tokio::test]
#[ignore = "a long measurement: 1.1 million requests"]
async fn memory_is_flat_over_a_million_requests_without_a_scrape() {
    let svc = bk_auth::testing::spawn_login().await;
    let token = svc
        .login("admin", bk_auth::testing::ADMIN_PASSWORD)
        .await
        .unwrap();
    let app = bk_core::http::stack::wrap(
        bk_auth::http::router(svc.service.clone()).merge(bk_core::http::stack::ops_routes()),
        bk_auth::SERVICE,
    );
    let is_login = format!("/login/accounts/is_login/?bk_token={token}");
    let drive = |n: u64| {
        let app = app.clone();
        let is_login = is_login.clone();
        async move {
            for i in 0..n {
                // Mostly the hot route, and some paths no route matches (all one label).
                let path = if i % 10 == 0 {
                    format!("/nowhere/{i}")
                } else {
                    is_login.clone()
                };
                let req = Request::get(path).body(Body::empty()).unwrap();
                let resp = app.clone().oneshot(req).await.unwrap();
                assert!(resp.status().is_success() || resp.status() == 404);
            }
        }
    };
    drive(100_000).await;
    let (rss0, series0) = (rss_kib(), bk_core::http::metrics::series());
    drive(1_000_000).await;
    let (rss1, series1) = (rss_kib(), bk_core::http::metrics::series());
    eprintln!(
        "RSS after 100k requests: {rss0} KiB; after 1.1M: {rss1} KiB (growth {} KiB); series {series0} -> {series1}",
        rss1 as i64 - rss0 as i64
    );
    assert_eq!(
        series0, series1,
        "no new series from more of the same requests"
    );
    // 17 bytes a request would be ~16.6 MB; allow allocator noise only.
    assert!(
        rss1 < rss0 + 4 * 1024,
        "memory grew by {} KiB over 1M requests",
        rss1 - rss0
    );
}
