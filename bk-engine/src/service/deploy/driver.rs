//! The driver: moves one deployment (or offline) through its states against the backend.
//!
//! Each step is one persisted transition. The whole run races the deployment's deadline
//! and its cancel signal; whichever way it ends short of success, the slot is put back to
//! what it served before (the previous release keeps serving, or nothing if there was
//! none), and the terminal transition restores the app's V6 state, in one transaction.

use std::sync::Arc;

use bk_core::instance::{InstanceSpec, PortSpec, ProcessCommand};

use super::super::EngineService;
use super::rollout::ids;
use super::specs::slot_of;
use crate::deploy::backend::{ReleaseSet, Slot};
use crate::error::{EngineError, Result};
use crate::model::{
    AppState, DeployState, Deployment, OperationKind, Release, SlotRecord, Transition,
};

/// How a run ended short of success.
enum Stop {
    Failed(String),
    Cancelled,
    TimedOut,
}

impl From<EngineError> for Stop {
    fn from(e: EngineError) -> Self {
        Stop::Failed(match e {
            EngineError::Internal(_) | EngineError::Db(_) => {
                tracing::error!(error = %e, "deployment step failed");
                "an internal error stopped the deployment; see the engine log".into()
            }
            other => other.to_string(),
        })
    }
}

struct Run {
    svc: Arc<EngineService>,
    d: Deployment,
    slot: Slot,
    /// What the slot served before (restored on failure).
    before: Option<SlotRecord>,
    old_set: Option<ReleaseSet>,
}

impl Run {
    async fn step(&mut self, to: DeployState, reason: Option<String>) -> Result<()> {
        let t = Transition {
            id: self.d.id.clone(),
            from: self.d.state,
            to,
            reason,
            at: self.svc.clock.now_ms(),
            app_state: None,
            slot: None,
        };
        self.d = self.svc.stores.deployments.transition(&t).await?;
        Ok(())
    }

    async fn log(&self, line: String) {
        let at = self.svc.clock.now_ms();
        if let Err(e) = self
            .svc
            .stores
            .deployments
            .append_log(&self.d.id, at, &[line])
            .await
        {
            tracing::warn!(error = %e, "deploy log write failed");
        }
    }

    fn record(&self, release: Option<&ReleaseSet>) -> SlotRecord {
        SlotRecord {
            app_code: self.d.app_code.clone(),
            module: self.d.module.clone(),
            env: self.d.env,
            release_id: release.map(|s| s.release.as_str().to_owned()),
            generation: release.map_or(0, |s| s.generation),
            replicas: release
                .map(|s| {
                    s.processes
                        .iter()
                        .map(|p| (p.process_type.as_str().to_owned(), p.replicas))
                        .collect()
                })
                .unwrap_or_default(),
            stopped: false,
            updated_at: self.svc.clock.now_ms(),
        }
    }

