//! Instructions and allocations per request, from the in-process driver
//! ([`super::inproc`]) run as a child of `bk-bench`: instructions under
//! `valgrind --tool=callgrind` (repeatable on a busy machine, unlike time), at two request
//! counts so start-up cancels out; allocations from `bk-bench`'s counting allocator.

use std::path::Path;
use std::process::{Command, Stdio};

use super::inproc::Endpoint;

/// Per-request costs of one endpoint.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cost {
    /// Instructions per request (`None`: valgrind is not installed).
    pub instructions: Option<f64>,
    /// Heap allocations per request.
    pub allocations: f64,
}

/// Requests of the smaller callgrind run; the larger one does twice as many.
const N: u64 = 2_000;
/// Requests before counting starts (connection set-up, first-use caches).
const WARMUP: u64 = 200;

/// The driver's command: `bk-bench --drive <endpoint> --drive-n <n>` with the log at
/// `log_filter` (`info`: one access line per request, as in production).
fn driver(bench: &Path, e: Endpoint, n: u64, log_filter: &str) -> Command {
    let mut cmd = Command::new(bench);
    cmd.arg("--drive")
        .arg(e.name())
        .arg("--drive-n")
        .arg(n.to_string())
        .arg("--drive-warmup")
        .arg(WARMUP.to_string())
        .arg("--drive-log")
        .arg(log_filter)
        .stdin(Stdio::null());
    cmd
}

/// Whether `valgrind` can be run.
pub fn have_valgrind() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Measure `e`; `work` holds callgrind's output files.
pub fn measure(bench: &Path, e: Endpoint, log_filter: &str, work: &Path) -> anyhow::Result<Cost> {
    let allocations = allocations(bench, e, log_filter)?;
    let instructions = if have_valgrind() {
        let a = instructions(bench, e, N, log_filter, work)?;
        let b = instructions(bench, e, 2 * N, log_filter, work)?;
        Some((b - a) as f64 / N as f64)
    } else {
        None
    };
    Ok(Cost {
        instructions,
        allocations,
    })
}

fn allocations(bench: &Path, e: Endpoint, log_filter: &str) -> anyhow::Result<f64> {
    let n = 20 * N;
    let out = driver(bench, e, n, log_filter)
        .stderr(Stdio::inherit())
        .output()?;
    anyhow::ensure!(out.status.success(), "driver for {} failed", e.name());
    // The access log goes to stdout too; the figure is the line the driver printed last.
    let text = String::from_utf8_lossy(&out.stdout);
    let count: u64 = text
        .lines()
        .filter_map(|l| l.strip_prefix("bk-bench-allocations: "))
        .next_back()
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("driver for {} printed no allocation count", e.name()))?;
    Ok(count as f64 / n as f64)
}

fn instructions(
    bench: &Path,
    e: Endpoint,
    n: u64,
    log_filter: &str,
    work: &Path,
) -> anyhow::Result<u64> {
    let file = work.join(format!("callgrind-{}-{n}.out", e.name()));
    let mut cmd = Command::new("valgrind");
    cmd.arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", file.display()))
        .arg(driver(bench, e, n, log_filter).get_program())
        .args(driver(bench, e, n, log_filter).get_args())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let status = cmd.status()?;
    anyhow::ensure!(status.success(), "callgrind run of {} failed", e.name());
    let text = std::fs::read_to_string(&file)?;
    let total = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no totals in {}", file.display()))?;
    let _ = std::fs::remove_file(&file);
    Ok(total)
}
