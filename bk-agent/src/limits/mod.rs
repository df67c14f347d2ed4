//! Resource limits of an instance, applied with what the host offers and without `unsafe`.
//!
//! - Open files: `RLIMIT_NOFILE`, set by a tiny `sh` wrapper (`ulimit -n N && exec "$@"`)
//!   that then `exec`s the real command, so no code runs between fork and exec in the agent.
//! - Memory, CPU and processes: cgroups v2 ([`cgroup`]) when `/sys/fs/cgroup` is cgroup2 and
//!   writable. Without it they are reported as not enforced rather than approximated:
//!   `RLIMIT_AS` counts address space, not memory, and breaks runtimes that reserve large
//!   heaps; `RLIMIT_NPROC` counts every process of the user, not of the instance.
//!
//! Every start yields a [`LimitPlan`] whose report says, per requested limit, how it is
//! enforced or why not, so the agent can show it rather than silently ignore a limit.

pub mod cgroup;

use std::fmt;
use std::path::Path;

use bk_core::instance::Resources;

pub use cgroup::{CgroupParent, InstanceCgroup};

/// What this host can enforce, found once when the runner is built.
#[derive(Debug, Clone)]
pub struct LimitSupport {
    cgroup: Result<CgroupParent, String>,
}

impl LimitSupport {
    /// Look for cgroups v2 at `cgroup_root` and set up `<cgroup_root>/<parent_name>`.
    pub fn detect(cgroup_root: &Path, parent_name: &str) -> Self {
        let cgroup = CgroupParent::detect(cgroup_root, parent_name);
        if let Err(reason) = &cgroup {
            tracing::info!(%reason, "memory, cpu and process limits will not be enforced");
        }
        Self { cgroup }
    }

    /// No cgroups, for the stated reason.
    pub fn without_cgroups(reason: impl Into<String>) -> Self {
        Self {
            cgroup: Err(reason.into()),
        }
    }

    /// The cgroup parent, or why there is none.
    pub fn cgroup(&self) -> Result<&CgroupParent, &str> {
        self.cgroup.as_ref().map_err(String::as_str)
    }

    /// One line for people: what is enforced here.
    pub fn summary(&self) -> String {
        match &self.cgroup {
            Ok(p) => format!(
                "open files: rlimit; cgroups v2 at {} (memory: {}, cpu: {}, processes: {})",
                p.dir().display(),
                yes_no(p.has("memory")),
                yes_no(p.has("cpu")),
                yes_no(p.has("pids")),
            ),
            Err(reason) => {
                format!("open files: rlimit; memory, cpu, processes: not enforced ({reason})")
            }
        }
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// How one limit is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enforcement {
    /// By a resource limit of the process (`RLIMIT_…`).
    Rlimit(&'static str),
    /// By a cgroup v2 file.
    Cgroup(&'static str),
    /// Not applied; why.
    NotEnforced(String),
}

impl fmt::Display for Enforcement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Enforcement::Rlimit(r) => write!(f, "rlimit {r}"),
            Enforcement::Cgroup(file) => write!(f, "cgroup {file}"),
            Enforcement::NotEnforced(why) => write!(f, "not enforced: {why}"),
        }
    }
}

