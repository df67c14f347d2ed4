//! [`LocalBackend`]: the [`DeployBackend`] of `bk up`: instances run on this host under an
//! in-process `bk_agent::Supervisor`.
//!
//! `apply` keeps every slot's release sets and converges the supervisor to the union of
//! all of them (the supervisor wants the complete list of the host). Before that, each
//! release's package is unpacked from the [`PackageStore`] into the supervisor's
//! [`ReleaseLayout`](bk_agent::ReleaseLayout) directory, after checking its digest, whole or
//! not at all. Statuses come from the supervisor; `subscribe` counts every status change of
//! every instance (one small forwarding task per instance), so the reconciler and the
//! router feeder wait on changes instead of polling. Hooks run as direct child processes in
//! the release directory; logs are read from the supervisor's log store.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use bk_agent::{LogStore, Supervisor, Which};
use bk_core::instance::{InstanceId, InstanceSpec, ProcessType};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use super::backend::instance_id;
use super::backend::{
    BackendError, DeployBackend, LogChunk, LogSink, ObservedInstance, ReleaseSet, Slot, TaskOutcome,
};
use super::packages::PackageStore;
use crate::package::{Limits, PackageDigest};

#[derive(Debug, Clone)]
struct Meta {
    slot: Slot,
    process_type: ProcessType,
    generation: u32,
    ordinal: u32,
}

#[derive(Default)]
struct State {
    sets: BTreeMap<Slot, Vec<ReleaseSet>>,
    meta: HashMap<InstanceId, Meta>,
    watchers: HashMap<InstanceId, JoinHandle<()>>,
}

/// Instances on this host, under an in-process supervisor.
pub struct LocalBackend {
    sup: Supervisor,
    packages: Arc<dyn PackageStore>,
    releases_root: PathBuf,
    limits: Limits,
    host: String,
    state: Mutex<State>,
    apply_lock: tokio::sync::Mutex<()>,
    changes: watch::Sender<u64>,
}

impl std::fmt::Debug for LocalBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalBackend")
            .field("releases_root", &self.releases_root)
            .finish_non_exhaustive()
    }
}

impl LocalBackend {
    /// A backend over `sup`, whose release directories are `releases_root` (the root its
    /// `ReleaseLayout` was made with), fetching packages from `packages`.
    pub fn new(
        sup: Supervisor,
        releases_root: impl Into<PathBuf>,
        packages: Arc<dyn PackageStore>,
        host: impl Into<String>,
    ) -> Self {
        Self {
            sup,
            packages,
            releases_root: releases_root.into(),
            limits: Limits::default(),
            host: host.into(),
            state: Mutex::new(State::default()),
            apply_lock: tokio::sync::Mutex::new(()),
            changes: watch::channel(0).0,
        }
    }

