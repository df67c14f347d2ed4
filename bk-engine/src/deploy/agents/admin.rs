//! Registering and managing agents (superusers only; the HTTP layer checks the caller).

use bk_core::agent_proto::Capacity;
use bk_core::clock::Millis;
use bk_core::crypto::{random_token, sha256_hex};
use serde::Serialize;
use tokio::sync::watch;

use super::AgentsBackend;
use super::state::AgentEntry;
use crate::error::{EngineError, Result};
use crate::model::AuditEntry;
use crate::service::Caller;
use crate::store::agents::AgentRecord;

/// A registered agent's id and its token, shown once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewAgentToken {
    /// The agent's id (`X-ID`).
    pub id: String,
    /// The token (`X-TOKEN`, `BK_AGENT_TOKEN`); stored only as SHA-256, never shown again.
    pub token: String,
}

/// One agent as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgentView {
    /// Its id.
    pub id: String,
    /// Address the router uses for its instances.
    pub host: String,
    /// Its build version (empty before its first heartbeat).
    pub version: String,
    /// Most instances it takes.
    pub max_instances: u32,
    /// Memory it hands out, bytes (absent: not accounted).
    pub memory_bytes: Option<u64>,
    /// `up`, `down` or `disabled`.
    pub state: String,
    /// Last heartbeat (ms), if any.
    pub last_seen: Option<Millis>,
    /// Instances placed on it.
    pub instances: usize,
}

fn check_id(id: &str) -> Result<()> {
    let b = id.as_bytes();
    let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ok = (1..=63).contains(&b.len())
        && edge(b[0])
        && edge(b[b.len() - 1])
        && b.iter().all(|c| edge(*c) || *c == b'-');
    if ok {
        Ok(())
    } else {
        Err(EngineError::Invalid(
            "id: must be 1-63 lower-case letters, digits or '-', starting and ending with a letter or digit".into(),
        ))
    }
}

fn superuser(who: &Caller) -> Result<()> {
    if who.is_superuser() {
        Ok(())
    } else {
        Err(EngineError::Forbidden(
            "only superusers manage agents".into(),
        ))
    }
}

impl AgentsBackend {
    fn audit(&self, who: &Caller, address: &str, action: &str, id: &str) -> AuditEntry {
        AuditEntry {
            id: 0,
            at: self.now(),
            actor: who.username().to_owned(),
            address: address.to_owned(),
            app_code: None,
            action: action.to_owned(),
            target: format!("agent {id}"),
            detail: serde_json::Value::Null,
        }
    }

    /// Register agent `id`; its token is in the answer and nowhere else.
    pub async fn register(&self, who: &Caller, address: &str, id: &str) -> Result<NewAgentToken> {
        superuser(who)?;
        check_id(id)?;
        let token =
            random_token(32).map_err(|e| EngineError::Internal(format!("random source: {e}")))?;
        let rec = AgentRecord {
            id: id.to_owned(),
            token_hash: sha256_hex(token.as_bytes()),
            enabled: true,
            revision: 0,
            created_by: who.username().to_owned(),
            created_at: self.now(),
            host: String::new(),
            api_url: None,
            agent_version: String::new(),
            capacity: Capacity::default(),
            last_seen: None,
        };
        let mut st = self.inner.state.lock().await;
        self.inner
            .store
            .create_agent(&rec, &self.audit(who, address, "agent.register", id))
            .await?;
        st.agents.insert(
            id.to_owned(),
            AgentEntry {
                stored_seen: 0,
                seen: None,
                down: true,
                statuses: Default::default(),
                revision: watch::channel(0).0,
                rec,
            },
        );
        Ok(NewAgentToken {
            id: id.to_owned(),
            token,
        })
    }

    /// A token for the platform's own agent `id` (the agent `bk up` embeds): registered
    /// on first use, its token replaced on every later one, so the token lives only in
    /// the memory of the process that asked. Audited as the service `platform`.
    pub async fn issue_platform_token(&self, id: &str) -> Result<NewAgentToken> {
        let who = Caller::service("platform", "local");
        let known = self.inner.state.lock().await.agents.contains_key(id);
        if !known {
            return self.register(&who, "local", id).await;
        }
        let token =
            random_token(32).map_err(|e| EngineError::Internal(format!("random source: {e}")))?;
        let hash = sha256_hex(token.as_bytes());
        let mut st = self.inner.state.lock().await;
        self.inner
            .store
            .set_agent_token(id, &hash, &self.audit(&who, "local", "agent.token", id))
            .await?;
        if let Some(a) = st.agents.get_mut(id) {
            a.rec.token_hash = hash;
        }
        Ok(NewAgentToken {
            id: id.to_owned(),
            token,
        })
    }

    /// Every agent.
    pub async fn list(&self, who: &Caller) -> Result<Vec<AgentView>> {
        superuser(who)?;
        let now = self.now();
        let down_after = self.down_after_ms();
        let st = self.inner.state.lock().await;
        Ok(st
            .agents
            .iter()
            .map(|(id, a)| AgentView {
                id: id.clone(),
                host: a.rec.host.clone(),
                version: a.rec.agent_version.clone(),
                max_instances: a.rec.capacity.max_instances,
                memory_bytes: a.rec.capacity.memory_bytes,
                state: if !a.rec.enabled {
                    "disabled"
                } else if st.is_live(id, now, down_after) && a.rec.last_seen.is_some() {
                    "up"
                } else {
                    "down"
                }
                .into(),
                last_seen: a.rec.last_seen,
                instances: st.placed.values().filter(|p| &p.agent == id).count(),
            })
            .collect())
    }

    /// Enable or disable agent `id`; a disabled agent's instances move to others.
    pub async fn set_enabled(
        &self,
        who: &Caller,
        address: &str,
        id: &str,
        enabled: bool,
    ) -> Result<()> {
        superuser(who)?;
        let action = if enabled {
            "agent.enable"
        } else {
            "agent.disable"
        };
        let mut st = self.inner.state.lock().await;
        self.inner
            .store
            .set_agent_enabled(id, enabled, &self.audit(who, address, action, id))
            .await?;
        if let Some(a) = st.agents.get_mut(id) {
            a.rec.enabled = enabled;
        }
        self.bump();
        self.replace_orphans(&mut st).await
    }

    /// Remove agent `id`: its instances move to others first; refused while some of them
    /// have nowhere to go.
    pub async fn remove(&self, who: &Caller, address: &str, id: &str) -> Result<()> {
        superuser(who)?;
        let mut st = self.inner.state.lock().await;
        let Some(a) = st.agents.get_mut(id) else {
            return Err(EngineError::NotFound(format!("agent {id}")));
        };
        let was = a.rec.enabled;
        a.rec.enabled = false;
        self.replace_orphans(&mut st).await?;
        let left = st.placed.values().filter(|p| p.agent == id).count();
        if left > 0 {
            if let Some(a) = st.agents.get_mut(id) {
                a.rec.enabled = was;
            }
            return Err(EngineError::Conflict(format!(
                "agent {id} still runs {left} instances that no other agent can take; add capacity or scale down first"
            )));
        }
        self.inner
            .store
            .delete_agent(id, &self.audit(who, address, "agent.delete", id))
            .await?;
        st.agents.remove(id);
        self.bump();
        Ok(())
    }
}
