//! Deploy time of `hello` (a ready package, no build step): upload → first 200 through the
//! router, and upload → deployment `succeeded`, each on a fresh app. Ignored by default
//! (timing); run with
//! `cargo test -p bk-engine --test api deploy::bench -- --ignored --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use super::support::*;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::test]
#[ignore = "benchmark: prints figures"]
async fn bench_deploy_hello() {
    let p = platform().await;
    let bytes = sample("hello");
    let (mut to_200, mut to_success) = (Vec::new(), Vec::new());
    for round in 0..9 {
        let code = format!("bench-{round}");
        p.create_app("alice", &code).await;
        let start = Instant::now();
        let up = p.upload_raw("alice", &code, "default", bytes.clone()).await;
        let digest = up.data()["digest"].as_str().unwrap().to_owned();
        let id = p
            .start_deploy("alice", &code, "default", "stag", &digest)
            .await;
        loop {
            if p.app_get(&format!("/t/{code}/")).await.0 == 200 {
                to_200.push(start.elapsed());
                break;
            }
            assert!(start.elapsed() < PATIENCE);
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let d = p.wait_deployment(&code, "default", &id).await;
        assert_eq!(d["state"], "succeeded");
        to_success.push(start.elapsed());
    }
    println!(
        "deploy hello ({} runs): upload -> first 200 median {:?} (min {:?}, max {:?}); upload -> succeeded median {:?}",
        to_200.len(),
        median(to_200.clone()),
        to_200.iter().min().unwrap(),
        to_200.iter().max().unwrap(),
        median(to_success.clone()),
    );
    assert!(median(to_200) < Duration::from_secs(5));
}
