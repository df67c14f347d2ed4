//! `[engine.deploy]` and `[engine.agents]`: how long deploys may take, and where instances
//! run.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::deploy::agents::AgentsConfig;
use crate::service::DeploySettings;

/// Where app instances run.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// Processes of this host under an in-process supervisor (`<data_dir>/apps`).
    #[default]
    Local,
    /// Hosts running `bk-agent`, registered with the engine; they pull over HTTP.
    Agents,
}

/// `[engine.deploy]`: the deploy backend and the time limits of a deployment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct DeployConfig {
    /// `local` or `agents`.
    pub backend: BackendKind,
    /// A deployment that has not ended after this long ends `timed_out`, seconds.
    pub timeout_secs: u64,
    /// New instances must all pass their readiness probe within this long (start and
    /// health check), or the deployment fails, seconds.
    pub ready_timeout_secs: u64,
    /// Longest wait for requests on an old instance to finish before it is stopped,
    /// seconds.
    pub drain_secs: u64,
    /// Longest run of a pre-release hook, seconds.
    pub hook_timeout_secs: u64,
    /// Time between SIGTERM and SIGKILL when an app process stops, milliseconds.
    pub grace_ms: u64,
}

impl Default for DeployConfig {
    fn default() -> Self {
        let d = DeploySettings::default();
        Self {
            backend: BackendKind::Local,
            timeout_secs: d.deploy_timeout.as_secs(),
            ready_timeout_secs: d.ready_timeout.as_secs(),
            drain_secs: d.drain_timeout.as_secs(),
            hook_timeout_secs: d.hook_timeout.as_secs(),
            grace_ms: d.grace_ms,
        }
    }
}

impl DeployConfig {
    /// The driver's settings; an error names a limit of zero (nothing could ever pass it).
    pub fn settings(&self) -> Result<DeploySettings, String> {
        for (name, v) in [
            ("timeout_secs", self.timeout_secs),
            ("ready_timeout_secs", self.ready_timeout_secs),
            ("hook_timeout_secs", self.hook_timeout_secs),
        ] {
            if v == 0 {
                return Err(format!("engine.deploy.{name} must be at least 1"));
            }
        }
        Ok(DeploySettings {
            deploy_timeout: Duration::from_secs(self.timeout_secs),
            ready_timeout: Duration::from_secs(self.ready_timeout_secs),
            drain_timeout: Duration::from_secs(self.drain_secs),
            hook_timeout: Duration::from_secs(self.hook_timeout_secs),
            grace_ms: self.grace_ms,
        })
    }
}

/// `[engine.agents]`: timing of the agents backend.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AgentsSection {
    /// How often agents heartbeat, milliseconds.
    pub heartbeat_ms: u64,
    /// Silence after which an agent is down and its instances move, milliseconds
    /// (0: three heartbeats).
    pub down_after_ms: u64,
}

impl Default for AgentsSection {
    fn default() -> Self {
        Self {
            heartbeat_ms: 5_000,
            down_after_ms: 0,
        }
    }
}

impl AgentsSection {
    /// The backend's timing; an error names a heartbeat of zero.
    pub fn config(&self) -> Result<AgentsConfig, String> {
        if self.heartbeat_ms == 0 {
            return Err("engine.agents.heartbeat_ms must be at least 1".into());
        }
        let mut c = AgentsConfig::with_interval(Duration::from_millis(self.heartbeat_ms));
        if self.down_after_ms > 0 {
            c.down_after = Duration::from_millis(self.down_after_ms);
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_drivers_and_zero_limits_are_refused() {
        let d = DeployConfig::default().settings().unwrap();
        let s = DeploySettings::default();
        assert_eq!(
            (
                d.deploy_timeout,
                d.ready_timeout,
                d.drain_timeout,
                d.grace_ms
            ),
            (
                s.deploy_timeout,
                s.ready_timeout,
                s.drain_timeout,
                s.grace_ms
            )
        );
        let c = DeployConfig {
            ready_timeout_secs: 0,
            ..DeployConfig::default()
        };
        assert!(c.settings().unwrap_err().contains("ready_timeout_secs"));
        let c = DeployConfig {
            timeout_secs: 3,
            drain_secs: 0,
            ..DeployConfig::default()
        };
        let s = c.settings().unwrap();
        assert_eq!(s.deploy_timeout, Duration::from_secs(3));
        assert_eq!(s.drain_timeout, Duration::ZERO);
    }

    #[test]
    fn agents_timing() {
        let a = AgentsSection::default().config().unwrap();
        assert_eq!(a.down_after, Duration::from_secs(15));
        let a = AgentsSection {
            heartbeat_ms: 200,
            down_after_ms: 1_000,
        }
        .config()
        .unwrap();
        assert_eq!(
            (a.heartbeat_interval, a.down_after),
            (Duration::from_millis(200), Duration::from_secs(1))
        );
        assert!(
            AgentsSection {
                heartbeat_ms: 0,
                down_after_ms: 0
            }
            .config()
            .is_err()
        );
    }
}