    async fn deploy(&mut self) -> std::result::Result<SlotRecord, Stop> {
        let rt = self.svc.runtime()?.clone();
        self.step(DeployState::Validating, None).await?;
        let release_id = self.d.release_id.clone().unwrap_or_default();
        let release: Release = self
            .svc
            .stores
            .releases
            .release(&release_id)
            .await?
            .ok_or_else(|| Stop::Failed(format!("release {release_id} is gone")))?;
        let digest = crate::package::PackageDigest::parse(&release.package_digest)
            .map_err(|e| Stop::Failed(format!("package digest: {e}")))?;
        if !rt.packages.contains(&digest).await.unwrap_or(false) {
            return Err(Stop::Failed(format!(
                "package {} is not in the package store; upload it again",
                release.package_digest
            )));
        }
        // The same release again (a redeploy) gets a new generation, so old and new
        // instances can run side by side.
        let generation = match &self.before {
            Some(b) if b.release_id.as_deref() == Some(release.id.as_str()) => b.generation + 1,
            _ => 0,
        };
        let new = self
            .svc
            .release_set(&release, generation, &Default::default())
            .await?;
        self.log(format!(
            "release {} (version {}): {}",
            release.id,
            if release.version.is_empty() {
                "-"
            } else {
                &release.version
            },
            new.processes
                .iter()
                .map(|p| format!("{}×{}", p.process_type, p.replicas))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .await;

        if let Some(hook) = release.formation.pre_release_hook.clone() {
            self.step(DeployState::PreRelease, Some(format!("running: {hook}")))
                .await?;
            self.run_hook(&rt, &new, &hook).await?;
        }

        self.step(DeployState::Starting, None).await?;
        let mut sets: Vec<ReleaseSet> = self.old_set.iter().cloned().collect();
        sets.push(new.clone());
        rt.backend
            .apply(&self.slot, &sets)
            .await
            .map_err(|e| Stop::Failed(format!("starting instances: {e}")))?;

        self.step(DeployState::HealthChecking, None).await?;
        if let Err(e) = rt.wait_ready(&self.slot, &new).await {
            if let Some(id) = &e.1 {
                let tail = rt.output_tail(id).await;
                if !tail.is_empty() {
                    let at = self.svc.clock.now_ms();
                    let _ = self
                        .svc
                        .stores
                        .deployments
                        .append_log(&self.d.id, at, &tail)
                        .await;
                }
            }
            return Err(Stop::Failed(e.0));
        }

        self.step(DeployState::Switching, None).await?;
        rt.switch(&self.slot, Some(&new)).await;

        self.step(DeployState::Draining, None).await?;
        if let Some(old) = &self.old_set {
            for late in rt.drain(&ids(&self.slot, old)).await {
                self.log(format!("drain timed out: {late}")).await;
            }
        }
        rt.backend
            .apply(&self.slot, std::slice::from_ref(&new))
            .await
            .map_err(|e| Stop::Failed(format!("stopping old instances: {e}")))?;
        Ok(self.record(Some(&new)))
    }

    async fn run_hook(
        &mut self,
        rt: &super::DeployRuntime,
        set: &ReleaseSet,
        hook: &str,
    ) -> std::result::Result<(), Stop> {
        let Some(first) = set.processes.first() else {
            return Err(Stop::Failed(
                "the release has no process to take the hook's environment from".into(),
            ));
        };
        let mut task: InstanceSpec = first.template.clone();
        task.command = ProcessCommand::Shell(hook.to_owned());
        task.port = PortSpec::None;
        task.readiness = None;
        task.liveness = None;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(256);
        let svc = self.svc.clone();
        let id = self.d.id.clone();
        let writer = tokio::spawn(async move {
            while let Some(line) = rx.recv().await {
                let mut batch = vec![format!("hook: {line}")];
                while let Ok(more) = rx.try_recv() {
                    batch.push(format!("hook: {more}"));
                }
                let at = svc.clock.now_ms();
                let _ = svc.stores.deployments.append_log(&id, at, &batch).await;
            }
        });
        let outcome = rt
            .backend
            .run_task(&self.slot, set, task, tx, rt.hook_timeout())
            .await;
        let _ = writer.await;
        let outcome = outcome.map_err(|e| Stop::Failed(format!("pre-release hook: {e}")))?;
        if !outcome.success {
            return Err(Stop::Failed(format!(
                "pre-release hook failed: {}",
                outcome.reason.unwrap_or_else(|| "unknown".into())
            )));
        }
        Ok(())
    }

    async fn offline(&mut self) -> std::result::Result<SlotRecord, Stop> {
        let rt = self.svc.runtime()?.clone();
        self.step(
            DeployState::Draining,
            Some("taking the module offline".into()),
        )
        .await?;
        rt.switch(&self.slot, None).await;
        if let Some(old) = &self.old_set {
            for late in rt.drain(&ids(&self.slot, old)).await {
                self.log(format!("drain timed out: {late}")).await;
            }
        }
        rt.backend
            .apply(&self.slot, &[])
            .await
            .map_err(|e| Stop::Failed(format!("stopping instances: {e}")))?;
        Ok(self.record(None))
    }

    /// Put the slot back to what it served before.
    async fn restore(&self) {
        let Ok(rt) = self.svc.runtime() else { return };
        let sets: Vec<ReleaseSet> = self.old_set.iter().cloned().collect();
        rt.switch(&self.slot, self.old_set.as_ref()).await;
        if let Err(e) = rt.backend.apply(&self.slot, &sets).await {
            tracing::error!(error = %e, app = self.slot.app.as_str(), "restoring the previous release failed");
        }
    }
}

impl EngineService {
    /// Tell the router feeder which module `/t/<code>/` and `/o/<code>/` serve.
    pub(super) async fn feed_default_module(&self, code: &str) -> Result<()> {
        let rt = self.runtime()?;
        if let Some(m) = self
            .stores
            .modules
            .modules(code)
            .await?
            .into_iter()
            .find(|m| m.is_default)
        {
            rt.feeder.set_default_module(code, m.name.as_str());
        }
        Ok(())
    }
}

/// Whether the offline moved the app to "going offline" when it started (prod of an
/// online app).
pub(super) fn going_offline(d: &Deployment) -> bool {
    d.kind == OperationKind::Offline
        && d.env == crate::model::Env::Prod
        && d.prev_app_state == AppState::Online
}

impl EngineService {
    /// Drive deployment `d` to a terminal state (the reconciler spawns this).
    pub(super) async fn drive(self: Arc<Self>, d: Deployment) {
        let id = d.id.clone();
        if let Err(e) = self.clone().drive_inner(d).await {
            tracing::error!(error = %e, deployment = id.as_str(), "deployment driver failed");
        }
        if let Ok(rt) = self.runtime() {
            rt.forget(&id);
        }
    }

    async fn drive_inner(self: Arc<Self>, d: Deployment) -> Result<()> {
        let rt = self.runtime()?.clone();
        let slot = slot_of(&d.app_code, &d.module, d.env)?;
        self.feed_default_module(d.app_code.as_str()).await?;
        let lock = rt.slot_lock(&slot);
        let _held = lock.lock().await;
        let mut cancel = rt.cancel_rx(&d.id);
        let before = self
            .stores
            .deployments
            .slot(d.app_code.as_str(), &d.module, d.env)
            .await?;
        let old_set = match &before {
            Some(b) => self.serving_set(b).await?,
            None => None,
        };
        let deadline_ms = d.deadline_at.saturating_sub(self.clock.now_ms());
        let kind = d.kind;
        let prev_app_state = d.prev_app_state;
        let cancel_requested = d.cancel_requested;
        let mut run = Run {
            svc: self.clone(),
            d,
            slot,
            before,
            old_set,
        };
        let outcome = if cancel_requested {
            Err(Stop::Cancelled)
        } else {
            let work = async {
                match kind {
                    OperationKind::Deploy => run.deploy().await,
                    OperationKind::Offline => run.offline().await,
                }
            };
            tokio::select! {
                r = work => r,
                _ = cancel.wait_for(|c| *c) => Err(Stop::Cancelled),
                _ = tokio::time::sleep(std::time::Duration::from_millis(u64::try_from(deadline_ms).unwrap_or(0))) => Err(Stop::TimedOut),
            }
        };
        let app_deploying = AppState::deploying(run.d.env);
        let (to, reason, app_state, slot_record) = match outcome {
            Ok(record) => {
                let app_state = match kind {
                    OperationKind::Deploy => Some((app_deploying, AppState::deployed(run.d.env))),
                    OperationKind::Offline => {
                        going_offline(&run.d).then_some((AppState::GoingOffline, AppState::Offline))
                    }
                };
                (DeployState::Succeeded, None, app_state, Some(record))
            }
            Err(stop) => {
                run.restore().await;
                let (to, reason) = match stop {
                    Stop::Failed(r) => (DeployState::Failed, r),
                    Stop::Cancelled => (
                        DeployState::Cancelled,
                        "cancelled on request; the previous release keeps serving".into(),
                    ),
                    Stop::TimedOut => (
                        DeployState::TimedOut,
                        "the deployment ran past its deadline; the previous release keeps serving"
                            .into(),
                    ),
                };
                let app_state = match kind {
                    OperationKind::Deploy => Some((app_deploying, prev_app_state)),
                    OperationKind::Offline => {
                        going_offline(&run.d).then_some((AppState::GoingOffline, prev_app_state))
                    }
                };
                (to, Some(reason), app_state, None)
            }
        };
        // A cancel or the deadline may have cut a step between its commit and our copy.
        let from = match self.stores.deployments.deployment(&run.d.id).await? {
            Some(cur) => cur.state,
            None => run.d.state,
        };
        let t = Transition {
            id: run.d.id.clone(),
            from,
            to,
            reason,
            at: self.clock.now_ms(),
            app_state,
            slot: slot_record,
        };
        self.stores.deployments.transition(&t).await?;
        Ok(())
    }
}
