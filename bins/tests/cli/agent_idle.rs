//! Idle cost of `bk-agent` (ignored: takes over a minute; run with
//! `cargo nextest run -p bk-bins --test cli --run-ignored only agent_idle`): 200 idle
//! instances (a perl listener each), the default 5 s heartbeat, the agent's CPU over 60 s and its RSS
//! from `/proc`. Target: under 2 % of one core.

use std::time::{Duration, Instant};

use crate::agent::agent_cmd;
use crate::agent_engine;
use crate::support::start;

fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name: state is field 3; utime and stime are 14 and 15.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement: over a minute"]
async fn agent_idle_cpu_with_200_instances() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = agent_engine::start_with(tmp.path(), "127.0.0.1:0", Duration::from_secs(5)).await;
    let token = engine.register("idle").await;
    let mut cmd = agent_cmd(&engine.url, "idle", &tmp.path().join("idle"), "34000-34999");
    cmd.args(["--listen", "127.0.0.1:0", "--max-instances", "200"])
        .env("BK_AGENT_TOKEN", &token);
    let mut agent = start(cmd);
    engine
        .until_listed("idle up", |l| l.iter().any(|(_, s)| s == "up"))
        .await;
    // A listener that never answers: the default readiness check (TCP on PORT) passes.
    engine
        .deploy_command(
            200,
            "exec perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => \"0.0.0.0\", \
             LocalPort => $ENV{PORT}, Listen => 5, ReuseAddr => 1) or die $!; sleep'",
        )
        .await;
    engine
        .until("200 ready", |s| agent_engine::ready_on(s, "idle") == 200)
        .await;
    // Let start-up settle, then measure.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let pid = agent.child.id();
    let tck: f64 = String::from_utf8(
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .parse()
    .unwrap();
    let (t0, c0) = (Instant::now(), cpu_ticks(pid));
    tokio::time::sleep(Duration::from_secs(60)).await;
    let (secs, used) = (t0.elapsed().as_secs_f64(), cpu_ticks(pid) - c0);
    let cpu = 100.0 * used as f64 / tck / secs;
    let rss = rss_kib(pid);
    eprintln!("bk-agent idle, 200 instances: CPU {cpu:.2}% over {secs:.0} s, RSS {rss} KiB");
    assert!(agent.terminate().success());
    assert!(cpu < 2.0, "idle CPU {cpu:.2}% >= 2%");
}
