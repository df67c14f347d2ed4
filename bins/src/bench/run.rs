//! The benchmark itself: what runs in which order, and how figures become rows.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::http::{self, wait_ready};
use super::proc::{self, Proc};
use super::report::{Report, Row};
use super::wrk::{self, Load, WrkResult};
use super::{TempDir, argon, cpu_busy, cpus, free_port, loadavg, median, nginx};

/// Admin password of the benchmarked service (a throwaway data dir).
const PASSWORD: &str = "Bench-Passw0rd!";
/// How often start-up is polled.
const POLL: Duration = Duration::from_millis(2);
/// Targets.
const MIN_RATIO: f64 = 0.5;
const MAX_P99_MS: f64 = 2.0;
const MAX_START_MS: f64 = 300.0;
const MAX_IDLE_MB: f64 = 40.0;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The `bk` release binary.
    pub bk: PathBuf,
    /// wrk threads.
    pub threads: u32,
    /// wrk connections (throughput runs).
    pub connections: u32,
    /// Seconds per measured wrk run.
    pub duration_s: u32,
    /// Seconds of unrecorded load before measuring each server.
    pub warmup_s: u32,
    /// Throughput runs per server, alternating, median reported.
    pub rounds: u32,
    /// Mean per-connection delay of the fixed-rate run, ms.
    pub delay_ms: u32,
    /// Starts timed.
    pub starts: usize,
    /// argon2 calls timed of each kind.
    pub argon_n: usize,
    /// Also run with `BK_LOG=warn` even when the targets are met.
    pub diagnose: bool,
    /// Keep the temporary directory (logs, configs).
    pub keep: bool,
}

