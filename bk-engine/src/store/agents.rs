//! [`AgentStore`]: registered agents and the instances placed on them. The agents backend
//! (`deploy::agents`) keeps its working copy in memory and writes through this store, so
//! an engine restart resumes with the same placement and revision numbers (agents never
//! see a revision go back).

use async_trait::async_trait;
use bk_core::agent_proto::{Capacity, InstanceKind};
use bk_core::clock::Millis;

use crate::error::Result;
use crate::model::AuditEntry;

/// One registered agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRecord {
    /// The id it authenticates with (`X-ID`).
    pub id: String,
    /// SHA-256 (hex) of its token; the token itself is shown once and never stored.
    pub token_hash: String,
    /// Disabled agents get no instances.
    pub enabled: bool,
    /// Revision of its desired state.
    pub revision: u64,
    /// Who registered it.
    pub created_by: String,
    /// When.
    pub created_at: Millis,
    /// Address the router uses for its instances (from its last heartbeat).
    pub host: String,
    /// Its API base URL, if it serves one.
    pub api_url: Option<String>,
    /// Its build version.
    pub agent_version: String,
    /// What it can take.
    pub capacity: Capacity,
    /// Last heartbeat (`None`: never).
    pub last_seen: Option<Millis>,
}

/// One instance placed on an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementRow {
    /// The instance.
    pub instance_id: String,
    /// Where it runs.
    pub agent_id: String,
    /// Its slot: app, module, env (`stag`/`prod`).
    pub app_code: String,
    /// Module.
    pub module: String,
    /// Environment.
    pub env: String,
    /// Process type.
    pub process_type: String,
    /// Generation of its release set.
    pub generation: u32,
    /// Ordinal within its process type.
    pub ordinal: u32,
    /// Service or task.
    pub kind: InstanceKind,
    /// The assignment (JSON), sealed with the engine key: its env holds app secrets.
    pub sealed: String,
}

/// One atomic change of placements and agent revisions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlacementChange {
    /// Instances no longer placed anywhere.
    pub remove: Vec<String>,
    /// Instances placed (or moved, or changed); replaces the row of the same id.
    pub put: Vec<PlacementRow>,
    /// New revisions of the agents whose desired state changed.
    pub revisions: Vec<(String, u64)>,
}

/// Agents and placements.
#[async_trait]
pub trait AgentStore: Send + Sync {
    /// Every registered agent, by id.
    async fn agents(&self) -> Result<Vec<AgentRecord>>;
    /// Register an agent; `Conflict` when the id is taken.
    async fn create_agent(&self, agent: &AgentRecord, audit: &AuditEntry) -> Result<()>;
    /// Enable or disable; `NotFound` for an unknown id.
    async fn set_agent_enabled(&self, id: &str, enabled: bool, audit: &AuditEntry) -> Result<()>;
    /// Replace the token hash of an agent; `NotFound` for an unknown id.
    async fn set_agent_token(&self, id: &str, token_hash: &str, audit: &AuditEntry) -> Result<()>;
    /// Remove an agent and its placements; `NotFound` for an unknown id.
    async fn delete_agent(&self, id: &str, audit: &AuditEntry) -> Result<()>;
    /// Store what its heartbeat said (host, API URL, version, capacity, last seen).
    async fn record_seen(&self, agent: &AgentRecord) -> Result<()>;
    /// Every placement.
    async fn placements(&self) -> Result<Vec<PlacementRow>>;
    /// Apply `change` in one transaction.
    async fn commit_placements(&self, change: &PlacementChange) -> Result<()>;
}
