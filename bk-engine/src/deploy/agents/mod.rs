//! [`AgentsBackend`]: the default [`DeployBackend`](super::backend::DeployBackend), app
//! instances as native processes on registered hosts running `bk-agent`.
//!
//! Agents **pull** (protocol in `bk_core::agent_proto`): an admin registers an agent (id +
//! token shown once, stored as SHA-256), the agent heartbeats with its version, capacity,
//! address and instance statuses, long-polls its desired state (a revision number per
//! agent; `tokio::sync::watch`, no polling), and fetches packages by digest. The engine
//! places instances ([`schedule`]): replicas spread, capacity respected, placement stable.
//! An agent silent past `down_after` is marked down and its instances are placed on the
//! others; when it comes back its desired state no longer lists them and it stops them.
//!
//! Placements are written to the [`AgentStore`] (sealed with the engine key: specs carry
//! app secrets) in one transaction with the agents' new revisions before anyone sees
//! them, so an engine restart resumes with the same placement and revisions never go back.

mod admin;
mod backend_impl;
mod protocol;
mod schedule;
mod state;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Weak};
use std::time::Duration;

use bk_core::agent_proto::Assignment;
use bk_core::clock::{Clock, Millis};
use bk_core::instance::{AppEnv, InstanceId, ModuleName, ProcessType};
use bk_core::types::AppCode;
use tokio::sync::{Mutex, watch};

pub use admin::{AgentView, NewAgentToken};
pub use protocol::AgentCredentials;

use self::schedule::Pool;
use self::state::{AgentEntry, Meta, Placed, State};
use super::backend::{BackendError, Slot};
use super::packages::PackageStore;
use crate::error::{EngineError, Result};
use crate::model::SealedSecret;
use crate::secret::{AppSecret, SecretBox, SecretKey};
use crate::store::agents::{AgentStore, PlacementChange, PlacementRow};

/// Timing of the agents backend.
#[derive(Debug, Clone)]
pub struct AgentsConfig {
    /// How often agents heartbeat (sent to them in every reply).
    pub heartbeat_interval: Duration,
    /// Silence after which an agent is down and its instances move (default 3× interval).
    pub down_after: Duration,
    /// Longest a long poll is held.
    pub max_wait: Duration,
}

impl Default for AgentsConfig {
    fn default() -> Self {
        Self::with_interval(Duration::from_secs(5))
    }
}

impl AgentsConfig {
    /// `interval`, down after three missed heartbeats, polls held up to 30 s.
    pub fn with_interval(interval: Duration) -> Self {
        Self {
            heartbeat_interval: interval,
            down_after: interval * 3,
            max_wait: Duration::from_secs(30),
        }
    }
}