/// Run everything and build the report.
pub fn run(o: &Options) -> anyhow::Result<Report> {
    anyhow::ensure!(
        o.bk.exists(),
        "{} not found; build it with `cargo build --release -p bk-bins`",
        o.bk.display()
    );
    let work = TempDir::new(o.keep)?;
    let dir = work.path();
    let mut rep = Report::default();
    let (load_before, busy_before) = (loadavg(), cpu_busy(Duration::from_secs(1)));
    let data = dir.join("data");
    let ours_load = Load {
        threads: o.threads,
        connections: o.connections,
        duration_s: o.duration_s,
        delay_ms: None,
    };

    // 1. First start (creates the data dir), idle memory, a real login.
    step("first start of `bk up` (fresh data dir)");
    let (mut bk, bk_addr, first_start) = start_bk(o, &data, dir, "bk", &[])?;
    std::thread::sleep(Duration::from_secs(1));
    let idle = proc::rss_kib(bk.pid()).unwrap_or_default();
    let (token, login_ms) = login_timed(bk_addr, 3)?;
    let after_login = proc::rss_kib(bk.pid()).unwrap_or_default();
    let is_login = format!("http://{bk_addr}/login/accounts/is_login/?bk_token={token}");
    check_is_login(bk_addr, &token)?;

    // 2. Throughput: nginx and ours alternately, same wrk flags.
    let ngx_dir = dir.join("nginx");
    std::fs::create_dir_all(&ngx_dir)?;
    let ngx_addr = addr()?;
    let mut ngx = nginx::spawn(&ngx_dir, ngx_addr)?;
    wait_ready(ngx_addr, "/", Instant::now(), POLL, Duration::from_secs(10))?;
    ngx.check_running()?;
    let ngx_url = format!("http://{ngx_addr}/");
    let idle_ngx = proc::tree_rss_kib(ngx.pid()).unwrap_or_default();
    let mut served = (0u64, 0u64); // requests sent to (ours, nginx), warm-ups included
    if o.warmup_s > 0 {
        step("warm-up");
        let warm = Load {
            duration_s: o.warmup_s,
            ..ours_load.clone()
        };
        served.1 += checked(wrk::run(&ngx_url, &warm, dir)?, "nginx")?.requests;
        served.0 += checked(wrk::run(&is_login, &warm, dir)?, "is_login")?.requests;
    }
    let (mut ours_runs, mut ngx_runs) = (Vec::new(), Vec::new());
    for round in 1..=o.rounds.max(1) {
        step(&format!("throughput round {round}/{}", o.rounds.max(1)));
        let n = checked(wrk::run(&ngx_url, &ours_load, dir)?, "nginx")?;
        let b = checked(wrk::run(&is_login, &ours_load, dir)?, "is_login")?;
        eprintln!("    nginx {:.0} req/s, is_login {:.0} req/s", n.rps, b.rps);
        served.1 += n.requests;
        served.0 += b.requests;
        ngx_runs.push(n);
        ours_runs.push(b);
    }
    let ours_rps = median(&ours_runs.iter().map(|r| r.rps).collect::<Vec<_>>());
    let ngx_rps = median(&ngx_runs.iter().map(|r| r.rps).collect::<Vec<_>>());
    let loaded = proc::rss_kib(bk.pid()).unwrap_or_default();
    let loaded_ngx = proc::tree_rss_kib(ngx.pid()).unwrap_or_default();

    // 3. Latency at half our maximum, fixed rate, same rate for nginx.
    let paced = paced_load(ours_rps / 2.0, o);
    step(&format!(
        "fixed rate {:.0} req/s",
        paced.paced_rate().unwrap_or(0.0)
    ));
    let ours_lat = checked(wrk::run(&is_login, &paced, dir)?, "is_login")?;
    let ngx_lat = checked(wrk::run(&ngx_url, &paced, dir)?, "nginx")?;
    served.0 += ours_lat.requests;
    served.1 += ngx_lat.requests;
    ngx.stop(Duration::from_secs(5));
    bk.stop(Duration::from_secs(10));
    let logged = (
        count_lines(&dir.join("bk.out")),
        count_lines(&ngx_dir.join("nginx-access.log")),
    );

    // 4. Start-up with the existing data dir; nginx the same way for scale.
    step(&format!("{} starts of `bk up` and of nginx", o.starts));
    let mut starts = Vec::new();
    let mut ngx_starts = Vec::new();
    for _ in 0..o.starts.max(1) {
        let (mut p, _, t) = start_bk(o, &data, dir, "bk", &[])?;
        p.stop(Duration::from_secs(10));
        starts.push(t.as_secs_f64() * 1000.0);
        let a = addr()?;
        let t0 = Instant::now();
        let mut n = nginx::spawn(&ngx_dir, a)?;
        let t = wait_ready(a, "/", t0, POLL, Duration::from_secs(10))?;
        n.stop(Duration::from_secs(5));
        ngx_starts.push(t.as_secs_f64() * 1000.0);
    }

    // 5. argon2id.
    step("argon2id");
    let a = argon::measure(o.argon_n.max(1))?;

    // Rows.
    let ratio = ours_rps / ngx_rps;
    let rate = paced.paced_rate().unwrap_or(0.0);
    rep.rows.push(
        Row::compared(
            format!("is_login throughput (median of {} runs)", ours_runs.len()),
            ours_rps,
            ngx_rps,
            "req/s",
            0,
        )
        .target(format!("ratio ≥ {MIN_RATIO}"), ratio >= MIN_RATIO),
    );
    let lat = format!("at {rate:.0} req/s fixed (½ of ours)");
    rep.rows.push(Row::compared(
        format!("is_login p50 {lat}"),
        ours_lat.p50,
        ngx_lat.p50,
        "ms",
        3,
    ));
    rep.rows.push(Row::compared(
        format!("is_login p90 {lat}"),
        ours_lat.p90,
        ngx_lat.p90,
        "ms",
        3,
    ));
    rep.rows.push(
        Row::compared(
            format!("is_login p99 {lat}"),
            ours_lat.p99,
            ngx_lat.p99,
            "ms",
            3,
        )
        .target(format!("≤ {MAX_P99_MS} ms"), ours_lat.p99 <= MAX_P99_MS),
    );
    rep.rows.push(Row::compared(
        "achieved rate of the fixed-rate run",
        ours_lat.rps,
        ngx_lat.rps,
        "req/s",
        0,
    ));
    let (s_med, s_max) = (median(&starts), starts.iter().copied().fold(0.0, f64::max));
    let n_max = ngx_starts.iter().copied().fold(0.0, f64::max);
    rep.rows.push(
        Row::compared(
            format!(
                "start → /healthz/ 200, existing data dir, median of {}",
                starts.len()
            ),
            s_med,
            median(&ngx_starts),
            "ms",
            1,
        )
        .target(format!("≤ {MAX_START_MS} ms"), s_med <= MAX_START_MS),
    );
    rep.rows.push(Row::compared(
        "start → answering, max",
        s_max,
        n_max,
        "ms",
        1,
    ));
    rep.rows.push(Row::alone(
        "first start, fresh data dir (migrations, admin hash)",
        format!("{:.1} ms", first_start.as_secs_f64() * 1000.0),
    ));
    let mb = |kib: u64| kib as f64 / 1024.0;
    rep.rows.push(
        Row::compared("RSS idle (start + 1 s)", mb(idle.0), mb(idle_ngx), "MB", 1)
            .target(format!("≤ {MAX_IDLE_MB} MB"), mb(idle.0) <= MAX_IDLE_MB),
    );
    rep.rows.push(Row::alone(
        "RSS after one login (argon2id buffer)",
        format!("{:.1} MB", mb(after_login.0)),
    ));
    rep.rows.push(Row::compared(
        "RSS after the wrk load",
        mb(loaded.0),
        mb(loaded_ngx),
        "MB",
        1,
    ));
    rep.rows.push(Row::alone(
        "peak RSS (VmHWM) until then",
        format!("{:.1} MB", mb(loaded.1)),
    ));
    let p = &a.params;
    let pdesc = format!(
        "m={} KiB, t={}, p={}",
        p.memory_kib, p.iterations, p.parallelism
    );
    rep.rows.push(Row::alone(
        format!(
            "argon2id verify = one login check ({pdesc}), median of {}",
            a.n
        ),
        format!("{:.1} ms (max {:.1})", a.verify_ms.0, a.verify_ms.1),
    ));
    rep.rows.push(Row::alone(
        format!("argon2id hash, median of {}", a.n),
        format!("{:.1} ms (max {:.1})", a.hash_ms.0, a.hash_ms.1),
    ));
    rep.rows.push(Row::alone(
        "Hasher::new (one dummy hash, paid at every start)",
        format!("{:.1} ms", a.new_ms),
    ));
    rep.rows.push(Row::alone(
        "login over HTTP (GET form + POST), median of 3",
        format!("{login_ms:.1} ms"),
    ));

    // 6. Where the time goes, when a throughput or latency target is missed.
    if o.diagnose || ratio < MIN_RATIO || ours_lat.p99 > MAX_P99_MS {
        step("diagnosis: BK_LOG=warn (no access log)");
        let (mut quiet, q_addr, _) = start_bk(o, &data, dir, "bk-quiet", &[("BK_LOG", "warn")])?;
        let (q_token, _) = login_timed(q_addr, 1)?;
        let q_url = format!("http://{q_addr}/login/accounts/is_login/?bk_token={q_token}");
        if o.warmup_s > 0 {
            checked(
                wrk::run(
                    &q_url,
                    &Load {
                        duration_s: o.warmup_s,
                        ..ours_load.clone()
                    },
                    dir,
                )?,
                "is_login",
            )?;
        }
        let q = checked(wrk::run(&q_url, &ours_load, dir)?, "is_login")?;
        let q_lat = checked(wrk::run(&q_url, &paced, dir)?, "is_login")?;
        quiet.stop(Duration::from_secs(10));
        let r = Row::compared(
            "diagnosis: is_login throughput with BK_LOG=warn (baseline: with access log)",
            q.rps,
            ours_rps,
            "req/s",
            0,
        );
        rep.rows.push(r);
        rep.rows.push(Row::compared(
            "diagnosis: is_login p99 with BK_LOG=warn (baseline: with access log)",
            q_lat.p99,
            ours_lat.p99,
            "ms",
            3,
        ));
        rep.rows.push(Row::alone(
            "diagnosis: throughput BK_LOG=warn vs nginx",
            format!("ratio {:.2}", q.rps / ngx_rps),
        ));
    }

    // Header and notes.
    let (load_after, busy_after) = (loadavg(), cpu_busy(Duration::from_secs(1)));
    let busy = |b: Option<f64>| b.map_or("?".into(), |b| format!("{b:.0}%"));
    rep.header = vec![
        format!(
            "date: {}; commit: {}",
            shell("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]),
            git_rev()
        ),
        format!(
            "machine: {} CPUs, kernel {}",
            cpus(),
            std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .unwrap_or_default()
                .trim()
        ),
        format!(
            "load average before: {load_before} (CPU busy with other work: {}); after: {load_after} (busy: {})",
            busy(busy_before),
            busy(busy_after)
        ),
        format!(
            "ours: `{} up --listen 127.0.0.1:<port> --data-dir <tmp>` (release, default config, log filter `info`, access log to a file)",
            o.bk.display()
        ),
        format!(
            "baseline: {} with `worker_processes {}; location / {{ return 200 \"ok\"; }}`, access_log combined to a file (full config below)",
            nginx::version(),
            nginx::WORKERS
        ),
        format!(
            "load: {}; throughput `wrk {}`, fixed rate `wrk {}` (same for both)",
            wrk::version(),
            ours_load.flags(),
            paced.flags()
        ),
    ];
    if busy_before.is_some_and(|b| b > 20.0) || busy_after.is_some_and(|b| b > 20.0) {
        rep.header.push("**warning: the machine was busy with other work; figures may be low — re-run when idle**".into());
    }
    rep.notes.push(format!(
        "Access log lines written per request served: ours {:.3}, nginx {:.3} (below 1.000 means lines were dropped).",
        logged.0 as f64 / served.0.max(1) as f64,
        logged.1 as f64 / served.1.max(1) as f64
    ));
    rep.notes.push(format!(
        "Fixed-rate run: each connection waits a random 0..{} ms (mean {} ms) after each answer, so rate ≈ connections × 1000 / {} ms; latency excludes the wait.",
        2 * paced.delay_ms.unwrap_or(0),
        paced.delay_ms.unwrap_or(0),
        paced.delay_ms.unwrap_or(0)
    ));
    rep.notes.push(format!(
        "Throughput runs (req/s) ours: {}; nginx: {}.",
        list(&ours_runs),
        list(&ngx_runs)
    ));
    rep.notes.push(format!(
        "Start-up times (ms) ours: {}; nginx: {}.",
        join(&starts),
        join(&ngx_starts)
    ));
    rep.notes.push(format!(
        "nginx configuration used:\n\n```nginx\n{}```",
        nginx::config(Path::new("<tmp>"), ngx_addr)
            .replace(&ngx_addr.to_string(), "127.0.0.1:<port>")
    ));
    Ok(rep)
}

fn step(what: &str) {
    eprintln!("bk-bench: {what}");
}

fn addr() -> anyhow::Result<SocketAddr> {
    Ok(SocketAddr::from(([127, 0, 0, 1], free_port()?)))
}

/// Start `bk up` on a fresh port; the time from spawn to the first 200 from `/healthz/`.
fn start_bk(
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
    let t = wait_ready(a, "/healthz/", t0, POLL, Duration::from_secs(20)).map_err(|e| {
        let _ = p
            .check_running()
            .map_err(|dead| eprintln!("bk-bench: {dead}"));
        e
    })?;
    Ok((p, a, t))
}

fn login_timed(a: SocketAddr, n: usize) -> anyhow::Result<(String, f64)> {
    let mut token = String::new();
    let mut times = Vec::new();
    for _ in 0..n.max(1) {
        let t = Instant::now();
        token = http::login(a, "admin", PASSWORD)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok((token, median(&times)))
}

fn check_is_login(a: SocketAddr, token: &str) -> anyhow::Result<()> {
    let r = http::request(
        a,
        "GET",
        &format!("/login/accounts/is_login/?bk_token={token}"),
        &[],
        "",
        Duration::from_secs(5),
    )?;
    let compact: String = r.body.split_whitespace().collect();
    anyhow::ensure!(
        r.status == 200 && compact.contains("\"result\":true"),
        "is_login does not accept the token: {} {}",
        r.status,
        r.body
    );
    Ok(())
}

/// The fixed-rate load: connections × 1000 / delay ≈ `rate`.
fn paced_load(rate: f64, o: &Options) -> Load {
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

fn checked(r: WrkResult, what: &str) -> anyhow::Result<WrkResult> {
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
    Ok(r)
}

fn count_lines(p: &Path) -> u64 {
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
        n += buf[..k].iter().filter(|b| **b == b'\n').count() as u64;
    }
    n
}

fn shell(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn git_rev() -> String {
    let rev = shell("git", &["rev-parse", "--short", "HEAD"]);
    if rev.is_empty() {
        return "?".into();
    }
    let dirty = !shell("git", &["status", "--porcelain", "--untracked-files=no"]).is_empty();
    if dirty {
        format!("{rev} (+ uncommitted changes)")
    } else {
        rev
    }
}

fn list(v: &[WrkResult]) -> String {
    v.iter()
        .map(|r| format!("{:.0}", r.rps))
        .collect::<Vec<_>>()
        .join(", ")
}

fn join(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x:.1}"))
        .collect::<Vec<_>>()
        .join(", ")
}
