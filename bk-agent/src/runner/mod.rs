//! The `ProcessRunner` seam: how the agent runs one instance's process on this host.
//!
//! A runner knows processes, not apps: it gets a fully resolved [`ProcessSpec`] (argv,
//! directory, environment, limits, a log writer) and returns a [`ProcessHandle`] that can
//! be waited on, stopped gracefully and exec'd into (for exec probes). The supervisor
//! composes runners; the native runner ([`native`]) is the default. See the crate docs for
//! how a container runner implements the same two traits.

pub mod native;

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bk_core::instance::{ExitRecord, Resources};

use crate::AgentError;
use crate::limits::Enforcement;
use crate::logs::LogWriter;

/// Everything needed to start one process. `Debug` omits env values (they hold secrets).
#[derive(Clone)]
pub struct ProcessSpec {
    /// Unique on the agent while it runs (instance id and run number); names the cgroup
    /// (native) or the container (Docker).
    pub name: String,
    /// Program and arguments.
    pub argv: Vec<String>,
    /// Working directory.
    pub dir: PathBuf,
    /// The whole environment of the process beyond the runner's base (`PATH`, locale).
    pub env: Vec<(String, String)>,
    /// Limits to apply where the host can.
    pub resources: Resources,
    /// Grace for processes left in the group when the main process exits by itself.
    pub grace: Duration,
    /// Where stdout and stderr go.
    pub log: Arc<LogWriter>,
}

impl fmt::Debug for ProcessSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessSpec")
            .field("name", &self.name)
            .field("argv", &self.argv)
            .field("dir", &self.dir)
            .field("env", &EnvNames(&self.env))
            .field("resources", &self.resources)
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

/// Shows the names of environment variables, never their values.
pub(crate) struct EnvNames<'a>(pub &'a [(String, String)]);

impl fmt::Debug for EnvNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, _)| k))
            .finish()
    }
}

/// What an exec'd command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutcome {
    /// Exit code, when it exited.
    pub code: Option<i32>,
    /// Whether it was killed for running past its timeout.
    pub timed_out: bool,
    /// The start of its stdout and stderr (bounded), for the probe's failure reason.
    pub output: String,
}

impl ExecOutcome {
    /// Exited with 0 in time.
    pub fn success(&self) -> bool {
        self.code == Some(0) && !self.timed_out
    }
}

impl fmt::Display for ExecOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.timed_out, self.code) {
            (true, _) => f.write_str("timed out")?,
            (false, Some(c)) => write!(f, "exited with code {c}")?,
            (false, None) => f.write_str("killed by a signal")?,
        }
        let out = self.output.trim();
        if !out.is_empty() {
            write!(f, ": {out}")?;
        }
        Ok(())
    }
}

/// Starts processes. Object-safe: the agent holds an `Arc<dyn ProcessRunner>`.
#[async_trait]
pub trait ProcessRunner: Send + Sync + fmt::Debug {
    /// Short name for logs and the agent's report (`native`, `docker`).
    fn kind(&self) -> &'static str;

    /// What this runner can enforce on this host, for people.
    fn limits_summary(&self) -> String;

    /// Start `spec`. Fails only when nothing started; a process that starts and exits at
    /// once is a success whose handle reports the exit.
    async fn start(&self, spec: ProcessSpec) -> Result<Arc<dyn ProcessHandle>, AgentError>;
}

/// One started process (native: a process group; Docker: a container).
#[async_trait]
pub trait ProcessHandle: Send + Sync + fmt::Debug {
    /// The main process's pid on this host, if the runner knows it.
    fn pid(&self) -> Option<u32>;

    /// Where probes reach the process (native: loopback; Docker: the container's address).
    fn address(&self) -> IpAddr;

    /// How each requested limit is applied.
    fn limits(&self) -> &[(&'static str, Enforcement)];

    /// The exit, once everything of the process is gone; `None` while it runs.
    fn exit(&self) -> Option<ExitRecord>;

    /// Wait until the process and everything it started are gone.
    async fn wait(&self) -> ExitRecord;

    /// Stop gracefully: SIGTERM to everything, SIGKILL after `grace`; returns the exit.
    /// Stopping an exited process returns its exit.
    async fn stop(&self, grace: Duration) -> ExitRecord;

    /// Run `argv` in the process's context (its directory and environment; in its
    /// container for Docker), killing it after `timeout`.
    async fn exec(&self, argv: &[String], timeout: Duration) -> Result<ExecOutcome, AgentError>;
}