/// Instances on registered agents.
#[derive(Debug, Clone)]
pub struct AgentsBackend {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: AgentsConfig,
    store: Arc<dyn AgentStore>,
    packages: Arc<dyn PackageStore>,
    sealer: SecretBox,
    clock: Arc<dyn Clock>,
    engine_key: String,
    http: reqwest::Client,
    state: Mutex<State>,
    changes: watch::Sender<u64>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentsBackend")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl AgentsBackend {
    /// Load agents and placements from `store`. Every agent gets `down_after` from now to
    /// heartbeat before its instances move.
    pub async fn open(
        cfg: AgentsConfig,
        store: Arc<dyn AgentStore>,
        packages: Arc<dyn PackageStore>,
        key: &SecretKey,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let sealer = SecretBox::new(key);
        let now = clock.now_ms();
        let mut state = State::default();
        for rec in store.agents().await? {
            let (revision, _) = watch::channel(rec.revision);
            state.agents.insert(
                rec.id.clone(),
                AgentEntry {
                    stored_seen: rec.last_seen.unwrap_or(0),
                    seen: rec.last_seen.map(|_| now),
                    down: rec.last_seen.is_none(),
                    statuses: Default::default(),
                    revision,
                    rec,
                },
            );
        }
        for row in store.placements().await? {
            let placed = unseal(&sealer, &row)?;
            state
                .placed
                .insert(placed.assignment.spec.id.clone(), placed);
        }
        let engine_key = bk_core::crypto::random_token(32)
            .map_err(|e| EngineError::Internal(format!("random source: {e}")))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| EngineError::Internal(format!("http client: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                cfg,
                store,
                packages,
                sealer,
                clock,
                engine_key,
                http,
                state: Mutex::new(state),
                changes: watch::channel(0).0,
            }),
        })
    }

    /// Start the task that marks silent agents down and moves their instances; it ends
    /// when the backend is dropped.
    pub fn spawn_monitor(&self) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let period = (self.inner.cfg.heartbeat_interval / 2).max(Duration::from_millis(50));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                let Some(inner) = weak.upgrade() else { return };
                if let Err(e) = (AgentsBackend { inner }).sweep().await {
                    tracing::error!(error = %e, "agents: sweep failed");
                }
            }
        })
    }

    /// One pass of the monitor: mark agents down that missed their heartbeats, and place
    /// the instances of down or disabled agents on live ones.
    pub async fn sweep(&self) -> Result<()> {
        let now = self.now();
        let down_after = self.down_after_ms();
        let mut st = self.inner.state.lock().await;
        let mut changed = false;
        for (id, a) in &mut st.agents {
            let late = a.seen.is_none_or(|t| now - t > down_after);
            if !a.down && late {
                tracing::warn!(agent = %id, "agent missed its heartbeats: marked down");
                a.down = true;
                a.statuses.clear();
                changed = true;
            }
        }
        if changed {
            self.bump();
        }
        self.replace_orphans(&mut st).await
    }

    /// The key the engine presents to agents' APIs.
    pub fn engine_key(&self) -> &str {
        &self.inner.engine_key
    }

    /// The configuration.
    pub fn config(&self) -> &AgentsConfig {
        &self.inner.cfg
    }

    fn now(&self) -> Millis {
        self.inner.clock.now_ms()
    }

    fn down_after_ms(&self) -> i64 {
        i64::try_from(self.inner.cfg.down_after.as_millis()).unwrap_or(i64::MAX)
    }

    fn bump(&self) {
        self.inner.changes.send_modify(|n| *n += 1);
    }

    /// A pool of the live agents with what they hold now.
    fn pool(&self, st: &State, now: Millis) -> Pool {
        let mut pool = Pool::default();
        let down_after = self.down_after_ms();
        for (id, a) in &st.agents {
            if st.is_live(id, now, down_after) {
                pool.agent(id, &a.rec.capacity);
            }
        }
        pool
    }

    /// Move the services of agents that are not live to live ones, where there is room.
    async fn replace_orphans(&self, st: &mut State) -> Result<()> {
        let now = self.now();
        let down_after = self.down_after_ms();
        let mut pool = self.pool(st, now);
        let mut next = st.placed.clone();
        let mut orphans = Vec::new();
        for (id, p) in &st.placed {
            if st.is_live(&p.agent, now, down_after) {
                pool.hold(&p.agent, &p.meta.group(), p.memory());
            } else if !p.is_task() {
                orphans.push(id.clone());
            }
        }
        if orphans.is_empty() {
            return Ok(());
        }
        let mut moved = 0;
        for id in &orphans {
            let Some(p) = next.get_mut(id) else { continue };
            if let Some(agent) = pool.place(&p.meta.group(), p.memory()) {
                tracing::info!(instance = %id, from = %p.agent, to = %agent, "agents: instance moved");
                p.agent = agent;
                moved += 1;
            }
        }
        if moved < orphans.len() {
            tracing::warn!(
                waiting = orphans.len() - moved,
                "agents: instances of down agents wait for capacity: {}",
                pool.describe()
            );
        }
        if moved > 0 {
            self.commit(st, next).await?;
        }
        Ok(())
    }

    /// Make `next` the placement: persist the difference with the agents' new revisions in
    /// one transaction, then publish it.
    async fn commit(&self, st: &mut State, next: BTreeMap<InstanceId, Placed>) -> Result<()> {
        let mut change = PlacementChange::default();
        let mut touched = BTreeSet::new();
        let mut retired = Vec::new();
        for (id, old) in &st.placed {
            match next.get(id) {
                None => {
                    change.remove.push(id.to_string());
                    touched.insert(old.agent.clone());
                    retired.push((id.clone(), old.agent.clone(), old.meta.clone()));
                }
                Some(new) if new.agent != old.agent => {
                    touched.insert(old.agent.clone());
                    retired.push((id.clone(), old.agent.clone(), old.meta.clone()));
                }
                Some(_) => {}
            }
        }
        for (id, new) in &next {
            if st.placed.get(id) != Some(new) {
                touched.insert(new.agent.clone());
                change.put.push(self.seal(new)?);
            }
        }
        if change.remove.is_empty() && change.put.is_empty() {
            return Ok(());
        }
        for agent in &touched {
            if let Some(a) = st.agents.get(agent) {
                change.revisions.push((agent.clone(), a.rec.revision + 1));
            }
        }
        self.inner.store.commit_placements(&change).await?;
        st.placed = next;
        for (id, agent, meta) in retired {
            st.retired.insert((id, agent), meta);
        }
        for (agent, rev) in change.revisions {
            if let Some(a) = st.agents.get_mut(&agent) {
                a.rec.revision = rev;
                a.revision.send_replace(rev);
            }
        }
        self.bump();
        Ok(())
    }

    fn seal(&self, p: &Placed) -> Result<PlacementRow> {
        let json = serde_json::to_string(&p.assignment)
            .map_err(|e| EngineError::Internal(format!("assignment: {e}")))?;
        let sealed = self
            .inner
            .sealer
            .seal(&p.meta.slot.app, &AppSecret::from_presented(&json))?;
        Ok(PlacementRow {
            instance_id: p.assignment.spec.id.to_string(),
            agent_id: p.agent.clone(),
            app_code: p.meta.slot.app.to_string(),
            module: p.meta.slot.module.to_string(),
            env: p.meta.slot.env.as_str().to_owned(),
            process_type: p.meta.process_type.to_string(),
            generation: p.meta.generation,
            ordinal: p.meta.ordinal,
            kind: p.assignment.kind,
            sealed: format!("{}:{}:{}", sealed.key_id, sealed.nonce, sealed.ciphertext),
        })
    }
}

