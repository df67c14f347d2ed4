//! The supervisor: keeps this host's instances converged to the desired list.
//!
//! Each instance has one task ([`instance`]) that owns its process: start, probes,
//! restart with back-off, stop. The supervisor only holds a table of those tasks, each
//! with a watch channel of its desired spec (latest wins, none lost) and one of its
//! observed status. `converge` edits desired specs and returns at once; the tasks do the
//! slow work (grace periods) and report through their status. An instance task that has
//! stopped removes itself from the table under the table's lock, so re-adding an instance
//! while it stops is never lost.

mod instance;
mod prober;

use std::collections::{HashMap, HashSet};
use std::ops::RangeInclusive;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bk_core::clock::Clock;
use bk_core::instance::{InstanceId, InstanceSpec, InstanceState, InstanceStatus, PortSpec};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::AgentError;
use crate::backoff::BackoffPolicy;
use crate::logs::LogStore;
use crate::ports::PortAllocator;
use crate::release::ReleaseDirs;
use crate::runner::ProcessRunner;

/// Settings of a supervisor.
#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    /// This agent's name, reported in every status.
    pub host: String,
    /// Ports handed out as `PORT`.
    pub ports: RangeInclusive<u16>,
    /// Restart delays.
    pub backoff: BackoffPolicy,
    /// Readiness check interval of a starting instance, until its first pass.
    pub startup_probe_interval: Duration,
}

impl SupervisorConfig {
    /// Defaults for `host`: ports 20000–29999 (below Linux's ephemeral range), default
    /// back-off, 100 ms start-up probing.
    pub fn new(host: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            ports: 20_000..=29_999,
            backoff: BackoffPolicy::default(),
            startup_probe_interval: Duration::from_millis(100),
        }
    }
}

/// What a `converge` call changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConvergeReport {
    /// Instances that were not running and now start.
    pub started: Vec<InstanceId>,
    /// Instances whose spec changed: the old process stops, then the new one starts.
    pub replaced: Vec<InstanceId>,
    /// Instances no longer wanted, now stopping.
    pub stopping: Vec<InstanceId>,
    /// Instances already as desired.
    pub unchanged: usize,
}

/// Runs and watches the instances of one agent.
#[derive(Debug, Clone)]
pub struct Supervisor {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    config: SupervisorConfig,
    runner: Arc<dyn ProcessRunner>,
    releases: Arc<dyn ReleaseDirs>,
    logs: LogStore,
    ports: PortAllocator,
    clock: Arc<dyn Clock>,
    /// Numbers process starts, to name cgroups and containers uniquely.
    starts: AtomicU64,
    table: Mutex<Table>,
    /// Bumped on every status change of any instance (the agent heartbeats at once).
    changes: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct Table {
    entries: HashMap<InstanceId, Entry>,
    closed: bool,
}

#[derive(Debug)]
struct Entry {
    desired: watch::Sender<Option<InstanceSpec>>,
    status: watch::Receiver<InstanceStatus>,
    task: Option<JoinHandle<()>>,
}

impl Supervisor {
    /// A supervisor running processes with `runner`, from the release directories of
    /// `releases`, logging into `logs`, stamping times with `clock`.
    pub fn new(
        config: SupervisorConfig,
        runner: Arc<dyn ProcessRunner>,
        releases: Arc<dyn ReleaseDirs>,
        logs: LogStore,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AgentError> {
        let ports = PortAllocator::new(config.ports.clone())?;
        Ok(Self {
            shared: Arc::new(Shared {
                config,
                runner,
                releases,
                logs,
                ports,
                clock,
                starts: AtomicU64::new(0),
                table: Mutex::new(Table::default()),
                changes: watch::channel(0).0,
            }),
        })
    }

    /// Make the instances on this host exactly `desired`: start the missing, stop the
    /// extra, replace the changed. Either the whole list is accepted or nothing changes.
    /// Returns at once; statuses show the progress. Must be called within a Tokio runtime.
    pub fn converge(&self, desired: Vec<InstanceSpec>) -> Result<ConvergeReport, AgentError> {
        self.converge_with(desired.into_iter().map(|s| (s, false)).collect())
    }

    /// [`converge`](Self::converge) where each spec says whether it is a one-off task
    /// (`true`: run once, never restarted, ends `stopped` with its exit recorded).
    pub fn converge_with(
        &self,
        desired: Vec<(InstanceSpec, bool)>,
    ) -> Result<ConvergeReport, AgentError> {
        let once: HashSet<InstanceId> = desired
            .iter()
            .filter(|(_, o)| *o)
            .map(|(s, _)| s.id.clone())
            .collect();
        let desired: Vec<InstanceSpec> = desired.into_iter().map(|(s, _)| s).collect();
        check_list(&desired)?;
        let wanted: HashSet<&InstanceId> = desired.iter().map(|s| &s.id).collect();
        let mut table = self.shared.table();
        if table.closed {
            return Err(AgentError::ShuttingDown);
        }
        let mut report = ConvergeReport::default();
        for (id, entry) in &table.entries {
            if !wanted.contains(id) && set_desired(&entry.desired, None) == Change::Modified {
                report.stopping.push(id.clone());
            }
        }
        for spec in desired {
            let id = spec.id.clone();
            match table.entries.get(&id) {
                Some(entry) => match set_desired(&entry.desired, Some(spec)) {
                    Change::Modified => report.replaced.push(id),
                    Change::Revived => report.started.push(id),
                    Change::Unchanged => report.unchanged += 1,
                },
                None => {
                    let entry = self.spawn(spec, once.contains(&id));
                    table.entries.insert(id.clone(), entry);
                    report.started.push(id);
                }
            }
        }
        report.stopping.sort();
        Ok(report)
    }

    /// Run `spec`, replacing the instance of the same id if its spec differs; the other
    /// instances are left alone.
    pub fn run(&self, spec: InstanceSpec) -> Result<(), AgentError> {
        check_list(std::slice::from_ref(&spec))?;
        let mut table = self.shared.table();
        if table.closed {
            return Err(AgentError::ShuttingDown);
        }
        match table.entries.get(&spec.id) {
            Some(entry) => {
                set_desired(&entry.desired, Some(spec));
            }
            None => {
                let id = spec.id.clone();
                let entry = self.spawn(spec, false);
                table.entries.insert(id, entry);
            }
        }
        Ok(())
    }

    /// Stop and forget instance `id` (returns once the stop has begun).
    pub fn remove(&self, id: &InstanceId) -> Result<(), AgentError> {
        let table = self.shared.table();
        let entry = table
            .entries
            .get(id)
            .ok_or_else(|| AgentError::NotFound(id.to_string()))?;
        set_desired(&entry.desired, None);
        Ok(())
    }

    /// The status of every instance, by id.
    pub fn statuses(&self) -> Vec<InstanceStatus> {
        let table = self.shared.table();
        let mut out: Vec<InstanceStatus> = table
            .entries
            .values()
            .map(|e| e.status.borrow().clone())
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// The status of one instance.
    pub fn status(&self, id: &InstanceId) -> Option<InstanceStatus> {
        self.shared
            .table()
            .entries
            .get(id)
            .map(|e| e.status.borrow().clone())
    }

    /// A receiver that sees every status change of `id` (for reporting to the engine, and
    /// for tests that wait for a state without polling).
    pub fn subscribe(&self, id: &InstanceId) -> Option<watch::Receiver<InstanceStatus>> {
        self.shared
            .table()
            .entries
            .get(id)
            .map(|e| e.status.clone())
    }

    /// The instance logs.
    pub fn logs(&self) -> &LogStore {
        &self.shared.logs
    }

    /// The runner's kind and what it enforces, for the agent's report.
    pub fn runner_summary(&self) -> String {
        format!(
            "{}: {}",
            self.shared.runner.kind(),
            self.shared.runner.limits_summary()
        )
    }

    /// Stop every instance gracefully and accept no more work; returns when nothing of any
    /// instance runs (what the agent does on SIGTERM).
    pub async fn shutdown(&self) {
        let tasks: Vec<JoinHandle<()>> = {
            let mut table = self.shared.table();
            table.closed = true;
            table
                .entries
                .values_mut()
                .filter_map(|e| {
                    e.desired.send_replace(None);
                    e.task.take()
                })
                .collect()
        };
        for task in tasks {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "an instance task failed during shutdown");
            }
        }
    }

