//! `bk-bench`: measures the login service against its speed targets, with baselines
//! (nginx, measured by the same tools in the same run) so ratios survive a slower machine.
//! Everything here is plain std plus the crates `bins` already uses; traffic stays on
//! 127.0.0.1 and every wait is bounded.

pub mod argon;
pub mod callgrind;
pub mod http;
pub mod inproc;
pub mod measure;
pub mod nginx;
pub mod proc;
pub mod report;
pub mod run;
pub mod summary;
pub mod wrk;

use std::path::{Path, PathBuf};
use std::time::Duration;

/// A directory removed on drop (the `tempfile` crate is a dev-dependency only).
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
    keep: bool,
}

impl TempDir {
    /// Create `bk-bench-<pid>-<nanos>` under the system temp directory.
    pub fn new(keep: bool) -> anyhow::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!("bk-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(Self { path, keep })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("bk-bench: kept {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A free port on 127.0.0.1, found by binding port 0 and releasing it. Racy by nature:
/// fine for a benchmark that starts foreign servers (nginx, `bk up`), not for tests.
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// The 1-, 5- and 15-minute load averages.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// Share of all CPUs busy over `window` (other work on the machine when sampled while
/// the benchmark itself is idle), in percent.
pub fn cpu_busy(window: Duration) -> Option<f64> {
    let (b0, t0) = cpu_times()?;
    std::thread::sleep(window);
    let (b1, t1) = cpu_times()?;
    let total = (t1 - t0).max(f64::EPSILON);
    Some(100.0 * ((b1 - b0) / total).clamp(0.0, 1.0))
}

/// CPU time of the whole machine so far, in `/proc/stat` ticks: (busy, total), all CPUs.
pub fn cpu_times() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let v: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let idle = v.get(3)? + v.get(4).copied().unwrap_or(0);
    // guest time is already counted in user time.
    let total: u64 = v.iter().take(8).sum();
    Some(((total - idle.min(total)) as f64, total as f64))
}

/// Number of CPUs available.
pub fn cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Median of a non-empty slice (`NaN` for an empty one).
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}
