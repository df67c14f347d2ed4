//! Health probes of an instance, in the shape of Kubernetes' probes and app_desc's
//! `probes` (contracts §6), with times in milliseconds like every other time on our wire.
//!
//! Readiness decides whether the router may send traffic; liveness failing restarts the
//! process. When a spec has no readiness probe the agent checks that the instance's port
//! accepts TCP connections (or, for an instance without a port, that it is running).

use serde::{Deserialize, Deserializer, Serialize};

use crate::types::InvalidValue;

/// What one probe checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ProbeCheck {
    /// `GET path` on the instance; a status from 200 to 399 passes.
    HttpGet {
        /// Absolute path with an optional query: printable ASCII, no spaces.
        path: String,
        /// The port to call; the instance's port when absent.
        #[serde(default)]
        port: Option<u16>,
    },
    /// A TCP connection to the port is accepted.
    TcpSocket {
        /// The port to connect to; the instance's port when absent.
        #[serde(default)]
        port: Option<u16>,
    },
    /// A command run in the instance's context exits with 0.
    Exec {
        /// Program and arguments (no shell unless the command names one).
        command: Vec<String>,
    },
}

/// A probe: the check and when to run it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Probe {
    /// What to check.
    pub check: ProbeCheck,
    /// Wait this long after the process starts before the first check.
    pub initial_delay_ms: u64,
    /// Time between checks.
    pub period_ms: u64,
    /// A check that takes longer fails.
    pub timeout_ms: u64,
    /// Consecutive failures that flip readiness to unready, or make liveness restart.
    pub failure_threshold: u32,
}

impl Probe {
    /// Default time between checks (Kubernetes' default).
    pub const DEFAULT_PERIOD_MS: u64 = 10_000;
    /// Default check timeout.
    pub const DEFAULT_TIMEOUT_MS: u64 = 1_000;
    /// Default failures before acting.
    pub const DEFAULT_FAILURE_THRESHOLD: u32 = 3;

    /// A probe of `check` with the default timing.
    pub fn new(check: ProbeCheck) -> Self {
        Self {
            check,
            initial_delay_ms: 0,
            period_ms: Self::DEFAULT_PERIOD_MS,
            timeout_ms: Self::DEFAULT_TIMEOUT_MS,
            failure_threshold: Self::DEFAULT_FAILURE_THRESHOLD,
        }
    }

    /// Check the probe on its own; `field` names it in errors (`readiness`, `liveness`).
    pub fn validate(&self, field: &'static str) -> Result<(), InvalidValue> {
        let bad = |reason: String| Err(InvalidValue { field, reason });
        if self.period_ms == 0 || self.timeout_ms == 0 {
            return bad("period_ms and timeout_ms must be greater than 0".into());
        }
        if self.failure_threshold == 0 {
            return bad("failure_threshold must be at least 1".into());
        }
        match &self.check {
            ProbeCheck::HttpGet { path, port } => {
                let printable = path.bytes().all(|c| c.is_ascii_graphic());
                if !path.starts_with('/') || !printable || path.len() > 2048 {
                    return bad(format!(
                        "http_get.path must start with '/' and hold only printable ASCII without spaces (got {path:?})"
                    ));
                }
                if *port == Some(0) {
                    return bad("http_get.port must be 1-65535".into());
                }
            }
            ProbeCheck::TcpSocket { port } if *port == Some(0) => {
                return bad("tcp_socket.port must be 1-65535".into());
            }
            ProbeCheck::TcpSocket { .. } => {}
            ProbeCheck::Exec { command } => {
                if command.first().is_none_or(|p| p.is_empty()) {
                    return bad("exec.command must name a program".into());
                }
                if command.iter().any(|a| a.contains('\0')) {
                    return bad("exec.command must not contain NUL bytes".into());
                }
            }
        }
        Ok(())
    }

    /// The port the check targets, if it names one.
    pub fn explicit_port(&self) -> Option<u16> {
        match self.check {
            ProbeCheck::HttpGet { port, .. } | ProbeCheck::TcpSocket { port } => port,
            ProbeCheck::Exec { .. } => None,
        }
    }

    /// Whether the check needs a port (its own or the instance's).
    pub fn needs_port(&self) -> bool {
        !matches!(self.check, ProbeCheck::Exec { .. })
    }
}

/// The wire form, where every timing field is optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProbe {
    check: ProbeCheck,
    #[serde(default)]
    initial_delay_ms: u64,
    #[serde(default = "default_period")]
    period_ms: u64,
    #[serde(default = "default_timeout")]
    timeout_ms: u64,
    #[serde(default = "default_threshold")]
    failure_threshold: u32,
}

fn default_period() -> u64 {
    Probe::DEFAULT_PERIOD_MS
}
fn default_timeout() -> u64 {
    Probe::DEFAULT_TIMEOUT_MS
}
fn default_threshold() -> u32 {
    Probe::DEFAULT_FAILURE_THRESHOLD
}

impl<'de> Deserialize<'de> for Probe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawProbe::deserialize(d)?;
        let probe = Probe {
            check: r.check,
            initial_delay_ms: r.initial_delay_ms,
            period_ms: r.period_ms,
            timeout_ms: r.timeout_ms,
            failure_threshold: r.failure_threshold,
        };
        probe.validate("probe").map_err(serde::de::Error::custom)?;
        Ok(probe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_missing_timing() {
        let p: Probe =
            serde_json::from_str(r#"{"check":{"http_get":{"path":"/healthz"}}}"#).unwrap();
        assert_eq!(
            p,
            Probe::new(ProbeCheck::HttpGet {
                path: "/healthz".into(),
                port: None
            })
        );
        let p: Probe =
            serde_json::from_str(r#"{"check":{"tcp_socket":{"port":9000}},"period_ms":500}"#)
                .unwrap();
        assert_eq!(p.period_ms, 500);
        assert_eq!(p.explicit_port(), Some(9000));
    }

    #[test]
    fn bad_probes_say_what_is_wrong() {
        for (json, says) in [
            (
                r#"{"check":{"http_get":{"path":"healthz"}}}"#,
                "must start with '/'",
            ),
            (
                r#"{"check":{"http_get":{"path":"/a b"}}}"#,
                "without spaces",
            ),
            (
                r#"{"check":{"http_get":{"path":"/\r\nX: y"}}}"#,
                "printable ASCII",
            ),
            (
                r#"{"check":{"exec":{"command":[]}}}"#,
                "must name a program",
            ),
            (
                r#"{"check":{"tcp_socket":{}},"period_ms":0}"#,
                "greater than 0",
            ),
            (
                r#"{"check":{"tcp_socket":{}},"failure_threshold":0}"#,
                "at least 1",
            ),
            (r#"{"check":{"tcp_socket":{"port":0}}}"#, "1-65535"),
            (r#"{"check":{"grpc":{}}}"#, "unknown variant"),
        ] {
            let err = serde_json::from_str::<Probe>(json).unwrap_err().to_string();
            assert!(err.contains(says), "{json}: {err}");
        }
    }
}
