//! The login service: plain async functions the HTTP layer (and tests) call.
//!
//! It composes the stores, the password hasher, sessions, the throttle and the identity
//! providers. Every method takes validated input or validates it first and returns an
//! [`AuthError`](crate::error::AuthError) that says what went wrong.

mod access;
mod admin;
pub mod directory;
mod external;
mod login;
pub mod profile;
pub mod transfer;
mod verifier;

use std::sync::Arc;

use bk_core::clock::Clock;
use bk_core::crypto;

use crate::config::LoginConfig;
use crate::error::{AuthError, Result};
use crate::idp::IdentityProvider;
use crate::idp::local::LocalProvider;
use crate::password::Hasher;
use crate::session::{SessionPolicy, Sessions};
use crate::store::{
    AuditStore, ExternalIdentityStore, PendingLoginStore, SessionStore, ThrottleStore, UserStore,
};
use crate::throttle::Throttle;

pub use access::Caller;
pub use admin::{CreateUser, PasswordReset};
pub use external::{ExternalStart, PENDING_PER_ADDRESS, PENDING_TOTAL};
pub use login::{ClientInfo, UNKNOWN_ADDRESS};

/// The stores the service runs on.
#[derive(Clone)]
pub struct Stores {
    /// Users and roles.
    pub users: Arc<dyn UserStore>,
    /// Sessions.
    pub sessions: Arc<dyn SessionStore>,
    /// Throttle counters.
    pub throttle: Arc<dyn ThrottleStore>,
    /// Audit log.
    pub audit: Arc<dyn AuditStore>,
    /// Pending external logins.
    pub pending: Arc<dyn PendingLoginStore>,
    /// Links of external subjects to accounts.
    pub identities: Arc<dyn ExternalIdentityStore>,
}

impl Stores {
    /// All of them from one object implementing every store trait (the SQL store does).
    pub fn all<S>(s: Arc<S>) -> Self
    where
        S: UserStore
            + SessionStore
            + ThrottleStore
            + AuditStore
            + PendingLoginStore
            + ExternalIdentityStore
            + 'static,
    {
        Self {
            users: s.clone(),
            sessions: s.clone(),
            throttle: s.clone(),
            audit: s.clone(),
            pending: s.clone(),
            identities: s,
        }
    }
}

/// The login service.
pub struct LoginService {
    cfg: LoginConfig,
    users: Arc<dyn UserStore>,
    sessions: Sessions,
    throttle: Throttle,
    audit: Arc<dyn AuditStore>,
    pending: Arc<dyn PendingLoginStore>,
    identities: Arc<dyn ExternalIdentityStore>,
    hasher: Arc<Hasher>,
    local: LocalProvider,
    providers: Vec<Arc<dyn IdentityProvider>>,
    clock: Arc<dyn Clock>,
    esb_token_hash: Option<String>,
    csrf_key: Vec<u8>,
}

impl LoginService {
    /// Compose the service. `providers` are the external identity providers (the local
    /// password store is always present unless disabled in config).
    pub fn new(
        cfg: LoginConfig,
        stores: Stores,
        clock: Arc<dyn Clock>,
        providers: Vec<Arc<dyn IdentityProvider>>,
        esb_token: Option<&str>,
    ) -> Result<Self> {
        cfg.cookie.validate().map_err(AuthError::Invalid)?;
        if cfg.token_ttl_secs <= 0 {
            return Err(AuthError::Invalid(
                "login.token_ttl_secs must be positive".into(),
            ));
        }
        let hasher = Arc::new(Hasher::new(&cfg.argon2)?);
        let sessions = Sessions::new(
            stores.sessions.clone(),
            clock.clone(),
            SessionPolicy {
                ttl_ms: cfg.token_ttl_secs * 1000,
                idle_ms: cfg.idle_timeout_secs.max(0) * 1000,
                cache_ms: cfg.session_cache_ms.max(0),
            },
        );
        Ok(Self {
            throttle: Throttle::new(stores.throttle.clone(), cfg.throttle.clone(), clock.clone()),
            local: LocalProvider::new(stores.users.clone(), hasher.clone(), clock.clone()),
            users: stores.users,
            sessions,
            audit: stores.audit,
            pending: stores.pending,
            identities: stores.identities,
            hasher,
            providers,
            clock,
            esb_token_hash: esb_token
                .filter(|t| !t.is_empty())
                .map(|t| crypto::sha256_hex(t.as_bytes())),
            // Until the embedder gives a lasting key, forms live as long as the process.
            csrf_key: crypto::random_bytes(32)
                .map_err(|e| AuthError::Internal(format!("no randomness: {e}")))?,
            cfg,
        })
    }

    /// Sign login-form CSRF tokens with `key` (at least 32 bytes) instead of a key made
    /// at start: processes sharing it accept each other's forms, and forms survive a
    /// restart. The stock binaries keep it in `<data_dir>/secrets/csrf_key` or take
    /// `BK_CSRF_KEY`.
    pub fn with_csrf_key(mut self, key: &[u8]) -> Result<Self> {
        if key.len() < 32 {
            return Err(AuthError::Invalid(
                "the CSRF key must be at least 32 bytes".into(),
            ));
        }
        self.csrf_key = key.to_vec();
        Ok(self)
    }

    /// The key signing login-form CSRF tokens.
    pub(crate) fn csrf_key(&self) -> &[u8] {
        &self.csrf_key
    }

    /// The configuration in force.
    pub fn config(&self) -> &LoginConfig {
        &self.cfg
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// External providers, in configuration order.
    pub fn providers(&self) -> &[Arc<dyn IdentityProvider>] {
        &self.providers
    }

    /// Whether `X-APP-CODE: esb` + `X-APP-TOKEN` grant service trust.
    pub fn is_trusted(&self, app_code: Option<&str>, app_token: Option<&str>) -> bool {
        match (app_code, app_token, &self.esb_token_hash) {
            (Some("esb"), Some(token), Some(expected)) => crypto::constant_time_eq(
                crypto::sha256_hex(token.as_bytes()).as_bytes(),
                expected.as_bytes(),
            ),
            _ => false,
        }
    }

    /// Background upkeep: purge expired sessions, stale throttle counters and pending
    /// logins every `every`. Returns the task handle.
    pub fn spawn_maintenance(
        self: &Arc<Self>,
        every: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(svc) = me.upgrade() else { break };
                match svc.purge().await {
                    Ok(n) if n > 0 => tracing::info!(purged = n, "login maintenance"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "login maintenance failed; will retry"),
                }
            }
        })
    }

    /// Purge expired state now; returns rows removed.
    pub async fn purge(&self) -> Result<u64> {
        Ok(self.sessions.purge().await?
            + self.throttle.purge().await?
            + self.pending.purge(self.clock.now_ms()).await?)
    }
}
