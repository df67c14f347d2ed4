//! The backend's working copy: agents with what they last reported, and where each
//! instance is placed. Guarded by one async mutex; every change of placements is written to
//! the [`AgentStore`](crate::store::agents::AgentStore) before it becomes visible here.

use std::collections::{BTreeMap, HashMap};

use bk_core::agent_proto::{Assignment, InstanceKind};
use bk_core::clock::Millis;
use bk_core::instance::{InstanceId, InstanceStatus, ProcessType};
use tokio::sync::watch;

use crate::deploy::backend::Slot;
use crate::store::agents::AgentRecord;

/// Where an instance belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Meta {
    pub slot: Slot,
    pub process_type: ProcessType,
    pub generation: u32,
    pub ordinal: u32,
}

impl Meta {
    /// Replicas of one group spread over agents.
    pub(crate) fn group(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.slot.app,
            self.slot.module,
            self.slot.env.as_str(),
            self.process_type
        )
    }
}

/// One placed instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placed {
    pub meta: Meta,
    pub agent: String,
    pub assignment: Assignment,
}

impl Placed {
    pub(crate) fn memory(&self) -> Option<u64> {
        self.assignment.spec.resources.memory_bytes
    }

    pub(crate) fn is_task(&self) -> bool {
        self.assignment.kind == InstanceKind::Task
    }
}

/// One registered agent as the engine knows it now.
#[derive(Debug)]
pub(crate) struct AgentEntry {
    pub rec: AgentRecord,
    /// Last heartbeat, or the engine's start (a grace period before it counts as down).
    pub seen: Option<Millis>,
    /// Marked down after missing heartbeats; cleared by the next heartbeat.
    pub down: bool,
    /// What it reported last, by instance.
    pub statuses: HashMap<InstanceId, InstanceStatus>,
    /// Its desired revision, for long polls.
    pub revision: watch::Sender<u64>,
    /// `last_seen` as last written to the store.
    pub stored_seen: Millis,
}

/// Everything.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub agents: BTreeMap<String, AgentEntry>,
    pub placed: BTreeMap<InstanceId, Placed>,
    /// Instances removed or moved away from an agent that may still report them (stopping),
    /// by (instance, agent), so `observe` can still place them in their slot.
    pub retired: HashMap<(InstanceId, String), Meta>,
}

impl State {
    /// Whether `agent` may take and keep instances now.
    pub(crate) fn is_live(&self, agent: &str, now: Millis, down_after_ms: i64) -> bool {
        self.agents.get(agent).is_some_and(|a| {
            a.rec.enabled && !a.down && a.seen.is_some_and(|t| now - t <= down_after_ms)
        })
    }
}
