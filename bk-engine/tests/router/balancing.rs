//! Load balancing over instances, and instances that die.

use std::collections::HashMap;

use bk_engine::router::{BackendSpec, Env, HostSettings, RouteTable};
use http::StatusCode;
use tokio::sync::mpsc;
use tokio::time::timeout;

use crate::load::Load;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_spread_over_three_instances() {
    let bs: Vec<Backend> = ["b1", "b2", "b3"]
        .iter()
        .map(|n| Backend::start(n))
        .collect();
    let r = spawn_router(options()).await;
    r.handle.publish(table(
        HostSettings::default(),
        Env::Prod,
        &bs.iter().collect::<Vec<_>>(),
    ));
    let c = client();
    let mut count: HashMap<String, usize> = HashMap::new();
    for _ in 0..30 {
        let got = get(&c, r.addr, "localhost", "/o/demo/").await;
        *count
            .entry(got.json()["backend"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    for n in ["b1", "b2", "b3"] {
        assert!(count.get(n).copied().unwrap_or(0) >= 5, "{count:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_requests_go_to_the_least_busy_instances() {
    let bs: Vec<Backend> = ["b1", "b2", "b3"]
        .iter()
        .map(|n| Backend::start(n))
        .collect();
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    for b in &bs {
        *b.controls.entered.lock().unwrap() = Some(entered_tx.clone());
    }
    let r = spawn_router(options()).await;
    r.handle.publish(table(
        HostSettings::default(),
        Env::Prod,
        &bs.iter().collect::<Vec<_>>(),
    ));
    let mut calls = Vec::new();
    for _ in 0..3 {
        let addr = r.addr;
        calls.push(tokio::spawn(async move {
            get(&client(), addr, "localhost", "/o/demo/hold").await
        }));
        // The next request is sent only once this one is in flight on an instance.
        timeout(PATIENCE, entered.recv()).await.unwrap().unwrap();
    }
    for b in &bs {
        assert_eq!(r.handle.in_flight(&b.name), 1, "{} has one request", b.name);
        b.controls.hold.add_permits(1);
    }
    let mut names: Vec<String> = Vec::new();
    for c in calls {
        names.push(
            c.await.unwrap().json()["backend"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    names.sort();
    assert_eq!(names, ["b1", "b2", "b3"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instance_costs_no_request() {
    let mut bs: Vec<Backend> = ["b1", "b2", "b3"]
        .iter()
        .map(|n| Backend::start(n))
        .collect();
    let r = spawn_router(options()).await;
    r.handle.publish(table(
        HostSettings::default(),
        Env::Prod,
        &bs.iter().collect::<Vec<_>>(),
    ));
    // GETs only: a request the instance had already received when it died cannot be
    // replayed unless it is idempotent (as with nginx), which GETs are.
    let load = Load::start_gets(r.addr, 4, "/o/demo");
    load.progress(100).await;
    bs[1].kill();
    load.marker.store(true, std::sync::atomic::Ordering::SeqCst);
    load.progress(300).await;
    let tally = load.finish().await;
    assert!(
        tally.failures.is_empty(),
        "{} failed: {:?}",
        tally.failures.len(),
        tally.failures
    );
    assert!(tally.ok >= 400);
    assert!(
        !tally.after_marker.iter().any(|b| b == "b2"),
        "the dead instance answered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connect_is_retried_elsewhere_with_the_body() {
    let live = Backend::start("live");
    let dead: Vec<std::net::SocketAddr> = (0..2)
        .map(|_| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
        })
        .collect();
    let r = spawn_router(options()).await;
    r.handle.publish(
        RouteTable::builder(HostSettings::default())
            .route(
                "demo",
                "default",
                Env::Stag,
                [
                    BackendSpec::new("dead-1", &dead[0].to_string()).unwrap(),
                    live.spec(),
                    BackendSpec::new("dead-2", &dead[1].to_string()).unwrap(),
                ],
            )
            .build()
            .unwrap(),
    );
    let c = client();
    for i in 0..20 {
        let body = vec![b'y'; 1000 + i];
        let got = send(
            &c,
            r.addr,
            "POST",
            "localhost",
            "/t/demo/p",
            &[],
            full(body),
        )
        .await
        .unwrap();
        assert_eq!(got.status, StatusCode::OK, "{}", got.text);
        let j = got.json();
        assert_eq!(
            (j["backend"].as_str(), j["body_len"].as_u64()),
            (Some("live"), Some(1000 + i as u64))
        );
    }
}