    /// The supervisor (to shut it down with the platform).
    pub fn supervisor(&self) -> &Supervisor {
        &self.sup
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bump(&self) {
        self.changes.send_modify(|c| *c = c.wrapping_add(1));
    }

    fn release_dir(&self, slot: &Slot, set: &ReleaseSet) -> PathBuf {
        self.releases_root
            .join(slot.app.as_str())
            .join(slot.module.as_str())
            .join(set.release.as_str())
    }

    /// Unpack `set`'s package unless its directory exists (a release directory appears
    /// only complete: unpacking renames it into place).
    async fn ensure_unpacked(&self, slot: &Slot, set: &ReleaseSet) -> Result<(), BackendError> {
        let dir = self.release_dir(slot, set);
        if tokio::fs::try_exists(&dir).await.unwrap_or(false) {
            return Ok(());
        }
        let digest = PackageDigest::parse(&set.package.sha256)
            .map_err(|e| BackendError::Invalid(format!("package digest: {e}")))?;
        let (mut file, _) = self
            .packages
            .open(&digest)
            .await
            .map_err(|e| BackendError::Internal(format!("open package: {e}")))?
            .ok_or_else(|| BackendError::NotFound(format!("package {}", digest.as_str())))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .await
            .map_err(|e| BackendError::Internal(format!("read package: {e}")))?;
        if PackageDigest::of_bytes(&bytes) != digest {
            return Err(BackendError::Invalid(format!(
                "package {} does not match its digest; upload it again",
                digest.as_str()
            )));
        }
        let limits = self.limits.clone();
        tokio::task::spawn_blocking(move || -> Result<(), BackendError> {
            if let Some(parent) = dir.parent() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    BackendError::Internal(format!("create {}: {e}", parent.display()))
                })?;
            }
            match crate::package::unpack(&bytes[..], &dir, &limits) {
                Ok(_) => Ok(()),
                // Another apply unpacked it meanwhile.
                Err(_) if dir.exists() => Ok(()),
                Err(e) => Err(BackendError::Invalid(format!("package: {e}"))),
            }
        })
        .await
        .map_err(|e| BackendError::Internal(format!("unpack task: {e}")))?
    }

    fn specs(
        sets: &BTreeMap<Slot, Vec<ReleaseSet>>,
    ) -> (Vec<InstanceSpec>, HashMap<InstanceId, Meta>) {
        let mut specs = Vec::new();
        let mut meta = HashMap::new();
        for (slot, sets) in sets {
            for set in sets {
                for p in &set.processes {
                    for ordinal in 0..p.replicas {
                        let id = instance_id(slot, set, &p.process_type, ordinal);
                        let mut spec = p.template.clone();
                        spec.id = id.clone();
                        meta.insert(
                            id,
                            Meta {
                                slot: slot.clone(),
                                process_type: p.process_type.clone(),
                                generation: set.generation,
                                ordinal,
                            },
                        );
                        specs.push(spec);
                    }
                }
            }
        }
        (specs, meta)
    }

    fn watch_new(&self, state: &mut State) {
        state.watchers.retain(|_, h| !h.is_finished());
        let ids: Vec<InstanceId> = state.meta.keys().cloned().collect();
        for id in ids {
            if state.watchers.contains_key(&id) {
                continue;
            }
            let Some(mut rx) = self.sup.subscribe(&id) else {
                continue;
            };
            let changes = self.changes.clone();
            let task = tokio::spawn(async move {
                while rx.changed().await.is_ok() {
                    changes.send_modify(|c| *c = c.wrapping_add(1));
                }
                // The instance is gone from the supervisor.
                changes.send_modify(|c| *c = c.wrapping_add(1));
            });
            state.watchers.insert(id, task);
        }
    }
}

fn agent_err(e: bk_agent::AgentError) -> BackendError {
    match e {
        bk_agent::AgentError::Invalid(s) => BackendError::Invalid(s),
        bk_agent::AgentError::NotFound(s) => BackendError::NotFound(s),
        bk_agent::AgentError::PortsExhausted { .. } => BackendError::NoCapacity(e.to_string()),
        bk_agent::AgentError::ShuttingDown => BackendError::Unavailable(e.to_string()),
        other => BackendError::Internal(other.to_string()),
    }
}

#[async_trait]
impl DeployBackend for LocalBackend {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn apply(&self, slot: &Slot, sets: &[ReleaseSet]) -> Result<(), BackendError> {
        let _one_at_a_time = self.apply_lock.lock().await;
        for set in sets {
            self.ensure_unpacked(slot, set).await?;
        }
        let mut all = self.state().sets.clone();
        if sets.is_empty() {
            all.remove(slot);
        } else {
            all.insert(slot.clone(), sets.to_vec());
        }
        let (specs, meta) = Self::specs(&all);
        self.sup.converge(specs).map_err(agent_err)?;
        {
            let mut state = self.state();
            state.sets = all;
            // Keep what we knew of instances still stopping, so observe shows them.
            let statuses: std::collections::HashSet<InstanceId> =
                self.sup.statuses().into_iter().map(|s| s.id).collect();
            let mut merged: HashMap<InstanceId, Meta> = state
                .meta
                .drain()
                .filter(|(id, _)| statuses.contains(id))
                .collect();
            merged.extend(meta);
            state.meta = merged;
            self.watch_new(&mut state);
        }
        self.bump();
        Ok(())
    }

    async fn observe(&self, slot: &Slot) -> Result<Vec<ObservedInstance>, BackendError> {
        let statuses = self.sup.statuses();
        let state = self.state();
        Ok(statuses
            .into_iter()
            .filter_map(|status| {
                let meta = state.meta.get(&status.id)?;
                (meta.slot == *slot).then(|| ObservedInstance {
                    address: status.port.map(|p| format!("127.0.0.1:{p}")),
                    process_type: meta.process_type.clone(),
                    generation: meta.generation,
                    ordinal: meta.ordinal,
                    agent: self.host.clone(),
                    status,
                })
            })
            .collect())
    }

