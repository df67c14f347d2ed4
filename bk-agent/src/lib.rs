//! `bk-agent`: the agent that runs on each app host. It runs, supervises, health-checks
//! and logs app processes, one [`InstanceSpec`](bk_core::instance::InstanceSpec) each.
//!
//! This crate is the library under the agent's server (which comes later): the engine
//! decides which instances run on which host; the agent's [`Supervisor`] keeps the host
//! converged to that list. Pieces, each replaceable:
//!
//! - [`runner`]: the [`ProcessRunner`] trait (start a process → a [`ProcessHandle`] to wait
//!   on, stop gracefully, exec into) and the native runner: a process group per instance,
//!   SIGTERM → grace → SIGKILL to the whole group, stdout/stderr into the instance's log,
//!   the spec's env plus `PORT`, limits from [`limits`] (rlimits; cgroups v2 when present).
//! - [`supervisor`]: one task per instance that restarts crashes with [`backoff`], runs
//!   readiness and liveness [`probe`]s on timers, and reports an
//!   [`InstanceStatus`](bk_core::instance::InstanceStatus); `converge` starts, stops and
//!   replaces; `shutdown` leaves nothing running.
//! - [`ports`]: `PORT`s from a configured range, never one in use.
//! - [`logs`]: rotating files per run, read from any offset of the current or previous run.
//!
//! ```no_run
//! # async fn demo(specs: Vec<bk_core::instance::InstanceSpec>) -> Result<(), bk_agent::AgentError> {
//! use std::sync::Arc;
//! use bk_agent::{LogPolicy, LogStore, NativeConfig, NativeRunner, ReleaseLayout, Supervisor, SupervisorConfig};
//!
//! // Orphaned grandchildren of instances get reaped by the agent, not left as zombies.
//! bk_agent::runner::native::become_subreaper().ok();
//! let clock = bk_core::clock::system();
//! let runner = Arc::new(NativeRunner::new(NativeConfig::detect(), clock.clone()));
//! let logs = LogStore::new("/var/lib/bk-agent/logs", LogPolicy::default())?;
//! let releases = Arc::new(ReleaseLayout::new("/var/lib/bk-agent/releases"));
//! let sup = Supervisor::new(SupervisorConfig::new("host-1"), runner, releases, logs, clock)?;
//! sup.converge(specs)?;          // on every new desired list from the engine
//! let _ = sup.statuses();        // report to the engine
//! sup.shutdown().await;          // on SIGTERM
//! # Ok(()) }
//! ```
//!
//! # A container runner on the same trait
//!
//! A Docker runner (bollard) implements [`ProcessRunner`] and [`ProcessHandle`] without any
//! change to the supervisor: `start` creates a container from the release's image with the
//! spec's argv, env (with `PORT`), working dir and limits (`HostConfig.memory`,
//! `nano_cpus`, `pids_limit`, `ulimits`; Docker enforces them on cgroup v1 too), starts it,
//! and spawns a task that follows the container's log stream (`logs` with `follow`) into
//! the same [`LogWriter`](logs::LogWriter), so log reading, rotation and the previous-run
//! log stay one code path; `pid` is the container's main pid from `inspect`, `address` the
//! container's IP on its network (probes then reach it like a native process on
//! loopback); `wait` is `wait_container`; `stop(grace)` is `stop_container` with the grace
//! as its timeout (Docker sends SIGTERM, then SIGKILL) followed by removing the container;
//! `exec` is `create_exec` + `start_exec` with the timeout applied by the runner. The
//! process name in [`ProcessSpec`](runner::ProcessSpec) becomes the container name, so a
//! restarted agent can find and adopt or remove its containers.

pub mod backoff;
pub mod daemon;
mod error;
pub mod limits;
pub mod logs;
pub mod ports;
pub mod probe;
pub mod release;
pub mod runner;
pub mod supervisor;

pub use error::AgentError;
pub use logs::{LogChunk, LogPolicy, LogStore, Which};
pub use release::{ReleaseDirs, ReleaseLayout};
pub use runner::native::{NativeConfig, NativeRunner};
pub use runner::{ExecOutcome, ProcessHandle, ProcessRunner, ProcessSpec};
pub use supervisor::{ConvergeReport, Supervisor, SupervisorConfig};

/// Name of the service in logs, metrics and the public layout.
pub const SERVICE: &str = "agent";
