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

/// Resident and peak-resident memory of a process, KiB (`VmRSS`, `VmHWM`).
pub fn rss_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Resident memory of a process and its direct children (nginx master + workers), KiB.
pub fn tree_rss_kib(pid: u32) -> Option<u64> {
    let mut total = rss_kib(pid)?.0;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // Fields after the parenthesised command name: state, ppid, ...
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) {
            total += rss_kib(child).map_or(0, |r| r.0);
        }
    }
    Some(total)
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
