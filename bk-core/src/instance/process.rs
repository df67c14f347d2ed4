//! The parts of an [`InstanceSpec`](super::InstanceSpec) that say how to run its process:
//! command, working directory, environment, port and limits. Each validates itself when
//! parsed, so a deserialised spec never holds a value the agent must re-check.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::types::InvalidValue;

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
