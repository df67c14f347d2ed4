//! What an agent reports about one instance: the observed side of the desired
//! [`InstanceSpec`](super::InstanceSpec). The engine advances deployments on these.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{InstanceId, ReleaseId};
use crate::clock::Millis;

/// Where an instance is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceState {
    /// Started, not yet ready (readiness has not passed once).
    Starting,
    /// Running and passing readiness: may receive traffic.
    Ready,
    /// Running but failing readiness: take it out of the router.
    Unready,
    /// Exited or killed; waiting before the next restart.
    BackOff,
    /// Being stopped (grace period running).
    Stopping,
    /// Stopped on request; nothing of it runs.
    Stopped,
    /// Could not be started (its working directory is missing, its program cannot be run,
    /// its fixed port is held by another instance); retried with back-off, since a late
    /// unpack or a freed port fixes it.
    Failed,
}

impl InstanceState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceState::Starting => "starting",
            InstanceState::Ready => "ready",
            InstanceState::Unready => "unready",
            InstanceState::BackOff => "back_off",
            InstanceState::Stopping => "stopping",
            InstanceState::Stopped => "stopped",
            InstanceState::Failed => "failed",
        }
    }

    /// Whether a process of the instance is (or may still be) running.
    pub fn is_running(self) -> bool {
        matches!(
            self,
            InstanceState::Starting
                | InstanceState::Ready
                | InstanceState::Unready
                | InstanceState::Stopping
        )
    }
}

impl fmt::Display for InstanceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a process ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitRecord {
    /// Exit code, when it exited by itself.
    pub code: Option<i32>,
    /// Signal number, when a signal ended it.
    pub signal: Option<i32>,
    /// When the agent saw it end.
    pub at_ms: Millis,
}

impl fmt::Display for ExitRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code, self.signal) {
            (Some(c), _) => write!(f, "exited with code {c}"),
            (None, Some(s)) => write!(f, "killed by signal {s}"),
            (None, None) => f.write_str("ended"),
        }
    }
}

/// One instance as its agent sees it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceStatus {
    /// The instance.
    pub id: InstanceId,
    /// The release it runs (from its spec).
    pub release_id: ReleaseId,
    /// Where it is in its life.
    pub state: InstanceState,
    /// Why it is in that state, for people ("readiness: connection refused",
    /// "exited with code 1; restarting in 2 s").
    pub reason: Option<String>,
    /// Process id of the running process (group leader), if any.
    pub pid: Option<u32>,
    /// The port it was given (`PORT`), if any.
    pub port: Option<u16>,
    /// Restarts since the instance was created or its spec last changed.
    pub restarts: u32,
    /// When the current (or last) process started.
    pub started_at_ms: Option<Millis>,
    /// How the last process ended.
    pub last_exit: Option<ExitRecord>,
    /// The agent (host) that runs it.
    pub host: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape_is_stable() {
        let s = InstanceStatus {
            id: InstanceId::parse("web-1").unwrap(),
            release_id: ReleaseId::parse("r1").unwrap(),
            state: InstanceState::BackOff,
            reason: Some("exited with code 1".into()),
            pid: None,
            port: Some(20001),
            restarts: 2,
            started_at_ms: Some(1_000),
            last_exit: Some(ExitRecord {
                code: Some(1),
                signal: None,
                at_ms: 2_000,
            }),
            host: "agent-1".into(),
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["state"], "back_off");
        assert_eq!(v["last_exit"]["code"], 1);
        let back: InstanceStatus = serde_json::from_value(v).unwrap();
        assert_eq!(back, s);
        assert_eq!(s.last_exit.unwrap().to_string(), "exited with code 1");
        let killed = ExitRecord {
            code: None,
            signal: Some(9),
            at_ms: 0,
        };
        assert_eq!(killed.to_string(), "killed by signal 9");
        assert!(InstanceState::Stopping.is_running() && !InstanceState::BackOff.is_running());
    }
}
