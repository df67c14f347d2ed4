//! [`DeployBackend`]: what the engine asks of wherever app instances run.
//!
//! The engine thinks in *slots* (one app module in one environment) and *release sets*
//! (one release's processes with replica counts). A backend turns the complete desired
//! content of a slot into running instances and reports what it observes. It knows nothing
//! of deployments, app states or the router; the reconciler does.
//!
//! Instance ids are stable per (slot, release, generation, process type, ordinal), so
//! applying the same sets twice restarts nothing, a scale changes only the ordinals beyond
//! the new count, and a rolling restart is a new generation of the same release.
//!
//! Implementations: the agent backend (native processes on registered hosts, the default;
//! Docker on those hosts through a container runner next), and a cluster engine later.

use std::time::Duration;

use async_trait::async_trait;
use bk_core::agent_proto::PackageRef;
use bk_core::instance::{
    AppEnv, ExitRecord, InstanceId, InstanceSpec, InstanceStatus, ModuleName, ProcessType,
    ReleaseId,
};
use bk_core::types::AppCode;
use sha2::{Digest, Sha256};

/// One app module in one environment: the unit a backend runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slot {
    /// The app.
    pub app: AppCode,
    /// Its module.
    pub module: ModuleName,
    /// The environment.
    pub env: AppEnv,
}

/// One process type of a release set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSet {
    /// `web`, `worker`...
    pub process_type: ProcessType,
    /// How many instances.
    pub replicas: u32,
    /// The instance to run; the backend sets `id` (and may adjust nothing else).
    pub template: InstanceSpec,
}

/// One release's share of a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseSet {
    /// The release.
    pub release: ReleaseId,
    /// Bumped by a rolling restart: new instances of the same release.
    pub generation: u32,
    /// Where its files are.
    pub package: PackageRef,
    /// Its processes.
    pub processes: Vec<ProcessSet>,
}

/// One instance of a slot as the backend observes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedInstance {
    /// What its host reports (id, release, state, restarts, port...).
    pub status: InstanceStatus,
    /// Its process type.
    pub process_type: ProcessType,
    /// The generation of its release set.
    pub generation: u32,
    /// Its ordinal within the process type (0-based).
    pub ordinal: u32,
    /// `host:port` at which the router reaches it, once it has a port.
    pub address: Option<String>,
    /// The host (agent id) that runs it.
    pub agent: String,
}

/// How a one-off task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskOutcome {
    /// Whether it exited with code 0.
    pub success: bool,
    /// How it ended, when it ran.
    pub exit: Option<ExitRecord>,
    /// Why it failed, for people ("timed out after 60 s", "no agent available").
    pub reason: Option<String>,
}

/// A piece of an instance's log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogChunk {
    /// The bytes read.
    pub data: Vec<u8>,
    /// Offset to read from next.
    pub next_offset: u64,
    /// Bytes between the requested offset and the first byte returned that rotation
    /// removed.
    pub lost: u64,
}

/// Where a task's output lines go (a deployment's log).
pub type LogSink = tokio::sync::mpsc::Sender<String>;

/// Why a backend could not do what was asked. Texts are for people and carry no secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// Not enough hosts or capacity for the requested instances; the text says what is
    /// missing.
    #[error("not enough capacity: {0}")]
    NoCapacity(String),
    /// No such instance.
    #[error("{0} not found")]
    NotFound(String),
    /// A host or the backend cannot be reached now; retry later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The request is invalid (a spec the backend cannot run).
    #[error("{0}")]
    Invalid(String),
    /// Anything else; logged, not shown.
    #[error("internal: {0}")]
    Internal(String),
}

/// Where app instances run.
#[async_trait]
pub trait DeployBackend: Send + Sync {
    /// A short name for logs and `bk ps` (`agents`, `docker`...).
    fn name(&self) -> &'static str;

    /// Make `sets` the complete desired content of `slot` (empty: nothing runs). Idempotent.
    async fn apply(&self, slot: &Slot, sets: &[ReleaseSet]) -> Result<(), BackendError>;

    /// The slot's instances as observed now.
    async fn observe(&self, slot: &Slot) -> Result<Vec<ObservedInstance>, BackendError>;

    /// Every slot that has desired or observed instances (for the router feeder and
    /// start-up reconciliation).
    async fn slots(&self) -> Result<Vec<Slot>, BackendError>;

    /// Run `task` (a pre-release hook) once to completion from `set`'s files, its output
    /// lines into `log`, within `deadline`.
    async fn run_task(
        &self,
        slot: &Slot,
        set: &ReleaseSet,
        task: InstanceSpec,
        log: LogSink,
        deadline: Duration,
    ) -> Result<TaskOutcome, BackendError>;

    /// An instance's log from byte `offset` (the previous process's when `previous`), at
    /// most `max` bytes.
    async fn read_log(
        &self,
        instance: &InstanceId,
        previous: bool,
        offset: u64,
        max: usize,
    ) -> Result<LogChunk, BackendError>;

    /// A counter that changes whenever anything observed changes; the reconciler and the
    /// router feeder wait on it instead of polling.
    fn subscribe(&self) -> tokio::sync::watch::Receiver<u64>;
}

/// The id of one instance, the same for every backend (the driver waits for these ids):
/// readable start, hash of everything that makes it unique (a DNS label of at most 30
/// characters, as agents name log directories after it).
pub fn instance_id(
    slot: &Slot,
    set: &ReleaseSet,
    process: &ProcessType,
    ordinal: u32,
) -> InstanceId {
    let mut h = Sha256::new();
    for part in [
        slot.app.as_str(),
        slot.module.as_str(),
        slot.env.as_str(),
        set.release.as_str(),
        &set.generation.to_string(),
        process.as_str(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let digest = hex::encode(h.finalize());
    let id = format!("{}-{ordinal}-{}", process.as_str(), &digest[..12]);
    // Process types are `^[a-z0-9]([-a-z0-9])*$` and at most 12 characters, so this parses.
    InstanceId::parse(&id).unwrap_or_else(|_| {
        InstanceId::parse(&format!("i{}", &digest[..16])).unwrap_or_else(|_| unreachable_id())
    })
}

#[allow(clippy::expect_used)]
fn unreachable_id() -> InstanceId {
    InstanceId::parse("invalid").expect("a constant valid id")
}
