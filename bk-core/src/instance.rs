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
mod status;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

pub use names::{InstanceId, ModuleName, ProcessType, ReleaseId};
pub use probe::{Probe, ProbeCheck};
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// The command of a process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessCommand {
    /// A Procfile line, run with `sh -c`.
    Shell(String),
    /// Program and arguments, run directly.
    Argv(Vec<String>),
}

impl ProcessCommand {
    /// Check that there is something to run and no NUL byte.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        let bad = |reason: &str| {
            Err(InvalidValue {
                field: "command",
                reason: reason.to_owned(),
            })
        };
        match self {
            ProcessCommand::Shell(s) if s.trim().is_empty() => bad("shell command is empty"),
            ProcessCommand::Shell(s) if s.contains('\0') => bad("must not contain NUL bytes"),
            ProcessCommand::Argv(a) if a.first().is_none_or(|p| p.is_empty()) => {
                bad("argv must name a program")
            }
            ProcessCommand::Argv(a) if a.iter().any(|s| s.contains('\0')) => {
                bad("must not contain NUL bytes")
            }
            _ => Ok(()),
        }
    }

    /// The program and arguments to execute (`sh -c` for a shell command).
    pub fn to_argv(&self) -> Vec<String> {
        match self {
            ProcessCommand::Shell(s) => vec!["sh".into(), "-c".into(), s.clone()],
            ProcessCommand::Argv(a) => a.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for ProcessCommand {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "snake_case", deny_unknown_fields)]
        enum Raw {
            Shell(String),
            Argv(Vec<String>),
        }
        let cmd = match Raw::deserialize(d)? {
            Raw::Shell(s) => ProcessCommand::Shell(s),
            Raw::Argv(a) => ProcessCommand::Argv(a),
        };
        cmd.validate().map_err(serde::de::Error::custom)?;
        Ok(cmd)
    }
}

/// A path inside the release directory: relative, `/`-separated, no `.` or `..` parts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct WorkDir(String);

impl WorkDir {
    /// Validate; empty means the release root.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let bad_part = |p: &str| p.is_empty() || p == "." || p == ".." || p.contains(['\\', '\0']);
        if !s.is_empty() && (s.starts_with('/') || s.split('/').any(bad_part)) {
            return Err(InvalidValue {
                field: "workdir",
                reason: format!(
                    "must be a relative path inside the release, without '.', '..', '\\' or empty parts (got {s:?})"
                ),
            });
        }
        Ok(Self(s.to_owned()))
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path's parts, none of them `.`, `..` or empty.
    pub fn parts(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|p| !p.is_empty())
    }
}

impl<'de> Deserialize<'de> for WorkDir {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        WorkDir::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Environment variables of a process, ordered by name so specs compare and print stably.
/// They hold secrets (`BKPAAS_APP_SECRET`, add-on passwords), so `Debug` shows names only.
#[derive(Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct EnvVars(BTreeMap<String, String>);

impl fmt::Debug for EnvVars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, "<redacted>")))
            .finish()
    }
}

impl EnvVars {
    /// Validate names (`^[A-Za-z_][A-Za-z0-9_]*$`, not `PORT`, which the agent sets from the
    /// spec's `port`) and values (no NUL byte).
    pub fn parse(vars: BTreeMap<String, String>) -> Result<Self, InvalidValue> {
        for (k, v) in &vars {
            let b = k.as_bytes();
            let name_ok = !b.is_empty()
                && (b[0].is_ascii_alphabetic() || b[0] == b'_')
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_');
            let reason = if !name_ok {
                format!(
                    "{k:?} is not a valid variable name (letters, digits, '_'; not starting with a digit)"
                )
            } else if k == "PORT" {
                "PORT is set by the agent from the spec's port".to_owned()
            } else if v.contains('\0') {
                format!("the value of {k} contains a NUL byte")
            } else {
                continue;
            };
            return Err(InvalidValue {
                field: "env_vars",
                reason,
            });
        }
        Ok(Self(vars))
    }

    /// Name and value pairs, ordered by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// One variable.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

impl<'de> Deserialize<'de> for EnvVars {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = BTreeMap::<String, String>::deserialize(d)?;
        EnvVars::parse(m).map_err(serde::de::Error::custom)
    }
}

/// The port a process binds, given to it as `PORT`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum PortSpec {
    /// The agent picks a free port from its range.
    #[default]
    Auto,
    /// This port (the agent refuses to give it to two instances).
    Fixed {
        /// 1–65535.
        port: u16,
    },
    /// The process binds no port (a worker); no `PORT` is set.
    None,
}

/// Limits of one instance. Absent means unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// Memory, in bytes.
    #[serde(default)]
    pub memory_bytes: Option<u64>,
    /// CPU, in thousandths of a core.
    #[serde(default)]
    pub cpu_millicores: Option<u64>,
    /// Open file descriptors.
    #[serde(default)]
    pub open_files: Option<u64>,
    /// Processes and threads.
    #[serde(default)]
    pub processes: Option<u64>,
}

impl Resources {
    /// Every given limit must be positive.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        for (name, v) in [
            ("memory_bytes", self.memory_bytes),
            ("cpu_millicores", self.cpu_millicores),
            ("open_files", self.open_files),
            ("processes", self.processes),
        ] {
            if v == Some(0) {
                return Err(InvalidValue {
                    field: "resources",
                    reason: format!("{name} must be greater than 0 when given"),
                });
            }
        }
        Ok(())
    }

    /// Whether no limit is set.
    pub fn is_empty(&self) -> bool {
        *self == Resources::default()
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
