//! `bk_token` sessions: issuing, verifying with an in-memory cache, revoking, purging.
//!
//! A token is 256 random bits; only its SHA-256 is stored. `is_login` is the hottest path
//! of the platform, so verified sessions are cached in memory for
//! `login.session_cache_ms`: revocation in this process drops the entry at once, other
//! processes sharing the database see it within that bound. Idle time is written back at
//! most once a minute per session.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use bk_core::clock::{Clock, Millis};
use bk_core::crypto;

use crate::error::{AuthError, Result};
use crate::model::Session;
use crate::store::SessionStore;

const TOUCH_EVERY_MS: Millis = 60_000;
const CACHE_MAX: usize = 100_000;

/// A freshly issued token (shown to the client once, never stored).
#[derive(Debug, Clone)]
pub struct Issued {
    /// The `bk_token` value.
    pub token: String,
    /// The stored session.
    pub session: Session,
}

#[derive(Debug, Clone)]
struct Cached {
    session: Session,
    cached_at: Millis,
}

/// Session settings.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// Token lifetime.
    pub ttl_ms: Millis,
    /// Idle timeout; 0 = none.
    pub idle_ms: Millis,
    /// Cache lifetime; 0 = no cache.
    pub cache_ms: Millis,
}

/// Issues and verifies tokens.
pub struct Sessions {
    store: Arc<dyn SessionStore>,
    clock: Arc<dyn Clock>,
    policy: SessionPolicy,
    cache: RwLock<HashMap<String, Cached>>,
}

impl Sessions {
    /// Sessions over `store`.
    pub fn new(store: Arc<dyn SessionStore>, clock: Arc<dyn Clock>, policy: SessionPolicy) -> Self {
        Self {
            store,
            clock,
            policy,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// Issue a token for `username`.
    pub async fn issue(&self, username: &str, address: &str, user_agent: &str) -> Result<Issued> {
        let token = crypto::random_token(32).map_err(|e| AuthError::Internal(e.to_string()))?;
        let now = self.clock.now_ms();
        let session = Session {
            token_hash: crypto::sha256_hex(token.as_bytes()),
            username: username.to_owned(),
            created_at: now,
            expires_at: now + self.policy.ttl_ms,
            last_seen_at: now,
            address: truncate(address, 64),
            user_agent: truncate(user_agent, 256),
        };
        self.store.insert(&session).await?;
        Ok(Issued { token, session })
    }

    /// The live session of `token`, or `None`.
    pub async fn verify(&self, token: &str) -> Result<Option<Session>> {
        if token.is_empty() || token.len() > 256 {
            return Ok(None);
        }
        let hash = crypto::sha256_hex(token.as_bytes());
        let now = self.clock.now_ms();
        if self.policy.cache_ms > 0 {
            let hit = self.read_cache().get(&hash).cloned();
            if let Some(c) = hit
                && now - c.cached_at < self.policy.cache_ms
            {
                if self.is_live(&c.session, now) {
                    self.maybe_touch(&c.session, now).await?;
                    return Ok(Some(c.session));
                }
                self.forget(&hash);
                return Ok(None);
            }
        }
        let Some(session) = self.store.get(&hash).await? else {
            self.forget(&hash);
            return Ok(None);
        };
        if !self.is_live(&session, now) {
            self.forget(&hash);
            return Ok(None);
        }
        self.maybe_touch(&session, now).await?;
        if self.policy.cache_ms > 0 {
            let mut cache = self.write_cache();
            if cache.len() >= CACHE_MAX {
                cache.retain(|_, c| now - c.cached_at < self.policy.cache_ms);
                if cache.len() >= CACHE_MAX {
                    cache.clear();
                }
            }
            cache.insert(
                hash,
                Cached {
                    session: session.clone(),
                    cached_at: now,
                },
            );
        }
        Ok(Some(session))
    }

    fn is_live(&self, s: &Session, now: Millis) -> bool {
        s.expires_at > now
            && (self.policy.idle_ms == 0 || now - s.last_seen_at < self.policy.idle_ms)
    }

    async fn maybe_touch(&self, s: &Session, now: Millis) -> Result<()> {
        if self.policy.idle_ms == 0
            || now - s.last_seen_at < TOUCH_EVERY_MS.min(self.policy.idle_ms / 4).max(1)
        {
            return Ok(());
        }
        self.store.touch(&s.token_hash, now).await?;
        if let Some(c) = self.write_cache().get_mut(&s.token_hash) {
            c.session.last_seen_at = now;
        }
        Ok(())
    }

    /// Revoke `token`; `true` if it was live.
    pub async fn revoke(&self, token: &str) -> Result<bool> {
        let hash = crypto::sha256_hex(token.as_bytes());
        self.forget(&hash);
        self.store.revoke(&hash).await
    }

    /// Revoke every session of `username`; returns how many.
    pub async fn revoke_user(&self, username: &str) -> Result<usize> {
        let revoked = self.store.revoke_user(username).await?;
        for h in &revoked {
            self.forget(h);
        }
        Ok(revoked.len())
    }

    /// Delete expired and idle sessions from the store.
    pub async fn purge(&self) -> Result<u64> {
        let now = self.clock.now_ms();
        let idle_before = (self.policy.idle_ms > 0).then(|| now - self.policy.idle_ms);
        self.write_cache().retain(|_, c| c.session.expires_at > now);
        self.store.purge(now, idle_before).await
    }

    fn forget(&self, hash: &str) {
        if self.policy.cache_ms > 0 {
            self.write_cache().remove(hash);
        }
    }

    fn read_cache(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Cached>> {
        self.cache.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_cache(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Cached>> {
        self.cache.write().unwrap_or_else(|e| e.into_inner())
    }
}

fn truncate(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}
