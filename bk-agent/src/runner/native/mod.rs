//! The native runner: instances are plain processes on this host, started with
//! `tokio::process`, each in its own process group, with stdout and stderr copied into
//! the instance's log, limits applied by [`crate::limits`], and signals sent with `nix`.

mod exec;
pub mod group;
mod handle;
mod pump;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use async_trait::async_trait;
use bk_core::clock::Clock;

use super::{ProcessHandle, ProcessRunner, ProcessSpec};
use crate::AgentError;
use crate::limits::{LimitPlan, LimitSupport};
pub use group::{become_subreaper, has_live_members, live_members};
pub use handle::NativeHandle;

/// Variables of the agent's own environment every instance gets (the spec's win). The rest
/// of the agent's environment (its token, its config) is not passed on.
pub const DEFAULT_INHERITED: [&str; 5] = ["PATH", "LANG", "LC_ALL", "TZ", "HOME"];

/// Settings of the native runner.
#[derive(Debug, Clone)]
pub struct NativeConfig {
    /// The base environment of every process, before the spec's variables.
    pub base_env: Vec<(String, String)>,
    /// What the host can enforce.
    pub limits: LimitSupport,
}

impl NativeConfig {
    /// Base environment from the agent's [`DEFAULT_INHERITED`] variables; cgroups v2 looked
    /// for at `/sys/fs/cgroup`, with the agent's parent cgroup `bk-agent`.
    pub fn detect() -> Self {
        Self {
            base_env: inherited_env(&DEFAULT_INHERITED),
            limits: LimitSupport::detect(&PathBuf::from("/sys/fs/cgroup"), "bk-agent"),
        }
    }
}

/// The named variables of the agent's environment that are set.
pub fn inherited_env(names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .filter_map(|n| std::env::var(n).ok().map(|v| ((*n).to_owned(), v)))
        .collect()
}

/// Runs instances as local process groups.
#[derive(Debug)]
pub struct NativeRunner {
    config: NativeConfig,
    clock: Arc<dyn Clock>,
}

impl NativeRunner {
    /// A runner with `config`, stamping exits with `clock`.
    pub fn new(config: NativeConfig, clock: Arc<dyn Clock>) -> Self {
        Self { config, clock }
    }
}

#[async_trait]
impl ProcessRunner for NativeRunner {
    fn kind(&self) -> &'static str {
        "native"
    }

    fn limits_summary(&self) -> String {
        self.config.limits.summary()
    }

    async fn start(&self, spec: ProcessSpec) -> Result<Arc<dyn ProcessHandle>, AgentError> {
        let Some(program) = spec.argv.first().cloned() else {
            return Err(AgentError::Invalid(
                "command: argv must name a program".into(),
            ));
        };
        let plan = LimitPlan::new(&spec.resources, &self.config.limits);
        let cgroup = match self.config.limits.cgroup() {
            Ok(parent) if plan.use_cgroup => {
                Some(parent.create(&spec.name, &spec.resources).map_err(|e| {
                    AgentError::io(
                        format!("create cgroup {} in {}", spec.name, parent.dir().display()),
                        e,
                    )
                })?)
            }
            _ => None,
        };
        let procs = cgroup.as_ref().map(|c| c.procs_file());
        let argv = plan.wrap(spec.argv.clone(), procs.as_deref());
        let mut cmd = tokio::process::Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .current_dir(&spec.dir)
            .env_clear()
            .envs(self.config.base_env.iter().map(|(k, v)| (k, v)))
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(source) => {
                if let Some(cg) = &cgroup {
                    let _ = cg.remove();
                }
                return Err(AgentError::Start {
                    context: format!("start {program:?} in {}", spec.dir.display()),
                    source,
                });
            }
        };
        let pumps = [
            child
                .stdout
                .take()
                .map(|s| tokio::spawn(pump::pump(s, spec.log.clone()))),
            child
                .stderr
                .take()
                .map(|s| tokio::spawn(pump::pump(s, spec.log.clone()))),
        ];
        let env: Vec<(String, String)> = self
            .config
            .base_env
            .iter()
            .chain(spec.env.iter())
            .cloned()
            .collect();
        let handle = NativeHandle::launch(handle::Launch {
            child,
            pumps: pumps.into_iter().flatten().collect(),
            cgroup,
            grace: spec.grace,
            clock: self.clock.clone(),
            dir: spec.dir,
            env,
            limits: plan.report,
        });
        if !handle.limits().is_empty() {
            tracing::debug!(name = %spec.name, limits = ?handle.limits(), "limits applied");
        }
        Ok(handle)
    }
}
