//! From figures to the report: rows with targets, the conditions of the run, notes.

use std::path::Path;
use std::process::Command;

use super::measure::{cpu_per_request_us, median_latency};
use super::report::{Report, Row};
use super::run::{Figures, Options};
use super::{cpus, median, nginx, wrk};

/// `is_login` throughput / nginx throughput, at least.
pub const MIN_RATIO: f64 = 0.7;
/// `/healthz/` throughput / nginx throughput, at least.
pub const MIN_HEALTHZ_RATIO: f64 = 0.85;
/// p99 of `is_login` at half its maximum rate, at most, ms.
pub const MAX_P99_MS: f64 = 2.0;
/// Median start to answering, at most, ms.
pub const MAX_START_MS: f64 = 300.0;
/// Idle resident memory, at most, MB.
pub const MAX_IDLE_MB: f64 = 40.0;

fn rps(runs: &[super::measure::Run]) -> f64 {
    median(&runs.iter().map(|r| r.wrk.rps).collect::<Vec<_>>())
}

fn mb(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Build the report.
pub fn report(o: &Options, f: &Figures) -> Report {
    let mut rep = Report::default();
    let rows = &mut rep.rows;
    let (ours, ngx) = (rps(&f.ours), rps(&f.nginx));
    let (ours_cpu, ngx_cpu) = (cpu_per_request_us(&f.ours), cpu_per_request_us(&f.nginx));
    rows.push(
        Row::compared(
            format!("is_login throughput, median of {}", f.ours.len()),
            ours,
            ngx,
            "req/s",
            0,
        )
        .target(format!("ratio ≥ {MIN_RATIO}"), ours / ngx >= MIN_RATIO),
    );
    let (h, q) = (rps(&f.healthz), rps(&f.quiet));
    rows.push(
        Row::compared(
            format!("/healthz/ throughput, median of {}", f.healthz.len()),
            h,
            ngx,
            "req/s",
            0,
        )
        .target(
            format!("ratio ≥ {MIN_HEALTHZ_RATIO}"),
            h / ngx >= MIN_HEALTHZ_RATIO,
        ),
    );
    rows.push(Row::compared(
        format!(
            "is_login throughput with the access log off (BK_LOG=warn), median of {}",
            f.quiet.len()
        ),
        q,
        ngx,
        "req/s",
        0,
    ));
    rows.push(Row::compared(
        "server CPU per request (all threads)",
        ours_cpu.server,
        ngx_cpu.server,
        "µs",
        1,
    ));
    rows.push(Row::compared(
        "… /healthz/",
        cpu_per_request_us(&f.healthz).server,
        ngx_cpu.server,
        "µs",
        1,
    ));
    rows.push(Row::compared(
        "… is_login, access log off",
        cpu_per_request_us(&f.quiet).server,
        ngx_cpu.server,
        "µs",
        1,
    ));
    rows.push(Row::alone(
        "… of which a log writer/flusher thread (the rest of the log cost is in the request path)",
        format!("{:.1} µs", ours_cpu.log_writer),
    ));
    rows.push(Row::compared(
        "wrk's own CPU per request",
        ours_cpu.client,
        ngx_cpu.client,
        "µs",
        1,
    ));

    let (a, b) = (
        median_latency(&f.ours_paced),
        median_latency(&f.nginx_paced),
    );
    let at = format!(
        "at {:.0} req/s fixed (½ of ours), median of {}",
        f.paced.paced_rate().unwrap_or(0.0),
        f.ours_paced.len()
    );
    rows.push(Row::compared(
        format!("is_login p50 {at}"),
        a.p50,
        b.p50,
        "ms",
        3,
    ));
    rows.push(Row::compared(
        format!("is_login p90 {at}"),
        a.p90,
        b.p90,
        "ms",
        3,
    ));
    rows.push(
        Row::compared(format!("is_login p99 {at}"), a.p99, b.p99, "ms", 3)
            .target(format!("≤ {MAX_P99_MS} ms"), a.p99 <= MAX_P99_MS),
    );
    rows.push(Row::compared(
        "rate achieved in those runs",
        a.rps,
        b.rps,
        "req/s",
        0,
    ));

    let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let s_med = median(&f.starts);
    rows.push(
        Row::compared(
            format!(
                "start → /healthz/ 200, existing data dir, median of {}",
                f.starts.len()
            ),
            s_med,
            median(&f.nginx_starts),
            "ms",
            1,
        )
        .target(format!("≤ {MAX_START_MS} ms"), s_med <= MAX_START_MS),
    );
    rows.push(Row::compared(
        "start → answering, max",
        max(&f.starts),
        max(&f.nginx_starts),
        "ms",
        1,
    ));
    rows.push(Row::alone(
        "first start, empty data dir (migrations, admin hash)",
        format!("{:.1} ms", f.first_start_ms),
    ));

    let [idle, login, loaded] = f.mem;
    rows.push(
        Row::compared(
            "RSS idle (start on the existing data dir + 1 s)",
            mb(idle.rss),
            mb(f.nginx_rss_kib[0]),
            "MB",
            1,
        )
        .target(format!("≤ {MAX_IDLE_MB} MB"), mb(idle.rss) <= MAX_IDLE_MB),
    );
    rows.push(Row::alone(
        "… of which anonymous / file-backed (binary)",
        format!("{:.1} / {:.1} MB", mb(idle.anon), mb(idle.file)),
    ));
    rows.push(Row::alone(
        "RSS 1 s after the first start (empty data dir: admin password hashed)",
        format!("{:.1} MB", mb(f.first_idle.rss)),
    ));
    rows.push(Row::alone(
        "RSS after 3 logins (argon2id buffers)",
        format!("{:.1} MB", mb(login.rss)),
    ));
    rows.push(Row::compared(
        "RSS after the wrk load",
        mb(loaded.rss),
        mb(f.nginx_rss_kib[1]),
        "MB",
        1,
    ));
    rows.push(Row::alone(
        "peak RSS (VmHWM) by then",
        format!("{:.1} MB", mb(loaded.hwm)),
    ));

    let g = &f.argon;
    let p = &g.params;
    rows.push(Row::alone(
        format!(
            "argon2id verify = one login check (m={} KiB, t={}, p={}), median of {}",
            p.memory_kib, p.iterations, p.parallelism, g.n
        ),
        format!("{:.1} ms (max {:.1})", g.verify_ms.0, g.verify_ms.1),
    ));
    rows.push(Row::alone(
        format!("argon2id hash, median of {}", g.n),
        format!("{:.1} ms (max {:.1})", g.hash_ms.0, g.hash_ms.1),
    ));
    rows.push(Row::alone(
        "Hasher::new (part of start-up)",
        format!("{:.1} ms", g.new_ms),
    ));
    rows.push(Row::alone(
        "login through the form over HTTP (GET + POST), median of 3",
        format!("{:.1} ms", f.login_ms),
    ));

    let floor = f
        .costs
        .iter()
        .find(|(w, _)| w.starts_with("bare"))
        .map(|(_, c)| *c);
    for (what, c) in &f.costs {
        let base = floor.unwrap_or_default();
        match (c.instructions, base.instructions) {
            (Some(i), Some(b)) => rows.push(Row::compared(
                format!(
                    "instructions per request (callgrind, in process), {what}; baseline: bare axum"
                ),
                i,
                b,
                "",
                0,
            )),
            _ => rows.push(Row::alone(
                format!("instructions per request (callgrind, in process), {what}"),
                "valgrind not installed".into(),
            )),
        }
        rows.push(Row::compared(
            format!("allocations per request (in process), {what}; baseline: bare axum"),
            c.allocations,
            base.allocations,
            "",
            1,
        ));
    }

    rep.header = header(o, f);
    notes(&mut rep.notes, f);
    rep
}

fn header(o: &Options, f: &Figures) -> Vec<String> {
    let busy = |b: Option<f64>| b.map_or("?".into(), |b| format!("{b:.0}%"));
    let mut h = vec![
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
            "load average before: {} (CPUs busy with other work: {}); after: {} (busy: {})",
            f.machine_before.0,
            busy(f.machine_before.1),
            f.machine_after.0,
            busy(f.machine_after.1)
        ),
        format!(
            "ours: `{} up --listen 127.0.0.1:<port> --data-dir <tmp>`: release build, default config \
             (log filter `info`: one access-log line per request, stdout redirected to a file); \
             a second one with `BK_LOG=warn` (no access log) for the like-for-like row",
            o.bk.display()
        ),
        format!(
            "baseline: {} with `worker_processes {}; location / {{ return 200 \"ok\"; }}`, `access_log off`; \
             full config below",
            nginx::version(),
            nginx::WORKERS
        ),
        format!(
            "load: {}, same flags for both: throughput `wrk {}`; fixed rate `wrk {}`",
            wrk::version(),
            f.load.flags(),
            f.paced.flags()
        ),
    ];
    let runs = f
        .ours
        .iter()
        .chain(&f.nginx)
        .chain(&f.healthz)
        .chain(&f.quiet)
        .chain(&f.ours_paced)
        .chain(&f.nginx_paced);
    let during = runs.map(|r| r.other_pct).fold(0.0, f64::max);
    if f.machine_before.1.is_some_and(|b| b > 20.0)
        || f.machine_after.1.is_some_and(|b| b > 20.0)
        || during > 25.0
    {
        h.push(format!(
            "**warning: the machine was busy with other work (up to {during:.0}% of its CPU time during a run went \
             to neither server nor wrk); figures are pessimistic: re-run when idle**"
        ));
    }
    h
}

