//! Brute-force protection: failures per account and per client address earn growing
//! delays, then a temporary lock (see [`ThrottleConfig`]). State lives in the
//! [`ThrottleStore`] so it survives restarts and is shared by login processes, and so
//! administrators can see and lift locks.

use std::sync::Arc;

use bk_core::clock::{Clock, Millis};
use serde::Serialize;

use crate::config::ThrottleConfig;
use crate::error::{AuthError, Result};
use crate::model::ThrottleState;
use crate::store::ThrottleStore;

/// The throttle keys of one attempt.
#[derive(Debug, Clone)]
pub struct Keys {
    /// `user:<username>`.
    pub user: String,
    /// `ip:<address>`.
    pub address: String,
}

impl Keys {
    /// Keys for a username tried from an address.
    pub fn new(username: &str, address: &str) -> Self {
        Self {
            user: format!("user:{}", username.to_lowercase()),
            address: format!("ip:{address}"),
        }
    }
}

/// A blocked key as administrators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Block {
    /// `user:<name>` or `ip:<address>`.
    pub key: String,
    /// Failures counted.
    pub failures: i64,
    /// `true` for a lock (reached `lock_after`), `false` for a back-off delay.
    pub locked: bool,
    /// Blocked until (ms since epoch).
    pub until: Millis,
}

/// Applies [`ThrottleConfig`] over a store.
pub struct Throttle {
    store: Arc<dyn ThrottleStore>,
    cfg: ThrottleConfig,
    clock: Arc<dyn Clock>,
}

impl Throttle {
    /// A throttle over `store`.
    pub fn new(store: Arc<dyn ThrottleStore>, cfg: ThrottleConfig, clock: Arc<dyn Clock>) -> Self {
        Self { store, cfg, clock }
    }

    fn factor(&self, key: &str) -> i64 {
        if key.starts_with("ip:") {
            self.cfg.address_factor.max(1)
        } else {
            1
        }
    }

    /// Refuse the attempt if either key is blocked now.
    pub async fn check(&self, keys: &Keys) -> Result<()> {
        let now = self.clock.now_ms();
        let mut wait = 0;
        for key in [&keys.user, &keys.address] {
            if let Some(s) = self.store.get(key).await?
                && s.blocked_until > now
            {
                wait = wait.max(s.blocked_until - now);
            }
        }
        if wait > 0 {
            Err(AuthError::Locked {
                retry_after_secs: (wait + 999) / 1000,
            })
        } else {
            Ok(())
        }
    }

    /// Count a failure against both keys.
    pub async fn fail(&self, keys: &Keys) -> Result<()> {
        let now = self.clock.now_ms();
        for key in [&keys.user, &keys.address] {
            let prev = self.store.get(key).await?.unwrap_or_default();
            let next = self.next_state(prev, now, self.factor(key));
            self.store.put(key, &next).await?;
        }
        Ok(())
    }

    /// A success clears the account's counter. The address keeps its count, so logging
    /// into one's own account does not reset a guessing run against others.
    pub async fn succeed(&self, keys: &Keys) -> Result<()> {
        self.store.clear(&keys.user).await
    }

    /// Lift a block (admin).
    pub async fn clear(&self, key: &str) -> Result<()> {
        self.store.clear(key).await
    }

    /// Keys blocked now.
    pub async fn blocked(&self) -> Result<Vec<Block>> {
        let now = self.clock.now_ms();
        let mut out: Vec<Block> = self
            .store
            .blocked(now)
            .await?
            .into_iter()
            .map(|(key, s)| {
                let locked = s.failures >= self.cfg.lock_after * self.factor(&key);
                Block {
                    key,
                    failures: s.failures,
                    locked,
                    until: s.blocked_until,
                }
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// Forget counters quiet for longer than the window.
    pub async fn purge(&self) -> Result<u64> {
        self.store
            .purge(self.clock.now_ms() - self.cfg.window_secs * 1000)
            .await
    }

    fn next_state(&self, prev: ThrottleState, now: Millis, factor: i64) -> ThrottleState {
        let c = &self.cfg;
        let failures =
            if now - prev.last_failure_at > c.window_secs * 1000 && prev.blocked_until <= now {
                1
            } else {
                prev.failures + 1
            };
        let blocked_until = if failures >= c.lock_after * factor {
            now + c.lock_secs * 1000
        } else if failures > c.free_failures * factor {
            let n = (failures - c.free_failures * factor - 1).min(30) as u32;
            now + (c.base_delay_secs.saturating_mul(1_i64 << n)).min(c.max_delay_secs) * 1000
        } else {
            0
        };
        ThrottleState {
            failures,
            last_failure_at: now,
            blocked_until: blocked_until.max(prev.blocked_until.min(now)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bk_core::clock::ManualClock;

    fn throttle() -> Throttle {
        let clock = ManualClock::new(1_000_000);
        let store: Arc<dyn ThrottleStore> =
            Arc::new(crate::store::memory::MemoryThrottle::default());
        Throttle::new(store, ThrottleConfig::default(), clock)
    }

    #[test]
    fn delays_grow_then_lock() {
        let t = throttle();
        let now = 1_000_000;
        let mut s = ThrottleState::default();
        let mut delays = vec![];
        for _ in 0..10 {
            s = t.next_state(s, now, 1);
            delays.push((s.blocked_until - now).max(0) / 1000);
        }
        assert_eq!(delays, vec![0, 0, 0, 1, 2, 4, 8, 16, 32, 900]);
        // Address keys tolerate `address_factor` times more.
        let mut s = ThrottleState::default();
        for _ in 0..15 {
            s = t.next_state(s, now, 5);
        }
        assert_eq!(s.blocked_until, 0);
    }

    #[test]
    fn window_resets_counter() {
        let t = throttle();
        let s = ThrottleState {
            failures: 5,
            last_failure_at: 0,
            blocked_until: 0,
        };
        let n = t.next_state(s, 10_000_000, 1);
        assert_eq!(n.failures, 1);
    }
}
