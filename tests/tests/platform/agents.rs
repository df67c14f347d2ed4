//! The engine's agents backend and two real agent daemons over HTTP on loopback, in one
//! process: registration, authentication, the protocol version check, placement spread
//! over agents, instances answering on their ports, failover when an agent dies, and the
//! capacity limit. Everything is real (SQLite, HTTP, python3 processes); nothing is mocked.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bk_agent::daemon::{Daemon, DaemonConfig, Releases, Token};
use bk_agent::{LogPolicy, LogStore, NativeConfig, NativeRunner, Supervisor, SupervisorConfig};
use bk_core::agent_proto::{Capacity, PackageRef};
use bk_core::clock::system;
use bk_core::db::{Db, DbOptions};
use bk_core::instance::{
    AppEnv, InstanceSpec, InstanceState, ModuleName, ProcessCommand, ProcessType, ReleaseId,
};
use bk_core::types::{AppCode, Role};
use bk_engine::deploy::agents::{AgentsBackend, AgentsConfig};
use bk_engine::deploy::backend::{
    BackendError, DeployBackend, ObservedInstance, ProcessSet, ReleaseSet, Slot,
};
use bk_engine::deploy::packages::{FsPackageStore, PackageStore};
use bk_engine::secret::SecretKey;
use bk_engine::service::Caller;
use bk_engine::store::sql::SqlStore;

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    format!("http://{addr}")
}

fn admin() -> Caller {
    Caller::new(
        &bk_engine::testing::user("admin", Role::Superuser),
        "127.0.0.1",
    )
    .unwrap()
}

struct Agent {
    daemon: Arc<Daemon>,
    run: tokio::task::JoinHandle<()>,
}

async fn start_agent(engine: &str, id: &str, token: &str, dir: &Path, ports: (u16, u16)) -> Agent {
    let clock = system();
    let runner = Arc::new(NativeRunner::new(NativeConfig::detect(), clock.clone()));
    let logs = LogStore::new(dir.join("logs"), LogPolicy::default()).unwrap();
    let mut cfg = SupervisorConfig::new(id);
    cfg.ports = ports.0..=ports.1;
    let sup = Supervisor::new(cfg, runner, Arc::new(Releases::layout(dir)), logs, clock).unwrap();
    // The API needs the daemon and the daemon its API URL: bind first, serve after.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    let daemon = Daemon::new(
        DaemonConfig {
            engine_url: engine.to_owned(),
            id: id.to_owned(),
            token: Token::new(token),
            host: "127.0.0.1".into(),
            api_url: Some(api),
            data_dir: dir.to_path_buf(),
            capacity: Capacity {
                max_instances: 3,
                memory_bytes: None,
            },
        },
        sup,
    )
    .unwrap();
    let router = bk_agent::daemon::api::router(daemon.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let run = tokio::spawn(daemon.clone().run());
    Agent { daemon, run }
}

fn slot() -> Slot {
    Slot {
        app: AppCode::parse("hello").unwrap(),
        module: ModuleName::parse("default").unwrap(),
        env: AppEnv::Stag,
    }
}

fn release_set(package: PackageRef, replicas: u32) -> ReleaseSet {
    let template: InstanceSpec = serde_json::from_value(serde_json::json!({
        "id": "template", "app_code": "hello", "module": "default", "env": "stag",
        "process_type": "web", "release_id": "r1",
        "command": {"shell": "exec python3 server.py"},
        "readiness": {"check": {"http_get": {"path": "/healthz"}}, "period_ms": 200},
        "grace_period_ms": 2000,
    }))
    .unwrap();
    assert!(matches!(template.command, ProcessCommand::Shell(_)));
    ReleaseSet {
        release: ReleaseId::parse("r1").unwrap(),
        generation: 0,
        package,
        processes: vec![ProcessSet {
            process_type: ProcessType::parse("web").unwrap(),
            replicas,
            template,
        }],
    }
}

/// Wait (on the backend's change counter, no sleeping) until `done` holds.
async fn until(
    agents: &AgentsBackend,
    what: &str,
    done: impl Fn(&[ObservedInstance]) -> bool,
) -> Vec<ObservedInstance> {
    let mut rx = agents.subscribe();
    let wait = async {
        loop {
            let seen = agents.observe(&slot()).await.unwrap();
            if done(&seen) {
                return seen;
            }
            rx.changed().await.unwrap();
        }
    };
    match tokio::time::timeout(Duration::from_secs(60), wait).await {
        Ok(seen) => seen,
        Err(_) => panic!(
            "never reached: {what}; last seen {:?}",
            agents.observe(&slot()).await.unwrap()
        ),
    }
}

