//! The wire description of one app instance, shared by the engine (which decides what runs
//! where) and the agent (which runs it): [`InstanceSpec`] is the desired side,
//! [`InstanceStatus`] the observed side.
//!
//! An instance is one process of one process type of one release of an app module in one
//! environment, on one host. The spec is complete: the engine resolves env vars (contracts
//! §5 precedence) and probes before sending it, so the agent never needs to know about apps,
//! modules or releases beyond the release directory it has unpacked. Field names are
//! snake_case and times are milliseconds, like the rest of our JSON. Unknown fields are
//! refused rather than ignored, so a typo or a newer engine cannot silently drop a limit
//! or a probe; engine and agent agree on versions when the agent registers.

mod names;
mod probe;
mod process;
mod status;

use serde::{Deserialize, Deserializer, Serialize};

pub use names::{InstanceId, ModuleName, ProcessType, ReleaseId};
pub use probe::{Probe, ProbeCheck};
pub use process::{EnvVars, PortSpec, ProcessCommand, Resources, WorkDir};
pub use status::{ExitRecord, InstanceState, InstanceStatus};

use crate::types::{AppCode, InvalidValue};

/// Everything an agent needs to run one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceSpec {
    /// Unique on the agent; names the instance's logs.
    pub id: InstanceId,
    /// The app (legacy codes with `_` accepted).
    #[serde(deserialize_with = "app_code")]
    pub app_code: AppCode,
    /// The app's module.
    pub module: ModuleName,
    /// The environment.
    pub env: AppEnv,
    /// The process type (`web`, `worker`...).
    pub process_type: ProcessType,
    /// The release to run; the agent runs it from the directory where it unpacked it.
    pub release_id: ReleaseId,
    /// The release's version label, for people.
    #[serde(default)]
    pub version: String,
    /// What to run.
    pub command: ProcessCommand,
    /// Working directory relative to the release directory (empty: the release root).
    #[serde(default)]
    pub workdir: WorkDir,
    /// The process's environment, fully resolved by the engine; the agent adds `PORT`.
    #[serde(default)]
    pub env_vars: EnvVars,
    /// Which port the process binds.
    #[serde(default)]
    pub port: PortSpec,
    /// When the instance may receive traffic; absent: its port accepts TCP connections
    /// (without a port: it is running).
    #[serde(default)]
    pub readiness: Option<Probe>,
    /// When to restart a running instance; absent: never on a probe.
    #[serde(default)]
    pub liveness: Option<Probe>,
    /// Limits, each applied where the host can enforce it.
    #[serde(default)]
    pub resources: Resources,
    /// Time between SIGTERM and SIGKILL when stopping.
    #[serde(default = "default_grace")]
    pub grace_period_ms: u64,
}

impl InstanceSpec {
    /// Default grace period before SIGKILL.
    pub const DEFAULT_GRACE_MS: u64 = 10_000;
    /// Longest grace period an agent accepts.
    pub const MAX_GRACE_MS: u64 = 600_000;

    /// Check the fields against each other (each field checks itself when parsed).
    pub fn validate(&self) -> Result<(), InvalidValue> {
        self.command.validate()?;
        for (field, probe) in [("readiness", &self.readiness), ("liveness", &self.liveness)] {
            let Some(probe) = probe else { continue };
            probe.validate(field)?;
            if probe.needs_port() && probe.explicit_port().is_none() && self.port == PortSpec::None
            {
                return Err(InvalidValue {
                    field,
                    reason: "the probe needs a port, but the instance has none (port.mode is none); give the probe a port".into(),
                });
            }
        }
        if let PortSpec::Fixed { port: 0 } = self.port {
            return Err(InvalidValue {
                field: "port",
                reason: "fixed port must be 1-65535".into(),
            });
        }
        if self.grace_period_ms > Self::MAX_GRACE_MS {
            return Err(InvalidValue {
                field: "grace_period_ms",
                reason: format!("must be at most {} ms", Self::MAX_GRACE_MS),
            });
        }
        self.resources.validate()
    }
}

fn default_grace() -> u64 {
    InstanceSpec::DEFAULT_GRACE_MS
}

fn app_code<'de, D: Deserializer<'de>>(d: D) -> Result<AppCode, D::Error> {
    let s = String::deserialize(d)?;
    AppCode::parse_legacy(&s).map_err(serde::de::Error::custom)
}

/// An app environment. V6 calls staging `test`; both names are accepted, `stag` is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppEnv {
    /// Staging (V6 `test`).
    #[serde(alias = "test")]
    Stag,
    /// Production.
    Prod,
}

