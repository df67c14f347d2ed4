//! Releases and deployments: the service methods (upload, deploy, rollback, cancel,
//! offline, processes, logs) and the driver that moves each deployment through its states
//! against a [`DeployBackend`].
//!
//! The deploy machinery is attached to the service after it is built
//! ([`EngineService::attach_deploy`]), because the driver needs the service (app secrets,
//! stores) and the service needs the driver to start deployments. Without it, deploy calls
//! answer 503. See ARCHITECTURE.md, "The deployment state machine".

mod compat;
mod driver;
mod ops;
mod processes;
mod reconciler;
mod rollout;
mod specs;
mod upload;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use super::EngineService;
use crate::deploy::backend::{DeployBackend, Slot};
use crate::deploy::feeder::RouteFeeder;
use crate::deploy::packages::PackageStore;
use crate::error::{EngineError, Result};

pub use compat::{EventLog, Released};
pub use ops::{DeployRequest, DeploymentView, InstanceView, LogsView};
pub use processes::LogRead;
pub use upload::{MAX_PACKAGE_BYTES, UploadedView};

/// Times of the deploy machinery.
#[derive(Debug, Clone)]
pub struct DeploySettings {
    /// A deployment that has not ended after this long ends `timed_out`.
    pub deploy_timeout: Duration,
    /// New instances must all be ready within this long, or the deployment fails.
    pub ready_timeout: Duration,
    /// Longest wait for requests on an old instance to finish before it is stopped.
    pub drain_timeout: Duration,
    /// Longest run of a pre-release hook.
    pub hook_timeout: Duration,
    /// Time between SIGTERM and SIGKILL for app processes.
    pub grace_ms: u64,
}

impl Default for DeploySettings {
    fn default() -> Self {
        Self {
            deploy_timeout: Duration::from_secs(15 * 60),
            ready_timeout: Duration::from_secs(120),
            drain_timeout: Duration::from_secs(30),
            hook_timeout: Duration::from_secs(10 * 60),
            grace_ms: 10_000,
        }
    }
}

/// What deploying runs on.
pub struct DeployRuntime {
    backend: Arc<dyn DeployBackend>,
    packages: Arc<dyn PackageStore>,
    feeder: Arc<RouteFeeder>,
    settings: DeploySettings,
    /// One operation at a time per slot (deployments, scale, restart...).
    slot_locks: Mutex<HashMap<Slot, Arc<tokio::sync::Mutex<()>>>>,
    /// Cancel signals of running deployments.
    cancels: Mutex<HashMap<String, watch::Sender<bool>>>,
    /// Driver tasks, so tests and shutdown can wait for them.
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl DeployRuntime {
    /// Deploy machinery over `backend`, taking packages from `packages`, publishing routes
    /// through `feeder`.
    pub fn new(
        backend: Arc<dyn DeployBackend>,
        packages: Arc<dyn PackageStore>,
        feeder: Arc<RouteFeeder>,
        settings: DeploySettings,
    ) -> Self {
        Self {
            backend,
            packages,
            feeder,
            settings,
            slot_locks: Mutex::new(HashMap::new()),
            cancels: Mutex::new(HashMap::new()),
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// The backend.
    pub fn backend(&self) -> &Arc<dyn DeployBackend> {
        &self.backend
    }

    /// The router feeder.
    pub fn feeder(&self) -> &Arc<RouteFeeder> {
        &self.feeder
    }

    fn slot_lock(&self, slot: &Slot) -> Arc<tokio::sync::Mutex<()>> {
        lock(&self.slot_locks)
            .entry(slot.clone())
            .or_default()
            .clone()
    }

    fn cancel_rx(&self, id: &str) -> watch::Receiver<bool> {
        lock(&self.cancels)
            .entry(id.to_owned())
            .or_insert_with(|| watch::channel(false).0)
            .subscribe()
    }

    fn cancel(&self, id: &str) {
        lock(&self.cancels)
            .entry(id.to_owned())
            .or_insert_with(|| watch::channel(false).0)
            .send_replace(true);
    }

    fn forget(&self, id: &str) {
        lock(&self.cancels).remove(id);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl EngineService {
    /// Attach the deploy machinery and start the reconciler: deployments left unfinished by
    /// a previous engine process end in a true state, serving slots are re-applied, and the
    /// router feeder starts. Call once, from within a Tokio runtime.
    pub async fn attach_deploy(self: &Arc<Self>, rt: DeployRuntime) -> Result<()> {
        if self.deploy.set(Arc::new(rt)).is_err() {
            return Err(EngineError::Internal(
                "deploy machinery attached twice".into(),
            ));
        }
        self.reconcile_at_start().await
    }

    pub(crate) fn runtime(&self) -> Result<&Arc<DeployRuntime>> {
        self.deploy.get().ok_or_else(|| {
            EngineError::Unavailable("deploying is not enabled on this engine".into())
        })
    }

    /// Abort every running deployment driver, leaving their deployments as a crash would
    /// (the next engine's reconciler ends them). For tests of exactly that.
    pub fn abort_deployments(&self) {
        if let Ok(rt) = self.runtime() {
            for t in lock(&rt.tasks).drain(..) {
                t.abort();
            }
        }
    }

    /// Wait until every deployment driver started so far has finished (tests, shutdown).
    pub async fn wait_for_deployments(&self) {
        let Ok(rt) = self.runtime() else { return };
        loop {
            let tasks: Vec<_> = lock(&rt.tasks).drain(..).collect();
            if tasks.is_empty() {
                return;
            }
            for t in tasks {
                let _ = t.await;
            }
        }
    }
}
