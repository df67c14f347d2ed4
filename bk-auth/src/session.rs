//! `bk_token` sessions: issuing, verifying with an in-memory cache, revoking, purging.
//!
//! A token is 256 random bits; only its SHA-256 is stored. `is_login` is the hottest path
//! of the platform, so verified sessions are cached in memory for
//! `login.session_cache_ms`, keyed by the raw digest and holding only what the answer
//! needs (a shared username and two times), so a hit copies an `Arc`, not a session.
//! Revocation in this process drops the entries at once, and a look-up that raced the
//! revocation (it read the store before the revoking transaction committed) does not put
//! its stale answer back: every revocation bumps an epoch, and a look-up caches its
//! answer only if no revocation happened while it read the store. Other processes
//! sharing the database see a revocation within the cache bound. Idle time is written
//! back at most once a minute per session.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use bk_core::clock::{Clock, Millis};
use bk_core::crypto;
use sha2::{Digest as _, Sha256};

use crate::error::{AuthError, Result};
use crate::model::Session;
use crate::store::SessionStore;

const TOUCH_EVERY_MS: Millis = 60_000;
const CACHE_MAX: usize = 100_000;

/// SHA-256 of a token.
type Digest = [u8; 32];

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
    username: Arc<str>,
    expires_at: Millis,
    last_seen_at: Millis,
    cached_at: Millis,
}

#[derive(Debug, Default)]
struct Cache {
    entries: HashMap<Digest, Cached>,
    /// Bumped by every revocation (see the module doc).
    epoch: u64,
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
    cache: RwLock<Cache>,
}

impl Sessions {
    /// Sessions over `store`.
    pub fn new(store: Arc<dyn SessionStore>, clock: Arc<dyn Clock>, policy: SessionPolicy) -> Self {
        Self {
            store,
            clock,
            policy,
            cache: RwLock::new(Cache::default()),
        }
    }

    /// A new token and its session for `username`, not stored yet (for a store method
    /// that stores it inside its own transaction).
    pub fn prepare(&self, username: &str, address: &str, user_agent: &str) -> Result<Issued> {
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
        Ok(Issued { token, session })
    }

    /// Issue a token for `username` if the user exists, is enabled and (with
    /// `expect_hash`) still has the password hash that was checked; `None` otherwise.
    pub async fn issue(
        &self,
        username: &str,
        address: &str,
        user_agent: &str,
        expect_hash: Option<&str>,
    ) -> Result<Option<Issued>> {
        let issued = self.prepare(username, address, user_agent)?;
        Ok(self
            .store
            .insert(&issued.session, expect_hash)
            .await?
            .then_some(issued))
    }

    /// The username of the live session of `token`, or `None`.
    pub async fn verify(&self, token: &str) -> Result<Option<Arc<str>>> {
        if token.is_empty() || token.len() > 256 {
            return Ok(None);
        }
        let digest: Digest = Sha256::digest(token.as_bytes()).into();
        let now = self.clock.now_ms();
        let epoch = if self.policy.cache_ms > 0 {
            let (hit, epoch) = {
                let cache = self.read_cache();
                let hit = cache
                    .entries
                    .get(&digest)
                    .filter(|c| now - c.cached_at < self.policy.cache_ms)
                    .map(|c| (c.username.clone(), c.expires_at, c.last_seen_at));
                (hit, cache.epoch)
            };
            if let Some((username, expires_at, last_seen_at)) = hit {
                if self.is_live(expires_at, last_seen_at, now) {
                    self.maybe_touch(&digest, last_seen_at, now).await?;
                    return Ok(Some(username));
                }
                self.forget(&digest);
                return Ok(None);
            }
            epoch
        } else {
            0
        };
        let Some(session) = self
            .store
            .get(&hex(&digest))
            .await?
            .filter(|s| self.is_live(s.expires_at, s.last_seen_at, now))
        else {
            // Drop a stale entry of this token (looked for under the read lock: unknown
            // tokens are common and must not serialise on the write lock).
            if self.policy.cache_ms > 0 && self.read_cache().entries.contains_key(&digest) {
                self.write_cache().entries.remove(&digest);
            }
            return Ok(None);
        };
        self.maybe_touch(&digest, session.last_seen_at, now).await?;
        let username: Arc<str> = session.username.into();
        if self.policy.cache_ms > 0 {
            let mut cache = self.write_cache();
            if cache.epoch == epoch {
                if cache.entries.len() >= CACHE_MAX {
                    let ttl = self.policy.cache_ms;
                    cache.entries.retain(|_, c| now - c.cached_at < ttl);
                    if cache.entries.len() >= CACHE_MAX {
                        cache.entries.clear();
                    }
                }
                cache.entries.insert(
                    digest,
                    Cached {
                        username: username.clone(),
                        expires_at: session.expires_at,
                        last_seen_at: session.last_seen_at.max(now),
                        cached_at: now,
                    },
                );
            }
        }
        Ok(Some(username))
    }

