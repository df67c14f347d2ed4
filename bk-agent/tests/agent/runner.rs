//! The native runner on its own: process groups, graceful and forced stops, env, exec,
//! limits, logs.

use std::path::Path;
use std::time::Duration;

use bk_agent::limits::{Enforcement, LimitSupport};
use bk_agent::runner::native::{
    DEFAULT_INHERITED, become_subreaper, has_live_members, inherited_env,
};
use bk_agent::{
    LogPolicy, LogStore, NativeConfig, NativeRunner, ProcessRunner, ProcessSpec, Which,
};
use bk_core::instance::Resources;

use crate::support::{alive, id, read_when_written};

struct Rig {
    tmp: tempfile::TempDir,
    logs: LogStore,
    runner: NativeRunner,
}

fn rig(policy: LogPolicy) -> Rig {
    let tmp = tempfile::tempdir().unwrap();
    let logs = LogStore::new(tmp.path().join("logs"), policy).unwrap();
    let runner = NativeRunner::new(NativeConfig::detect(), bk_core::clock::system());
    Rig { tmp, logs, runner }
}

impl Rig {
    fn spec(&self, name: &str, script: &str) -> ProcessSpec {
        ProcessSpec {
            name: name.into(),
            argv: vec!["sh".into(), "-c".into(), script.into()],
            dir: self.tmp.path().to_path_buf(),
            env: Vec::new(),
            resources: Resources::default(),
            grace: Duration::from_secs(2),
            log: self.logs.open_run(&id(name)).unwrap(),
        }
    }

    fn log(&self, name: &str) -> String {
        let c = self
            .logs
            .read(&id(name), Which::Current, 0, 1 << 20)
            .unwrap()
            .unwrap();
        String::from_utf8_lossy(&c.data).into_owned()
    }

    fn path(&self, file: &str) -> std::path::PathBuf {
        self.tmp.path().join(file)
    }
}

fn pids_in(file: &Path) -> Vec<i32> {
    std::fs::read_to_string(file)
        .unwrap()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect()
}

#[tokio::test]
async fn exit_code_and_output_are_recorded() {
    let rig = rig(LogPolicy::default());
    let h = rig
        .runner
        .start(rig.spec("once", "echo out; echo err >&2; exit 7"))
        .await
        .unwrap();
    let exit = h.wait().await;
    assert_eq!((exit.code, exit.signal), (Some(7), None));
    assert!(exit.at_ms > 0);
    assert_eq!(h.exit(), Some(exit));
    let log = rig.log("once");
    assert!(log.contains("out\n") && log.contains("err\n"), "{log:?}");
}

#[tokio::test]
async fn graceful_stop_ends_the_whole_group_and_leaves_not_even_zombies() {
    // As the agent binary does, so orphaned grandchildren are reaped by this process.
    become_subreaper().unwrap();
    let rig = rig(LogPolicy::default());
    let pids = rig.path("pids");
    let script = format!(
        "sleep 1000 & a=$!; sh -c 'sleep 1000 & wait' & b=$!; echo $a $b > {}; wait",
        pids.display()
    );
    let h = rig.runner.start(rig.spec("tree", &script)).await.unwrap();
    read_when_written(&pids).await;
    let pgid = h.pid().unwrap() as i32;
    let children = pids_in(&pids);
    assert!(children.iter().all(|p| alive(*p)));
    assert!(has_live_members(pgid));

    let exit = h.stop(Duration::from_secs(5)).await;
    assert_eq!(
        exit.signal,
        Some(15),
        "the leader died of SIGTERM: {exit:?}"
    );
    assert!(!has_live_members(pgid), "a process of the group survived");
    for p in children {
        assert!(!alive(p), "child {p} survived");
    }
    // Every member, zombies included, is gone: the group no longer exists.
    let probe = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), None);
    assert_eq!(probe, Err(nix::errno::Errno::ESRCH));
}

#[tokio::test]
async fn a_process_ignoring_sigterm_is_killed_after_the_grace_period() {
    let rig = rig(LogPolicy::default());
    // The disposition "ignore" survives exec, so `sleep` itself ignores SIGTERM.
    let h = rig
        .runner
        .start(rig.spec("stubborn", "trap '' TERM; echo ready; exec sleep 1000"))
        .await
        .unwrap();
    wait_log(&rig, "stubborn", "ready").await;
    let exit = h.stop(Duration::from_millis(300)).await;
    assert_eq!(exit.signal, Some(9), "{exit:?}");
    assert!(!has_live_members(h.pid().unwrap() as i32));
}

