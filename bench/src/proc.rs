//! Child processes (servers under test) that are always stopped, and their memory.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process, stopped (SIGTERM, then SIGKILL after a grace period) on drop.
#[derive(Debug)]
pub struct Proc {
    child: Option<Child>,
    name: &'static str,
}

impl Proc {
    /// Spawn `cmd` with stdout and stderr appended to `<log_dir>/<name>.{out,err}`:
    /// files, like nginx's access log, so the writer never blocks on an unread pipe.
    pub fn spawn(name: &'static str, mut cmd: Command, log_dir: &Path) -> anyhow::Result<Self> {
        let open = |ext: &str| {
            File::options()
                .create(true)
                .append(true)
                .open(log_dir.join(format!("{name}.{ext}")))
        };
        cmd.stdin(Stdio::null())
            .stdout(open("out")?)
            .stderr(open("err")?);
        let child = cmd
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {name} ({:?}): {e}", cmd.get_program()))?;
        Ok(Self {
            child: Some(child),
            name,
        })
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Fail if the process has already exited (a server that died at start).
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        if let Some(c) = self.child.as_mut()
            && let Some(status) = c.try_wait()?
        {
            anyhow::bail!(
                "{} exited early with {status}; see its .err/.out log in the bench directory",
                self.name
            );
        }
        Ok(())
    }

    /// Stop gracefully (SIGTERM, like a service manager), waiting at most `grace`.
    pub fn stop(&mut self, grace: Duration) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        eprintln!(
            "bk-bench: {} did not stop within {grace:?}; killing it",
            self.name
        );
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(5));
    }
}

/// Memory of a process, KiB, from `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mem {
    /// `VmRSS`: resident now.
    pub rss: u64,
    /// `VmHWM`: peak resident.
    pub hwm: u64,
    /// `RssAnon`: heap, stacks.
    pub anon: u64,
    /// `RssFile`: mapped files (the binary's pages).
    pub file: u64,
}

/// Memory of process `pid` (zeros when it cannot be read).
pub fn mem(pid: u32) -> Mem {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return Mem::default();
    };
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Mem {
        rss: field("VmRSS:"),
        hwm: field("VmHWM:"),
        anon: field("RssAnon:"),
        file: field("RssFile:"),
    }
}

/// Fields of `/proc/<pid>/stat` after the parenthesised command name (state is [0]).
fn stat_fields(path: &str) -> Option<(String, Vec<String>)> {
    let stat = std::fs::read_to_string(path).ok()?;
    let (head, rest) = stat.rsplit_once(')')?;
    let comm = head
        .split_once('(')
        .map(|(_, c)| c.to_owned())
        .unwrap_or_default();
    Some((comm, rest.split_whitespace().map(str::to_owned).collect()))
}

fn ticks(fields: &[String]) -> u64 {
    // utime and stime: fields 14 and 15 of stat, [11] and [12] here.
    [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i)?.parse::<u64>().ok())
        .sum()
}

/// Direct children of `pid` (nginx workers).
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|c| {
            stat_fields(&format!("/proc/{c}/stat")).and_then(|(_, f)| f.get(1)?.parse::<u32>().ok())
                == Some(pid)
        })
        .collect()
}

/// Resident memory of a process and its direct children (nginx master + workers), KiB.
pub fn tree_rss_kib(pid: u32) -> u64 {
    mem(pid).rss + children(pid).into_iter().map(|c| mem(c).rss).sum::<u64>()
}

/// CPU time (user + system) used so far by a process and its direct children, seconds.
pub fn tree_cpu_secs(pid: u32) -> f64 {
    let of = |p: u32| stat_fields(&format!("/proc/{p}/stat")).map_or(0, |(_, f)| ticks(&f));
    let t = of(pid) + children(pid).into_iter().map(of).sum::<u64>();
    t as f64 / clk_tck()
}

/// CPU time used so far by the live threads of `pid` whose name starts with one of
/// `prefixes`, seconds.
pub fn thread_cpu_secs(pid: u32, prefixes: &[&str]) -> f64 {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0.0;
    };
    let t: u64 = dir
        .flatten()
        .filter_map(|e| stat_fields(&format!("{}/stat", e.path().display())))
        .filter(|(comm, _)| prefixes.iter().any(|p| comm.starts_with(p)))
        .map(|(_, f)| ticks(&f))
        .sum();
    t as f64 / clk_tck()
}

/// Clock ticks per second of `/proc` CPU times.
pub fn clk_tck() -> f64 {
    static TCK: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TCK.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// Whether the current user is root (nginx then needs `user root;` to keep its workers
/// able to use the files the master created).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}
