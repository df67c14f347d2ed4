//! One instance under the supervisor: readiness (default TCP, httpGet, flips), crash
//! restarts with back-off, liveness restarts, the previous instance's log.

use bk_core::instance::{InstanceState, PortSpec, Probe, ProbeCheck};

use crate::support::{HTTP_SERVER, agent, current_log, id, spec, wait_for, wait_log, worker};

fn fast(check: ProbeCheck, failure_threshold: u32) -> Probe {
    Probe {
        period_ms: 100,
        timeout_ms: 1_000,
        failure_threshold,
        ..Probe::new(check)
    }
}

#[tokio::test]
async fn a_web_process_is_ready_when_its_port_accepts_connections() {
    let a = agent(21_000..=21_009);
    a.sup.converge(vec![spec("web-0", HTTP_SERVER)]).unwrap();
    let st = wait_for(&a.sup, "web-0", "ready", |s| {
        s.state == InstanceState::Ready
    })
    .await;
    let port = st.port.unwrap();
    assert!((21_000..=21_009).contains(&port));
    assert!(st.pid.is_some() && st.started_at_ms.is_some());
    assert_eq!(
        (st.host.as_str(), st.release_id.as_str()),
        ("test-host", "r1")
    );
    // It really serves on the port it was given.
    let conn = tokio::net::TcpStream::connect(("127.0.0.1", port)).await;
    assert!(conn.is_ok());
    a.sup.shutdown().await;
}

#[tokio::test]
async fn without_a_listener_the_instance_stays_starting_and_says_why() {
    let a = agent(21_010..=21_019);
    a.sup
        .converge(vec![spec("deaf", "exec sleep 1000")])
        .unwrap();
    let st = wait_for(&a.sup, "deaf", "a readiness reason", |s| s.reason.is_some()).await;
    assert_eq!(st.state, InstanceState::Starting);
    let reason = st.reason.unwrap();
    assert!(reason.starts_with("readiness: tcp 127.0.0.1:"), "{reason}");
    a.sup.shutdown().await;
}

#[tokio::test]
async fn http_readiness_flips_between_ready_and_unready() {
    let a = agent(21_020..=21_029);
    let root = a.release("r1");
    std::fs::write(root.join("healthz"), "ok").unwrap();
    let mut s = spec("web-0", HTTP_SERVER);
    s.readiness = Some(fast(
        ProbeCheck::HttpGet {
            path: "/healthz".into(),
            port: None,
        },
        2,
    ));
    a.sup.converge(vec![s]).unwrap();
    wait_for(&a.sup, "web-0", "ready", |s| {
        s.state == InstanceState::Ready
    })
    .await;

    std::fs::remove_file(root.join("healthz")).unwrap();
    let st = wait_for(&a.sup, "web-0", "unready", |s| {
        s.state == InstanceState::Unready
    })
    .await;
    let reason = st.reason.unwrap();
    assert!(
        reason.contains("http GET /healthz") && reason.contains("status 404"),
        "{reason}"
    );

    std::fs::write(root.join("healthz"), "ok").unwrap();
    let st = wait_for(&a.sup, "web-0", "ready again", |s| {
        s.state == InstanceState::Ready
    })
    .await;
    assert_eq!(st.restarts, 0, "readiness never restarts");
    assert_eq!(st.reason, None);
    a.sup.shutdown().await;
}

#[tokio::test]
async fn a_crashing_process_restarts_with_growing_back_off() {
    let a = agent(21_030..=21_039);
    a.sup
        .converge(vec![worker("crashy", "echo \"boom $$\"; exit 3")])
        .unwrap();
    let mut rx = a.sup.subscribe(&id("crashy")).unwrap();
    let mut delays: Vec<String> = Vec::new();
    let st = tokio::time::timeout(crate::support::PATIENCE, async {
        loop {
            rx.changed().await.unwrap();
            let st = rx.borrow_and_update().clone();
            if st.state == InstanceState::BackOff {
                let reason = st.reason.clone().unwrap();
                let delay = reason.rsplit("restarting in ").next().unwrap().to_owned();
                if delays.last() != Some(&delay) {
                    delays.push(delay);
                }
            }
            if st.restarts >= 4 && st.state == InstanceState::BackOff {
                return st;
            }
        }
    })
    .await
    .expect("never restarted four times");
    let exit = st.last_exit.clone().unwrap();
    assert_eq!((exit.code, exit.signal), (Some(3), None));
    assert!(
        st.reason
            .unwrap()
            .starts_with("exited with code 3; restarting in")
    );
    // 0.1, 0.2, 0.4 s, then capped at 0.4 s (the watch may skip a state, never reorder).
    let secs: Vec<f64> = delays
        .iter()
        .map(|d| d.trim_end_matches(" s").parse().unwrap())
        .collect();
    assert!(secs.windows(2).all(|w| w[0] <= w[1]), "{delays:?}");
    assert_eq!(secs.last(), Some(&0.4), "{delays:?}");

    // The previous instance's log shows the previous process, not the current one.
    let logs = a.sup.logs();
    let prev = logs
        .read(&id("crashy"), bk_agent::Which::Previous, 0, 4096)
        .unwrap()
        .unwrap();
    let cur = logs
        .read(&id("crashy"), bk_agent::Which::Current, 0, 4096)
        .unwrap()
        .unwrap();
    let prev = String::from_utf8(prev.data).unwrap();
    let cur = String::from_utf8(cur.data).unwrap();
    assert!(
        prev.starts_with("boom ") && cur.starts_with("boom "),
        "{prev:?} {cur:?}"
    );
    assert_ne!(prev, cur, "each run logs its own pid");
    a.sup.shutdown().await;
}

