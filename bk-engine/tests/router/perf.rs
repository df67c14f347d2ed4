//! Instructions per proxied request, for callgrind (ignored in normal runs):
//!
//! ```text
//! BK_ROUTER_PERF=direct|router BK_ROUTER_PERF_N=2000 valgrind --tool=callgrind \
//!   target/release/deps/router-<hash> perf::instructions --ignored --exact
//! ```
//!
//! `direct` sends N keep-alive GETs straight to an instance, `router` sends them through
//! the router; both in one single-threaded process, so the difference of the two counts
//! (taken at two values of N, to cancel start-up) is what the router adds per request.

use std::net::SocketAddr;

use bk_engine::router::{self, Env, HostSettings, RouteTable, RouterHandle};

use crate::support::*;

#[tokio::test]
#[ignore = "a measurement, run under callgrind"]
async fn instructions() {
    let mode = std::env::var("BK_ROUTER_PERF").unwrap_or_else(|_| "router".into());
    let n: usize = std::env::var("BK_ROUTER_PERF_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let backend = serve(axum::Router::new().fallback(|| async { "ok" })).await;
    let target = if mode == "direct" {
        backend
    } else {
        let handle = RouterHandle::new(options());
        handle.publish(
            RouteTable::builder(HostSettings::default())
                .route(
                    "demo",
                    "default",
                    Env::Prod,
                    [bk_engine::router::BackendSpec::new("i1", &backend.to_string()).unwrap()],
                )
                .build()
                .unwrap(),
        );
        serve(router::service(handle)).await
    };
    let path = if mode == "direct" { "/" } else { "/o/demo/" };
    let c = client();
    for _ in 0..n {
        let got = get(&c, target, "localhost", path).await;
        assert_eq!(got.text, "ok");
    }
}

async fn serve(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

/// A router for load tests with wrk (ignored in normal runs): serves `service` on
/// `BK_ROUTER_LISTEN` (default 127.0.0.1:18080) for `BK_ROUTER_SERVE_SECS` (default 60),
/// with app `demo` (prod) at `BK_ROUTER_BACKEND`, on a 2-worker runtime like a server.
#[test]
#[ignore = "a load-test target, run by hand"]
fn serve_for_wrk() {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    let backend = env("BK_ROUTER_BACKEND", "127.0.0.1:18081");
    let listen = env("BK_ROUTER_LISTEN", "127.0.0.1:18080");
    let secs: u64 = env("BK_ROUTER_SERVE_SECS", "60").parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let handle = RouterHandle::new(options());
        handle.publish(
            RouteTable::builder(HostSettings::default())
                .route(
                    "demo",
                    "default",
                    Env::Prod,
                    [bk_engine::router::BackendSpec::new("i1", &backend).unwrap()],
                )
                .build()
                .unwrap(),
        );
        let listener = tokio::net::TcpListener::bind(&listen).await.unwrap();
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let app = router::service(handle);
        let serve = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        );
        let _ = tokio::time::timeout(std::time::Duration::from_secs(secs), serve).await;
    });
}
