//! Deployments and offline operations: one persisted state machine each.
//!
//! ```text
//! deploy:  pending → validating → pre_release → starting → health_checking → switching
//!          → draining → succeeded
//! offline: pending → draining → succeeded
//! any non-terminal state → failed | cancelled | timed_out
//! ```
//!
//! States only move forward ([`DeployState::may_move_to`]); every move is one transaction
//! with its reason and a log line, and the terminal move also updates the app's V6 state
//! and (on success) the slot's serving release in the same transaction.

use std::collections::BTreeMap;
use std::fmt;

use bk_core::clock::Millis;
use bk_core::types::AppCode;
use serde::{Deserialize, Serialize};

use super::{AppState, Env, ModuleName};

/// Where a deployment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeployState {
    /// Accepted, waiting for the reconciler.
    Pending,
    /// Checking the package and the formation.
    Validating,
    /// Running the pre-release hook.
    PreRelease,
    /// New instances are being started beside the old ones.
    Starting,
    /// Waiting until every new instance is ready.
    HealthChecking,
    /// Moving traffic to the new instances.
    Switching,
    /// Letting requests on the old instances finish, then stopping them.
    Draining,
    /// Done: the new release serves.
    Succeeded,
    /// Stopped by an error; the previous release keeps serving. The reason says why.
    Failed,
    /// Stopped on request; the previous release keeps serving.
    Cancelled,
    /// Ran past its deadline; the previous release keeps serving.
    TimedOut,
}

impl DeployState {
    /// Every state, in order.
    pub const ALL: [DeployState; 11] = [
        DeployState::Pending,
        DeployState::Validating,
        DeployState::PreRelease,
        DeployState::Starting,
        DeployState::HealthChecking,
        DeployState::Switching,
        DeployState::Draining,
        DeployState::Succeeded,
        DeployState::Failed,
        DeployState::Cancelled,
        DeployState::TimedOut,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeployState::Pending => "pending",
            DeployState::Validating => "validating",
            DeployState::PreRelease => "pre_release",
            DeployState::Starting => "starting",
            DeployState::HealthChecking => "health_checking",
            DeployState::Switching => "switching",
            DeployState::Draining => "draining",
            DeployState::Succeeded => "succeeded",
            DeployState::Failed => "failed",
            DeployState::Cancelled => "cancelled",
            DeployState::TimedOut => "timed_out",
        }
    }

    /// Parse a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        DeployState::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// Whether nothing follows.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            DeployState::Succeeded
                | DeployState::Failed
                | DeployState::Cancelled
                | DeployState::TimedOut
        )
    }

    fn rank(self) -> usize {
        DeployState::ALL
            .iter()
            .position(|s| *s == self)
            .unwrap_or(0)
    }

    /// Forward moves along the path, and from any non-terminal state to a terminal one.
    pub fn may_move_to(self, to: DeployState) -> bool {
        if self.is_terminal() {
            return false;
        }
        if to.is_terminal() {
            return to != DeployState::Succeeded || self == DeployState::Draining;
        }
        to.rank() > self.rank()
    }

    /// The V6 appengine event status (`PENDING`, `STARTED`, `SUCCESS`, `FAILURE`).
    pub fn v6_status(self) -> &'static str {
        match self {
            DeployState::Pending => "PENDING",
            DeployState::Succeeded => "SUCCESS",
            DeployState::Failed | DeployState::Cancelled | DeployState::TimedOut => "FAILURE",
            _ => "STARTED",
        }
    }

    /// The V7 result status (`pending`, `successful`, `failed`).
    pub fn v7_status(self) -> &'static str {
        match self {
            DeployState::Succeeded => "successful",
            DeployState::Failed | DeployState::Cancelled | DeployState::TimedOut => "failed",
            _ => "pending",
        }
    }
}

impl fmt::Display for DeployState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Deploy a release, or take a slot offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    /// Run a release.
    Deploy,
    /// Stop everything of the slot.
    Offline,
}

impl OperationKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Deploy => "deploy",
            OperationKind::Offline => "offline",
        }
    }

    /// Parse a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "deploy" => Some(OperationKind::Deploy),
            "offline" => Some(OperationKind::Offline),
            _ => None,
        }
    }
}

/// One deployment or offline operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// Random id (a UUID).
    pub id: String,
    /// Deploy or offline.
    pub kind: OperationKind,
    /// The app.
    pub app_code: AppCode,
    /// Its module.
    pub module: ModuleName,
    /// The environment.
    pub env: Env,
    /// The release deployed (`None` for an offline).
    pub release_id: Option<String>,
    /// Where it is.
    pub state: DeployState,
    /// Why it is there (the last transition's reason).
    pub reason: Option<String>,
    /// The app's V6 state before it started (restored on failure).
    pub prev_app_state: AppState,
    /// A cancel was asked for.
    pub cancel_requested: bool,
    /// Who started it.
    pub created_by: String,
    /// When.
    pub created_at: Millis,
    /// Last transition.
    pub updated_at: Millis,
    /// It times out at this time.
    pub deadline_at: Millis,
}

/// One line of a deployment's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeployLogLine {
    /// Increasing per deployment; follow with `after`.
    pub seq: i64,
    /// When (ms).
    pub at: Millis,
    /// The text.
    pub line: String,
}

/// One transition, applied in one transaction.
#[derive(Debug, Clone)]
pub struct Transition {
    /// The deployment.
    pub id: String,
    /// Expected current state (compare-and-set).
    pub from: DeployState,
    /// New state.
    pub to: DeployState,
    /// Why, for people.
    pub reason: Option<String>,
    /// When.
    pub at: Millis,
    /// Move the app's V6 state (from, to) if it is still `from`.
    pub app_state: Option<(AppState, AppState)>,
    /// Store this slot record (the serving release after a success).
    pub slot: Option<SlotRecord>,
}

/// The desired state of one slot (app, module, env): which release serves, in which
/// generation, with how many replicas per process type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotRecord {
    /// The app.
    pub app_code: AppCode,
    /// The module.
    pub module: ModuleName,
    /// The environment.
    pub env: Env,
    /// The serving release (`None`: offline).
    pub release_id: Option<String>,
    /// Bumped by a restart.
    pub generation: u32,
    /// Replicas per process type set by a scale (overrides the release's).
    pub replicas: BTreeMap<String, u32>,
    /// Stopped on request (instances not running, release kept).
    pub stopped: bool,
    /// Last change.
    pub updated_at: Millis,
}

#[cfg(test)]
mod tests {
    use super::DeployState::*;
    use super::*;

    #[test]
    fn states_only_move_forward_and_end_once() {
        assert!(Pending.may_move_to(Validating));
        assert!(
            Validating.may_move_to(Starting),
            "pre_release may be skipped"
        );
        assert!(!Starting.may_move_to(Validating));
        assert!(HealthChecking.may_move_to(Failed));
        assert!(Pending.may_move_to(Cancelled));
        assert!(
            !Starting.may_move_to(Succeeded),
            "success only after draining"
        );
        assert!(Draining.may_move_to(Succeeded));
        for t in [Succeeded, Failed, Cancelled, TimedOut] {
            assert!(t.is_terminal());
            for s in DeployState::ALL {
                assert!(!t.may_move_to(s));
            }
        }
        for s in DeployState::ALL {
            assert_eq!(DeployState::parse(s.as_str()), Some(s));
        }
        assert_eq!(TimedOut.v7_status(), "failed");
        assert_eq!(Switching.v6_status(), "STARTED");
    }
}
