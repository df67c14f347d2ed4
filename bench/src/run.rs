//! The benchmark itself: what runs in which order. [`super::summary`] turns the figures
//! into the report.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::argon::{self, ArgonResult};
use super::callgrind::{self, Cost};
use super::http::wait_ready;
use super::inproc::Endpoint;
use super::measure::{self, POLL, Run};
use super::proc::{self, Mem};
use super::report::Report;
use super::wrk::Load;
use super::{TempDir, cpu_busy, loadavg, nginx};

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
    /// Keep the temporary directory (logs, configs).
    pub keep: bool,
    /// Measure instructions and allocations per request with the in-process driver.
    pub inproc: bool,
}

/// Everything measured.
#[derive(Debug)]
pub struct Figures {
    /// Load average and CPU share busy with other work, before and after.
    pub machine_before: (String, Option<f64>),
    /// Same, after.
    pub machine_after: (String, Option<f64>),
    /// Throughput load.
    pub load: Load,
    /// Fixed-rate load.
    pub paced: Load,
    /// Throughput runs of `is_login`.
    pub ours: Vec<Run>,
    /// Throughput runs of nginx.
    pub nginx: Vec<Run>,
    /// Throughput runs of `/healthz/`.
    pub healthz: Vec<Run>,
    /// Throughput runs of `is_login` with `BK_LOG=warn` (no access log).
    pub quiet: Vec<Run>,
    /// Fixed-rate runs of `is_login`.
    pub ours_paced: Vec<Run>,
    /// Fixed-rate runs of nginx.
    pub nginx_paced: Vec<Run>,
    /// `bk up` start to answering, existing data dir, ms.
    pub starts: Vec<f64>,
    /// nginx start to answering, ms.
    pub nginx_starts: Vec<f64>,
    /// First start on an empty data dir, ms.
    pub first_start_ms: f64,
    /// Memory 1 s after the first start.
    pub first_idle: Mem,
    /// Memory 1 s after start, after one login, after the load.
    pub mem: [Mem; 3],
    /// nginx memory (master + workers) idle and after the load, KiB.
    pub nginx_rss_kib: [u64; 2],
    /// A login through the form, ms.
    pub login_ms: f64,
    /// Access-log lines written per request served by ours (nginx logs nothing).
    pub logged_per_request: f64,
    /// argon2id.
    pub argon: ArgonResult,
    /// Instructions and allocations per request from the in-process driver: what, cost.
    pub costs: Vec<(String, Cost)>,
}

