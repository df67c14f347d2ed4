//! A running native process group and the one task that owns it.
//!
//! The reaper task waits for the group leader, or for a stop request: then SIGTERM to the
//! group, SIGKILL after the grace period. When the leader exits on its own, the rest of its
//! group is stopped the same way, so that an instance is "gone" only when nothing of it
//! runs (a restart never overlaps the old process, which may still hold the port). Then it
//! drains the log pumps and publishes the exit on a watch channel that any number of
//! callers can wait on.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bk_core::clock::Clock;
use bk_core::instance::ExitRecord;
use nix::sys::signal::Signal;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{exec, group};
use crate::AgentError;
use crate::limits::{Enforcement, InstanceCgroup};
use crate::runner::{EnvNames, ExecOutcome, ProcessHandle};

/// How long the log pumps may take to see end-of-file after the group is gone (a process
/// that escaped the group may still hold the pipe).
const PUMP_DRAIN: Duration = Duration::from_secs(1);

/// What [`NativeHandle::launch`] takes over.
pub(super) struct Launch {
    pub child: tokio::process::Child,
    pub pumps: Vec<JoinHandle<()>>,
    pub cgroup: Option<InstanceCgroup>,
    pub grace: Duration,
    pub clock: Arc<dyn Clock>,
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
    pub limits: Vec<(&'static str, Enforcement)>,
}

/// A native process group.
pub struct NativeHandle {
    pid: Option<u32>,
    exit: watch::Receiver<Option<ExitRecord>>,
    stop: watch::Sender<Option<Duration>>,
    dir: PathBuf,
    env: Vec<(String, String)>,
    limits: Vec<(&'static str, Enforcement)>,
}

impl std::fmt::Debug for NativeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeHandle")
            .field("pid", &self.pid)
            .field("exit", &*self.exit.borrow())
            .field("dir", &self.dir)
            .field("env", &EnvNames(&self.env))
            .finish_non_exhaustive()
    }
}

impl NativeHandle {
    pub(super) fn launch(l: Launch) -> Arc<Self> {
        let pid = l.child.id();
        let (exit_tx, exit_rx) = watch::channel(None);
        let (stop_tx, stop_rx) = watch::channel(None);
        let reaper = Reaper {
            done: false,
            child: l.child,
            pgid: pid.and_then(|p| i32::try_from(p).ok()),
            pumps: l.pumps,
            cgroup: l.cgroup,
            grace: l.grace,
            clock: l.clock,
        };
        tokio::spawn(reaper.run(stop_rx, exit_tx));
        Arc::new(Self {
            pid,
            exit: exit_rx,
            stop: stop_tx,
            dir: l.dir,
            env: l.env,
            limits: l.limits,
        })
    }
}

#[async_trait]
impl ProcessHandle for NativeHandle {
    fn pid(&self) -> Option<u32> {
        self.pid
    }

    fn address(&self) -> IpAddr {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    }

    fn limits(&self) -> &[(&'static str, Enforcement)] {
        &self.limits
    }

    fn exit(&self) -> Option<ExitRecord> {
        self.exit.borrow().clone()
    }

    async fn wait(&self) -> ExitRecord {
        let mut rx = self.exit.clone();
        match rx.wait_for(Option::is_some).await {
            Ok(v) => v.clone().unwrap_or_else(unknown_exit),
            // The reaper always publishes before it ends; a dropped sender means the
            // runtime is shutting down, and the process is being killed with it.
            Err(_) => unknown_exit(),
        }
    }

    async fn stop(&self, grace: Duration) -> ExitRecord {
        // The first request decides the grace period.
        self.stop.send_if_modified(|s| {
            if s.is_none() {
                *s = Some(grace);
                true
            } else {
                false
            }
        });
        self.wait().await
    }

    async fn exec(&self, argv: &[String], timeout: Duration) -> Result<ExecOutcome, AgentError> {
        exec::exec(&self.dir, &self.env, argv, timeout).await
    }
}

fn unknown_exit() -> ExitRecord {
    ExitRecord {
        code: None,
        signal: None,
        at_ms: 0,
    }
}

/// Owns the child. If its task is dropped before the group is gone (the runtime shuts
/// down, the agent is exiting without a clean shutdown), [`Drop`] kills the group, so no
/// instance process outlives the agent's runtime.
struct Reaper {
    done: bool,
    child: tokio::process::Child,
    pgid: Option<i32>,
    pumps: Vec<JoinHandle<()>>,
    cgroup: Option<InstanceCgroup>,
    grace: Duration,
    clock: Arc<dyn Clock>,
}

impl Reaper {
    async fn run(
        mut self,
        mut stop: watch::Receiver<Option<Duration>>,
        exit: watch::Sender<Option<ExitRecord>>,
    ) {
        let status = tokio::select! {
            status = self.child.wait() => {
                // The leader ended by itself: stop what it left behind.
                if let Some(pgid) = self.pgid {
                    group::reap_orphans(pgid);
                    if group::has_live_members(pgid) {
                        let _ = group::signal(pgid, Signal::SIGTERM);
                        group::drain(pgid, Instant::now() + self.grace).await;
                    }
                }
                status
            }
            grace = async { stop.wait_for(Option::is_some).await.ok().and_then(|g| *g) } => {
                // No grace given: every handle was dropped without a stop; stop anyway,
                // with the spec's grace, so no process outlives its handle.
                let grace = grace.unwrap_or(self.grace);
                self.stop_group(grace).await
            }
        };
        if let Some(cg) = &self.cgroup {
            cg.kill();
            remove_cgroup(cg).await;
        }
        for pump in &mut self.pumps {
            if tokio::time::timeout(PUMP_DRAIN, &mut *pump).await.is_err() {
                pump.abort();
            }
        }
        let record = match status {
            Ok(st) => {
                use std::os::unix::process::ExitStatusExt;
                ExitRecord {
                    code: st.code(),
                    signal: st.signal(),
                    at_ms: self.clock.now_ms(),
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "waiting for an instance process failed");
                ExitRecord {
                    code: None,
                    signal: None,
                    at_ms: self.clock.now_ms(),
                }
            }
        };
        self.done = true;
        exit.send_replace(Some(record));
    }

    /// SIGTERM to the group; SIGKILL to whatever is left when `grace` runs out.
    async fn stop_group(&mut self, grace: Duration) -> std::io::Result<std::process::ExitStatus> {
        let deadline = Instant::now() + grace;
        let Some(pgid) = self.pgid else {
            let _ = self.child.start_kill();
            return self.child.wait().await;
        };
        if let Err(e) = group::signal(pgid, Signal::SIGTERM) {
            tracing::warn!(pgid, error = %e, "SIGTERM to an instance failed");
        }
        let status = match tokio::time::timeout_at(deadline, self.child.wait()).await {
            Ok(status) => status,
            Err(_) => {
                let _ = group::signal(pgid, Signal::SIGKILL);
                self.child.wait().await
            }
        };
        group::drain(pgid, deadline).await;
        status
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        if let (false, Some(pgid)) = (self.done, self.pgid) {
            let _ = group::signal(pgid, Signal::SIGKILL);
            if let Some(cg) = &self.cgroup {
                cg.kill();
            }
        }
    }
}

/// Remove an instance cgroup; the kernel may need a moment after `cgroup.kill`.
async fn remove_cgroup(cg: &InstanceCgroup) {
    for _ in 0..20 {
        if cg.remove().is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if let Err(e) = cg.remove() {
        tracing::warn!(cgroup = %cg.dir().display(), error = %e, "could not remove an instance cgroup");
    }
}