    /// A counter bumped on every status change of any instance.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.shared.changes.subscribe()
    }

    fn spawn(&self, spec: InstanceSpec, once: bool) -> Entry {
        let status = InstanceStatus {
            id: spec.id.clone(),
            release_id: spec.release_id.clone(),
            state: InstanceState::Starting,
            reason: None,
            pid: None,
            port: None,
            restarts: 0,
            started_at_ms: None,
            last_exit: None,
            host: self.shared.config.host.clone(),
        };
        let (status_tx, status_rx) = watch::channel(status);
        let (desired_tx, desired_rx) = watch::channel(Some(spec.clone()));
        let actor = instance::Actor::new(self.shared.clone(), spec.id, desired_rx, status_tx, once);
        Entry {
            desired: desired_tx,
            status: status_rx,
            task: Some(tokio::spawn(actor.run())),
        }
    }
}

impl Shared {
    fn table(&self) -> MutexGuard<'_, Table> {
        // Every table update is a single insert, remove or flag: a panic elsewhere cannot
        // leave it half-changed.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remove instance `id` if it is still not wanted; `false` if it was wanted again
    /// meanwhile (its task then carries on with the new spec).
    fn retire(&self, id: &InstanceId, desired: &watch::Receiver<Option<InstanceSpec>>) -> bool {
        let mut table = self.table();
        if desired.borrow().is_some() {
            return false;
        }
        table.entries.remove(id);
        true
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Change {
    Unchanged,
    Modified,
    /// It was stopping for removal and is wanted again.
    Revived,
}

fn set_desired(tx: &watch::Sender<Option<InstanceSpec>>, new: Option<InstanceSpec>) -> Change {
    let mut change = Change::Unchanged;
    tx.send_if_modified(|cur| {
        if *cur == new {
            return false;
        }
        change = if cur.is_none() {
            Change::Revived
        } else {
            Change::Modified
        };
        *cur = new;
        true
    });
    change
}

/// Every spec valid, ids unique, fixed ports not asked twice.
fn check_list(specs: &[InstanceSpec]) -> Result<(), AgentError> {
    let mut ids = HashSet::new();
    let mut ports = HashMap::new();
    for spec in specs {
        spec.validate()
            .map_err(|e| AgentError::Invalid(format!("instance {}: {e}", spec.id)))?;
        if !ids.insert(&spec.id) {
            return Err(AgentError::Invalid(format!(
                "instance {} appears twice",
                spec.id
            )));
        }
        if let PortSpec::Fixed { port } = spec.port
            && let Some(other) = ports.insert(port, &spec.id)
        {
            return Err(AgentError::Invalid(format!(
                "instances {other} and {} both ask for port {port}",
                spec.id
            )));
        }
    }
    Ok(())
}
