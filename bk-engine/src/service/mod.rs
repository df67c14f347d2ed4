//! The engine service: plain async methods the HTTP layer (and tests) call.
//!
//! Every method that acts for a user takes a [`Caller`], which exists only for users of
//! role superuser or developer (the developer API's audience). Within that audience an
//! app is visible to its members and to superusers; to anyone else it does not exist:
//! reads and writes answer `NotFound` exactly as for an unknown code, so app codes do not
//! leak. Inside a visible app every member may do everything except what is reserved to
//! superusers (protecting prod). Inputs arrive as raw strings and are validated here, so
//! every entry point (developer API, V7, V6) applies the same rules.

mod access;
mod apps;
mod audit;
mod deploy;
mod directory;
mod env_vars;
mod members;
mod modules;
mod secrets;
mod v6;

use std::sync::Arc;

use bk_core::clock::Clock;
use bk_core::crypto;
use bk_core::identity::{TokenVerifier, UserDirectory};

use crate::config::EngineConfig;
use crate::model::AuditEntry;
use crate::secret::{SecretBox, SecretKey};
use crate::store::{
    AppStore, AuditStore, DeploymentStore, EnvVarStore, MemberStore, ModuleStore, ReleaseStore,
    SecretStore,
};

pub use access::Caller;
pub use apps::{AppDetail, CreateApp, CreatedApp, UpdateApp};
pub use deploy::{
    DeployRequest, DeployRuntime, DeploySettings, DeploymentView, EventLog, InstanceView, LogRead,
    LogsView, MAX_PACKAGE_BYTES, Released, UploadedView,
};
pub use env_vars::{EnvVarQuery, SetEnvVar, UnsetEnvVar};
pub use modules::CreateModule;
pub use secrets::{RevealedSecret, SecretInfo};
pub use v6::V6CreateApp;

/// Most env vars one bulk set may carry.
pub const MAX_BULK_ENV_VARS: usize = 500;

/// The stores the service runs on.
#[derive(Clone)]
pub struct Stores {
    /// Apps.
    pub apps: Arc<dyn AppStore>,
    /// Modules.
    pub modules: Arc<dyn ModuleStore>,
    /// Members.
    pub members: Arc<dyn MemberStore>,
    /// Env vars.
    pub env_vars: Arc<dyn EnvVarStore>,
    /// Sealed secrets.
    pub secrets: Arc<dyn SecretStore>,
    /// Audit log.
    pub audit: Arc<dyn AuditStore>,
    /// Uploaded packages and releases.
    pub releases: Arc<dyn ReleaseStore>,
    /// Deployments, their logs, slots.
    pub deployments: Arc<dyn DeploymentStore>,
}

impl Stores {
    /// All of them from one object implementing every store trait (the SQL store does).
    pub fn all<S>(s: Arc<S>) -> Self
    where
        S: AppStore
            + ModuleStore
            + MemberStore
            + EnvVarStore
            + SecretStore
            + AuditStore
            + ReleaseStore
            + DeploymentStore
            + 'static,
    {
        Self {
            apps: s.clone(),
            modules: s.clone(),
            members: s.clone(),
            env_vars: s.clone(),
            secrets: s.clone(),
            releases: s.clone(),
            deployments: s.clone(),
            audit: s,
        }
    }
}

/// What the service is built from.
pub struct EngineDeps {
    /// Storage.
    pub stores: Stores,
    /// Who a `bk_token` belongs to (login).
    pub tokens: Arc<dyn TokenVerifier>,
    /// Which users exist (login).
    pub users: Arc<dyn UserDirectory>,
    /// The key app secrets are sealed with.
    pub key: SecretKey,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// The platform's service token, accepted with `X-APP-CODE: <service_app_code>` on the
    /// V6 appengine API; `None` refuses those calls.
    pub service_token: Option<String>,
}

/// The engine service.
pub struct EngineService {
    cfg: EngineConfig,
    stores: Stores,
    tokens: Arc<dyn TokenVerifier>,
    users: Arc<dyn UserDirectory>,
    secret_box: SecretBox,
    clock: Arc<dyn Clock>,
    service_token_hash: Option<String>,
    deploy: std::sync::OnceLock<Arc<DeployRuntime>>,
}

impl EngineService {
    /// Compose the service.
    pub fn new(cfg: EngineConfig, deps: EngineDeps) -> Self {
        Self {
            cfg,
            stores: deps.stores,
            tokens: deps.tokens,
            users: deps.users,
            secret_box: SecretBox::new(&deps.key),
            clock: deps.clock,
            service_token_hash: deps
                .service_token
                .filter(|t| !t.is_empty())
                .map(|t| crypto::sha256_hex(t.as_bytes())),
            deploy: std::sync::OnceLock::new(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The stores (for later parts of the engine and for tests).
    pub fn stores(&self) -> &Stores {
        &self.stores
    }

    /// Whether storage answers.
    pub async fn ping(&self) -> crate::error::Result<()> {
        self.stores.apps.ping().await
    }

    /// An audit entry for an action of `who` now.
    fn entry(
        &self,
        who: &Caller,
        app: Option<&str>,
        action: &str,
        target: impl Into<String>,
        detail: serde_json::Value,
    ) -> AuditEntry {
        AuditEntry {
            id: 0,
            at: self.clock.now_ms(),
            actor: who.username().to_owned(),
            address: who.address().to_owned(),
            app_code: app.map(str::to_owned),
            action: action.to_owned(),
            target: target.into(),
            detail,
        }
    }
}