fn notes(n: &mut Vec<String>, f: &Figures) {
    let list = |runs: &[super::measure::Run]| {
        runs.iter()
            .map(|r| format!("{:.0}", r.wrk.rps))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let join = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let d = f.paced.delay_ms.unwrap_or(0);
    let ratios: Vec<String> = f
        .ours
        .iter()
        .zip(&f.nginx)
        .map(|(a, b)| format!("{:.2}", a.wrk.rps / b.wrk.rps.max(1.0)))
        .collect();
    n.push(format!(
        "- Throughput runs (req/s), is_login: {}; /healthz/: {}; is_login without access log: {}; nginx: {}; \
         is_login / nginx per round: {} (rounds alternate, so the ratio within a round is the least disturbed \
         by other work on the machine).",
        list(&f.ours),
        list(&f.healthz),
        list(&f.quiet),
        list(&f.nginx),
        ratios.join(", ")
    ));
    let other = |runs: &[super::measure::Run]| {
        runs.iter()
            .map(|r| format!("{:.0}%", r.other_pct))
            .collect::<Vec<_>>()
            .join(", ")
    };
    n.push(format!(
        "- CPU used by neither server nor wrk during each run (other processes, interrupts; a jump marks a \
         disturbed round): throughput is_login {}, /healthz/ {}, nginx {}; fixed rate ours {}, nginx {}.",
        other(&f.ours),
        other(&f.healthz),
        other(&f.nginx),
        other(&f.ours_paced),
        other(&f.nginx_paced)
    ));
    let p99s = |runs: &[super::measure::Run]| {
        runs.iter()
            .map(|r| format!("{:.3}", r.wrk.p99))
            .collect::<Vec<_>>()
            .join(", ")
    };
    n.push(format!(
        "- Fixed-rate p99 per round (ms), ours: {}; nginx: {}.",
        p99s(&f.ours_paced),
        p99s(&f.nginx_paced)
    ));
    n.push(format!(
        "- Start-up times (ms), ours: {}; nginx: {}.",
        join(&f.starts),
        join(&f.nginx_starts)
    ));
    n.push(format!(
        "- Access-log lines written per request served: {:.3} (below 1 means lines were dropped).",
        f.logged_per_request
    ));
    n.push(format!(
        "- Fixed-rate run: each connection waits a random 0..{} ms (mean {d} ms) before each request, so the rate is \
         about connections × 1000 / {d}; latency is from send to answer, the wait excluded.",
        2 * d
    ));
    n.push(
        "- Instructions per request: the in-process driver (`bk-bench --drive`, the router `bk up` serves, on \
         127.0.0.1 in one single-threaded process, with a keep-alive client that allocates nothing per \
         request) under `valgrind --tool=callgrind`, at 2000 and 4000 requests: the difference / 2000, so \
         start-up cancels out. It includes hyper's parsing and writing and the client's ~2.7k \
         instructions. Allocations per request: the same driver, 40000 requests, counted by a global \
         allocator wrapping mimalloc. The access log goes to /dev/null through the same buffered writer."
            .into(),
    );
    n.push(
        "- CPU per request: user + system time of the server's process(es), and of wrk, during the throughput \
         runs, divided by the requests answered. Server and wrk share the CPUs, so when both are busy the \
         throughput is about CPUs / (server + wrk CPU per request)."
            .into(),
    );
    let conf = nginx::config(
        Path::new("<tmp>"),
        std::net::SocketAddr::from(([127, 0, 0, 1], 1)),
    );
    n.push(format!(
        "\nnginx configuration:\n\n```nginx\n{}```",
        conf.replace("127.0.0.1:1;", "127.0.0.1:<port>;")
    ));
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