impl AppEnv {
    /// The V7 name.
    pub fn as_str(self) -> &'static str {
        match self {
            AppEnv::Stag => "stag",
            AppEnv::Prod => "prod",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> serde_json::Value {
        serde_json::json!({
            "id": "demo-web-0",
            "app_code": "demo",
            "module": "default",
            "env": "stag",
            "process_type": "web",
            "release_id": "r1",
            "command": {"shell": "python3 -m http.server $PORT"},
        })
    }

    #[test]
    fn minimal_spec_takes_defaults() {
        let s: InstanceSpec = serde_json::from_value(minimal()).unwrap();
        assert_eq!(s.port, PortSpec::Auto);
        assert_eq!(s.grace_period_ms, InstanceSpec::DEFAULT_GRACE_MS);
        assert!(s.readiness.is_none() && s.resources.is_empty());
        assert_eq!(s.command.to_argv()[..2], ["sh", "-c"]);
        s.validate().unwrap();
        let again: InstanceSpec =
            serde_json::from_value(serde_json::to_value(&s).unwrap()).unwrap();
        assert_eq!(again, s);
    }

    #[test]
    fn full_spec_round_trips() {
        let mut v = minimal();
        v["env"] = "test".into();
        v["app_code"] = "legacy_app".into();
        v["command"] = serde_json::json!({"argv": ["python3", "app.py"]});
        v["workdir"] = "src/web".into();
        v["env_vars"] = serde_json::json!({"BKPAAS_APP_ID": "demo", "_X": "1"});
        v["port"] = serde_json::json!({"mode": "fixed", "port": 8000});
        v["readiness"] =
            serde_json::json!({"check": {"http_get": {"path": "/ping"}}, "period_ms": 200});
        v["liveness"] = serde_json::json!({"check": {"exec": {"command": ["true"]}}});
        v["resources"] = serde_json::json!({"memory_bytes": 268435456, "open_files": 1024});
        v["grace_period_ms"] = 500.into();
        let s: InstanceSpec = serde_json::from_value(v).unwrap();
        s.validate().unwrap();
        assert_eq!(s.env, AppEnv::Stag);
        assert_eq!(s.workdir.parts().collect::<Vec<_>>(), ["src", "web"]);
        assert_eq!(s.env_vars.get("BKPAAS_APP_ID"), Some("demo"));
        let out = serde_json::to_value(&s).unwrap();
        assert_eq!(out["env"], "stag");
        assert_eq!(out["port"]["mode"], "fixed");
        assert_eq!(serde_json::from_value::<InstanceSpec>(out).unwrap(), s);
    }

    #[test]
    fn bad_fields_are_named() {
        for (field, value, says) in [
            ("id", serde_json::json!("Demo"), "id:"),
            ("app_code", serde_json::json!("Demo"), "app_code:"),
            ("env", serde_json::json!("dev"), "unknown variant"),
            (
                "command",
                serde_json::json!({"shell": "  "}),
                "command: shell command is empty",
            ),
            (
                "command",
                serde_json::json!({"argv": []}),
                "argv must name a program",
            ),
            ("workdir", serde_json::json!("../etc"), "workdir:"),
            ("workdir", serde_json::json!("/etc"), "workdir:"),
            ("workdir", serde_json::json!("a//b"), "workdir:"),
            (
                "env_vars",
                serde_json::json!({"PORT": "1"}),
                "PORT is set by the agent",
            ),
            (
                "env_vars",
                serde_json::json!({"1X": "1"}),
                "not a valid variable name",
            ),
            (
                "port",
                serde_json::json!({"mode": "fixed"}),
                "missing field `port`",
            ),
            ("unknown_key", serde_json::json!(1), "unknown field"),
        ] {
            let mut v = minimal();
            v[field] = value;
            let err = serde_json::from_value::<InstanceSpec>(v)
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{field}: {err}");
        }
    }

    #[test]
    fn debug_output_hides_env_values() {
        let mut v = minimal();
        v["env_vars"] = serde_json::json!({"BKPAAS_APP_SECRET": "s3cr3t-value"});
        let s: InstanceSpec = serde_json::from_value(v).unwrap();
        let shown = format!("{s:?}");
        assert!(shown.contains("BKPAAS_APP_SECRET"), "{shown}");
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
    }

    #[test]
    fn cross_field_rules() {
        let mut s: InstanceSpec = serde_json::from_value(minimal()).unwrap();
        s.port = PortSpec::None;
        s.readiness = Some(Probe::new(ProbeCheck::TcpSocket { port: None }));
        let err = s.validate().unwrap_err();
        assert_eq!(err.field, "readiness");
        s.readiness = Some(Probe::new(ProbeCheck::TcpSocket { port: Some(9) }));
        s.validate().unwrap();
        s.grace_period_ms = InstanceSpec::MAX_GRACE_MS + 1;
        assert_eq!(s.validate().unwrap_err().field, "grace_period_ms");
        s.grace_period_ms = 1;
        s.resources.processes = Some(0);
        assert_eq!(s.validate().unwrap_err().field, "resources");
        s.resources.processes = None;
        s.command = ProcessCommand::Argv(vec![String::new()]);
        assert_eq!(s.validate().unwrap_err().field, "command");
    }
}
