//! The engine as the binaries compose it: the service over the platform's database, the
//! deploy backend the config names (`engine.deploy.backend`: `local` or `agents`), the app
//! router, and, with agents, the agent `bk up` embeds. `bk up` gives it login in process;
//! `bk-engine` ([`serve_alone`]) gives it login over HTTP ([`crate::remote_login`]).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use bk_core::db::Db;
use bk_core::http::stack;
use bk_engine::app::{AgentsDeploy, Identity};
use bk_engine::config::BackendKind;
use bk_engine::router::{HostSettings, ProxyOptions, RouterHandle};
use bk_engine::service::EngineService;

use crate::agent::{AgentSection, RunningAgent};
use crate::config::BkConfig;
use crate::secrets;

/// The engine, deploying.
pub struct Engine {
    /// The service.
    pub service: Arc<EngineService>,
    apps: RouterHandle,
    runtime: Runtime,
}

enum Runtime {
    /// App processes of this host, under the local backend's supervisor.
    Local(bk_agent::Supervisor),
    /// Registered agents, and maybe the one embedded here.
    Agents {
        deploy: AgentsDeploy,
        embedded: Option<RunningAgent>,
    },
}

/// Open the engine over `db` (migrating it), asking `identity` about users, and attach
/// the configured deploy backend. Also returns its routes (with the agent protocol and
/// admin routes when the backend is `agents`), to be wrapped in their own stack.
pub async fn open(cfg: &BkConfig, db: Db, identity: Identity) -> anyhow::Result<(Engine, Router)> {
    let key_env = std::env::var(bk_engine::secret::SecretKey::ENV).ok();
    let key = bk_engine::secret::SecretKey::load_or_create(
        key_env.as_deref(),
        &cfg.server.data_dir.join("secrets").join("engine_key"),
    )?;
    let settings = cfg
        .engine
        .deploy
        .settings()
        .map_err(|e| anyhow::anyhow!(e))?;
    let mut engine_cfg = cfg.engine.clone();
    if engine_cfg.cookie_name == bk_engine::config::EngineConfig::default().cookie_name {
        engine_cfg.cookie_name = cfg.login.cookie.name.clone();
    }
    let service = bk_engine::app::open(
        db.clone(),
        engine_cfg,
        identity,
        key.clone(),
        bk_core::clock::system(),
        Some(secrets::paas_service_token(&cfg.server.data_dir)?),
    )
    .await?;

    let apps = RouterHandle::new(ProxyOptions::default());
    let hosts = HostSettings {
        root_domain: cfg.engine.root_domain(),
        apps_host: cfg.engine.apps_host(),
        platform_hosts: Vec::new(),
    };
    let data = cfg.server.data_dir.join("apps");
    let routes = bk_engine::http::router(service.clone());
    let (routes, runtime) = match cfg.engine.deploy.backend {
        BackendKind::Local => {
            let mut sup_cfg = bk_agent::SupervisorConfig::new("local");
            sup_cfg.ports =
                crate::agent::parse_ports(&cfg.local_agent.ports).context("local_agent.ports")?;
            let supervisor = bk_engine::app::attach_local_deploy(
                &service,
                &data,
                apps.clone(),
                hosts,
                sup_cfg,
                settings,
            )
            .await?;
            (routes, Runtime::Local(supervisor))
        }
        BackendKind::Agents => {
            let agents_cfg = cfg.engine.agents.config().map_err(|e| anyhow::anyhow!(e))?;
            let deploy = bk_engine::app::attach_agents_deploy(
                &service,
                db,
                &key,
                &data,
                apps.clone(),
                hosts,
                agents_cfg,
                settings,
            )
            .await?;
            let routes = bk_engine::http::with_agents(routes, deploy.backend.clone());
            (
                routes,
                Runtime::Agents {
                    deploy,
                    embedded: None,
                },
            )
        }
    };
    let engine = Engine {
        service,
        apps,
        runtime,
    };
    Ok((engine, routes))
}

/// `bk-engine`: the developer API, the V6 appengine API, deploys and the app router, with
/// login elsewhere (`login_client.url`); serves until SIGINT/SIGTERM.
pub async fn serve_alone(cfg: BkConfig) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let forwarding = Arc::new(cfg.forwarding()?);
    let identity = crate::remote_login::identity(
        &cfg.login_client,
        &secrets::esb_token(&cfg.server.data_dir)?,
    )?;
    let db = crate::platform::open_db(&cfg).await?;
    let (engine, routes) = open(&cfg, db, identity).await?;
    let routes = stack::wrap(routes.merge(stack::ops_routes()), bk_engine::SERVICE);
    let router = engine.front(routes).layer(axum::Extension(forwarding));
    crate::platform::listen(&cfg, router, Some(engine), started).await
}

impl Engine {
    /// `platform` behind the app router, which takes `/t/`, `/o/`, `/<env>--<code>/` and
    /// app sub-domains.
    pub fn front(&self, platform: Router) -> Router {
        bk_engine::router::front(self.apps.clone(), platform)
    }

    /// With the agents backend and `[local_agent] enabled`: register this host's agent
    /// (a fresh token, kept in memory only) and run it, pulling from the engine at
    /// `engine_addr` (the listener just bound) over HTTP like any other agent.
    pub async fn start_embedded_agent(
        &mut self,
        cfg: &BkConfig,
        engine_addr: SocketAddr,
    ) -> anyhow::Result<()> {
        let Runtime::Agents { deploy, embedded } = &mut self.runtime else {
            return Ok(());
        };
        let e = &cfg.local_agent;
        if !e.enabled || embedded.is_some() {
            return Ok(());
        }
        let issued = deploy
            .backend
            .issue_platform_token(&e.id)
            .await
            .with_context(|| format!("registering the embedded agent {:?}", e.id))?;
        let host = if engine_addr.ip().is_unspecified() {
            match engine_addr {
                SocketAddr::V4(_) => "127.0.0.1".to_owned(),
                SocketAddr::V6(_) => "::1".to_owned(),
            }
        } else {
            engine_addr.ip().to_string()
        };
        let engine = SocketAddr::new(host.parse()?, engine_addr.port());
        let section = AgentSection {
            engine_url: format!("http://{engine}"),
            id: e.id.clone(),
            listen: SocketAddr::new(engine.ip(), 0).to_string(),
            host: host.clone(),
            data_dir: cfg.server.data_dir.join("agent"),
            ports: e.ports.clone(),
            max_instances: e.max_instances,
            ..AgentSection::default()
        };
        let listener = tokio::net::TcpListener::bind(&section.listen)
            .await
            .with_context(|| format!("embedded agent: cannot listen on {}", section.listen))?;
        let token = bk_agent::daemon::Token::new(issued.token);
        let running = crate::agent::start(&section, token, listener)?;
        tracing::info!(id = %e.id, api_url = %running.api_url, "embedded agent started");
        *embedded = Some(running);
        Ok(())
    }

    /// Stop what runs app processes here: every one gets SIGTERM, its grace period, then
    /// SIGKILL. The next start runs again what each environment served.
    pub async fn shutdown(self) {
        match self.runtime {
            Runtime::Local(s) => s.shutdown().await,
            Runtime::Agents { deploy, embedded } => {
                if let Some(a) = embedded {
                    a.stop().await;
                }
                deploy.monitor.abort();
            }
        }
    }
}