/// How to apply one instance's limits.
#[derive(Debug, Clone, Default)]
pub struct LimitPlan {
    /// `ulimit -n` value, if any.
    pub open_files: Option<u64>,
    /// Whether the process should join a cgroup (made by the runner at start).
    pub use_cgroup: bool,
    /// Per requested limit, how it is applied.
    pub report: Vec<(&'static str, Enforcement)>,
}

impl LimitPlan {
    /// Plan `resources` on a host with `support`. Every instance joins a cgroup when cgroups
    /// are available, so that stopping it can kill even processes that left its group.
    pub fn new(resources: &Resources, support: &LimitSupport) -> Self {
        let cg = support.cgroup();
        let mut report = Vec::new();
        if resources.open_files.is_some() {
            report.push(("open_files", Enforcement::Rlimit("RLIMIT_NOFILE")));
        }
        for (limit, value, controller, file) in [
            (
                "memory_bytes",
                resources.memory_bytes,
                "memory",
                "memory.max",
            ),
            ("cpu_millicores", resources.cpu_millicores, "cpu", "cpu.max"),
            ("processes", resources.processes, "pids", "pids.max"),
        ] {
            if value.is_none() {
                continue;
            }
            let how = match cg {
                Ok(p) if p.has(controller) => Enforcement::Cgroup(file),
                Ok(_) => Enforcement::NotEnforced(format!(
                    "the cgroup {controller} controller is not available"
                )),
                Err(reason) => Enforcement::NotEnforced(reason.to_owned()),
            };
            report.push((limit, how));
        }
        Self {
            open_files: resources.open_files,
            use_cgroup: cg.is_ok(),
            report,
        }
    }

    /// Limits that are asked for but not applied, as one line (empty when all are applied).
    pub fn unenforced(&self) -> String {
        self.report
            .iter()
            .filter(|(_, how)| matches!(how, Enforcement::NotEnforced(_)))
            .map(|(limit, how)| format!("{limit}: {how}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The argv that applies the plan and then `exec`s `argv`: unchanged when there is
    /// nothing to apply. `cgroup_procs` is the instance's `cgroup.procs` file, if it has one.
    pub fn wrap(&self, argv: Vec<String>, cgroup_procs: Option<&Path>) -> Vec<String> {
        let mut steps: Vec<String> = Vec::new();
        if let Some(n) = self.open_files {
            steps.push(format!("ulimit -n {n}"));
        }
        if cgroup_procs.is_some() {
            // `$0` is the cgroup.procs path, passed as an argument rather than spliced into
            // the script, so no path needs quoting.
            steps.push("echo $$ > \"$0\"".to_owned());
        }
        if steps.is_empty() {
            return argv;
        }
        steps.push("exec \"$@\"".to_owned());
        let arg0 = cgroup_procs.map_or_else(|| "bk-limits".to_owned(), |p| p.display().to_string());
        let mut out = vec!["sh".to_owned(), "-c".to_owned(), steps.join(" && "), arg0];
        out.extend(argv);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_cgroups_only_open_files_are_enforced() {
        let support = LimitSupport::without_cgroups("cgroups v2 not available: test");
        let res = Resources {
            memory_bytes: Some(1 << 20),
            cpu_millicores: Some(100),
            open_files: Some(64),
            processes: Some(10),
        };
        let plan = LimitPlan::new(&res, &support);
        assert!(!plan.use_cgroup);
        assert_eq!(
            plan.report[0],
            ("open_files", Enforcement::Rlimit("RLIMIT_NOFILE"))
        );
        let missing = plan.unenforced();
        for limit in ["memory_bytes", "cpu_millicores", "processes"] {
            assert!(missing.contains(limit), "{missing}");
        }
        assert!(missing.contains("cgroups v2 not available"), "{missing}");
        assert!(support.summary().contains("not enforced"));
    }

    #[test]
    fn wrapper_sets_limits_then_execs_the_command() {
        let plan = LimitPlan {
            open_files: Some(64),
            use_cgroup: true,
            report: Vec::new(),
        };
        let argv = plan.wrap(
            vec!["sleep".into(), "1".into()],
            Some(Path::new("/cg/x/cgroup.procs")),
        );
        assert_eq!(
            argv,
            [
                "sh",
                "-c",
                "ulimit -n 64 && echo $$ > \"$0\" && exec \"$@\"",
                "/cg/x/cgroup.procs",
                "sleep",
                "1"
            ]
        );
        let none = LimitPlan::default();
        assert_eq!(none.wrap(vec!["true".into()], None), ["true"]);
    }
}
