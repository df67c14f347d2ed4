//! Composition of the stock engine over SQL storage: migrate, then build the service.
//! Binaries and tests call [`open`].

use std::sync::Arc;

use bk_core::clock::Clock;
use bk_core::db::Db;
use bk_core::identity::{TokenVerifier, UserDirectory};

use crate::config::EngineConfig;
use crate::error::Result;
use crate::secret::SecretKey;
use crate::service::{EngineDeps, EngineService, Stores};
use crate::store::sql::SqlStore;

/// Who the engine asks about users: login, in process or over HTTP.
pub struct Identity {
    /// Resolves `bk_token`s.
    pub tokens: Arc<dyn TokenVerifier>,
    /// Looks users up.
    pub users: Arc<dyn UserDirectory>,
}

/// Migrate `db` and compose the service.
pub async fn open(
    db: Db,
    cfg: EngineConfig,
    identity: Identity,
    key: SecretKey,
    clock: Arc<dyn Clock>,
    service_token: Option<String>,
) -> Result<Arc<EngineService>> {
    let store = Arc::new(SqlStore::new(db));
    store.migrate(clock.as_ref()).await?;
    Ok(Arc::new(EngineService::new(
        cfg,
        EngineDeps {
            stores: Stores::all(store),
            tokens: identity.tokens,
            users: identity.users,
            key,
            clock,
            service_token,
        },
    )))
}

/// Enable deploying on `service` with the local backend: app processes run on this host
/// under an in-process `bk_agent::Supervisor` (what `bk up` embeds). `data` holds
/// `packages/`, `releases/` and `logs/`; routes are published to `router`. Returns the
/// supervisor, to shut it down (stopping every app process) when the platform stops.
pub async fn attach_local_deploy(
    service: &Arc<EngineService>,
    data: &std::path::Path,
    router: crate::router::RouterHandle,
    hosts: crate::router::HostSettings,
    supervisor_cfg: bk_agent::SupervisorConfig,
    settings: crate::service::DeploySettings,
) -> Result<bk_agent::Supervisor> {
    use crate::deploy::feeder::RouteFeeder;
    use crate::deploy::local::LocalBackend;
    use crate::deploy::packages::FsPackageStore;
    use crate::error::EngineError;

    let clock = service.clock().clone();
    let fail =
        |what: &str, e: &dyn std::fmt::Display| EngineError::Internal(format!("{what}: {e}"));
    let runner = Arc::new(bk_agent::NativeRunner::new(
        bk_agent::NativeConfig::detect(),
        clock.clone(),
    ));
    let logs = bk_agent::LogStore::new(data.join("logs"), bk_agent::LogPolicy::default())
        .map_err(|e| fail("instance logs", &e))?;
    let releases_root = data.join("releases");
    let supervisor = bk_agent::Supervisor::new(
        supervisor_cfg,
        runner,
        Arc::new(bk_agent::ReleaseLayout::new(&releases_root)),
        logs,
        clock,
    )
    .map_err(|e| fail("supervisor", &e))?;
    let packages = Arc::new(
        FsPackageStore::new(data.join("packages")).map_err(|e| fail("package store", &e))?,
    );
    let backend = Arc::new(LocalBackend::new(
        supervisor.clone(),
        releases_root,
        packages.clone(),
        "local",
    ));
    let feeder = Arc::new(RouteFeeder::new(backend.clone(), router, hosts));
    service
        .attach_deploy(crate::service::DeployRuntime::new(
            backend, packages, feeder, settings,
        ))
        .await?;
    Ok(supervisor)
}

/// What [`attach_agents_deploy`] started.
pub struct AgentsDeploy {
    /// The backend: serve its protocol and admin routes with [`crate::http::with_agents`].
    pub backend: crate::deploy::agents::AgentsBackend,
    /// The task marking silent agents down; abort it when the engine stops.
    pub monitor: tokio::task::JoinHandle<()>,
}

/// Enable deploying on `service` with the agents backend: instances on hosts running
/// `bk-agent`, which register with the engine and pull over HTTP. Placements live in
/// `db` (sealed with `key`, the engine's key); `data` holds `packages/`; routes are
/// published to `router`.
#[allow(clippy::too_many_arguments)]
pub async fn attach_agents_deploy(
    service: &Arc<EngineService>,
    db: Db,
    key: &SecretKey,
    data: &std::path::Path,
    router: crate::router::RouterHandle,
    hosts: crate::router::HostSettings,
    agents_cfg: crate::deploy::agents::AgentsConfig,
    settings: crate::service::DeploySettings,
) -> Result<AgentsDeploy> {
    use crate::deploy::agents::AgentsBackend;
    use crate::deploy::feeder::RouteFeeder;
    use crate::deploy::packages::FsPackageStore;
    use crate::error::EngineError;

    let packages = Arc::new(
        FsPackageStore::new(data.join("packages"))
            .map_err(|e| EngineError::Internal(format!("package store: {e}")))?,
    );
    let backend = AgentsBackend::open(
        agents_cfg,
        Arc::new(SqlStore::new(db)),
        packages.clone(),
        key,
        service.clock().clone(),
    )
    .await?;
    let monitor = backend.spawn_monitor();
    let shared = Arc::new(backend.clone());
    let feeder = Arc::new(RouteFeeder::new(shared.clone(), router, hosts));
    service
        .attach_deploy(crate::service::DeployRuntime::new(
            shared, packages, feeder, settings,
        ))
        .await?;
    Ok(AgentsDeploy { backend, monitor })
}
