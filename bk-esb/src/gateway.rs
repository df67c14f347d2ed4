//! One gateway call, start to end: resolve the path in the snapshot, read parameters,
//! authenticate the app and the user, check the grant and the rate limits, then call the
//! component within its timeout. Plain async code the HTTP layer and tests call directly.

use std::sync::Arc;
use std::time::Duration;

use bk_core::apps::AppDirectory;
use bk_core::clock::Clock;
use bk_core::http::RequestId;
use bk_core::identity::TokenVerifier;
use bk_core::lang::Lang;
use bytes::Bytes;
use http::{HeaderMap, Method};

use crate::auth::app::AppAuth;
use crate::auth::secret_cache::SecretCache;
use crate::auth::signature::Signed;
use crate::auth::{Credentials, NonceStore, user};
use crate::component::{Call, Reply};
use crate::error::{EsbError, Result};
use crate::model::PermLevel;
use crate::params;
use crate::ratelimit::RateLimiter;
use crate::registry::{Found, Registry};

/// Which family of paths a call came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `/api/c/compapi/…`
    CompApi,
    /// `/api/c/self-service-api/…`
    SelfService,
}

/// A request as the HTTP layer hands it over.
#[derive(Debug)]
pub struct Incoming {
    /// Method.
    pub method: Method,
    /// The path as the client sent it (signed).
    pub path: String,
    /// Path family.
    pub family: Family,
    /// The path below the family's prefix.
    pub rest: String,
    /// Raw query string.
    pub query: Option<String>,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
    /// Language of messages.
    pub lang: Lang,
    /// Request id (32 hex).
    pub request_id: RequestId,
}

/// What the gateway talks to.
pub struct Deps {
    /// Apps and their secrets (the engine).
    pub apps: Arc<dyn AppDirectory>,
    /// `bk_token` checks (login).
    pub tokens: Arc<dyn TokenVerifier>,
    /// Signature nonces.
    pub nonces: Arc<dyn NonceStore>,
    /// Rate limits.
    pub limiter: Arc<dyn RateLimiter>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// The gateway: the registry plus what calls need.
pub struct Gateway {
    registry: Arc<Registry>,
    deps: Deps,
    secrets: SecretCache,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("registry", &self.registry)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// A gateway over `registry`.
    pub fn new(registry: Arc<Registry>, deps: Deps) -> Self {
        Self {
            registry,
            deps,
            secrets: SecretCache::default(),
        }
    }

    /// The registry (admin writes reload it).
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Answer one call.
    pub async fn handle(&self, inc: Incoming) -> Result<Reply> {
        let snapshot = self.registry.load();
        let found = match inc.family {
            Family::CompApi => snapshot.compapi(&inc.rest),
            Family::SelfService => snapshot
                .self_service(&inc.rest, inc.method.as_str())
                .map_err(|allowed| {
                    EsbError::NotFound(format!(
                        "{} is registered for {}, not {}",
                        crate::model::normalize_path(&inc.rest),
                        allowed.join(", "),
                        inc.method
                    ))
                })?,
        };
        let Some(Found { route, ver, vars }) = found else {
            return Err(EsbError::NotFound(format!("no component at {}", inc.path)));
        };
        let query = params::query_pairs(inc.query.as_deref());
        let params = params::parse(&inc.method, &query, &inc.headers, &inc.body)?;
        if !route.is_active {
            return Err(EsbError::Inactive(format!(
                "component {} is not active",
                route.key
            )));
        }
        let creds = Credentials::gather(&inc.headers, &params)?;
        let now = self.deps.clock.now_ms();
        let signed = Signed {
            method: inc.method.as_str(),
            path: &inc.path,
            query: &query,
            body: &inc.body,
        };
        let app = AppAuth {
            apps: &*self.deps.apps,
            nonces: &*self.deps.nonces,
            cache: &self.secrets,
            now,
        }
        .authenticate(&creds, &signed)
        .await?;
        let user = user::authenticate(&creds, route.need_user, &app, &snapshot, &*self.deps.tokens)
            .await?;
        if route.perm_level != PermLevel::None && !snapshot.granted(&app, &route.key, now) {
            return Err(EsbError::AppPermission(format!(
                "app {app} has no permission for component {}; ask an administrator to grant it",
                route.key
            )));
        }
        if let Some(limits) = &route.limits {
            let rules = limits.rules_for(&app);
            if let Err(rule) = self.deps.limiter.acquire(&route.key, &app, rules).await {
                return Err(EsbError::RateLimited(format!(
                    "app {app} exceeded the rate limit of component {}: {}",
                    route.key,
                    rule.describe()
                )));
            }
        }
        let call = Call {
            method: inc.method,
            ver,
            params,
            path_vars: vars,
            headers: inc.headers,
            body: inc.body,
            app_code: app,
            user,
            lang: inc.lang,
            request_id: inc.request_id,
            snapshot: snapshot.clone(),
            timeout_secs: route.timeout_secs,
        };
        let secs = route.timeout_secs;
        match tokio::time::timeout(
            Duration::from_secs(u64::from(secs)),
            route.component.call(&call),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(EsbError::Backend(format!(
                "component {} did not answer within {secs} s (timeout)",
                route.key
            ))),
        }
    }
}