    fn is_live(&self, expires_at: Millis, last_seen_at: Millis, now: Millis) -> bool {
        expires_at > now && (self.policy.idle_ms == 0 || now - last_seen_at < self.policy.idle_ms)
    }

    async fn maybe_touch(&self, digest: &Digest, last_seen_at: Millis, now: Millis) -> Result<()> {
        if self.policy.idle_ms == 0
            || now - last_seen_at < TOUCH_EVERY_MS.min(self.policy.idle_ms / 4).max(1)
        {
            return Ok(());
        }
        self.store.touch(&hex(digest), now).await?;
        if let Some(c) = self.write_cache().entries.get_mut(digest) {
            c.last_seen_at = now;
        }
        Ok(())
    }

    /// Revoke `token`; `true` if it was live.
    pub async fn revoke(&self, token: &str) -> Result<bool> {
        let digest: Digest = Sha256::digest(token.as_bytes()).into();
        self.forget(&digest);
        self.store.revoke(&hex(&digest)).await
    }

    /// Revoke every session of `username`; returns how many.
    pub async fn revoke_user(&self, username: &str) -> Result<usize> {
        let revoked = self.store.revoke_user(username).await?;
        self.forget_all(&revoked);
        Ok(revoked.len())
    }

    /// Drop sessions revoked in the store (by hex hash) from the cache.
    pub fn forget_all(&self, hashes: &[String]) {
        let mut cache = self.write_cache();
        cache.epoch += 1;
        for h in hashes {
            if let Some(d) = unhex(h) {
                cache.entries.remove(&d);
            }
        }
    }

    /// Delete expired and idle sessions from the store.
    pub async fn purge(&self) -> Result<u64> {
        let now = self.clock.now_ms();
        let idle_before = (self.policy.idle_ms > 0).then(|| now - self.policy.idle_ms);
        self.write_cache().entries.retain(|_, c| c.expires_at > now);
        self.store.purge(now, idle_before).await
    }

    fn forget(&self, digest: &Digest) {
        if self.policy.cache_ms > 0 {
            let mut cache = self.write_cache();
            cache.epoch += 1;
            cache.entries.remove(digest);
        }
    }

    fn read_cache(&self) -> std::sync::RwLockReadGuard<'_, Cache> {
        self.cache.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_cache(&self) -> std::sync::RwLockWriteGuard<'_, Cache> {
        self.cache.write().unwrap_or_else(|e| e.into_inner())
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lower-case hex, as the store keys sessions: two table look-ups per byte into a
/// buffer, one allocation.
fn hex(d: &Digest) -> String {
    let mut out = [0u8; 64];
    for (pair, b) in out.chunks_exact_mut(2).zip(d) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 15)];
    }
    out.iter().map(|&c| char::from(c)).collect()
}

fn unhex(s: &str) -> Option<Digest> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).and_then(|v| u8::try_from(v).ok());
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

fn truncate(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_matches_the_stored_form_and_decodes() {
        let d: Digest = Sha256::digest(b"token").into();
        let h = hex(&d);
        assert_eq!(h, crypto::sha256_hex(b"token"));
        assert_eq!(unhex(&h), Some(d));
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex(&"g".repeat(64)), None);
    }
}
