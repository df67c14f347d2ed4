//! From figures to the report: rows with targets, the conditions of the run, notes.

use std::path::Path;
use std::process::Command;

use super::measure::cpu_per_request_us;
use super::report::{Report, Row};
use super::run::{Figures, Options};
use super::{cpus, median, nginx, wrk};

/// `is_login` throughput / nginx throughput, at least.
pub const MIN_RATIO: f64 = 0.5;
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
    let (ours_cpu, log_cpu) = cpu_per_request_us(&f.ours);
    let (ngx_cpu, _) = cpu_per_request_us(&f.nginx);
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
    rows.push(Row::compared(
        "server CPU per request (all threads)",
        ours_cpu,
        ngx_cpu,
        "µs",
        1,
    ));
    rows.push(Row::alone(
        "… of which the access-log writer thread",
        format!("{log_cpu:.1} µs"),
    ));

    let (a, b) = (&f.ours_paced.wrk, &f.nginx_paced.wrk);
    let at = format!(
        "at {:.0} req/s fixed (½ of ours)",
        f.paced.paced_rate().unwrap_or(0.0)
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
        "rate achieved in that run",
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
            "RSS idle (start + 1 s)",
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
        "RSS after one login",
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
        "Hasher::new (hashes a dummy: paid at every start)",
        format!("{:.1} ms", g.new_ms),
    ));
    rows.push(Row::alone(
        "login through the form over HTTP (GET + POST), median of 3",
        format!("{:.1} ms", f.login_ms),
    ));

    if let Some((full, at_rate)) = &f.quiet {
        let (q_cpu, _) = cpu_per_request_us(std::slice::from_ref(full));
        let with = "baseline: with access log";
        rows.push(Row::compared(
            format!("diagnosis: is_login throughput, BK_LOG=warn ({with})"),
            full.wrk.rps,
            ours,
            "req/s",
            0,
        ));
        rows.push(Row::compared(
            format!("diagnosis: CPU per request, BK_LOG=warn ({with})"),
            q_cpu,
            ours_cpu,
            "µs",
            1,
        ));
        rows.push(Row::compared(
            format!("diagnosis: p99 {at}, BK_LOG=warn ({with})"),
            at_rate.wrk.p99,
            a.p99,
            "ms",
            3,
        ));
        rows.push(Row::compared(
            "diagnosis: throughput BK_LOG=warn vs nginx",
            full.wrk.rps,
            ngx,
            "req/s",
            0,
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
             (log filter `info`: one access-log line per request, stdout redirected to a file)",
            o.bk.display()
        ),
        format!(
            "baseline: {} with `worker_processes {}; location / {{ return 200 \"ok\"; }}`, access_log (combined) \
             to a file; full config below",
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
    if f.machine_before.1.is_some_and(|b| b > 20.0) || f.machine_after.1.is_some_and(|b| b > 20.0) {
        h.push("**warning: the machine was busy with other work; figures are pessimistic: re-run when idle**".into());
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
    n.push(format!(
        "- Throughput runs (req/s), ours: {}; nginx: {}.",
        list(&f.ours),
        list(&f.nginx)
    ));
    n.push(format!(
        "- Start-up times (ms), ours: {}; nginx: {}.",
        join(&f.starts),
        join(&f.nginx_starts)
    ));
    n.push(format!(
        "- Access-log lines written per request served: ours {:.3}, nginx {:.3} (below 1 means lines were dropped).",
        f.logged_per_request.0, f.logged_per_request.1
    ));
    n.push(format!(
        "- Fixed-rate run: each connection waits a random 0..{} ms (mean {d} ms) before each request, so the rate is \
         about connections × 1000 / {d}; latency is from send to answer, the wait excluded.",
        2 * d
    ));
    n.push(
        "- Server CPU per request: user + system time of the server's process(es) during the throughput runs \
         divided by the requests answered; wrk's own CPU is not included."
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
