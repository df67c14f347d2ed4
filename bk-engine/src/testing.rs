//! Test support (feature `test-utils`).
//!
//! [`FakeLogin`] stands in for the login service, which this crate cannot depend on (no
//! service crate depends on another): a `TokenVerifier` and `UserDirectory` over a table
//! of users and tokens the test fills. The cross-crate tests run the engine against the
//! real login service instead. [`spawn_engine`] serves the engine on 127.0.0.1:0 over a
//! fresh SQLite database.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bk_core::ApiError;
use bk_core::clock::Clock;
use bk_core::db::{Db, DbOptions};
use bk_core::identity::{TokenVerifier, UserDirectory, UserInfo};
use bk_core::types::Role;

use crate::app::Identity;
use crate::config::EngineConfig;
use crate::secret::SecretKey;
use crate::service::EngineService;

/// The platform service token of spawned engines (`X-APP-CODE: paas`).
pub const SERVICE_TOKEN: &str = "test-paas-service-token-0123456789";

#[derive(Default)]
struct Table {
    users: HashMap<String, UserInfo>,
    tokens: HashMap<String, String>,
}

/// Users and their `bk_token`s, as login would know them.
#[derive(Default, Clone)]
pub struct FakeLogin {
    table: Arc<Mutex<Table>>,
}

impl std::fmt::Debug for FakeLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FakeLogin")
    }
}

/// A user of role `role`.
pub fn user(username: &str, role: Role) -> UserInfo {
    UserInfo {
        username: username.to_owned(),
        chname: username.to_owned(),
        qq: String::new(),
        phone: String::new(),
        email: format!("{username}@example.com"),
        role,
        wx_userid: String::new(),
        language: "en".into(),
        time_zone: "UTC".into(),
    }
}

impl FakeLogin {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add (or replace) a user; returns a token that logs them in (`tok-<username>`).
    #[allow(clippy::unwrap_used)]
    pub fn add(&self, username: &str, role: Role) -> String {
        let token = format!("tok-{username}");
        let mut t = self.table.lock().unwrap();
        t.users.insert(username.to_owned(), user(username, role));
        t.tokens.insert(token.clone(), username.to_owned());
        token
    }

    /// Forget a user's tokens (a logout).
    #[allow(clippy::unwrap_used)]
    pub fn logout(&self, username: &str) {
        self.table
            .lock()
            .unwrap()
            .tokens
            .retain(|_, u| u != username);
    }

    /// As the engine's identity.
    pub fn identity(&self) -> Identity {
        Identity {
            tokens: Arc::new(self.clone()),
            users: Arc::new(self.clone()),
        }
    }
}

#[async_trait]
impl TokenVerifier for FakeLogin {
    #[allow(clippy::unwrap_used)]
    async fn verify(&self, bk_token: &str) -> Result<Option<UserInfo>, ApiError> {
        let t = self.table.lock().unwrap();
        Ok(t.tokens.get(bk_token).and_then(|u| t.users.get(u)).cloned())
    }
}

#[async_trait]
impl UserDirectory for FakeLogin {
    #[allow(clippy::unwrap_used)]
    async fn get_user(&self, username: &str) -> Result<Option<UserInfo>, ApiError> {
        Ok(self.table.lock().unwrap().users.get(username).cloned())
    }
}

/// A running engine.
pub struct TestEngine {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The service, for direct calls.
    pub service: Arc<EngineService>,
    /// The database (to look at what is stored).
    pub db: Db,
    _dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestEngine {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serve an engine with `cfg` over a fresh SQLite database, identities from `login`.
/// Panics on failure: for tests only.
#[allow(clippy::expect_used)]
pub async fn spawn_engine(cfg: EngineConfig, login: Identity, clock: Arc<dyn Clock>) -> TestEngine {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("engine.db").display());
    let db = Db::connect(&url, &DbOptions::default())
        .await
        .expect("open sqlite");
    let service = crate::app::open(
        db.clone(),
        cfg,
        login,
        SecretKey::generate().expect("key"),
        clock,
        Some(SERVICE_TOKEN.to_owned()),
    )
    .await
    .expect("open engine");
    let app = bk_core::http::stack::wrap(
        crate::http::router(service.clone()).merge(bk_core::http::stack::ops_routes()),
        crate::SERVICE,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    TestEngine {
        base_url: format!("http://{addr}"),
        service,
        db,
        _dir: dir,
        task,
    }
}

/// Timings for deploy tests: quick, but long enough for a python app to start on a loaded
/// machine.
pub fn test_deploy_settings() -> crate::service::DeploySettings {
    crate::service::DeploySettings {
        deploy_timeout: std::time::Duration::from_secs(120),
        ready_timeout: std::time::Duration::from_secs(20),
        drain_timeout: std::time::Duration::from_secs(5),
        hook_timeout: std::time::Duration::from_secs(20),
        grace_ms: 3_000,
    }
}

/// An engine with deploying enabled: the local backend (real processes under an
/// in-process supervisor), the app router in front of the engine's routes, all on
/// 127.0.0.1:0. `data` holds the database, packages, releases and logs, so a second
/// [`DeployEngine::start`] over the same directory is the same platform restarted.
pub struct DeployEngine {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The service.
    pub service: Arc<EngineService>,
    /// The supervisor under the local backend.
    pub supervisor: bk_agent::Supervisor,
    task: tokio::task::JoinHandle<()>,
}

impl DeployEngine {
    /// Start over `data` with login `login` and engine key `key`.
    #[allow(clippy::expect_used)]
    pub async fn start(
        data: &std::path::Path,
        login: Identity,
        key: SecretKey,
        settings: crate::service::DeploySettings,
    ) -> Self {
        let url = format!("sqlite://{}", data.join("engine.db").display());
        let db = Db::connect(&url, &DbOptions::default())
            .await
            .expect("open sqlite");
        let clock = bk_core::clock::system();
        let service = crate::app::open(
            db,
            EngineConfig::default(),
            login,
            key,
            clock.clone(),
            Some(SERVICE_TOKEN.to_owned()),
        )
        .await
        .expect("open engine");
        // Test processes run side by side, each with its own supervisor: give each its own
        // slice of the port range, so two do not hand out the same free port at once.
        let mut sup_cfg = bk_agent::SupervisorConfig::new("local");
        // 200 slices of 40 ports (20000-27999): a test starts a handful of instances.
        let slice = u16::try_from(std::process::id() % 200).unwrap_or(0);
        let first = 20_000 + slice * 40;
        sup_cfg.ports = first..=first + 39;
        let router = crate::router::RouterHandle::new(crate::router::ProxyOptions::default());
        let supervisor = crate::app::attach_local_deploy(
            &service,
            data,
            router.clone(),
            crate::router::HostSettings::default(),
            sup_cfg,
            settings,
        )
        .await
        .expect("attach deploy");
        let platform = bk_core::http::stack::wrap(
            crate::http::router(service.clone()).merge(bk_core::http::stack::ops_routes()),
            crate::SERVICE,
        );
        let app = crate::router::front(router, platform);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        Self {
            base_url: format!("http://{addr}"),
            service,
            supervisor,
            task,
        }
    }

    /// Stop serving and stop every app process (what SIGTERM to `bk up` does), without
    /// waiting for running deployments: they are left as a crash would leave them.
    pub async fn stop(self) {
        self.service.abort_deployments();
        self.task.abort();
        self.supervisor.shutdown().await;
    }
}