#[tokio::test]
async fn failing_liveness_restarts_the_process() {
    let a = agent(21_040..=21_049);
    let root = a.release("r1");
    // The process marks itself alive when it starts; the test takes the mark away once.
    let mut s = worker("live", "echo started; touch alive; exec sleep 1000");
    let alive_check = ProbeCheck::Exec {
        command: vec!["test".into(), "-f".into(), "alive".into()],
    };
    s.readiness = Some(fast(alive_check.clone(), 1));
    s.liveness = Some(fast(alive_check, 2));
    s.grace_period_ms = 500;
    a.sup.converge(vec![s]).unwrap();
    let first = wait_for(&a.sup, "live", "ready", |s| s.state == InstanceState::Ready).await;
    std::fs::remove_file(root.join("alive")).unwrap();

    let st = wait_for(&a.sup, "live", "restarted", |s| {
        s.restarts == 1 && s.state == InstanceState::Ready
    })
    .await;
    assert_ne!(st.pid, first.pid);
    let exit = st.last_exit.unwrap();
    assert_eq!(exit.signal, Some(15), "stopped with SIGTERM: {exit:?}");
    // The new run has its own log; the previous one is kept beside it.
    wait_log(&a.sup, "live", "started\n").await;
    assert_eq!(current_log(&a.sup, "live"), "started\n");
    assert_eq!(a.sup.logs().runs(&id("live")).unwrap(), [1, 2]);
    a.sup.shutdown().await;
}

#[tokio::test]
async fn a_missing_release_directory_fails_with_a_clear_reason() {
    let a = agent(21_050..=21_059);
    let mut s = spec("lost", HTTP_SERVER);
    s.release_id = bk_core::instance::ReleaseId::parse("r404").unwrap();
    a.sup.converge(vec![s]).unwrap();
    let st = wait_for(&a.sup, "lost", "failed", |s| {
        s.state == InstanceState::Failed
    })
    .await;
    let reason = st.reason.unwrap();
    assert!(
        reason.contains("does not exist (is release r404 unpacked?)"),
        "{reason}"
    );
    // The release appears (unpacked late): the retry picks it up.
    a.release("r404");
    wait_for(&a.sup, "lost", "ready", |s| s.state == InstanceState::Ready).await;
    a.sup.shutdown().await;
}

#[tokio::test]
async fn the_instance_gets_port_and_env_from_its_spec() {
    let a = agent(21_060..=21_069);
    let mut s = spec(
        "envy",
        "echo \"port=$PORT app=$BKPAAS_APP_ID\"; exec sleep 1000",
    );
    s.port = PortSpec::Fixed { port: 21_999 };
    s.env_vars =
        bk_core::instance::EnvVars::parse([("BKPAAS_APP_ID".to_owned(), "demo".to_owned())].into())
            .unwrap();
    s.readiness = Some(fast(
        ProbeCheck::Exec {
            command: vec!["true".into()],
        },
        1,
    ));
    a.sup.converge(vec![s]).unwrap();
    let st = wait_for(&a.sup, "envy", "ready", |s| s.state == InstanceState::Ready).await;
    assert_eq!(st.port, Some(21_999));
    wait_log(&a.sup, "envy", "\n").await;
    assert_eq!(current_log(&a.sup, "envy"), "port=21999 app=demo\n");
    a.sup.shutdown().await;
}

#[tokio::test]
async fn a_port_taken_while_the_instance_was_down_is_replaced() {
    let a = agent(21_070..=21_079);
    a.sup.converge(vec![spec("mover", "exit 1")]).unwrap();
    let st = wait_for(&a.sup, "mover", "backing off", |s| {
        s.state == InstanceState::BackOff && s.port.is_some()
    })
    .await;
    let first = st.port.unwrap();
    // Another program grabs the port between two runs.
    let _squatter = std::net::TcpListener::bind(("0.0.0.0", first)).unwrap();
    let st = wait_for(&a.sup, "mover", "moved", |s| {
        s.port.is_some_and(|p| p != first)
    })
    .await;
    assert!((21_070..=21_079).contains(&st.port.unwrap()));
    a.sup.shutdown().await;
}
