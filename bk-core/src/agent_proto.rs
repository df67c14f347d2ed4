//! The engine ↔ agent protocol: what an agent reports and what it is told to run.
//!
//! Agents **pull** (kubelet/Nomad style): the engine keeps the desired set of instances of
//! each agent under a revision number, and each agent long-polls for a revision newer than
//! the one it has applied, converges to it, and reports what it observes. Pull survives
//! restarts and partitions on either side and needs no inbound port on app hosts for
//! control; an engine restarted mid-deploy is a non-event (agents keep running what they
//! have and resume the watch).
//!
//! HTTP mapping (engine side, every call authenticated with [`HEADER_ID`] + [`HEADER_TOKEN`]
//! and carrying [`HEADER_PROTOCOL`]):
//!
//! | call | body | answer |
//! |---|---|---|
//! | `POST /v1/agent/heartbeat` | [`Heartbeat`] | [`HeartbeatReply`] |
//! | `GET /v1/agent/desired?after=<rev>&wait_ms=<ms>` | — | [`DesiredState`] (at once when newer than `after`, else when it changes or after `wait_ms`) |
//! | `GET /v1/agent/packages/<sha256>` | — | a release's `.tar.gz` (content-addressed) |
//!
//! An agent whose [`PROTOCOL_VERSION`] differs from the engine's is refused with a message
//! naming both versions. Engine → agent calls (instance logs) go to the agent's
//! `api_url` with the [`HEADER_ENGINE_KEY`] the engine handed out in its last
//! [`HeartbeatReply`].

use serde::{Deserialize, Serialize};

use crate::instance::{InstanceSpec, InstanceStatus, ReleaseId};

/// Version of this protocol; engine and agent must agree.
pub const PROTOCOL_VERSION: u32 = 1;

/// Agent id header (the V6 name).
pub const HEADER_ID: &str = "x-id";
/// Agent token header (the V6 name).
pub const HEADER_TOKEN: &str = "x-token";
/// The agent's protocol version.
pub const HEADER_PROTOCOL: &str = "x-agent-protocol";
/// The key the engine presents when it calls an agent.
pub const HEADER_ENGINE_KEY: &str = "x-engine-key";

/// What an agent can take.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capacity {
    /// Most instances this agent runs at once.
    pub max_instances: u32,
    /// Memory the agent may hand out to instances, bytes (absent: not accounted).
    #[serde(default)]
    pub memory_bytes: Option<u64>,
}

/// Agent → engine, every few seconds and at once when an instance changes state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// The agent's build version, for people (`bk-agent 0.1.0`).
    pub agent_version: String,
    /// [`PROTOCOL_VERSION`] of the agent.
    pub protocol: u32,
    /// Address (IP or host name) at which the engine's router reaches this agent's
    /// instances.
    pub host: String,
    /// Base URL of the agent's own HTTP API (logs), if it serves one.
    #[serde(default)]
    pub api_url: Option<String>,
    /// What it can take.
    pub capacity: Capacity,
    /// The desired revision it has converged to.
    pub applied_revision: u64,
    /// Every instance it runs or has just stopped.
    pub instances: Vec<InstanceStatus>,
}

/// Engine → agent, answering a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatReply {
    /// The latest desired revision for this agent (when newer than applied, fetch it).
    pub revision: u64,
    /// Send the next heartbeat within this many milliseconds.
    pub heartbeat_interval_ms: u64,
    /// The key the engine will present on calls to the agent's API.
    pub engine_key: String,
}

/// How the agent treats an instance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceKind {
    /// A long-running process: restarted when it exits, probed, routed to.
    #[default]
    Service,
    /// A one-off command (a pre-release hook): run once, never restarted; it ends as
    /// `stopped` with its exit recorded.
    Task,
}

/// Where to get a release's files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRef {
    /// The release.
    pub release_id: ReleaseId,
    /// SHA-256 (hex) of the `.tar.gz`; the agent checks it before unpacking.
    pub sha256: String,
    /// Size of the `.tar.gz`, bytes.
    pub size: u64,
}

/// One instance an agent must run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Service or one-off task.
    #[serde(default)]
    pub kind: InstanceKind,
    /// What to run.
    pub spec: InstanceSpec,
    /// The release files it runs from.
    pub package: PackageRef,
}

/// The full desired set of one agent at one revision. Instances not listed must not run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredState {
    /// Increases with every change of this agent's set.
    pub revision: u64,
    /// What to run.
    pub instances: Vec<Assignment>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desired_state_round_trips_with_defaults() {
        let v = serde_json::json!({
            "revision": 7,
            "instances": [{
                "spec": {
                    "id": "demo-web-0", "app_code": "demo", "module": "default", "env": "stag",
                    "process_type": "web", "release_id": "r1",
                    "command": {"shell": "python3 -m http.server $PORT"}
                },
                "package": {"release_id": "r1", "sha256": "00", "size": 10}
            }]
        });
        let d: DesiredState = serde_json::from_value(v).unwrap();
        assert_eq!(d.revision, 7);
        assert_eq!(d.instances[0].kind, InstanceKind::Service);
        let back: DesiredState = serde_json::from_value(serde_json::to_value(&d).unwrap()).unwrap();
        assert_eq!(back, d);
    }
}
