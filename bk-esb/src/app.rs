//! Composition: `EsbApp::builder(apps, tokens, users)` → migrate the `esb_*` tables (when
//! given a database), load the stored configuration into the registry, and return the
//! router. Used by `bk up`, tests and embedders alike.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use bk_core::apps::AppDirectory;
use bk_core::clock::Clock;
use bk_core::db::Db;
use bk_core::identity::{TokenVerifier, UserDirectory};

use crate::admin::AdminService;
use crate::auth::MemoryNonces;
use crate::component::Component;
use crate::error::Result;
use crate::forward::Forwarder;
use crate::gateway::{Deps, Gateway};
use crate::model::Channel;
use crate::ratelimit::{LocalLimiter, RateLimiter};
use crate::registry::{Registry, Reloader};
use crate::store::Stores;
use crate::store::sql::SqlStore;

/// A composed gateway.
#[derive(Debug)]
pub struct EsbApp {
    /// The gateway (tests call it directly).
    pub gateway: Arc<Gateway>,
    /// The stores, when built over a database.
    pub stores: Option<Stores>,
    /// Keeps the snapshot in step with the stores.
    pub reloader: Option<Reloader>,
    /// The routes to mount (gateway, and the admin API when built over a database).
    pub router: Router,
}

/// Settings of [`EsbApp`].
pub struct EsbBuilder {
    apps: Arc<dyn AppDirectory>,
    tokens: Arc<dyn TokenVerifier>,
    users: Arc<dyn UserDirectory>,
    db: Option<Db>,
    clock: Arc<dyn Clock>,
    prefix: String,
    limiter: Option<Arc<dyn RateLimiter>>,
    cookie: String,
    extra: Vec<(Channel, Arc<dyn Component>)>,
}

impl std::fmt::Debug for EsbBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EsbBuilder")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl EsbApp {
    /// Start composing a gateway that asks `apps` about apps and `tokens`/`users` about users.
    pub fn builder(
        apps: Arc<dyn AppDirectory>,
        tokens: Arc<dyn TokenVerifier>,
        users: Arc<dyn UserDirectory>,
    ) -> EsbBuilder {
        EsbBuilder {
            apps,
            tokens,
            users,
            db: None,
            clock: bk_core::clock::system(),
            prefix: "/api".into(),
            limiter: None,
            cookie: "bk_token".into(),
            extra: Vec::new(),
        }
    }

    /// Poll the store every `every` for changes made by other processes.
    pub fn spawn_reload(&self, every: Duration) -> Option<tokio::task::JoinHandle<()>> {
        self.reloader.clone().map(|r| r.spawn(every))
    }
}

impl EsbBuilder {
    /// Store the configuration in `db` (migrated by `build`); without it only the built-ins run.
    pub fn db(mut self, db: Db) -> Self {
        self.db = Some(db);
        self
    }

    /// Where the gateway is mounted (default `/api`).
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.trim_end_matches('/').to_owned();
        self
    }

    /// The clock (tests).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The login cookie the admin API reads (default `bk_token`).
    pub fn cookie_name(mut self, name: &str) -> Self {
        self.cookie = name.to_owned();
        self
    }

    /// Another rate limiter (default: in process).
    pub fn limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// Serve one more compiled component at its channel.
    pub fn component(mut self, channel: Channel, component: Arc<dyn Component>) -> Self {
        self.extra.push((channel, component));
        self
    }

    /// Migrate, load and compose.
    pub async fn build(self) -> Result<EsbApp> {
        let mut builtins =
            crate::builtin::builtins(self.users.clone(), self.apps.clone(), &self.prefix);
        for (c, comp) in self.extra {
            builtins.add(c, comp);
        }
        let registry = Arc::new(Registry::new(builtins, Forwarder::default()));
        let (stores, reloader) = match self.db {
            Some(db) => {
                let sql = SqlStore::new(db, self.clock.clone());
                sql.migrate(&*self.clock).await?;
                let sql = Arc::new(sql);
                let stores = Stores::all(sql);
                let reloader = Reloader::new(registry.clone(), stores.config.clone());
                reloader.reload().await?;
                (Some(stores), Some(reloader))
            }
            None => (None, None),
        };
        let limiter = self
            .limiter
            .unwrap_or_else(|| Arc::new(LocalLimiter::new(self.clock.clone())));
        let gateway = Arc::new(Gateway::new(
            registry,
            Deps {
                apps: self.apps,
                tokens: self.tokens.clone(),
                nonces: Arc::new(MemoryNonces::default()),
                limiter,
                clock: self.clock,
            },
        ));
        let admin = match (&stores, &reloader) {
            (Some(s), Some(r)) => Some(Arc::new(AdminService::new(
                s.clone(),
                r.clone(),
                self.tokens.clone(),
            ))),
            _ => None,
        };
        let router = crate::http::router(
            gateway.clone(),
            &self.prefix,
            admin.as_ref().map(|a| (a.clone(), self.cookie.as_str())),
        );
        Ok(EsbApp {
            gateway,
            stores,
            reloader,
            router,
        })
    }
}
