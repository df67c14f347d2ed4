//! Converging to a desired list: add, remove, replace, reject bad lists whole, re-add
//! during a stop, and shut down leaving nothing running.

use bk_agent::AgentError;
use bk_agent::runner::native::has_live_members;
use bk_core::instance::{InstanceState, PortSpec, ProcessCommand};

use crate::support::{agent, alive, id, spec, wait_for, wait_gone, wait_log, worker};

fn ready(s: &bk_core::instance::InstanceStatus) -> bool {
    s.state == InstanceState::Ready
}

#[tokio::test]
async fn converge_starts_missing_stops_extra_and_replaces_changed() {
    let a = agent(22_000..=22_009);
    let report = a
        .sup
        .converge(vec![
            worker("a", "exec sleep 1000"),
            worker("b", "exec sleep 1000"),
        ])
        .unwrap();
    assert_eq!(report.started, [id("a"), id("b")]);
    let pid_a = wait_for(&a.sup, "a", "ready", ready).await.pid.unwrap() as i32;
    let pid_b = wait_for(&a.sup, "b", "ready", ready).await.pid.unwrap() as i32;

    let b2 = worker("b", "exec sleep 2000");
    let report = a
        .sup
        .converge(vec![b2.clone(), worker("c", "exec sleep 1000")])
        .unwrap();
    assert_eq!(report.started, [id("c")]);
    assert_eq!(report.replaced, [id("b")]);
    assert_eq!(report.stopping, [id("a")]);

    wait_gone(&a.sup, "a").await;
    assert!(!alive(pid_a), "removed instance still runs");
    let st = wait_for(&a.sup, "b", "replaced", |s| {
        ready(s) && s.pid != Some(pid_b as u32)
    })
    .await;
    assert!(!alive(pid_b), "the replaced process still runs");
    assert_eq!(st.last_exit.unwrap().signal, Some(15));
    wait_for(&a.sup, "c", "ready", ready).await;
    let ids: Vec<String> = a
        .sup
        .statuses()
        .into_iter()
        .map(|s| s.id.to_string())
        .collect();
    assert_eq!(ids, ["b", "c"]);

    // The same list again changes nothing.
    let report = a
        .sup
        .converge(vec![b2, worker("c", "exec sleep 1000")])
        .unwrap();
    assert_eq!(
        (
            report.unchanged,
            report.started.len(),
            report.replaced.len()
        ),
        (2, 0, 0)
    );
    // The replaced instance's previous log is the old process's run.
    assert_eq!(a.sup.logs().runs(&id("b")).unwrap(), [1, 2]);
    a.sup.shutdown().await;
}

#[tokio::test]
async fn a_bad_list_is_refused_whole() {
    let a = agent(22_010..=22_019);
    a.sup
        .converge(vec![worker("keep", "exec sleep 1000")])
        .unwrap();
    wait_for(&a.sup, "keep", "ready", ready).await;

    let dup = a
        .sup
        .converge(vec![worker("x", "true"), worker("x", "true")])
        .unwrap_err();
    assert!(
        matches!(&dup, AgentError::Invalid(m) if m == "instance x appears twice"),
        "{dup}"
    );

    let mut p1 = spec("p1", "true");
    let mut p2 = spec("p2", "true");
    p1.port = PortSpec::Fixed { port: 8000 };
    p2.port = PortSpec::Fixed { port: 8000 };
    let clash = a.sup.converge(vec![p1, p2]).unwrap_err();
    assert!(
        clash.to_string().contains("both ask for port 8000"),
        "{clash}"
    );

    let mut empty = worker("y", "true");
    empty.command = ProcessCommand::Shell(" ".into());
    let bad = a.sup.converge(vec![empty]).unwrap_err();
    assert_eq!(
        bad.to_string(),
        "instance y: command: shell command is empty"
    );
    let api = bk_core::ApiError::from(bad);
    assert_eq!(api.code, bk_core::ErrorCode::InvalidParameter);

    // Nothing of the refused lists happened.
    let ids: Vec<String> = a
        .sup
        .statuses()
        .into_iter()
        .map(|s| s.id.to_string())
        .collect();
    assert_eq!(ids, ["keep"]);
    assert_eq!(
        a.sup.status(&id("keep")).unwrap().state,
        InstanceState::Ready
    );
    a.sup.shutdown().await;
}

#[tokio::test]
async fn an_instance_wanted_again_while_it_stops_comes_back() {
    let a = agent(22_020..=22_029);
    // Ignores SIGTERM (armed once it says so), so its stop lasts the whole grace period.
    let mut s = worker("slow", "trap '' TERM; echo armed; exec sleep 1000");
    s.grace_period_ms = 1_000;
    a.sup.converge(vec![s.clone()]).unwrap();
    let first = wait_for(&a.sup, "slow", "ready", ready).await.pid;
    wait_log(&a.sup, "slow", "armed").await;
    a.sup.converge(vec![]).unwrap();
    wait_for(&a.sup, "slow", "stopping", |s| {
        s.state == InstanceState::Stopping
    })
    .await;
    let report = a.sup.converge(vec![s]).unwrap();
    assert_eq!(report.started, [id("slow")]);
    let st = wait_for(&a.sup, "slow", "running again", |s| {
        ready(s) && s.pid != first
    })
    .await;
    assert_eq!(
        st.last_exit.unwrap().signal,
        Some(9),
        "killed after its grace"
    );
    a.sup.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_everything_gracefully_and_refuses_more_work() {
    let a = agent(22_030..=22_039);
    let mut stubborn = worker("stubborn", "trap '' TERM; exec sleep 1000");
    stubborn.grace_period_ms = 300;
    a.sup
        .converge(vec![
            worker("tree", "sleep 1000 & sleep 1000 & wait"),
            stubborn,
            spec("web", crate::support::HTTP_SERVER),
        ])
        .unwrap();
    let mut groups = Vec::new();
    for name in ["tree", "stubborn", "web"] {
        groups.push(wait_for(&a.sup, name, "ready", ready).await.pid.unwrap() as i32);
    }
    assert!(groups.iter().all(|g| has_live_members(*g)));

    a.sup.shutdown().await;
    for g in groups {
        assert!(!has_live_members(g), "process group {g} survived shutdown");
    }
    assert!(a.sup.statuses().is_empty());
    let err = a.sup.converge(vec![worker("late", "true")]).unwrap_err();
    assert!(matches!(err, AgentError::ShuttingDown));
}
