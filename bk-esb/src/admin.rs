//! The admin service: superusers manage systems, channels, self-service components,
//! grants, the `bk_username` allow-list and rate limits. Each write goes to the store (one
//! transaction, revision bumped) and the registry is rebuilt at once; other gateway
//! processes see it at their next poll. Each change is logged with who made it (never a
//! secret: nothing here holds one).

use std::sync::Arc;

use bk_core::identity::TokenVerifier;
use bk_core::types::Role;

use crate::error::{EsbError, Result};
use crate::model::{self, Channel, Grant, RateLimit, SelfServiceApi, System};
use crate::registry::Reloader;
use crate::store::Stores;

/// A superuser, proven by a live `bk_token`.
#[derive(Debug, Clone)]
pub struct Admin {
    /// Login name.
    pub username: String,
}

/// Admin operations over the stores.
pub struct AdminService {
    stores: Stores,
    reloader: Reloader,
    tokens: Arc<dyn TokenVerifier>,
}

impl std::fmt::Debug for AdminService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminService").finish_non_exhaustive()
    }
}

impl AdminService {
    /// The service over `stores`, reloading through `reloader`.
    pub fn new(stores: Stores, reloader: Reloader, tokens: Arc<dyn TokenVerifier>) -> Self {
        Self {
            stores,
            reloader,
            tokens,
        }
    }

    /// The caller behind `token`, if a superuser.
    pub async fn caller(&self, token: Option<&str>) -> Result<Admin> {
        let token = token.ok_or(EsbError::Unauthenticated)?;
        let user = self
            .tokens
            .verify(token)
            .await?
            .ok_or(EsbError::Unauthenticated)?;
        if user.role != Role::Superuser {
            return Err(EsbError::Forbidden(
                "only superusers manage the API gateway".into(),
            ));
        }
        Ok(Admin {
            username: user.username,
        })
    }

    async fn changed(&self, who: &Admin, what: &str, key: &str) -> Result<()> {
        tracing::info!(target: "audit", service = crate::SERVICE, user = %who.username, action = what, key, "esb configuration changed");
        self.reloader.reload().await
    }

    /// Systems.
    pub async fn systems(&self, _: &Admin) -> Result<Vec<System>> {
        self.stores.systems.systems().await
    }

    /// Create or replace a system.
    pub async fn put_system(&self, who: &Admin, s: System) -> Result<System> {
        s.validate()?;
        self.stores.systems.put_system(&s).await?;
        self.changed(who, "put_system", &s.name).await?;
        Ok(s)
    }

    /// Delete a system without components.
    pub async fn delete_system(&self, who: &Admin, name: &str) -> Result<()> {
        if !self.stores.systems.delete_system(name).await? {
            return Err(EsbError::NotFound(format!("system {name}")));
        }
        self.changed(who, "delete_system", name).await
    }

    /// Stored channels (built-in ones not replaced are not listed).
    pub async fn channels(&self, _: &Admin) -> Result<Vec<Channel>> {
        self.stores.channels.channels().await
    }

    /// Create or replace the channel at a path.
    pub async fn put_channel(&self, who: &Admin, mut c: Channel) -> Result<Channel> {
        c.validate()?;
        self.stores.channels.put_channel(&c).await?;
        self.changed(who, "put_channel", &c.path).await?;
        Ok(c)
    }

    /// Delete the stored channel at a path (a built-in one comes back with its defaults).
    pub async fn delete_channel(&self, who: &Admin, path: &str) -> Result<()> {
        let path = model::normalize_path(path);
        if !self.stores.channels.delete_channel(&path).await? {
            return Err(EsbError::NotFound(format!("channel {path}")));
        }
        self.changed(who, "delete_channel", &path).await
    }

    /// Self-service components.
    pub async fn apis(&self, _: &Admin) -> Result<Vec<SelfServiceApi>> {
        self.stores.self_service.self_service().await
    }

    /// Create or replace a self-service component.
    pub async fn put_api(&self, who: &Admin, mut a: SelfServiceApi) -> Result<SelfServiceApi> {
        a.validate()?;
        self.stores.self_service.put_self_service(&a).await?;
        self.changed(who, "put_api", &a.key()).await?;
        Ok(a)
    }

    /// Delete a self-service component.
    pub async fn delete_api(&self, who: &Admin, system: &str, name: &str) -> Result<()> {
        if !self
            .stores
            .self_service
            .delete_self_service(system, name)
            .await?
        {
            return Err(EsbError::NotFound(format!("component {system}.{name}")));
        }
        self.changed(who, "delete_api", &format!("{system}.{name}"))
            .await
    }

    /// Grants.
    pub async fn grants(&self, _: &Admin) -> Result<Vec<Grant>> {
        self.stores.grants.grants().await
    }

    /// Grant (or re-grant with another expiry).
    pub async fn put_grant(&self, who: &Admin, g: Grant) -> Result<Grant> {
        g.validate()?;
        self.stores.grants.put_grant(&g).await?;
        self.changed(who, "put_grant", &format!("{} {}", g.app_code, g.component))
            .await?;
        Ok(g)
    }

    /// Revoke a grant.
    pub async fn delete_grant(&self, who: &Admin, app: &str, component: &str) -> Result<()> {
        if !self.stores.grants.delete_grant(app, component).await? {
            return Err(EsbError::NotFound(format!("grant of {component} to {app}")));
        }
        self.changed(who, "delete_grant", &format!("{app} {component}"))
            .await
    }

    /// The `bk_username` allow-list.
    pub async fn skip_user_auth(&self, _: &Admin) -> Result<Vec<String>> {
        self.stores.allow_list.skip_user_auth().await
    }

    /// Allow an app to name users with `bk_username` alone.
    pub async fn add_skip_user_auth(&self, who: &Admin, app: &str) -> Result<()> {
        model::check_app(app)?;
        self.stores.allow_list.add_skip_user_auth(app).await?;
        self.changed(who, "add_skip_user_auth", app).await
    }

    /// Take an app off the allow-list.
    pub async fn remove_skip_user_auth(&self, who: &Admin, app: &str) -> Result<()> {
        if !self.stores.allow_list.remove_skip_user_auth(app).await? {
            return Err(EsbError::NotFound(format!("{app} is not on the list")));
        }
        self.changed(who, "remove_skip_user_auth", app).await
    }

    /// Rate limits.
    pub async fn rate_limits(&self, _: &Admin) -> Result<Vec<RateLimit>> {
        self.stores.rate_limits.rate_limits().await
    }

    /// Set a component's rules (the contract's JSON).
    pub async fn put_rate_limit(&self, who: &Admin, r: RateLimit) -> Result<RateLimit> {
        model::check_key(&r.component)?;
        self.stores.rate_limits.put_rate_limit(&r).await?;
        self.changed(who, "put_rate_limit", &r.component).await?;
        Ok(r)
    }

    /// Remove a component's rules.
    pub async fn delete_rate_limit(&self, who: &Admin, component: &str) -> Result<()> {
        if !self.stores.rate_limits.delete_rate_limit(component).await? {
            return Err(EsbError::NotFound(format!("rate limit of {component}")));
        }
        self.changed(who, "delete_rate_limit", component).await
    }
}
