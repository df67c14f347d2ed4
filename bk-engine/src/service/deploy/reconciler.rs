//! The reconciler: one per engine process. At start-up it puts every serving slot back on
//! the backend (a restarted `bk up` has no instances; agents keep theirs, so this changes
//! nothing there), then ends what a previous process left unfinished: a deployment still
//! `pending` is driven now; one that had started is failed with the reason (its slot was
//! just restored to the previous release, so that is the truth). None stays running.

use std::sync::Arc;

use super::super::EngineService;
use super::lock;
use super::specs::slot_of;
use crate::error::Result;
use crate::model::{AppState, DeployState, Deployment, OperationKind, Transition};

impl EngineService {
    pub(super) async fn reconcile_at_start(self: &Arc<Self>) -> Result<()> {
        let rt = self.runtime()?.clone();
        for record in self.stores.deployments.slot_records().await? {
            let slot = slot_of(&record.app_code, &record.module, record.env)?;
            self.feed_default_module(record.app_code.as_str()).await?;
            let set = match self.serving_set(&record).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, app = record.app_code.as_str(), "cannot rebuild a serving slot");
                    continue;
                }
            };
            let sets: Vec<_> = set.iter().cloned().collect();
            if let Err(e) = rt.backend.apply(&slot, &sets).await {
                tracing::error!(error = %e, app = record.app_code.as_str(), "cannot restore a serving slot");
            }
            match (&set, &record.release_id) {
                // Stopped: the route stays and answers 503 until started again.
                (None, Some(release)) if record.stopped => {
                    rt.switch_stopped(&slot, release).await;
                }
                _ => rt
                    .feeder
                    .set_serving(&slot, set.as_ref().map(super::rollout::serving)),
            }
        }
        rt.feeder.spawn();
        for d in self.stores.deployments.unfinished_deployments().await? {
            if d.state == DeployState::Pending {
                self.start_driver(d);
                continue;
            }
            let reason = format!(
                "the engine restarted while the {} was {}; the previous release keeps serving",
                d.kind.as_str(),
                d.state
            );
            let app_state = match d.kind {
                OperationKind::Deploy => Some((AppState::deploying(d.env), d.prev_app_state)),
                OperationKind::Offline => super::driver::going_offline(&d)
                    .then_some((AppState::GoingOffline, d.prev_app_state)),
            };
            let t = Transition {
                id: d.id.clone(),
                from: d.state,
                to: DeployState::Failed,
                reason: Some(reason),
                at: self.clock.now_ms(),
                app_state,
                slot: None,
            };
            self.stores.deployments.transition(&t).await?;
        }
        Ok(())
    }

    /// Spawn the driver of `d`.
    pub(super) fn start_driver(self: &Arc<Self>, d: Deployment) {
        let Ok(rt) = self.runtime() else { return };
        let task = tokio::spawn(self.clone().drive(d));
        let mut tasks = lock(&rt.tasks);
        tasks.retain(|t| !t.is_finished());
        tasks.push(task);
    }
}
