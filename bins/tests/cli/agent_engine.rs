//! The engine's agents backend composed in process (SQLite, the agent protocol over real
//! HTTP), for the tests that run the real `bk-agent` binary against it and drive placement
//! directly. `up_agents.rs` runs `bk-agent` against `bk up` itself.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bk_core::agent_proto::PackageRef;
use bk_core::clock::system;
use bk_core::db::{Db, DbOptions};
use bk_core::instance::{AppEnv, InstanceSpec, InstanceState, ModuleName, ProcessType, ReleaseId};
use bk_core::types::{AppCode, Role};
use bk_engine::deploy::agents::{AgentsBackend, AgentsConfig};
use bk_engine::deploy::backend::{DeployBackend, ObservedInstance, ProcessSet, ReleaseSet, Slot};
use bk_engine::deploy::packages::{FsPackageStore, PackageStore};
use bk_engine::secret::SecretKey;
use bk_engine::service::Caller;
use bk_engine::store::sql::SqlStore;

pub struct Engine {
    pub agents: AgentsBackend,
    /// Base URL of the agent protocol.
    pub url: String,
    /// `tests/samples/hello`, stored.
    pub package: PackageRef,
    _monitor: tokio::task::JoinHandle<()>,
}

pub fn admin() -> Caller {
    Caller::new(
        &bk_engine::testing::user("admin", Role::Superuser),
        "127.0.0.1",
    )
    .unwrap()
}

/// The engine's agents backend in `dir`, its protocol served on `bind` (`ip:0`), agents
/// heartbeating every 200 ms.
pub async fn start(dir: &Path, bind: &str) -> Engine {
    start_with(dir, bind, Duration::from_millis(200)).await
}

/// [`start`] with another heartbeat interval.
pub async fn start_with(dir: &Path, bind: &str, heartbeat: Duration) -> Engine {
    let url = format!("sqlite://{}", dir.join("engine.db").display());
    let db = Db::connect(&url, &DbOptions::default()).await.unwrap();
    let store = Arc::new(SqlStore::new(db));
    store.migrate(&bk_core::clock::SystemClock).await.unwrap();
    let packages = Arc::new(FsPackageStore::new(dir.join("packages")).unwrap());
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/samples/hello");
    let (bytes, _) = bk_engine::package::pack_dir(&samples, &Default::default()).unwrap();
    let stored = packages.put(&bytes).await.unwrap();
    let package = PackageRef {
        release_id: ReleaseId::parse("r1").unwrap(),
        sha256: stored.digest.as_str().to_owned(),
        size: stored.size,
    };
    let agents = AgentsBackend::open(
        AgentsConfig::with_interval(heartbeat),
        store,
        packages,
        &SecretKey::generate().unwrap(),
        system(),
    )
    .await
    .unwrap();
    let monitor = agents.spawn_monitor();
    let listener = tokio::net::TcpListener::bind(bind).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = bk_engine::http::agent::agent_router(agents.clone());
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Engine {
        agents,
        url: format!("http://{addr}"),
        package,
        _monitor: monitor,
    }
}

impl Engine {
    /// Register agent `id`: its token.
    pub async fn register(&self, id: &str) -> String {
        self.agents
            .register(&admin(), "127.0.0.1", id)
            .await
            .unwrap()
            .token
    }

    /// Wait until the admin list satisfies `done`.
    pub async fn until_listed(&self, what: &str, done: impl Fn(&[(String, String)]) -> bool) {
        let mut rx = self.agents.subscribe();
        let wait = async {
            loop {
                let list: Vec<(String, String)> = self
                    .agents
                    .list(&admin())
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|v| (v.id, v.state))
                    .collect();
                if done(&list) {
                    return;
                }
                rx.changed().await.unwrap();
            }
        };
        if tokio::time::timeout(Duration::from_secs(60), wait)
            .await
            .is_err()
        {
            let list = self.agents.list(&admin()).await.unwrap();
            panic!("never reached: {what}; agents: {list:?}");
        }
    }

    /// Wait (on the backend's change counter, no sleeping) until `done` holds.
    pub async fn until(
        &self,
        what: &str,
        done: impl Fn(&[ObservedInstance]) -> bool,
    ) -> Vec<ObservedInstance> {
        let mut rx = self.agents.subscribe();
        let wait = async {
            loop {
                let seen = self.agents.observe(&slot()).await.unwrap();
                if done(&seen) {
                    return seen;
                }
                rx.changed().await.unwrap();
            }
        };
        match tokio::time::timeout(Duration::from_secs(90), wait).await {
            Ok(seen) => seen,
            Err(_) => panic!(
                "never reached: {what}; last seen {:?}",
                self.agents.observe(&slot()).await.unwrap()
            ),
        }
    }

    /// Run `replicas` web instances of the sample.
    pub async fn deploy(&self, replicas: u32) {
        self.agents
            .apply(&slot(), &[release_set(self.package.clone(), replicas)])
            .await
            .unwrap();
    }

    /// Run `replicas` instances of a shell command, without probes.
    pub async fn deploy_command(&self, replicas: u32, command: &str) {
        let mut set = release_set(self.package.clone(), replicas);
        let t = &mut set.processes[0].template;
        t.command = serde_json::from_value(serde_json::json!({ "shell": command })).unwrap();
        t.readiness = None;
        self.agents.apply(&slot(), &[set]).await.unwrap();
    }
}

pub fn slot() -> Slot {
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

pub fn ready_on(seen: &[ObservedInstance], agent: &str) -> usize {
    seen.iter()
        .filter(|o| o.agent == agent && o.status.state == InstanceState::Ready)
        .count()
}