fn unseal(sealer: &SecretBox, row: &PlacementRow) -> Result<Placed> {
    let bad = |what: &str| {
        EngineError::Internal(format!(
            "engine_agent_instances: {} has an unreadable {what}",
            row.instance_id
        ))
    };
    let app = AppCode::parse_legacy(&row.app_code).map_err(|_| bad("app code"))?;
    let mut parts = row.sealed.splitn(3, ':');
    let (Some(key_id), Some(nonce), Some(ct)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("sealed assignment"));
    };
    let sealed = SealedSecret {
        key_id: key_id.to_owned(),
        nonce: nonce.to_owned(),
        ciphertext: ct.to_owned(),
    };
    let json = sealer.open(&app, &sealed)?;
    let assignment: Assignment =
        serde_json::from_str(json.expose()).map_err(|_| bad("assignment"))?;
    let env = match row.env.as_str() {
        "stag" | "test" => AppEnv::Stag,
        "prod" => AppEnv::Prod,
        _ => return Err(bad("env")),
    };
    Ok(Placed {
        meta: Meta {
            slot: Slot {
                app,
                module: ModuleName::parse(&row.module).map_err(|_| bad("module"))?,
                env,
            },
            process_type: ProcessType::parse(&row.process_type).map_err(|_| bad("process type"))?,
            generation: row.generation,
            ordinal: row.ordinal,
        },
        agent: row.agent_id.clone(),
        assignment,
    })
}

/// `BackendError` for a storage failure.
fn internal(e: EngineError) -> BackendError {
    tracing::error!(error = %e, "agents backend");
    match e {
        EngineError::Db(_) => BackendError::Unavailable("the engine database failed".into()),
        _ => BackendError::Internal(e.to_string()),
    }
}
