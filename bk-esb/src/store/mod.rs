//! Where the gateway's configuration lives: one trait per concern, with the SQL
//! implementation in `sql/` (SQLite, PostgreSQL, MySQL). Every write bumps one revision
//! counter in the same transaction, so a gateway process notices any change (its own or
//! another process's) by reading one number.

pub mod sql;

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::Result;
use crate::model::{Channel, Config, Grant, RateLimit, SelfServiceApi, System};

/// The whole configuration at once, for the registry.
#[async_trait]
pub trait ConfigStore: Send + Sync {
    /// The revision: it grows with every write.
    async fn revision(&self) -> Result<u64>;
    /// Everything, with the revision it was read at.
    async fn load(&self) -> Result<(u64, Config)>;
}

/// Systems.
#[async_trait]
pub trait SystemStore: Send + Sync {
    /// All, by name.
    async fn systems(&self) -> Result<Vec<System>>;
    /// Create or replace by name.
    async fn put_system(&self, s: &System) -> Result<()>;
    /// Delete; false when there was none. Refused while channels or components use it.
    async fn delete_system(&self, name: &str) -> Result<bool>;
}

/// Channels of compiled components.
#[async_trait]
pub trait ChannelStore: Send + Sync {
    /// All, by path.
    async fn channels(&self) -> Result<Vec<Channel>>;
    /// Create or replace by path.
    async fn put_channel(&self, c: &Channel) -> Result<()>;
    /// Delete by path; false when there was none.
    async fn delete_channel(&self, path: &str) -> Result<bool>;
}

/// Self-service HTTP components.
#[async_trait]
pub trait SelfServiceStore: Send + Sync {
    /// All, by system and name.
    async fn self_service(&self) -> Result<Vec<SelfServiceApi>>;
    /// Create or replace by (system, name); a (path, method) taken by another is a conflict.
    async fn put_self_service(&self, a: &SelfServiceApi) -> Result<()>;
    /// Delete; false when there was none.
    async fn delete_self_service(&self, system: &str, name: &str) -> Result<bool>;
}

/// Grants of apps on components.
#[async_trait]
pub trait GrantStore: Send + Sync {
    /// All, by app then component.
    async fn grants(&self) -> Result<Vec<Grant>>;
    /// Create or replace (the expiry) by (app, component).
    async fn put_grant(&self, g: &Grant) -> Result<()>;
    /// Delete; false when there was none.
    async fn delete_grant(&self, app_code: &str, component: &str) -> Result<bool>;
}

/// Apps that may name users with `bk_username` alone.
#[async_trait]
pub trait AllowListStore: Send + Sync {
    /// All, sorted.
    async fn skip_user_auth(&self) -> Result<Vec<String>>;
    /// Add (idempotent).
    async fn add_skip_user_auth(&self, app_code: &str) -> Result<()>;
    /// Remove; false when it was not there.
    async fn remove_skip_user_auth(&self, app_code: &str) -> Result<bool>;
}

/// Rate-limit rules per component.
#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// All, by component.
    async fn rate_limits(&self) -> Result<Vec<RateLimit>>;
    /// Create or replace by component.
    async fn put_rate_limit(&self, r: &RateLimit) -> Result<()>;
    /// Delete; false when there was none.
    async fn delete_rate_limit(&self, component: &str) -> Result<bool>;
}

/// Every store, as trait objects (one implementation may fill them all).
#[derive(Clone)]
pub struct Stores {
    /// Whole-config reads.
    pub config: Arc<dyn ConfigStore>,
    /// Systems.
    pub systems: Arc<dyn SystemStore>,
    /// Channels.
    pub channels: Arc<dyn ChannelStore>,
    /// Self-service components.
    pub self_service: Arc<dyn SelfServiceStore>,
    /// Grants.
    pub grants: Arc<dyn GrantStore>,
    /// The `bk_username` allow-list.
    pub allow_list: Arc<dyn AllowListStore>,
    /// Rate limits.
    pub rate_limits: Arc<dyn RateLimitStore>,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores").finish_non_exhaustive()
    }
}

impl Stores {
    /// Every store from one implementation.
    pub fn all<T>(s: Arc<T>) -> Self
    where
        T: ConfigStore
            + SystemStore
            + ChannelStore
            + SelfServiceStore
            + GrantStore
            + AllowListStore
            + RateLimitStore
            + 'static,
    {
        Self {
            config: s.clone(),
            systems: s.clone(),
            channels: s.clone(),
            self_service: s.clone(),
            grants: s.clone(),
            allow_list: s.clone(),
            rate_limits: s,
        }
    }
}
