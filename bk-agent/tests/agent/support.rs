//! Shared set-up: a supervisor over the native runner in a temp dir, spec builders, and
//! waiting for a status without polling (a subscription, bounded by a generous timeout).

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bk_agent::backoff::BackoffPolicy;
use bk_agent::{
    LogPolicy, LogStore, NativeConfig, NativeRunner, ReleaseLayout, Supervisor, SupervisorConfig,
};
use bk_core::instance::{
    AppEnv, EnvVars, InstanceId, InstanceSpec, InstanceStatus, ModuleName, PortSpec,
    ProcessCommand, ProcessType, ReleaseId, Resources, WorkDir,
};
use bk_core::types::AppCode;

/// Upper bound for anything a test waits for; only reached when the test fails.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub struct Agent {
    pub tmp: tempfile::TempDir,
    pub sup: Supervisor,
}

impl Agent {
    /// The release directory of `demo/default/<release>`, created.
    pub fn release(&self, release: &str) -> PathBuf {
        let dir = self.tmp.path().join("releases/demo/default").join(release);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}

/// A supervisor handing out `ports`, with short back-off and small log files.
pub fn agent(ports: RangeInclusive<u16>) -> Agent {
    let tmp = tempfile::tempdir().unwrap();
    let clock = bk_core::clock::system();
    let runner = Arc::new(NativeRunner::new(NativeConfig::detect(), clock.clone()));
    let logs = LogStore::new(
        tmp.path().join("logs"),
        LogPolicy {
            max_file_bytes: 64 * 1024,
            keep_files: 3,
        },
    )
    .unwrap();
    let releases = Arc::new(ReleaseLayout::new(tmp.path().join("releases")));
    let mut config = SupervisorConfig::new("test-host");
    config.ports = ports;
    config.backoff = BackoffPolicy {
        initial: Duration::from_millis(100),
        max: Duration::from_millis(400),
        stable_after: Duration::from_secs(60),
    };
    config.startup_probe_interval = Duration::from_millis(50);
    let sup = Supervisor::new(config, runner, releases, logs, clock).unwrap();
    let agent = Agent { tmp, sup };
    agent.release("r1");
    agent
}

pub fn id(s: &str) -> InstanceId {
    InstanceId::parse(s).unwrap()
}

/// A spec of app `demo`, release `r1`, running `sh -c command` with an automatic port.
pub fn spec(instance: &str, command: &str) -> InstanceSpec {
    InstanceSpec {
        id: id(instance),
        app_code: AppCode::parse("demo").unwrap(),
        module: ModuleName::parse("default").unwrap(),
        env: AppEnv::Stag,
        process_type: ProcessType::parse("web").unwrap(),
        release_id: ReleaseId::parse("r1").unwrap(),
        version: "1.0".into(),
        command: ProcessCommand::Shell(command.into()),
        workdir: WorkDir::default(),
        env_vars: EnvVars::default(),
        port: PortSpec::Auto,
        readiness: None,
        liveness: None,
        resources: Resources::default(),
        grace_period_ms: 2_000,
    }
}

/// A worker spec: no port, so it is ready once it runs.
pub fn worker(instance: &str, command: &str) -> InstanceSpec {
    InstanceSpec {
        port: PortSpec::None,
        ..spec(instance, command)
    }
}

/// A small web server on `$PORT` serving the release directory.
pub const HTTP_SERVER: &str = "exec python3 -m http.server \"$PORT\" --bind 127.0.0.1";

/// Wait until instance `instance` satisfies `cond`; panics with the last status otherwise.
pub async fn wait_for(
    sup: &Supervisor,
    instance: &str,
    what: &str,
    cond: impl Fn(&InstanceStatus) -> bool,
) -> InstanceStatus {
    let mut rx = sup
        .subscribe(&id(instance))
        .unwrap_or_else(|| panic!("{instance} unknown"));
    let found = tokio::time::timeout(PATIENCE, async {
        rx.wait_for(|s| cond(s)).await.map(|s| s.clone())
    })
    .await;
    match found {
        Ok(Ok(s)) => s,
        _ => panic!(
            "{instance}: never {what}; last status {:?}",
            sup.status(&id(instance))
        ),
    }
}

/// Wait until instance `instance` is no longer listed.
pub async fn wait_gone(sup: &Supervisor, instance: &str) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while sup.status(&id(instance)).is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{instance} never went away"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Wait until `path` holds text (a process wrote it).
pub async fn read_when_written(path: &Path) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Ok(s) = std::fs::read_to_string(path)
            && s.ends_with('\n')
        {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} never written",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether `pid` is a live (non-zombie) process.
pub fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            let state = s[s.rfind(')').unwrap() + 1..]
                .split_whitespace()
                .next()
                .unwrap_or("X");
            state != "Z" && state != "X"
        })
        .unwrap_or(false)
}

/// The whole current log of `instance` as text.
pub fn current_log(sup: &Supervisor, instance: &str) -> String {
    let chunk = sup
        .logs()
        .read(&id(instance), bk_agent::Which::Current, 0, 1 << 20)
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&chunk.data).into_owned()
}

/// Wait until the current log of `instance` contains `needle`.
pub async fn wait_log(sup: &Supervisor, instance: &str, needle: &str) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let has = sup
            .logs()
            .read(&id(instance), bk_agent::Which::Current, 0, 1 << 20)
            .ok()
            .flatten()
            .is_some_and(|c| String::from_utf8_lossy(&c.data).contains(needle));
        if has {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{instance} never logged {needle:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
