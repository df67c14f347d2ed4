//! Composition of the login service over SQL storage: migrate, build the identity
//! providers (configured OIDC ones and any the embedder adds), create the first admin,
//! and mount the router at a prefix. Binaries, tests and host apps use [`LoginApp`]:
//!
//! ```no_run
//! # async fn demo(db: bk_core::db::Db) -> Result<(), Box<dyn std::error::Error>> {
//! use bk_auth::app::LoginApp;
//!
//! let login = LoginApp::builder(db)
//!     .admin_password("change-me-now")
//!     .prefix("/auth")
//!     .build()
//!     .await?;
//! let app = axum::Router::new().merge(login.router.clone());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! LoginApp::serve(listener, app).await?;
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use bk_core::clock::Clock;
use bk_core::db::Db;
use bk_core::http::forwarded::Forwarding;

use crate::config::LoginConfig;
use crate::error::{AuthError, Result};
use crate::http::Mount;
use crate::idp::IdentityProvider;
use crate::service::{LoginService, Stores};
use crate::store::sql::SqlStore;

/// A composed login service and its router.
pub struct LoginApp {
    /// The service: plain async methods, and bk-core's `TokenVerifier`/`UserDirectory`
    /// for in-process use (e.g. behind [`crate::sdk::LoginLayer`]).
    pub service: Arc<LoginService>,
    /// The login routes under [`Self::mount`], docs included. Merge it into the host app;
    /// serve with connect info ([`Self::serve`]).
    pub router: Router,
    /// Where the router is mounted.
    pub mount: Mount,
    /// The admin's password when `admin` was created now without one given (show it
    /// once), else `None`.
    pub generated_admin_password: Option<String>,
}

impl std::fmt::Debug for LoginApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginApp")
            .field("mount", &self.mount)
            .finish_non_exhaustive()
    }
}

/// Settings of a [`LoginApp`]; see [`LoginApp::builder`].
pub struct LoginAppBuilder {
    db: Db,
    cfg: LoginConfig,
    clock: Arc<dyn Clock>,
    providers: Vec<Arc<dyn IdentityProvider>>,
    admin_password: Option<String>,
    esb_token: Option<String>,
    prefix: String,
    csrf_key: Option<Vec<u8>>,
    forwarding: Option<Forwarding>,
}

impl std::fmt::Debug for LoginAppBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Hand-written: the admin password, ESB token and CSRF key stay out of logs.
        f.debug_struct("LoginAppBuilder")
            .field("prefix", &self.prefix)
            .field("providers", &self.providers.len())
            .finish_non_exhaustive()
    }
}

impl LoginApp {
    /// Start composing a login service over `db` (migrated by [`LoginAppBuilder::build`]).
    /// Defaults: [`LoginConfig::default`], the system clock, prefix `/login`, a CSRF key
    /// made at start, no ESB token, no extra providers.
    pub fn builder(db: Db) -> LoginAppBuilder {
        LoginAppBuilder {
            db,
            cfg: LoginConfig::default(),
            clock: bk_core::clock::system(),
            providers: Vec::new(),
            admin_password: None,
            esb_token: None,
            prefix: "/login".into(),
            csrf_key: None,
            forwarding: None,
        }
    }

    /// A [`LoginLayer`](crate::sdk::LoginLayer) for the host app's own pages, checking
    /// tokens in-process with this service, reading the configured cookie
    /// (`login.cookie.name`) and sending browsers to this login page. Put it on the
    /// guarded routes with `Router::route_layer` (`Router::layer` also guards the app's
    /// fallback: unknown paths would redirect to login instead of answering 404).
    pub fn layer(&self) -> crate::sdk::LoginLayer {
        crate::sdk::LoginLayer::new(self.service.clone(), self.mount.page())
            .cookie_name(self.service.config().cookie.name.clone())
    }

    /// Serve `router` (the login router, or a host app containing it) on `listener`
    /// until the listener fails, with each connection's peer address recorded
    /// (`into_make_service_with_connect_info`). Without it the login cannot tell clients
    /// apart for throttling (see [`crate::http::Client`]).
    pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    }
}

impl LoginAppBuilder {
    /// The `[login]` settings.
    pub fn config(mut self, cfg: LoginConfig) -> Self {
        self.cfg = cfg;
        self
    }

    /// The clock (tests pass a manual one).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Add an identity provider, after those configured in `login.oidc`. Password
    /// providers are asked after the local store; redirect providers get a button.
    pub fn identity_provider(mut self, provider: Arc<dyn IdentityProvider>) -> Self {
        self.providers.push(provider);
        self
    }

    /// The password `admin` gets when it is created (first start). Without one, a random
    /// password is generated and returned once in
    /// [`LoginApp::generated_admin_password`].
    pub fn admin_password(mut self, password: impl Into<String>) -> Self {
        self.admin_password = Some(password.into()).filter(|p| !p.is_empty());
        self
    }