#[tokio::test]
async fn a_process_handling_sigterm_exits_cleanly_within_the_grace() {
    let rig = rig(LogPolicy::default());
    let script = "trap 'echo bye; exit 0' TERM; echo ready; while :; do sleep 0.05; done";
    let h = rig.runner.start(rig.spec("polite", script)).await.unwrap();
    wait_log(&rig, "polite", "ready").await;
    let exit = h.stop(Duration::from_secs(10)).await;
    assert_eq!((exit.code, exit.signal), (Some(0), None));
    assert!(rig.log("polite").contains("bye"));
}

#[tokio::test]
async fn when_the_leader_exits_what_it_left_behind_is_stopped_too() {
    let rig = rig(LogPolicy::default());
    let pid_file = rig.path("orphan");
    let script = format!("sleep 1000 & echo $! > {}; exit 0", pid_file.display());
    let h = rig.runner.start(rig.spec("leaver", &script)).await.unwrap();
    let exit = h.wait().await;
    assert_eq!(exit.code, Some(0));
    let orphan = pids_in(&pid_file)[0];
    assert!(!alive(orphan), "the background child outlived its instance");
}

#[tokio::test]
async fn env_is_the_spec_plus_base_and_nothing_else_of_the_agent() {
    let rig = rig(LogPolicy::default());
    let mut spec = rig.spec("env", "env; pwd");
    spec.env = vec![
        ("PORT".into(), "20123".into()),
        ("BKPAAS_APP_ID".into(), "demo".into()),
    ];
    spec.dir = rig.tmp.path().join("work");
    std::fs::create_dir_all(&spec.dir).unwrap();
    let shown = format!("{spec:?}");
    assert!(
        shown.contains("BKPAAS_APP_ID") && !shown.contains("demo"),
        "{shown}"
    );
    let h = rig.runner.start(spec).await.unwrap();
    assert!(
        !format!("{h:?}").contains("demo"),
        "handle Debug hides env values"
    );
    assert_eq!(h.wait().await.code, Some(0));
    let log = rig.log("env");
    assert!(
        log.contains("PORT=20123\n") && log.contains("BKPAAS_APP_ID=demo\n"),
        "{log}"
    );
    assert!(log.contains("PATH="), "PATH is inherited: {log}");
    // nextest sets this for the test process; an instance must not see the agent's env.
    assert!(std::env::var("CARGO_MANIFEST_DIR").is_ok());
    assert!(!log.contains("CARGO_MANIFEST_DIR"), "{log}");
    assert!(log.contains(&format!("{}\n", rig.tmp.path().join("work").display())));
}

