//! `bk up` and `bk-login`: open storage, compose the services, serve on one listener.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use bk_core::db::{Db, DbOptions};
use bk_core::http::stack;

use crate::config::BkConfig;
use crate::secrets;

/// Which services one process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Everything, at the public layout (`/login/`, later `/api/`, `/v1/`, `/console/`).
    Platform,
    /// Login alone, also answering without the `/login` prefix.
    LoginOnly,
}

/// Open the database the config names (creating the data directory 0700, and the
/// SQLite file in it 0600).
pub async fn open_db(cfg: &BkConfig) -> anyhow::Result<Db> {
    crate::datadir::create_private_dir(&cfg.server.data_dir)
        .with_context(|| format!("data directory {}", cfg.server.data_dir.display()))?;
    let embedded = cfg
        .database
        .url
        .is_empty()
        .then(|| cfg.server.data_dir.join("bk.db"));
    if let Some(file) = &embedded {
        crate::datadir::prepare_sqlite_file(file)?;
    }
    let url = cfg.database_url();
    let opts = DbOptions {
        max_connections: cfg.database.max_connections,
        acquire_timeout: Duration::from_millis(cfg.database.acquire_timeout_ms),
    };
    let db = Db::connect(&url, &opts)
        .await
        .map_err(|e| anyhow::anyhow!("{}", bk_core::db::redact(&url, &e.to_string())))?;
    if let Some(file) = &embedded {
        crate::datadir::restrict_sqlite_files(file)?;
    }
    Ok(db)
}

/// Apply every crate's migrations.
pub async fn migrate(cfg: &BkConfig) -> anyhow::Result<()> {
    let db = open_db(cfg).await?;
    let store = bk_auth::store::sql::SqlStore::new(db.clone());
    let applied = store.migrate(&bk_core::clock::SystemClock).await?;
    println!("login: applied {:?}", applied.versions);
    println!("esb: applied {:?}", crate::esb::migrate(db.clone()).await?);
    let engine = bk_engine::store::sql::SqlStore::new(db);
    let applied = engine.migrate(&bk_core::clock::SystemClock).await?;
    println!("engine: applied {:?}", applied.versions);
    Ok(())
}

/// A composed platform.
pub struct Built {
    /// Everything it serves.
    pub router: Router,
    /// The login service (maintenance, the bench).
    pub login: std::sync::Arc<bk_auth::service::LoginService>,
    /// The engine: its app processes (or embedded agent) stop when the platform stops.
    pub engine: Option<crate::engine::Engine>,
}

/// Compose the router of `mode` (the admin password of a first start from
/// `BK_ADMIN_PASSWORD`).
pub async fn build(cfg: &BkConfig, mode: Mode) -> anyhow::Result<Built> {
    let admin_password = std::env::var("BK_ADMIN_PASSWORD").ok();
    build_with(cfg, mode, admin_password.as_deref()).await
}

/// [`build`] with the admin password given (the in-process bench driver).
pub async fn build_with(
    cfg: &BkConfig,
    mode: Mode,
    admin_password: Option<&str>,
) -> anyhow::Result<Built> {
    let forwarding = std::sync::Arc::new(cfg.forwarding()?);
    let db = open_db(cfg).await?;
    let esb_token = secrets::esb_token(&cfg.server.data_dir)?;
    let mut login = bk_auth::app::LoginApp::builder(db.clone())
        .config(cfg.login.clone())
        .esb_token(esb_token)
        .csrf_key(secrets::csrf_key(&cfg.server.data_dir)?);
    if let Some(pw) = admin_password {
        login = login.admin_password(pw);
    }
    let opened = login.build().await?;
    if let Some(pw) = &opened.generated_admin_password {
        // Printed once, to the terminal only (not through the logger): it is a secret.
        eprintln!(
            "\n  First start: user `admin` was created with password: {pw}\n  Change it after logging in; it is not shown again.\n"
        );
    }
    let login = stack::wrap(opened.router.merge(stack::ops_routes()), bk_auth::SERVICE);
    let (router, engine) = match mode {
        Mode::Platform => {
            // Login's routes first, then the gateway's (`/api/`); every other path goes to
            // the engine's stack; the app router in front takes `/t/`, `/o/`,
            // `/<env>--<code>/` and app sub-domains.
            let identity = bk_engine::app::Identity {
                tokens: opened.service.clone(),
                users: opened.service.clone(),
            };
            let (engine, routes) = crate::engine::open(cfg, db.clone(), identity).await?;
            let esb = crate::esb::router(
                db,
                opened.service.clone(),
                engine.service.clone(),
                &cfg.login.cookie.name,
            )
            .await?;
            let platform = login
                .merge(esb)
                .fallback_service(stack::wrap(routes, bk_engine::SERVICE));
            (engine.front(platform), Some(engine))
        }
        Mode::LoginOnly => (bk_auth::http::also_unprefixed(login, &opened.mount), None),
    };
    Ok(Built {
        router: router.layer(axum::Extension(forwarding)),
        login: opened.service,
        engine,
    })
}

/// Serve until SIGINT/SIGTERM.
pub async fn serve(cfg: BkConfig, mode: Mode) -> anyhow::Result<()> {
    let started = Instant::now();
    let Built {
        router,
        login,
        engine,
    } = build(&cfg, mode).await?;
    let _upkeep = login.spawn_maintenance(Duration::from_secs(60));
    listen(&cfg, router, engine, started).await
}

/// Bind `server.listen`, start the embedded agent if any, serve `router` until
/// SIGINT/SIGTERM, then stop the engine's app processes.
pub async fn listen(
    cfg: &BkConfig,
    router: Router,
    mut engine: Option<crate::engine::Engine>,
    started: Instant,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&cfg.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.server.listen))?;
    let addr = listener.local_addr()?;
    if let Some(e) = &mut engine {
        e.start_embedded_agent(cfg, addr).await?;
    }
    tracing::info!(%addr, startup_ms = started.elapsed().as_millis() as u64, database = cfg_db_kind(cfg), "listening");
    // Answers go out at once on keep-alive connections (as nginx does), not after Nagle's delay.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let stopping = std::sync::Arc::new(tokio::sync::Notify::new());
    let signalled = stopping.clone();
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown().await;
        signalled.notify_one();
    });
    let mut server = std::pin::pin!(std::future::IntoFuture::into_future(server));
    tokio::select! {
        r = &mut server => r?,
        () = stopping.notified() => {
            // App processes (and the embedded agent, whose long poll holds a connection
            // open) stop first; then open connections get a few seconds to finish: agents'
            // long polls would otherwise hold the exit for up to their wait.
            if let Some(e) = engine.take() {
                e.shutdown().await;
            }
            if tokio::time::timeout(DRAIN, &mut server).await.is_err() {
                tracing::info!(secs = DRAIN.as_secs(), "connections still open; closing them");
            }
        }
    }
    if let Some(e) = engine {
        e.shutdown().await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// How long open connections may finish after SIGTERM.
const DRAIN: Duration = Duration::from_secs(3);

fn cfg_db_kind(cfg: &BkConfig) -> &'static str {
    bk_core::db::Dialect::from_url(&cfg.database_url())
        .map(|d| d.name())
        .unwrap_or("unknown")
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