fn step(what: &str) {
    eprintln!("bk-bench: {what}");
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
    let machine_before = (loadavg(), cpu_busy(Duration::from_secs(1)));
    let data = dir.join("data");
    let load = Load {
        threads: o.threads,
        connections: o.connections,
        duration_s: o.duration_s,
        delay_ms: None,
    };

    // 1. First start (creates the data dir, hashes the admin password), then the usual
    // case: a start on the existing data dir, idle memory, a real login.
    step("first start of `bk up` (empty data dir)");
    let (mut first, _, first_start) = measure::start_bk(o, &data, dir, "bk", &[])?;
    std::thread::sleep(Duration::from_secs(1));
    let first_idle = proc::mem(first.pid());
    first.stop(Duration::from_secs(10));
    step("start on the existing data dir");
    let (mut bk, bk_addr, _) = measure::start_bk(o, &data, dir, "bk", &[])?;
    std::thread::sleep(Duration::from_secs(1));
    let idle = proc::mem(bk.pid());
    let (token, login_ms) = measure::login_timed(bk_addr, 3)?;
    let after_login = proc::mem(bk.pid());
    let is_login = measure::is_login_url(bk_addr, &token)?;

    // 2. Throughput: nginx and ours alternately, same wrk flags.
    let ngx_dir = dir.join("nginx");
    std::fs::create_dir_all(&ngx_dir)?;
    let ngx_addr = measure::addr()?;
    let mut ngx = nginx::spawn(&ngx_dir, ngx_addr)?;
    wait_ready(ngx_addr, "/", Instant::now(), POLL, Duration::from_secs(10))?;
    ngx.check_running()?;
    let ngx_url = format!("http://{ngx_addr}/");
    let ngx_idle = proc::tree_rss_kib(ngx.pid());
    // The same is_login with the access log filtered out, alive beside the first.
    let (mut q, q_addr, _) = measure::start_bk(o, &data, dir, "bk-quiet", &[("BK_LOG", "warn")])?;
    let (q_token, _) = measure::login_timed(q_addr, 1)?;
    let quiet_url = measure::is_login_url(q_addr, &q_token)?;
    let healthz = format!("http://{bk_addr}/healthz/");
    let mut served = 0u64; // requests to the logging `bk`, warm-ups included
    if o.warmup_s > 0 {
        step("warm-up");
        let warm = Load {
            duration_s: o.warmup_s,
            ..load.clone()
        };
        measure::load(&ngx_url, &warm, dir, ngx.pid(), "nginx")?;
        served += measure::load(&is_login, &warm, dir, bk.pid(), "is_login")?
            .wrk
            .requests;
        measure::load(&quiet_url, &warm, dir, q.pid(), "is_login (quiet)")?;
    }
    let (mut ours, mut nginx_runs, mut healthz_runs, mut quiet) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 1..=o.rounds.max(1) {
        step(&format!("throughput round {round}/{}", o.rounds.max(1)));
        let n = measure::load(&ngx_url, &load, dir, ngx.pid(), "nginx")?;
        let b = measure::load(&is_login, &load, dir, bk.pid(), "is_login")?;
        let h = measure::load(&healthz, &load, dir, bk.pid(), "healthz")?;
        let qr = measure::load(&quiet_url, &load, dir, q.pid(), "is_login (quiet)")?;
        eprintln!(
            "    nginx {:.0} req/s, is_login {:.0} req/s, healthz {:.0} req/s, is_login without access log {:.0} req/s",
            n.wrk.rps, b.wrk.rps, h.wrk.rps, qr.wrk.rps
        );
        served += b.wrk.requests + h.wrk.requests;
        nginx_runs.push(n);
        ours.push(b);
        healthz_runs.push(h);
        quiet.push(qr);
    }
    q.stop(Duration::from_secs(10));
    let ours_rps = super::median(&ours.iter().map(|r| r.wrk.rps).collect::<Vec<_>>());
    let loaded = proc::mem(bk.pid());
    let ngx_loaded = proc::tree_rss_kib(ngx.pid());

    // 3. Latency at half our maximum, fixed rate, the same rate for nginx.
    let paced = measure::paced_load(ours_rps / 2.0, o);
    step(&format!(
        "fixed rate {:.0} req/s",
        paced.paced_rate().unwrap_or(0.0)
    ));
    let (mut ours_paced, mut nginx_paced) = (Vec::new(), Vec::new());
    for round in 1..=o.rounds.max(1) {
        step(&format!("fixed rate round {round}/{}", o.rounds.max(1)));
        let b = measure::load(&is_login, &paced, dir, bk.pid(), "is_login")?;
        let n = measure::load(&ngx_url, &paced, dir, ngx.pid(), "nginx")?;
        eprintln!(
            "    p99 is_login {:.3} ms, nginx {:.3} ms",
            b.wrk.p99, n.wrk.p99
        );
        served += b.wrk.requests;
        ours_paced.push(b);
        nginx_paced.push(n);
    }
    ngx.stop(Duration::from_secs(5));
    bk.stop(Duration::from_secs(10)); // flushes the log writer before lines are counted
    // The login and readiness polls add a few lines: at least one line per request.
    let logged_per_request =
        measure::count_lines(&dir.join("bk.out")) as f64 / served.max(1) as f64;

    // 4. Start-up with the existing data dir; nginx the same way for scale.
    step(&format!(
        "{} starts of `bk up` and of nginx",
        o.starts.max(1)
    ));
    let (mut starts, mut nginx_starts) = (Vec::new(), Vec::new());
    for _ in 0..o.starts.max(1) {
        let (mut p, _, t) = measure::start_bk(o, &data, dir, "bk", &[])?;
        p.stop(Duration::from_secs(10));
        starts.push(t.as_secs_f64() * 1000.0);
        let a = measure::addr()?;
        let t0 = Instant::now();
        let mut n = nginx::spawn(&ngx_dir, a)?;
        let t = wait_ready(a, "/", t0, POLL, Duration::from_secs(10))?;
        n.stop(Duration::from_secs(5));
        nginx_starts.push(t.as_secs_f64() * 1000.0);
    }

    // 5. argon2id, in this process.
    step("argon2id");
    let argon = argon::measure(o.argon_n.max(1))?;

    // 6. Instructions and allocations per request, in process (repeatable on a busy
    // machine): both endpoints with the access log on, is_login without, bare axum.
    let mut costs = Vec::new();
    if o.inproc {
        let bench = std::env::current_exe()?;
        let runs = [
            ("is_login", Endpoint::IsLogin, "info"),
            ("is_login, access log off", Endpoint::IsLogin, "warn"),
            ("/healthz/", Endpoint::Healthz, "info"),
            ("bare axum route (the floor)", Endpoint::Bare, "info"),
        ];
        for (what, e, log) in runs {
            step(&format!("in-process driver: {what}"));
            costs.push((what.to_owned(), callgrind::measure(&bench, e, log, dir)?));
        }
    }

    let f = Figures {
        machine_before,
        machine_after: (loadavg(), cpu_busy(Duration::from_secs(1))),
        load,
        paced,
        ours,
        nginx: nginx_runs,
        healthz: healthz_runs,
        quiet,
        ours_paced,
        nginx_paced,
        starts,
        nginx_starts,
        first_start_ms: first_start.as_secs_f64() * 1000.0,
        first_idle,
        mem: [idle, after_login, loaded],
        nginx_rss_kib: [ngx_idle, ngx_loaded],
        login_ms,
        logged_per_request,
        argon,
        costs,
    };
    Ok(super::summary::report(o, &f))
}