#[tokio::test]
async fn exec_runs_in_the_instance_context_and_times_out() {
    let rig = rig(LogPolicy::default());
    let mut spec = rig.spec("ctx", "exec sleep 1000");
    spec.env = vec![("GREETING".into(), "hello".into())];
    let h = rig.runner.start(spec).await.unwrap();
    let argv = |s: &str| vec!["sh".to_owned(), "-c".to_owned(), s.to_owned()];
    let out = h
        .exec(&argv("echo $GREETING; pwd"), Duration::from_secs(10))
        .await
        .unwrap();
    assert!(out.success(), "{out}");
    assert_eq!(out.output, format!("hello\n{}\n", rig.tmp.path().display()));
    let failed = h
        .exec(&argv("echo nope >&2; exit 3"), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(failed.code, Some(3));
    assert_eq!(failed.to_string(), "exited with code 3: nope");

    let pid_file = rig.path("slow");
    let slow = format!("echo $$ > {}; sleep 1000", pid_file.display());
    let out = h
        .exec(&argv(&slow), Duration::from_millis(300))
        .await
        .unwrap();
    assert!(out.timed_out && !out.success());
    let slow_pid = pids_in(&pid_file)[0];
    let deadline = tokio::time::Instant::now() + crate::support::PATIENCE;
    while alive(slow_pid) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed-out exec still runs"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    h.stop(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn open_files_limit_is_applied_and_the_rest_reported() {
    let rig = rig(LogPolicy::default());
    let mut spec = rig.spec("limited", "ulimit -n");
    spec.resources = Resources {
        open_files: Some(64),
        memory_bytes: Some(256 << 20),
        ..Resources::default()
    };
    let h = rig.runner.start(spec).await.unwrap();
    assert_eq!(h.wait().await.code, Some(0));
    assert_eq!(rig.log("limited"), "64\n");
    let limits = h.limits();
    assert_eq!(
        limits[0],
        ("open_files", Enforcement::Rlimit("RLIMIT_NOFILE"))
    );
    let cgroup_v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    match (&limits[1], cgroup_v2) {
        (("memory_bytes", Enforcement::Cgroup("memory.max")), true) => {}
        (("memory_bytes", Enforcement::NotEnforced(why)), false) => {
            assert!(why.contains("cgroups v2 not available"), "{why}");
        }
        (other, v2) => panic!("memory limit {other:?} with cgroup v2 = {v2}"),
    }
    assert!(rig.runner.limits_summary().contains("open files: rlimit"));
}

#[tokio::test]
async fn a_program_that_cannot_start_is_an_error_naming_it() {
    let rig = rig(LogPolicy::default());
    let mut spec = rig.spec("missing", "");
    spec.argv = vec!["/nonexistent/bin/app".into()];
    let err = rig.runner.start(spec).await.unwrap_err();
    assert!(err.to_string().contains("/nonexistent/bin/app"), "{err}");
}

#[tokio::test]
async fn output_rotates_into_a_bounded_number_of_files() {
    let rig = rig(LogPolicy {
        max_file_bytes: 4096,
        keep_files: 2,
    });
    let script = "i=0; while [ $i -lt 2000 ]; do echo \"line $i\"; i=$((i+1)); done";
    let h = rig.runner.start(rig.spec("chatty", script)).await.unwrap();
    assert_eq!(h.wait().await.code, Some(0));
    let run_dir = rig.tmp.path().join("logs/chatty/run-0000000001");
    let files = std::fs::read_dir(&run_dir).unwrap().count();
    assert_eq!(files, 2, "older files were deleted");
    let chunk = rig
        .logs
        .read(&id("chatty"), Which::Current, 0, 1 << 20)
        .unwrap()
        .unwrap();
    assert!(
        chunk.skipped > 0,
        "the start of the output was rotated away"
    );
    let text = String::from_utf8(chunk.data).unwrap();
    assert!(text.ends_with("line 1999\n"));
    assert!(
        text.lines().all(|l| l.starts_with("line ")),
        "lines are whole"
    );
    let total: usize = (0..2000).map(|i| format!("line {i}\n").len()).sum();
    assert_eq!(chunk.end, total as u64, "every byte was counted");
}

async fn wait_log(rig: &Rig, name: &str, needle: &str) {
    let deadline = tokio::time::Instant::now() + crate::support::PATIENCE;
    while !rig.log(name).contains(needle) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name} never logged {needle:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn with_cgroups_v2_the_process_joins_its_cgroup_before_exec() {
    // A fake cgroup2 hierarchy (this machine has cgroup v1): the kernel's files are plain
    // files here, which is enough to see what the runner writes and what the process does.
    let rig = rig(LogPolicy::default());
    let root = rig.path("cgroup");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("cgroup.controllers"), "cpu memory pids\n").unwrap();
    let config = NativeConfig {
        base_env: inherited_env(&DEFAULT_INHERITED),
        limits: LimitSupport::detect(&root, "bk-agent"),
    };
    let runner = NativeRunner::new(config, bk_core::clock::system());
    let mut spec = rig.spec("cg", "echo $$");
    spec.name = "cg.7".into();
    spec.resources = Resources {
        memory_bytes: Some(64 << 20),
        processes: Some(32),
        ..Resources::default()
    };
    let h = runner.start(spec).await.unwrap();
    assert_eq!(h.wait().await.code, Some(0));

    let cg = root.join("bk-agent/cg.7");
    let joined = std::fs::read_to_string(cg.join("cgroup.procs")).unwrap();
    let pid = h.pid().unwrap();
    assert_eq!(joined.trim(), pid.to_string(), "the process itself joined");
    assert_eq!(
        rig.log("cg").trim(),
        pid.to_string(),
        "then exec'd the command in place"
    );
    assert_eq!(
        std::fs::read_to_string(cg.join("memory.max")).unwrap(),
        "67108864"
    );
    assert_eq!(std::fs::read_to_string(cg.join("pids.max")).unwrap(), "32");
    assert_eq!(
        std::fs::read_to_string(cg.join("cgroup.kill")).unwrap(),
        "1",
        "leftovers killed at exit"
    );
    assert!(
        h.limits()
            .contains(&("memory_bytes", Enforcement::Cgroup("memory.max")))
    );
    assert!(runner.limits_summary().contains("cgroups v2 at"));
}

#[test]
fn processes_do_not_outlive_the_runtime_that_runs_them() {
    let rig = rig(LogPolicy::default());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pids = rig.path("pids");
    let script = format!("sleep 1000 & echo $! > {}; wait", pids.display());
    let handle = rt.block_on(async {
        let h = rig
            .runner
            .start(rig.spec("orphaned", &script))
            .await
            .unwrap();
        read_when_written(&pids).await;
        h
    });
    let pgid = handle.pid().unwrap() as i32;
    let child = pids_in(&pids)[0];
    assert!(has_live_members(pgid) && alive(child));
    // The agent's runtime ends without stopping the instance (the handle is still held).
    drop(rt);
    let deadline = std::time::Instant::now() + crate::support::PATIENCE;
    while has_live_members(pgid) {
        assert!(
            std::time::Instant::now() < deadline,
            "the instance outlived the runtime"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(child));
    drop(handle);
}
