//! [`DeployBackend`] over agents: `apply` places, `observe` reads what agents reported,
//! `run_task` places a one-off instance and follows it, `read_log` asks the agent's API.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use bk_core::agent_proto::{Assignment, HEADER_ENGINE_KEY, InstanceKind};
use bk_core::instance::{InstanceId, InstanceSpec, InstanceState};

use super::state::{Meta, Placed, State};
use super::{AgentsBackend, internal};
use crate::deploy::backend::{
    BackendError, DeployBackend, LogChunk, LogSink, ObservedInstance, ReleaseSet, Slot,
    TaskOutcome, instance_id,
};

fn wanted(slot: &Slot, sets: &[ReleaseSet]) -> Result<Vec<Placed>, BackendError> {
    let mut out = Vec::new();
    for set in sets {
        for ps in &set.processes {
            for ordinal in 0..ps.replicas {
                let mut spec = ps.template.clone();
                spec.id = instance_id(slot, set, &ps.process_type, ordinal);
                spec.validate()
                    .map_err(|e| BackendError::Invalid(format!("{}: {e}", ps.process_type)))?;
                out.push(Placed {
                    meta: Meta {
                        slot: slot.clone(),
                        process_type: ps.process_type.clone(),
                        generation: set.generation,
                        ordinal,
                    },
                    agent: String::new(),
                    assignment: Assignment {
                        kind: InstanceKind::Service,
                        spec,
                        package: set.package.clone(),
                    },
                });
            }
        }
    }
    Ok(out)
}

impl AgentsBackend {
    fn slot_label(slot: &Slot) -> String {
        format!("{}/{}/{}", slot.app, slot.module, slot.env.as_str())
    }

    async fn remove_placement(&self, id: &InstanceId) -> Result<(), BackendError> {
        let mut st = self.inner.state.lock().await;
        let mut next = st.placed.clone();
        next.remove(id);
        self.commit(&mut st, next).await.map_err(internal)
    }

    /// The agent an instance is (or was last) on, with its API URL.
    async fn agent_api(&self, id: &InstanceId) -> Result<(String, String), BackendError> {
        let st = self.inner.state.lock().await;
        let agent = st
            .placed
            .get(id)
            .map(|p| p.agent.clone())
            .or_else(|| {
                st.retired
                    .keys()
                    .find(|(i, _)| i == id)
                    .map(|(_, a)| a.clone())
            })
            .ok_or_else(|| BackendError::NotFound(format!("instance {id}")))?;
        let url = st
            .agents
            .get(&agent)
            .and_then(|a| a.rec.api_url.clone())
            .ok_or_else(|| {
                BackendError::Unavailable(format!("agent {agent} serves no API for logs"))
            })?;
        Ok((agent, url))
    }

    fn observed(st: &State, slot: &Slot) -> Vec<ObservedInstance> {
        let mut out = Vec::new();
        for (agent, a) in &st.agents {
            if a.down {
                continue;
            }
            for (id, status) in &a.statuses {
                let meta = match st.placed.get(id) {
                    Some(p) if &p.agent == agent => Some(&p.meta),
                    _ => st.retired.get(&(id.clone(), agent.clone())),
                };
                let Some(meta) = meta.filter(|m| &m.slot == slot) else {
                    continue;
                };
                out.push(ObservedInstance {
                    status: status.clone(),
                    process_type: meta.process_type.clone(),
                    generation: meta.generation,
                    ordinal: meta.ordinal,
                    address: status.port.map(|p| format!("{}:{p}", a.rec.host)),
                    agent: agent.clone(),
                });
            }
        }
        out.sort_by(|a, b| (&a.status.id, &a.agent).cmp(&(&b.status.id, &b.agent)));
        out
    }
}

