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

/// CPU and memory of a supervisor holding 200 idle instances, each with a TCP readiness
/// probe on the default period (10 s). A measurement, not a pass/fail figure: run with
/// `cargo nextest run -p bk-agent --run-ignored only measure_ --no-capture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; takes about 40 s"]
async fn measure_200_idle_instances() {
    const COUNT: usize = 200;
    const WINDOW: std::time::Duration = std::time::Duration::from_secs(30);
    // One listener answers every probe, so the instances can be plain `sleep`s.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            drop(conn);
        }
    });
    let a = agent(23_100..=23_399);
    let specs = (0..COUNT)
        .map(|i| {
            let mut s = worker(&format!("idle-{i}"), "exec sleep 1000");
            s.readiness = Some(bk_core::instance::Probe::new(
                bk_core::instance::ProbeCheck::TcpSocket { port: Some(port) },
            ));
            s
        })
        .collect();
    a.sup.converge(specs).unwrap();
    for i in 0..COUNT {
        wait_for(&a.sup, &format!("idle-{i}"), "ready", |s| {
            s.state == InstanceState::Ready
        })
        .await;
    }
    let (cpu0, t0) = (cpu_ticks(), std::time::Instant::now());
    tokio::time::sleep(WINDOW).await;
    let (cpu1, elapsed) = (cpu_ticks(), t0.elapsed());
    let ticks_per_sec = 100.0; // USER_HZ on Linux
    let cpu_pct = (cpu1 - cpu0) as f64 / ticks_per_sec / elapsed.as_secs_f64() * 100.0;
    let rss = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap()
        .to_owned();
    let threads = std::fs::read_dir("/proc/self/task").unwrap().count();
    println!(
        "{COUNT} idle instances over {:.1} s: supervisor CPU {cpu_pct:.2}% of a core; {rss}; {threads} threads",
        elapsed.as_secs_f64()
    );
    assert!(
        a.sup
            .statuses()
            .iter()
            .all(|s| s.state == InstanceState::Ready && s.restarts == 0)
    );
    a.sup.shutdown().await;
    assert!(a.sup.statuses().is_empty());
}

/// User + system CPU of this process, in clock ticks.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .collect();
    // After the command: state is field 3, utime 14, stime 15 (1-based over the whole line).
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}