    /// The service-trust token of `X-APP-CODE: esb` (the BK ESB); none by default.
    pub fn esb_token(mut self, token: impl Into<String>) -> Self {
        self.esb_token = Some(token.into()).filter(|t| !t.is_empty());
        self
    }

    /// Mount prefix: `/login` (default), `/auth`, or `""` for the root. Checked by
    /// [`Self::build`].
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The key signing login-form CSRF tokens (at least 32 bytes). Give a lasting one
    /// when several processes serve the login or forms must survive restarts.
    pub fn csrf_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.csrf_key = Some(key.into());
        self
    }

    /// Trusted proxies and public URL (see `bk_core::http::forwarded`). Without it,
    /// proxies on loopback are trusted and URLs follow `Host`.
    pub fn forwarding(mut self, forwarding: Forwarding) -> Self {
        self.forwarding = Some(forwarding);
        self
    }

    /// Migrate the database, compose the service, make sure `admin` exists, and build the
    /// router.
    pub async fn build(self) -> Result<LoginApp> {
        let mount = Mount::parse(&self.prefix)?;
        let store = Arc::new(SqlStore::new(self.db));
        store.migrate(self.clock.as_ref()).await?;
        let mut providers = configured_providers(&self.cfg, &self.clock)?;
        providers.extend(self.providers);
        let mut seen = std::collections::HashSet::new();
        for p in &providers {
            if p.id() == crate::idp::local::LOCAL || !seen.insert(p.id().to_owned()) {
                return Err(AuthError::Invalid(format!(
                    "identity provider id {:?} is used twice or reserved",
                    p.id()
                )));
            }
        }
        let mut service = LoginService::new(
            self.cfg,
            Stores::all(store),
            self.clock,
            providers,
            self.esb_token.as_deref(),
        )?;
        if let Some(key) = &self.csrf_key {
            service = service.with_csrf_key(key)?;
        }
        let service = Arc::new(service);
        let given = self.admin_password.as_deref();
        let created = service.ensure_admin(given).await?;
        let mut router = crate::http::router_at(service.clone(), &mount);
        if let Some(f) = self.forwarding {
            router = router.layer(axum::Extension(Arc::new(f)));
        }
        Ok(LoginApp {
            service,
            router,
            mount,
            generated_admin_password: created.filter(|_| given.is_none()),
        })
    }
}

/// The OIDC providers of `login.oidc`.
#[cfg(feature = "oidc")]
fn configured_providers(
    cfg: &LoginConfig,
    clock: &Arc<dyn Clock>,
) -> Result<Vec<Arc<dyn IdentityProvider>>> {
    use crate::idp::oidc::OidcProvider;
    if cfg.oidc.is_empty() {
        return Ok(Vec::new());
    }
    let http = OidcProvider::http_client()?;
    let mut out: Vec<Arc<dyn IdentityProvider>> = Vec::new();
    for p in &cfg.oidc {
        p.validate().map_err(AuthError::Invalid)?;
        out.push(Arc::new(
            OidcProvider::new(p.clone(), http.clone()).with_clock(clock.clone()),
        ));
    }
    Ok(out)
}

/// Without the `oidc` feature, configured OIDC providers are an error, not ignored.
#[cfg(not(feature = "oidc"))]
fn configured_providers(
    cfg: &LoginConfig,
    _clock: &Arc<dyn Clock>,
) -> Result<Vec<Arc<dyn IdentityProvider>>> {
    if cfg.oidc.is_empty() {
        Ok(Vec::new())
    } else {
        Err(AuthError::Invalid(
            "login.oidc: this build of bk-auth has no OIDC support (feature `oidc`)".into(),
        ))
    }
}

/// What [`open`] produced.
pub struct Opened {
    /// The service.
    pub service: Arc<LoginService>,
    /// The admin's password when `admin` was created now without `BK_ADMIN_PASSWORD`
    /// (print it once), else `None`.
    pub generated_admin_password: Option<String>,
}

/// Migrate `db`, compose the service, make sure `admin` exists: [`LoginApp::builder`]
/// with the configured providers only.
pub async fn open(
    db: Db,
    cfg: LoginConfig,
    clock: Arc<dyn Clock>,
    admin_password: Option<&str>,
    esb_token: Option<&str>,
) -> Result<Opened> {
    let mut b = LoginApp::builder(db).config(cfg).clock(clock);
    if let Some(p) = admin_password {
        b = b.admin_password(p);
    }
    if let Some(t) = esb_token {
        b = b.esb_token(t);
    }
    let app = b.build().await?;
    Ok(Opened {
        service: app.service,
        generated_admin_password: app.generated_admin_password,
    })
}
