//! Processes of a serving slot: list instances, scale, restart (a new generation), stop,
//! start, and instance logs. Each change holds the slot's lock, rolls out like a deploy
//! (new instances ready before traffic moves, old ones drained before they stop) and is
//! stored with its audit entry.

use std::sync::Arc;

use bk_core::instance::InstanceId;

use super::super::EngineService;
use super::super::access::Caller;
use super::ops::InstanceView;
use super::rollout::ids;
use super::specs::slot_of;
use crate::deploy::backend::LogChunk;
use crate::error::{EngineError, Result};
use crate::model::{Env, SlotRecord};

/// Which part of an instance log to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogRead {
    /// The previous process of the instance (why it died).
    pub previous: bool,
    /// Byte offset; `None`: the last `max` bytes.
    pub offset: Option<u64>,
    /// Most bytes.
    pub max: usize,
}

/// Most instances of one process type.
pub const MAX_REPLICAS: u32 = 20;

impl EngineService {
    async fn slot_record(
        &self,
        who: &Caller,
        code: &str,
        module: &str,
        env: &str,
    ) -> Result<SlotRecord> {
        let (app, module) = self.visible_module(who, code, module).await?;
        let env = Env::parse(env)?;
        self.stores
            .deployments
            .slot(app.code.as_str(), &module, env)
            .await?
            .filter(|r| r.release_id.is_some())
            .ok_or_else(|| {
                EngineError::NotFound(format!(
                    "a deployed release of module {module} in {env}; deploy first"
                ))
            })
    }

    /// The instances of (app, module, env) as the backend observes them.
    pub async fn instances(
        &self,
        who: &Caller,
        code: &str,
        module: &str,
        env: &str,
    ) -> Result<Vec<InstanceView>> {
        let (app, module) = self.visible_module(who, code, module).await?;
        let env = Env::parse(env)?;
        let rt = self.runtime()?;
        let slot = slot_of(&app.code, &module, env)?;
        let serving = rt.feeder.serving(&slot);
        let now = self.clock.now_ms();
        let mut out: Vec<InstanceView> = rt
            .backend
            .observe(&slot)
            .await
            .map_err(|e| EngineError::Unavailable(format!("instances: {e}")))?
            .into_iter()
            .map(|i| InstanceView {
                serving: serving.as_ref().is_some_and(|s| s.routes(&i))
                    && i.status.state == bk_core::instance::InstanceState::Ready,
                id: i.status.id.as_str().to_owned(),
                process_type: i.process_type.as_str().to_owned(),
                release_id: i.status.release_id.as_str().to_owned(),
                state: i.status.state.as_str().to_owned(),
                reason: i.status.reason.clone(),
                restarts: i.status.restarts,
                port: i.status.port,
                host: i.status.host.clone(),
                uptime_ms: i
                    .status
                    .started_at_ms
                    .filter(|_| i.status.state.is_running())
                    .map(|s| u64::try_from(now.saturating_sub(s)).unwrap_or(0)),
            })
            .collect();
        out.sort_by(|a, b| (&a.process_type, &a.id).cmp(&(&b.process_type, &b.id)));
        Ok(out)
    }

    /// Run `replicas` instances of `process_type`.
    pub async fn scale(
        self: &Arc<Self>,
        who: &Caller,
        code: &str,
        module: &str,
        env: &str,
        process_type: &str,
        replicas: u32,
    ) -> Result<SlotRecord> {
        if replicas > MAX_REPLICAS {
            return Err(EngineError::Invalid(format!(
                "replicas: at most {MAX_REPLICAS}"
            )));
        }
        self.change_slot(who, code, module, env, "process.scale", |r| {
            r.replicas.insert(process_type.to_owned(), replicas);
            Ok(serde_json::json!({"process_type": process_type, "replicas": replicas}))
        })
        .await
    }

    /// Replace every instance by a new one (a new generation), without failing requests.
    pub async fn restart(
        self: &Arc<Self>,
        who: &Caller,
        code: &str,
        module: &str,
        env: &str,
    ) -> Result<SlotRecord> {
        self.change_slot(who, code, module, env, "process.restart", |r| {
            r.generation += 1;
            Ok(serde_json::json!({"generation": r.generation}))
        })
        .await
    }

    /// Stop (`true`) or start (`false`) every instance; the release stays.
    pub async fn set_stopped(
        self: &Arc<Self>,
        who: &Caller,
        code: &str,
        module: &str,
        env: &str,
        stopped: bool,
    ) -> Result<SlotRecord> {
        let action = if stopped {
            "process.stop"
        } else {
            "process.start"
        };
        self.change_slot(who, code, module, env, action, |r| {
            r.stopped = stopped;
            Ok(serde_json::json!({}))
        })
        .await
    }

