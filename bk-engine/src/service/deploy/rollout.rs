//! The steps every change of what a slot runs is made of (deploy, scale, restart, stop):
//! start the new instances beside the old, wait until they are ready, switch traffic,
//! drain the old, stop them. Waiting is on the backend's change counter, never a poll.

use std::collections::HashMap;
use std::time::Duration;

use bk_core::instance::{InstanceId, InstanceState};

use super::DeployRuntime;
use crate::deploy::backend::instance_id;
use crate::deploy::backend::{ObservedInstance, ReleaseSet, Slot};
use crate::deploy::feeder::Serving;

/// Why new instances did not become ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NotReady(pub String, pub Option<InstanceId>);

/// The instance ids of `set`.
pub(super) fn ids(slot: &Slot, set: &ReleaseSet) -> Vec<InstanceId> {
    set.processes
        .iter()
        .flat_map(|p| (0..p.replicas).map(move |o| instance_id(slot, set, &p.process_type, o)))
        .collect()
}

/// What `set` serves.
pub(super) fn serving(set: &ReleaseSet) -> Serving {
    Serving {
        release: set.release.clone(),
        generation: set.generation,
        replicas: set
            .processes
            .iter()
            .map(|p| (p.process_type.as_str().to_owned(), p.replicas))
            .collect(),
    }
}

fn crashed(i: &ObservedInstance) -> Option<String> {
    let s = &i.status;
    let failed =
        matches!(s.state, InstanceState::BackOff | InstanceState::Failed) || s.restarts > 0;
    failed.then(|| {
        let why = s
            .reason
            .clone()
            .or_else(|| s.last_exit.as_ref().map(ToString::to_string))
            .unwrap_or_else(|| s.state.to_string());
        format!("instance {} ({}) failed: {why}", s.id, i.process_type)
    })
}

impl DeployRuntime {
    /// Wait until every instance of `set` is ready; an instance that exits or fails to
    /// start fails the wait at once (the crash is the reason), and so does `ready_timeout`.
    pub(super) async fn wait_ready(&self, slot: &Slot, set: &ReleaseSet) -> Result<(), NotReady> {
        let want = ids(slot, set);
        let mut rx = self.backend.subscribe();
        let deadline = tokio::time::Instant::now() + self.settings.ready_timeout;
        loop {
            rx.borrow_and_update();
            let observed = self
                .backend
                .observe(slot)
                .await
                .map_err(|e| NotReady(format!("cannot observe instances: {e}"), None))?;
            let by_id: HashMap<&InstanceId, &ObservedInstance> =
                observed.iter().map(|i| (&i.status.id, i)).collect();
            let mut waiting = Vec::new();
            for id in &want {
                match by_id.get(id) {
                    Some(i) => {
                        if let Some(why) = crashed(i) {
                            return Err(NotReady(why, Some(id.clone())));
                        }
                        if i.status.state != InstanceState::Ready {
                            waiting.push(format!(
                                "{} is {}{}",
                                id,
                                i.status.state,
                                i.status
                                    .reason
                                    .as_deref()
                                    .map(|r| format!(" ({r})"))
                                    .unwrap_or_default()
                            ));
                        }
                    }
                    None => waiting.push(format!("{id} is not running yet")),
                }
            }
            if waiting.is_empty() {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Err(NotReady("the backend went away".into(), None)),
                Err(_) => {
                    return Err(NotReady(
                        format!(
                            "not ready within {} s: {}",
                            self.settings.ready_timeout.as_secs(),
                            waiting.join("; ")
                        ),
                        want.first().cloned(),
                    ));
                }
            }
        }
    }

    /// Route `slot` to `to` (or nothing) and publish now.
    pub(super) async fn switch(&self, slot: &Slot, to: Option<&ReleaseSet>) {
        self.feeder.set_serving(slot, to.map(serving));
        self.feeder.refresh().await;
    }

    /// Keep `slot`'s route but serve nothing (stopped: requests get a 503 naming the app,
    /// not a 404).
    pub(super) async fn switch_stopped(&self, slot: &Slot, release: &str) {
        if let Ok(release) = bk_core::instance::ReleaseId::parse(release) {
            self.feeder.set_serving(
                slot,
                Some(Serving {
                    release,
                    generation: 0,
                    replicas: HashMap::new(),
                }),
            );
        }
        self.feeder.refresh().await;
    }

    /// Wait until no request uses any of `ids` (they must be out of the table already).
    pub(super) async fn drain(&self, ids: &[InstanceId]) -> Vec<String> {
        let router = self.feeder.router();
        let mut late = Vec::new();
        for id in ids {
            if let crate::router::Drained::TimedOut { in_flight } =
                router.drain(id.as_str(), self.settings.drain_timeout).await
            {
                late.push(format!("{id}: {in_flight} requests still open"));
            }
        }
        late
    }

    /// The last lines an instance wrote (its previous process's when the current one has
    /// written nothing yet), for the deploy log of a failed start.
    pub(super) async fn output_tail(&self, id: &InstanceId) -> Vec<String> {
        const TAIL: u64 = 2048;
        for previous in [false, true] {
            let Ok(end) = self.backend.read_log(id, previous, u64::MAX, 0).await else {
                continue;
            };
            let from = end.next_offset.saturating_sub(TAIL);
            let Ok(chunk) = self
                .backend
                .read_log(id, previous, from, TAIL as usize)
                .await
            else {
                continue;
            };
            let text = String::from_utf8_lossy(&chunk.data);
            // A read from the middle starts mid-line: drop that partial line.
            let lines: Vec<&str> = text.lines().skip(usize::from(from > 0)).collect();
            if !lines.is_empty() {
                let start = lines.len().saturating_sub(20);
                return lines[start..]
                    .iter()
                    .map(|l| format!("{id}: {l}"))
                    .collect();
            }
        }
        Vec::new()
    }

    /// How long hooks may run.
    pub(super) fn hook_timeout(&self) -> Duration {
        self.settings.hook_timeout
    }
}
