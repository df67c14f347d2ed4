//! The measuring steps: start `bk up` and time it, log in, load a server with wrk while
//! counting the CPU it spends.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::http::{self, wait_ready};
use super::proc::{self, Proc};
use super::run::Options;
use super::wrk::{self, Load, WrkResult};
use super::{free_port, median};

/// Admin password of the benchmarked service (a throwaway data dir).
pub const PASSWORD: &str = "Bench-Passw0rd!";
/// How often start-up is polled.
pub const POLL: Duration = Duration::from_millis(2);
/// Name prefixes of a log writer thread: `bk-log-flush` (the buffered writer) or
/// `tracing-appender` (its non-blocking writer; names are cut to 15 bytes).
const LOG_THREADS: &[&str] = &["bk-log-flush", "tracing-append"];

/// A free 127.0.0.1 address.
pub fn addr() -> anyhow::Result<SocketAddr> {
    Ok(SocketAddr::from(([127, 0, 0, 1], free_port()?)))
}

/// Start `bk up` on a fresh port with stdout and stderr to files in `dir`; the time from
/// spawn to the first 200 from `/healthz/`.
pub fn start_bk(
    o: &Options,
    data: &Path,
    dir: &Path,
    name: &'static str,
    env: &[(&str, &str)],
) -> anyhow::Result<(Proc, SocketAddr, Duration)> {
    let a = addr()?;
    let mut cmd = Command::new(&o.bk);
    cmd.arg("up")
        .arg("--listen")
        .arg(a.to_string())
        .arg("--data-dir")
        .arg(data);
    // Only the configuration chosen here: no stray BK_* from the caller's shell.
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("BK_")) {
        cmd.env_remove(k);
    }
    cmd.env("BK_ADMIN_PASSWORD", PASSWORD)
        .envs(env.iter().copied());
    let t0 = Instant::now();
    let mut p = Proc::spawn(name, cmd, dir)?;
    match wait_ready(a, "/healthz/", t0, POLL, Duration::from_secs(20)) {
        Ok(t) => Ok((p, a, t)),
        Err(e) => {
            p.check_running()?;
            Err(e)
        }
    }
}

/// Log in `n` times through the form; the last token and the median time, ms.
pub fn login_timed(a: SocketAddr, n: usize) -> anyhow::Result<(String, f64)> {
    let mut token = String::new();
    let mut times = Vec::new();
    for _ in 0..n.max(1) {
        let t = Instant::now();
        token = http::login(a, "admin", PASSWORD)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok((token, median(&times)))
}

/// The `is_login` URL for `token`, after checking that it accepts the token (a bench of
/// "invalid token" answers would measure the wrong thing).
pub fn is_login_url(a: SocketAddr, token: &str) -> anyhow::Result<String> {
    let path = format!("/login/accounts/is_login/?bk_token={token}");
    let r = http::request(a, "GET", &path, &[], "", Duration::from_secs(5))?;
    let compact: String = r.body.split_whitespace().collect();
    anyhow::ensure!(
        r.status == 200 && compact.contains("\"result\":true"),
        "is_login does not accept the token: {} {}",
        r.status,
        r.body
    );
    Ok(format!("http://{a}{path}"))
}

/// The fixed-rate load: connections × 1000 / delay ≈ `rate`.
pub fn paced_load(rate: f64, o: &Options) -> Load {
    let delay = o.delay_ms.max(1);
    let conns = (rate * f64::from(delay) / 1000.0)
        .round()
        .clamp(f64::from(o.threads.max(1)), 1000.0) as u32;
    Load {
        threads: o.threads,
        connections: conns,
        duration_s: o.duration_s,
        delay_ms: Some(delay),
    }
}

/// One wrk run and the CPU the server spent meanwhile.
#[derive(Debug, Clone)]
pub struct Run {
    /// What wrk saw.
    pub wrk: WrkResult,
    /// Server CPU (process and its children), seconds.
    pub cpu_s: f64,
    /// Of which a log writer thread, seconds (0 for nginx).
    pub log_cpu_s: f64,
    /// Share of the machine's CPU time used by neither the server nor wrk (other
    /// processes, interrupts), percent: a round disturbed by other work shows here.
    pub other_pct: f64,
}

/// Load `url` (served by `pid`) with wrk; refuses runs with error answers.
pub fn load(url: &str, l: &Load, dir: &Path, pid: u32, what: &str) -> anyhow::Result<Run> {
    let (c0, g0) = (
        proc::tree_cpu_secs(pid),
        proc::thread_cpu_secs(pid, LOG_THREADS),
    );
    let m0 = super::cpu_times();
    let r = wrk::run(url, l, dir)?;
    let m1 = super::cpu_times();
    let (c1, g1) = (
        proc::tree_cpu_secs(pid),
        proc::thread_cpu_secs(pid, LOG_THREADS),
    );
    let other_pct = match (m0, m1) {
        (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => {
            let tck = proc::clk_tck();
            let other = (b1 - b0) / tck - (c1 - c0) - r.client_cpu_s;
            100.0 * (other / ((t1 - t0) / tck)).clamp(0.0, 1.0)
        }
        _ => 0.0,
    };
    anyhow::ensure!(
        r.non_2xx == 0,
        "{what}: {} answers were not 2xx/3xx",
        r.non_2xx
    );
    if r.socket_errors > 0 {
        eprintln!(
            "bk-bench: warning: {what}: {} socket errors",
            r.socket_errors
        );
    }
    Ok(Run {
        other_pct,
        wrk: r,
        cpu_s: c1 - c0,
        log_cpu_s: g1 - g0,
    })
}

/// CPU per request over several runs, microseconds.
#[derive(Debug, Clone, Copy)]
pub struct CpuPerRequest {
    /// The server (all its threads and processes).
    pub server: f64,
    /// Of which the access-log writer thread.
    pub log_writer: f64,
    /// wrk.
    pub client: f64,
}

/// CPU per request over `runs`.
pub fn cpu_per_request_us(runs: &[Run]) -> CpuPerRequest {
    let n = runs.iter().map(|r| r.wrk.requests).sum::<u64>().max(1) as f64;
    let per = |f: &dyn Fn(&Run) -> f64| runs.iter().map(f).sum::<f64>() * 1e6 / n;
    CpuPerRequest {
        server: per(&|r| r.cpu_s),
        log_writer: per(&|r| r.log_cpu_s),
        client: per(&|r| r.wrk.client_cpu_s),
    }
}

/// The median of each figure over `runs` (requests and errors are not carried).
pub fn median_latency(runs: &[Run]) -> WrkResult {
    let m = |f: fn(&WrkResult) -> f64| median(&runs.iter().map(|r| f(&r.wrk)).collect::<Vec<_>>());
    WrkResult {
        rps: m(|w| w.rps),
        p50: m(|w| w.p50),
        p75: m(|w| w.p75),
        p90: m(|w| w.p90),
        p99: m(|w| w.p99),
        ..WrkResult::default()
    }
}

/// Lines in a file (access logs).
pub fn count_lines(p: &Path) -> u64 {
    use std::io::Read;
    let Ok(mut f) = std::fs::File::open(p) else {
        return 0;
    };
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    while let Ok(k) = f.read(&mut buf) {
        if k == 0 {
            break;
        }
        n += buf.iter().take(k).filter(|b| **b == b'\n').count() as u64;
    }
    n
}
