//! Storage traits of the engine, one per concern, each with the SQL implementation beside
//! it ([`sql::SqlStore`] implements them all over `bk_core::db::Db`). Embedders may swap
//! any of them (`Arc<dyn AppStore>` etc.); later parts of the engine (releases,
//! deployments, agents) add their own traits beside these.
//!
//! Every write takes the [`AuditEntry`] describing it and stores both in one transaction.
//! Invariants the stores enforce inside their transactions, after taking the app's row
//! lock (so concurrent requests cannot break them): an app has exactly one default
//! module; at least one developer; at most [`MAX_LIVE_SECRETS`] live secrets and at
//! least one.

pub mod agents;
mod deploy;
pub mod sql;

pub use deploy::{DeploymentStore, MAX_LOG_LINE_BYTES, MAX_LOG_LINES, ReleaseStore};

use async_trait::async_trait;
use bk_core::clock::Millis;

use crate::error::Result;
use crate::model::{
    App, AppPatch, AppState, AuditEntry, AuditQuery, EnvScope, EnvVar, EnvVarFilter, EnvVarKey,
    Member, Module, ModuleName, NewApp, NewEnvVar, NewModule, Page, SealedSecret, StoredSecret,
};

/// Most live secrets an app may hold: the current one and the one being rotated out.
pub const MAX_LIVE_SECRETS: usize = 2;

/// Apps.
#[async_trait]
pub trait AppStore: Send + Sync {
    /// Whether the storage answers (health checks).
    async fn ping(&self) -> Result<()>;
    /// Create the app, its default module, the creator's membership and the first secret.
    /// `Conflict` names the code or the name that is taken.
    async fn create(&self, new: &NewApp, audit: &AuditEntry) -> Result<App>;
    /// One app.
    async fn get(&self, code: &str) -> Result<Option<App>>;
    /// All apps (`member: None`) or those `member` belongs to, by code.
    async fn list(&self, member: Option<&str>) -> Result<Vec<App>>;
    /// Change fields; `NotFound`, `Conflict` for a taken name.
    async fn update(
        &self,
        code: &str,
        patch: &AppPatch,
        now: Millis,
        audit: &AuditEntry,
    ) -> Result<App>;
    /// Move to `to` if the app is in `from` now (compare-and-set); `Conflict` otherwise.
    async fn set_state(
        &self,
        code: &str,
        from: AppState,
        to: AppState,
        now: Millis,
        audit: &AuditEntry,
    ) -> Result<()>;
}

/// Modules of apps.
#[async_trait]
pub trait ModuleStore: Send + Sync {
    /// The modules of an app, default first, then by name.
    async fn modules(&self, app: &str) -> Result<Vec<Module>>;
    /// Add a module; with `is_default` it replaces the current default. `Conflict` when
    /// the name is taken, `NotFound` for an unknown app.
    async fn create_module(&self, m: &NewModule, audit: &AuditEntry) -> Result<Module>;
    /// Make `name` the default module.
    async fn set_default_module(
        &self,
        app: &str,
        name: &ModuleName,
        audit: &AuditEntry,
    ) -> Result<()>;
    /// Remove a module that is not the default, with its env vars.
    async fn delete_module(&self, app: &str, name: &ModuleName, audit: &AuditEntry) -> Result<()>;
}

/// App members.
#[async_trait]
pub trait MemberStore: Send + Sync {
    /// Members of an app, by username.
    async fn members(&self, app: &str) -> Result<Vec<Member>>;
    /// Whether `username` is a member of `app`.
    async fn is_member(&self, app: &str, username: &str) -> Result<bool>;
    /// Add; `Conflict` when already a member.
    async fn add_member(&self, m: &Member, audit: &AuditEntry) -> Result<()>;
    /// Remove; `NotFound` when not a member, `Conflict` for the last developer.
    async fn remove_member(&self, app: &str, username: &str, audit: &AuditEntry) -> Result<()>;
}

/// User env vars.
#[async_trait]
pub trait EnvVarStore: Send + Sync {
    /// Vars of an app passing `filter`, by (module, scope, key).
    async fn env_vars(&self, app: &str, filter: &EnvVarFilter) -> Result<Vec<EnvVar>>;
    /// Set (insert or replace) all of `vars` or none. Modules named must exist.
    async fn set_env_vars(
        &self,
        app: &str,
        vars: &[NewEnvVar],
        by: &str,
        now: Millis,
        audit: &AuditEntry,
    ) -> Result<()>;
    /// Remove one; `NotFound` when absent.
    async fn unset_env_var(
        &self,
        app: &str,
        module: Option<&ModuleName>,
        scope: EnvScope,
        key: &EnvVarKey,
        audit: &AuditEntry,
    ) -> Result<()>;
}

/// Sealed app secrets.
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// Every secret of an app, live and revoked, newest first.
    async fn secrets(&self, app: &str) -> Result<Vec<StoredSecret>>;
    /// Add a live secret; `Conflict` when [`MAX_LIVE_SECRETS`] are live already.
    async fn add_secret(
        &self,
        app: &str,
        sealed: &SealedSecret,
        by: &str,
        now: Millis,
        audit: &AuditEntry,
    ) -> Result<StoredSecret>;
    /// Revoke a live secret; `NotFound`, `Conflict` for the last live one.
    async fn revoke_secret(
        &self,
        app: &str,
        id: i64,
        now: Millis,
        audit: &AuditEntry,
    ) -> Result<()>;
}

/// The audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Append an entry that goes with no other write (a secret revealed).
    async fn record(&self, e: &AuditEntry) -> Result<()>;
    /// Newest first.
    async fn query(&self, q: &AuditQuery) -> Result<Page<AuditEntry>>;
}