    async fn slots(&self) -> Result<Vec<Slot>, BackendError> {
        let statuses = self.sup.statuses();
        let state = self.state();
        let mut slots: Vec<Slot> = state.sets.keys().cloned().collect();
        for s in statuses {
            if let Some(m) = state.meta.get(&s.id) {
                slots.push(m.slot.clone());
            }
        }
        slots.sort();
        slots.dedup();
        Ok(slots)
    }

    async fn run_task(
        &self,
        slot: &Slot,
        set: &ReleaseSet,
        task: InstanceSpec,
        log: LogSink,
        deadline: Duration,
    ) -> Result<TaskOutcome, BackendError> {
        self.ensure_unpacked(slot, set).await?;
        let mut dir = self.release_dir(slot, set);
        for part in task.workdir.parts() {
            dir.push(part);
        }
        let argv = task.command.to_argv();
        let Some((program, args)) = argv.split_first() else {
            return Err(BackendError::Invalid("the task has no command".into()));
        };
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .current_dir(&dir)
            .env_clear()
            .envs(bk_agent::runner::native::inherited_env(&[
                "PATH", "LANG", "LC_ALL", "HOME",
            ]))
            .envs(task.env_vars.iter())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        let mut child = cmd.spawn().map_err(|e| {
            BackendError::Invalid(format!("cannot start the task in {}: {e}", dir.display()))
        })?;
        let mut pumps = Vec::new();
        if let Some(out) = child.stdout.take() {
            pumps.push(tokio::spawn(pump(BufReader::new(out), log.clone())));
        }
        if let Some(err) = child.stderr.take() {
            pumps.push(tokio::spawn(pump(BufReader::new(err), log.clone())));
        }
        let waited = tokio::time::timeout(deadline, child.wait()).await;
        let outcome = match waited {
            Ok(Ok(status)) => {
                use std::os::unix::process::ExitStatusExt;
                TaskOutcome {
                    success: status.success(),
                    exit: Some(bk_core::instance::ExitRecord {
                        code: status.code(),
                        signal: status.signal(),
                        at_ms: 0,
                    }),
                    reason: (!status.success()).then(|| match status.code() {
                        Some(c) => format!("exited with code {c}"),
                        None => "killed by a signal".to_owned(),
                    }),
                }
            }
            Ok(Err(e)) => return Err(BackendError::Internal(format!("wait for the task: {e}"))),
            Err(_) => {
                if let Some(pid) = child.id() {
                    // The whole group: the hook's shell and what it started.
                    let _ = nix::sys::signal::killpg(
                        nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap_or(0)),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
                let _ = child.kill().await;
                TaskOutcome {
                    success: false,
                    exit: None,
                    reason: Some(format!("timed out after {} s", deadline.as_secs())),
                }
            }
        };
        for p in pumps {
            let _ = p.await;
        }
        Ok(outcome)
    }

    async fn read_log(
        &self,
        instance: &InstanceId,
        previous: bool,
        offset: u64,
        max: usize,
    ) -> Result<LogChunk, BackendError> {
        let logs: LogStore = self.sup.logs().clone();
        let id = instance.clone();
        let which = if previous {
            Which::Previous
        } else {
            Which::Current
        };
        let chunk = tokio::task::spawn_blocking(move || logs.read(&id, which, offset, max))
            .await
            .map_err(|e| BackendError::Internal(format!("log task: {e}")))?
            .map_err(agent_err)?
            .ok_or_else(|| BackendError::NotFound(format!("log of instance {instance}")))?;
        Ok(LogChunk {
            data: chunk.data,
            // Past the end (a tail asks from u64::MAX), continue from the end.
            next_offset: chunk.next.min(chunk.end),
            lost: chunk.skipped,
        })
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }
}

async fn pump<R: tokio::io::AsyncRead + Unpin>(r: BufReader<R>, log: LogSink) {
    let mut lines = r.lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if log.send(line).await.is_err() {
            break;
        }
    }
}