    async fn change_slot(
        self: &Arc<Self>,
        who: &Caller,
        code: &str,
        module: &str,
        env: &str,
        action: &str,
        change: impl FnOnce(&mut SlotRecord) -> Result<serde_json::Value>,
    ) -> Result<SlotRecord> {
        let first = self.slot_record(who, code, module, env).await?;
        let app = self.visible_app(who, code).await?;
        if first.env == Env::Prod {
            self.check_prod_deploy(who, &app)?;
        }
        let rt = self.runtime()?.clone();
        let slot = slot_of(&first.app_code, &first.module, first.env)?;
        let lock = rt.slot_lock(&slot);
        let _held = lock.lock().await;
        // Read again under the lock: a deployment may have switched the release meanwhile.
        let old = self.slot_record(who, code, module, env).await?;
        let mut new = old.clone();
        let detail = change(&mut new)?;
        if let Some(release_id) = &new.release_id {
            let release = self
                .stores
                .releases
                .release(release_id)
                .await?
                .ok_or_else(|| EngineError::Internal(format!("release {release_id} missing")))?;
            for p in new.replicas.keys() {
                if !release.formation.processes.iter().any(|d| &d.name == p) {
                    return Err(EngineError::Invalid(format!(
                        "process_type: the release has no process {p}"
                    )));
                }
            }
        }
        new.updated_at = self.clock.now_ms();
        let old_set = self.serving_set(&old).await?;
        let new_set = self.serving_set(&new).await?;
        // Bring up what is new beside what serves, move traffic, drain, stop the rest.
        let mut both: Vec<_> = old_set.iter().cloned().collect();
        if let Some(n) = &new_set {
            match both.first_mut() {
                Some(o) if o.release == n.release && o.generation == n.generation => {
                    for (op, np) in o.processes.iter_mut().zip(&n.processes) {
                        op.replicas = op.replicas.max(np.replicas);
                    }
                }
                _ => both.push(n.clone()),
            }
        }
        let fail = |e: crate::deploy::backend::BackendError| {
            EngineError::Unavailable(format!("backend: {e}"))
        };
        rt.backend.apply(&slot, &both).await.map_err(fail)?;
        if let Some(n) = &new_set
            && let Err(e) = rt.wait_ready(&slot, n).await
        {
            // Back to what served.
            let sets: Vec<_> = old_set.iter().cloned().collect();
            rt.backend.apply(&slot, &sets).await.map_err(fail)?;
            return Err(EngineError::Conflict(format!(
                "the new instances did not become ready: {}",
                e.0
            )));
        }
        match (&new_set, &new.release_id) {
            (None, Some(release)) if new.stopped => rt.switch_stopped(&slot, release).await,
            _ => rt.switch(&slot, new_set.as_ref()).await,
        }
        let keep: std::collections::HashSet<InstanceId> =
            new_set.iter().flat_map(|n| ids(&slot, n)).collect();
        let retiring: Vec<InstanceId> = both
            .iter()
            .flat_map(|s| ids(&slot, s))
            .filter(|id| !keep.contains(id))
            .collect();
        rt.drain(&retiring).await;
        let sets: Vec<_> = new_set.iter().cloned().collect();
        rt.backend.apply(&slot, &sets).await.map_err(fail)?;
        let audit = self.entry(
            who,
            Some(app.code.as_str()),
            action,
            format!("module {} env {}", new.module, new.env),
            detail,
        );
        self.stores.deployments.put_slot(&new, Some(&audit)).await?;
        Ok(new)
    }

    /// A piece of an instance's log (see [`LogRead`]).
    pub async fn instance_log(
        &self,
        who: &Caller,
        code: &str,
        module: &str,
        env: &str,
        instance: &str,
        read: LogRead,
    ) -> Result<LogChunk> {
        let LogRead {
            previous,
            offset,
            max,
        } = read;
        let (app, module) = self.visible_module(who, code, module).await?;
        let env = Env::parse(env)?;
        let rt = self.runtime()?;
        let slot = slot_of(&app.code, &module, env)?;
        let id = InstanceId::parse(instance)?;
        let owned = rt
            .backend
            .observe(&slot)
            .await
            .map_err(|e| EngineError::Unavailable(format!("instances: {e}")))?
            .iter()
            .any(|i| i.status.id == id);
        if !owned {
            return Err(EngineError::NotFound(format!("instance {instance}")));
        }
        let map = |e: crate::deploy::backend::BackendError| match e {
            crate::deploy::backend::BackendError::NotFound(w) => EngineError::NotFound(w),
            other => EngineError::Unavailable(format!("logs: {other}")),
        };
        let start = match offset {
            Some(o) => o,
            None => {
                let end = rt
                    .backend
                    .read_log(&id, previous, u64::MAX, 0)
                    .await
                    .map_err(map)?;
                end.next_offset.saturating_sub(max as u64)
            }
        };
        rt.backend
            .read_log(&id, previous, start, max)
            .await
            .map_err(map)
    }
}