fn ready_on(seen: &[ObservedInstance], agent: &str) -> usize {
    seen.iter()
        .filter(|o| o.agent == agent && o.status.state == InstanceState::Ready)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_place_spread_fail_over_and_respect_capacity() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("engine.db").display());
    let db = Db::connect(&url, &DbOptions::default()).await.unwrap();
    let store = Arc::new(SqlStore::new(db));
    store.migrate(&bk_core::clock::SystemClock).await.unwrap();
    let packages = Arc::new(FsPackageStore::new(tmp.path().join("packages")).unwrap());
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/hello");
    let (bytes, _) = bk_engine::package::pack_dir(&samples, &Default::default()).unwrap();
    let stored = packages.put(&bytes).await.unwrap();
    let package = PackageRef {
        release_id: ReleaseId::parse("r1").unwrap(),
        sha256: stored.digest.as_str().to_owned(),
        size: stored.size,
    };
    let agents = AgentsBackend::open(
        AgentsConfig::with_interval(Duration::from_millis(200)),
        store,
        packages,
        &SecretKey::generate().unwrap(),
        system(),
    )
    .await
    .unwrap();
    let _monitor = agents.spawn_monitor();
    let engine = serve(bk_engine::http::agent::agent_router(agents.clone())).await;

    let a = agents
        .register(&admin(), "127.0.0.1", "host-a")
        .await
        .unwrap();
    let b = agents
        .register(&admin(), "127.0.0.1", "host-b")
        .await
        .unwrap();
    assert_ne!(a.token, b.token);
    assert!(
        agents
            .register(&admin(), "127.0.0.1", "host-a")
            .await
            .is_err()
    );

    // Wrong token: 403, the same answer as an unknown agent; protocol mismatch named.
    let http = reqwest::Client::new();
    let hb = serde_json::json!({"agent_version": "x", "protocol": 1, "host": "127.0.0.1",
        "capacity": {"max_instances": 1}, "applied_revision": 0, "instances": []});
    let r = http
        .post(format!("{engine}/v1/agent/heartbeat"))
        .header("x-id", "host-a")
        .header("x-token", "wrong")
        .header("x-agent-protocol", "1")
        .json(&hb)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = http
        .post(format!("{engine}/v1/agent/heartbeat"))
        .header("x-id", "host-a")
        .header("x-token", &a.token)
        .header("x-agent-protocol", "99")
        .json(&hb)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    let msg = body["message"].as_str().unwrap();
    assert!(
        msg.contains("version 99") && msg.contains("version 1"),
        "{msg}"
    );

    // Nothing live yet: a clear NoCapacity.
    let err = agents
        .apply(&slot(), &[release_set(package.clone(), 1)])
        .await
        .unwrap_err();
    assert!(
        matches!(err, BackendError::NoCapacity(ref m) if m.contains("no enabled agent is live")),
        "{err}"
    );

    let agent_a = start_agent(
        &engine,
        "host-a",
        &a.token,
        &tmp.path().join("a"),
        (31000, 31099),
    )
    .await;
    let agent_b = start_agent(
        &engine,
        "host-b",
        &b.token,
        &tmp.path().join("b"),
        (31100, 31199),
    )
    .await;
    // Both heartbeat: the list shows them up.
    let mut rx = agents.subscribe();
    loop {
        let list = agents.list(&admin()).await.unwrap();
        if list.iter().all(|v| v.state == "up") {
            assert!(list.iter().all(|v| v.version.starts_with("bk-agent")));
            break;
        }
        tokio::time::timeout(Duration::from_secs(30), rx.changed())
            .await
            .unwrap()
            .unwrap();
    }

    agents
        .apply(&slot(), &[release_set(package.clone(), 3)])
        .await
        .unwrap();
    let seen = until(&agents, "3 ready instances", |s| {
        ready_on(s, "host-a") + ready_on(s, "host-b") == 3
    })
    .await;
    let on_a = ready_on(&seen, "host-a");
    assert!(on_a == 1 || on_a == 2, "spread over both agents: {seen:?}");
    for o in &seen {
        let addr = o.address.clone().unwrap();
        let r = http
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{addr}");
    }
    // The log of an instance, through the agent's API with the engine key.
    let chunk = agents
        .read_log(&seen[0].status.id, false, 0, 4096)
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&chunk.data).contains("listening"),
        "{chunk:?}"
    );

    // Kill agent A (its daemon and its processes): after the timeout its instances run on B.
    agent_a.daemon.stop();
    agent_a.run.await.unwrap();
    let seen = until(&agents, "all 3 on host-b", |s| ready_on(s, "host-b") == 3).await;
    assert!(seen.iter().all(|o| o.agent == "host-b"), "{seen:?}");
    let list = agents.list(&admin()).await.unwrap();
    let a_view = list.iter().find(|v| v.id == "host-a").unwrap();
    assert_eq!((a_view.state.as_str(), a_view.instances), ("down", 0));

    // B is full (3 of 3): more replicas are refused with what is missing.
    let err = agents
        .apply(&slot(), &[release_set(package.clone(), 5)])
        .await
        .unwrap_err();
    match err {
        BackendError::NoCapacity(m) => {
            assert!(
                m.contains("2 of 2 new instances") && m.contains("host-b (3 of 3 instances)"),
                "{m}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Nothing changed: still the three.
    assert_eq!(
        ready_on(&agents.observe(&slot()).await.unwrap(), "host-b"),
        3
    );

    // Empty the slot, then stop B: nothing of the app is left running.
    agents.apply(&slot(), &[]).await.unwrap();
    until(&agents, "slot empty", |s| {
        s.iter().all(|o| o.status.state == InstanceState::Stopped)
    })
    .await;
    agent_b.daemon.stop();
    agent_b.run.await.unwrap();
}