#[async_trait]
impl DeployBackend for AgentsBackend {
    fn name(&self) -> &'static str {
        "agents"
    }

    async fn apply(&self, slot: &Slot, sets: &[ReleaseSet]) -> Result<(), BackendError> {
        let wanted = wanted(slot, sets)?;
        let now = self.now();
        let down_after = self.down_after_ms();
        let mut st = self.inner.state.lock().await;
        let mut next: BTreeMap<InstanceId, Placed> = st
            .placed
            .iter()
            .filter(|(_, p)| p.meta.slot != *slot || p.is_task())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut pool = self.pool(&st, now);
        for p in next.values() {
            if st.is_live(&p.agent, now, down_after) {
                pool.hold(&p.agent, &p.meta.group(), p.memory());
            }
        }
        let mut fresh = Vec::new();
        for mut w in wanted {
            match st.placed.get(&w.assignment.spec.id) {
                Some(old) if st.is_live(&old.agent, now, down_after) => {
                    pool.hold(&old.agent, &w.meta.group(), w.memory());
                    w.agent = old.agent.clone();
                    next.insert(w.assignment.spec.id.clone(), w);
                }
                _ => fresh.push(w),
            }
        }
        let total = fresh.len();
        for (i, mut w) in fresh.into_iter().enumerate() {
            let Some(agent) = pool.place(&w.meta.group(), w.memory()) else {
                return Err(BackendError::NoCapacity(format!(
                    "{} of {total} new instances of {} have no agent with room ({}); {}",
                    total - i,
                    Self::slot_label(slot),
                    match w.memory() {
                        Some(m) => format!("each needs {m} memory bytes"),
                        None => "memory not stated".into(),
                    },
                    pool.describe()
                )));
            };
            w.agent = agent;
            next.insert(w.assignment.spec.id.clone(), w);
        }
        self.commit(&mut st, next).await.map_err(internal)
    }

    async fn observe(&self, slot: &Slot) -> Result<Vec<ObservedInstance>, BackendError> {
        let st = self.inner.state.lock().await;
        Ok(Self::observed(&st, slot))
    }

    async fn slots(&self) -> Result<Vec<Slot>, BackendError> {
        let st = self.inner.state.lock().await;
        let mut out: Vec<Slot> = st
            .placed
            .values()
            .map(|p| p.meta.slot.clone())
            .chain(st.retired.values().map(|m| m.slot.clone()))
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    async fn run_task(
        &self,
        slot: &Slot,
        set: &ReleaseSet,
        task: InstanceSpec,
        log: LogSink,
        deadline: Duration,
    ) -> Result<TaskOutcome, BackendError> {
        task.validate()
            .map_err(|e| BackendError::Invalid(format!("task: {e}")))?;
        let id = task.id.clone();
        let placed = Placed {
            meta: Meta {
                slot: slot.clone(),
                process_type: task.process_type.clone(),
                generation: set.generation,
                ordinal: 0,
            },
            agent: String::new(),
            assignment: Assignment {
                kind: InstanceKind::Task,
                spec: task,
                package: set.package.clone(),
            },
        };
        let agent = {
            let now = self.now();
            let down_after = self.down_after_ms();
            let mut st = self.inner.state.lock().await;
            let mut pool = self.pool(&st, now);
            for p in st.placed.values() {
                if st.is_live(&p.agent, now, down_after) {
                    pool.hold(&p.agent, &p.meta.group(), p.memory());
                }
            }
            let agent = pool.place("task", placed.memory()).ok_or_else(|| {
                BackendError::NoCapacity(format!("no agent can run task {id}: {}", pool.describe()))
            })?;
            let mut next = st.placed.clone();
            next.insert(
                id.clone(),
                Placed {
                    agent: agent.clone(),
                    ..placed
                },
            );
            self.commit(&mut st, next).await.map_err(internal)?;
            agent
        };
        let outcome = self.follow_task(&id, &agent, log, deadline).await;
        self.remove_placement(&id).await?;
        Ok(outcome)
    }

    async fn read_log(
        &self,
        instance: &InstanceId,
        previous: bool,
        offset: u64,
        max: usize,
    ) -> Result<LogChunk, BackendError> {
        let (agent, url) = self.agent_api(instance).await?;
        let url = format!(
            "{}/v1/instances/{instance}/log?previous={previous}&offset={offset}&max={max}",
            url.trim_end_matches('/')
        );
        let unavailable =
            |e: reqwest::Error| BackendError::Unavailable(format!("agent {agent}: {e}"));
        let resp = self
            .inner
            .http
            .get(&url)
            .header(HEADER_ENGINE_KEY, &self.inner.engine_key)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(unavailable)?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Err(BackendError::NotFound(format!(
                "log of instance {instance}"
            )));
        }
        if !resp.status().is_success() {
            return Err(BackendError::Unavailable(format!(
                "agent {agent} answered {} for a log",
                resp.status()
            )));
        }
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let next_offset = header("x-next-offset");
        let lost = header("x-lost");
        let data = resp.bytes().await.map_err(unavailable)?.to_vec();
        Ok(LogChunk {
            data,
            next_offset,
            lost,
        })
    }

    fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }
}

impl AgentsBackend {
    /// Wait for task `id` on `agent` to end, forwarding its output lines.
    async fn follow_task(
        &self,
        id: &InstanceId,
        agent: &str,
        log: LogSink,
        deadline: Duration,
    ) -> TaskOutcome {
        let mut changes = self.inner.changes.subscribe();
        let mut offset = 0u64;
        let mut partial = String::new();
        let end = tokio::time::Instant::now() + deadline;
        loop {
            let status = {
                let st = self.inner.state.lock().await;
                st.agents
                    .get(agent)
                    .and_then(|a| a.statuses.get(id).cloned())
            };
            if let Ok(chunk) = self.read_log(id, false, offset, 1 << 20).await {
                offset = chunk.next_offset;
                partial.push_str(&String::from_utf8_lossy(&chunk.data));
                while let Some(n) = partial.find('\n') {
                    let line: String = partial.drain(..=n).collect();
                    let _ = log.send(line.trim_end().to_owned()).await;
                }
            }
            if let Some(s) = status {
                let ended = match s.state {
                    InstanceState::Stopped => s.last_exit.clone().map(Ok),
                    InstanceState::Failed => Some(Err(s.reason.clone().unwrap_or_default())),
                    _ => None,
                };
                if let Some(end) = ended {
                    if !partial.is_empty() {
                        let _ = log.send(std::mem::take(&mut partial)).await;
                    }
                    return match end {
                        Ok(exit) => TaskOutcome {
                            success: exit.code == Some(0),
                            reason: (exit.code != Some(0)).then(|| exit.to_string()),
                            exit: Some(exit),
                        },
                        Err(reason) => TaskOutcome {
                            success: false,
                            exit: None,
                            reason: Some(reason),
                        },
                    };
                }
            }
            let wait = tokio::time::timeout_at(end, async {
                // Changes come with heartbeats; a tick keeps the log flowing in between.
                let _ = tokio::time::timeout(Duration::from_millis(500), changes.changed()).await;
            });
            if wait.await.is_err() {
                return TaskOutcome {
                    success: false,
                    exit: None,
                    reason: Some(format!("timed out after {} s", deadline.as_secs())),
                };
            }
        }
    }
}
