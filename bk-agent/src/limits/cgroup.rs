//! cgroups v2: one cgroup per instance under a parent the agent owns, with `memory.max`,
//! `cpu.max` and `pids.max` written from the spec's resources.
//!
//! The process joins its cgroup itself before `exec` (the launch wrapper writes `$$` to
//! `cgroup.procs`), so nothing it forks can start outside. At exit `cgroup.kill` ends
//! whatever is left, even processes that left the process group with `setsid`.
//! cgroups v1 (what Docker gives this project's test machines) is not supported: detection
//! says so, and the limits that need cgroups are reported as not enforced.

use std::io;
use std::path::{Path, PathBuf};

use bk_core::instance::Resources;

/// Controllers the agent uses, in the kernel's names.
const WANTED: [&str; 3] = ["cpu", "memory", "pids"];

/// `cpu.max` period, in microseconds (the kernel's default).
const CPU_PERIOD_US: u64 = 100_000;

/// The agent's parent cgroup, ready for instance cgroups below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupParent {
    dir: PathBuf,
    controllers: Vec<&'static str>,
}

impl CgroupParent {
    /// Use `<root>/<name>` as the parent, enabling the controllers the agent needs on the
    /// way. `Err` says, for people, why cgroups v2 cannot be used here.
    pub fn detect(root: &Path, name: &str) -> Result<Self, String> {
        let available = match std::fs::read_to_string(root.join("cgroup.controllers")) {
            Ok(s) => s,
            Err(_) => {
                return Err(format!(
                    "cgroups v2 not available: {} is not a cgroup2 mount (cgroup v1 or none)",
                    root.display()
                ));
            }
        };
        let controllers: Vec<&'static str> = WANTED
            .into_iter()
            .filter(|c| available.split_whitespace().any(|a| a == *c))
            .collect();
        let enable = |dir: &Path| -> Result<(), String> {
            if controllers.is_empty() {
                return Ok(());
            }
            let line: Vec<String> = controllers.iter().map(|c| format!("+{c}")).collect();
            let file = dir.join("cgroup.subtree_control");
            std::fs::write(&file, line.join(" "))
                .map_err(|e| format!("cgroups v2 not writable: {}: {e}", file.display()))
        };
        enable(root)?;
        let dir = root.join(name);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cgroups v2 not writable: create {}: {e}", dir.display()))?;
        enable(&dir)?;
        Ok(Self { dir, controllers })
    }

    /// Whether `controller` (`cpu`, `memory`, `pids`) can be limited.
    pub fn has(&self, controller: &str) -> bool {
        self.controllers.contains(&controller)
    }

    /// The parent directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A fresh cgroup `name` with the limits of `resources` written.
    pub fn create(&self, name: &str, resources: &Resources) -> io::Result<InstanceCgroup> {
        let cg = InstanceCgroup {
            dir: self.dir.join(name),
        };
        if cg.dir.exists() {
            // Left over from an agent that died: end what is in it and start clean.
            cg.kill();
            cg.remove()?;
        }
        std::fs::create_dir(&cg.dir)?;
        let mut files: Vec<(&str, String)> = Vec::new();
        if let (Some(m), true) = (resources.memory_bytes, self.has("memory")) {
            files.push(("memory.max", m.to_string()));
        }
        if let (Some(c), true) = (resources.cpu_millicores, self.has("cpu")) {
            // millicores / 1000 × period = millicores × 100 µs; the kernel's minimum quota is 1 ms.
            let quota = c.saturating_mul(CPU_PERIOD_US / 1000).max(1000);
            files.push(("cpu.max", format!("{quota} {CPU_PERIOD_US}")));
        }
        if let (Some(p), true) = (resources.processes, self.has("pids")) {
            files.push(("pids.max", p.to_string()));
        }
        for (file, value) in files {
            if let Err(e) = std::fs::write(cg.dir.join(file), &value) {
                let _ = cg.remove();
                return Err(io::Error::new(e.kind(), format!("write {file}: {e}")));
            }
        }
        Ok(cg)
    }
}

/// One instance's cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceCgroup {
    dir: PathBuf,
}

impl InstanceCgroup {
    /// The file a process writes its pid to, to join.
    pub fn procs_file(&self) -> PathBuf {
        self.dir.join("cgroup.procs")
    }

    /// The cgroup's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// SIGKILL everything in the cgroup (Linux 5.14+; older kernels lack the file and the
    /// process-group kill has to do).
    pub fn kill(&self) {
        let _ = std::fs::write(self.dir.join("cgroup.kill"), "1");
    }

    /// Remove the cgroup (it must be empty of processes).
    pub fn remove(&self) -> io::Result<()> {
        match std::fs::remove_dir(&self.dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_root(controllers: &str) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("cgroup.controllers"), controllers).unwrap();
        tmp
    }

    #[test]
    fn v1_or_missing_mount_is_reported_not_available() {
        let tmp = tempfile::tempdir().unwrap();
        let err = CgroupParent::detect(tmp.path(), "bk-agent").unwrap_err();
        assert!(err.contains("cgroups v2 not available"), "{err}");
        assert!(err.contains("not a cgroup2 mount"), "{err}");
    }

    #[test]
    fn enables_controllers_and_writes_limit_files() {
        let root = fake_root("cpuset cpu io memory hugetlb pids rdma misc\n");
        let parent = CgroupParent::detect(root.path(), "bk-agent").unwrap();
        assert!(parent.has("cpu") && parent.has("memory") && parent.has("pids"));
        for dir in [root.path().to_path_buf(), root.path().join("bk-agent")] {
            let control = std::fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap();
            assert_eq!(control, "+cpu +memory +pids");
        }
        let res = Resources {
            memory_bytes: Some(256 << 20),
            cpu_millicores: Some(500),
            open_files: Some(1024),
            processes: Some(64),
        };
        let cg = parent.create("web-1-1", &res).unwrap();
        let read = |f: &str| std::fs::read_to_string(cg.dir().join(f)).unwrap();
        assert_eq!(read("memory.max"), "268435456");
        assert_eq!(read("cpu.max"), "50000 100000");
        assert_eq!(read("pids.max"), "64");
        assert_eq!(
            cg.procs_file(),
            root.path().join("bk-agent/web-1-1/cgroup.procs")
        );
    }

    #[test]
    fn only_available_controllers_are_used() {
        let root = fake_root("memory\n");
        let parent = CgroupParent::detect(root.path(), "bk-agent").unwrap();
        assert!(parent.has("memory") && !parent.has("cpu") && !parent.has("pids"));
        let res = Resources {
            cpu_millicores: Some(10),
            memory_bytes: Some(1 << 20),
            ..Default::default()
        };
        let cg = parent.create("w", &res).unwrap();
        assert!(!cg.dir().join("cpu.max").exists());
        assert!(cg.dir().join("memory.max").exists());
        // A tiny CPU share still gets the kernel's minimum quota.
        let root = fake_root("cpu\n");
        let parent = CgroupParent::detect(root.path(), "a").unwrap();
        let cg = parent.create("w", &res).unwrap();
        assert_eq!(
            std::fs::read_to_string(cg.dir().join("cpu.max")).unwrap(),
            "1000 100000"
        );
    }

    #[test]
    fn not_writable_is_reported() {
        let root = fake_root("cpu memory pids\n");
        // A directory where the subtree_control file should be makes the write fail.
        std::fs::create_dir(root.path().join("cgroup.subtree_control")).unwrap();
        let err = CgroupParent::detect(root.path(), "bk-agent").unwrap_err();
        assert!(err.contains("not writable"), "{err}");
    }
}
