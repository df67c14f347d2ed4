//! Many idle instances under one supervisor.

use bk_agent::runner::native::has_live_members;
use bk_core::instance::InstanceState;

use crate::support::{agent, wait_for, worker};

const N: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_idle_instances_all_run_and_all_stop() {
    let a = agent(23_000..=23_099);
    let specs = (0..N)
        .map(|i| worker(&format!("idle-{i}"), "exec sleep 1000"))
        .collect();
    let report = a.sup.converge(specs).unwrap();
    assert_eq!(report.started.len(), N);
    let mut groups = Vec::new();
    for i in 0..N {
        let st = wait_for(&a.sup, &format!("idle-{i}"), "ready", |s| {
            s.state == InstanceState::Ready
        })
        .await;
        groups.push(st.pid.unwrap() as i32);
    }
    let statuses = a.sup.statuses();
    assert_eq!(statuses.len(), N);
    assert!(
        statuses
            .iter()
            .all(|s| s.state == InstanceState::Ready && s.restarts == 0)
    );
    assert!(groups.iter().all(|g| has_live_members(*g)));

    a.sup.shutdown().await;
    assert!(
        groups.iter().all(|g| !has_live_members(*g)),
        "an instance outlived shutdown"
    );
    assert!(a.sup.statuses().is_empty());
}
