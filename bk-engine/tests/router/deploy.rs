//! The engine's switch protocol: publish the new table, drain the old instances, stop
//! them. Under constant load none of it may fail a request.

use std::sync::atomic::Ordering;
use std::time::Duration;

use bk_engine::router::{Drained, Env, HostSettings};
use http::StatusCode;
use tokio::sync::mpsc;
use tokio::time::timeout;

use crate::load::Load;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_switch_under_load_fails_no_request() {
    let mut old: Vec<Backend> = ["old-1", "old-2"]
        .iter()
        .map(|n| Backend::start(n))
        .collect();
    let r = spawn_router(options()).await;
    r.handle.publish(table(
        HostSettings::default(),
        Env::Stag,
        &old.iter().collect::<Vec<_>>(),
    ));
    let load = Load::start(r.addr, 4, "/t/demo");
    load.progress(200).await;

    let new: Vec<Backend> = ["new-1", "new-2"]
        .iter()
        .map(|n| Backend::start(n))
        .collect();
    r.handle.publish(table(
        HostSettings::default(),
        Env::Stag,
        &new.iter().collect::<Vec<_>>(),
    ));
    for b in &mut old {
        assert_eq!(r.handle.drain(&b.name, PATIENCE).await, Drained::Idle);
        b.kill();
    }
    load.marker.store(true, Ordering::SeqCst);
    load.progress(200).await;
    let tally = load.finish().await;
    assert!(
        tally.failures.is_empty(),
        "{} failed: {:?}",
        tally.failures.len(),
        tally.failures
    );
    assert!(!tally.after_marker.is_empty());
    assert!(
        tally.after_marker.iter().all(|b| b.starts_with("new-")),
        "requests after the switch went to new instances only"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scale_down_under_load_fails_no_request() {
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
    let load = Load::start(r.addr, 4, "/o/demo");
    load.progress(200).await;
    r.handle
        .publish(table(HostSettings::default(), Env::Prod, &[&bs[0], &bs[1]]));
    assert_eq!(r.handle.drain("b3", PATIENCE).await, Drained::Idle);
    bs[2].kill();
    load.marker.store(true, Ordering::SeqCst);
    load.progress(200).await;
    let tally = load.finish().await;
    assert!(
        tally.failures.is_empty(),
        "{} failed: {:?}",
        tally.failures.len(),
        tally.failures
    );
    assert!(!tally.after_marker.iter().any(|b| b == "b3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_waits_for_a_slow_request_in_flight() {
    let old = Backend::start("old");
    let new = Backend::start("new");
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    *old.controls.entered.lock().unwrap() = Some(entered_tx);
    let r = spawn_router(options()).await;
    r.handle
        .publish(table(HostSettings::default(), Env::Stag, &[&old]));

    let addr = r.addr;
    let slow = tokio::spawn(async move { get(&client(), addr, "localhost", "/t/demo/hold").await });
    timeout(PATIENCE, entered.recv()).await.unwrap().unwrap();
    r.handle
        .publish(table(HostSettings::default(), Env::Stag, &[&new]));
    assert_eq!(r.handle.in_flight("old"), 1);

    // A deadline that passes reports what is still open.
    assert_eq!(
        r.handle.drain("old", Duration::from_millis(50)).await,
        Drained::TimedOut { in_flight: 1 }
    );
    let handle = r.handle.clone();
    let drain = tokio::spawn(async move { handle.drain("old", PATIENCE).await });
    // New requests already go to the new instance while the old one drains.
    let got = get(&client(), r.addr, "localhost", "/t/demo/").await;
    assert_eq!(got.json()["backend"], "new");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !drain.is_finished(),
        "drain returned while a request was in flight"
    );

    old.controls.hold.add_permits(1);
    let got = slow.await.unwrap();
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(
        got.json()["backend"],
        "old",
        "the slow request finished where it started"
    );
    assert_eq!(
        timeout(PATIENCE, drain).await.unwrap().unwrap(),
        Drained::Idle
    );
    assert_eq!(r.handle.in_flight("old"), 0);
}
