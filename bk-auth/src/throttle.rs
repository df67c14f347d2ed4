//! Brute-force protection that an attacker can neither outrun nor turn against others.
//!
//! Every password attempt is counted *before* its password is checked, atomically in the
//! [`ThrottleStore`] (so parallel requests, in this process or another, are counted one
//! after the other), and refused when a limit is passed; a success takes its count back.
//! So however many requests arrive at once, at most `free_failures + 1` passwords of one
//! client are checked before the first delay.
//!
//! Three keys per attempt, each with its own role:
//! - **`pair:<account>@<address>`** — this client on this account. The only key that
//!   locks: `free_failures` free, then growing delays, a lock at `lock_after`. It stops a
//!   single client from guessing, and touches no one else.
//! - **`user:<account>`** — the account from every client. Past `lock_after` failures the
//!   account is under attack and delays clients that have failed on it (their pair has
//!   failures); a client that has not been failing is never refused because of it, so
//!   attacking an account never locks its owner out.
//! - **`ip:<address>`** — the address on every account. Past `free_failures ×
//!   address_factor` failures it delays pairs that are not *known*; a pair becomes known
//!   when the account logs in from the address (for `known_client_secs`), so a guessing
//!   run from an office's NAT address does not stop colleagues who logged in from it before.
//!
//! Neither account nor address keys ever lock; the delays are capped at `max_delay_secs`.
//! State lives in the store, so it survives restarts, is shared by login processes, and
//! administrators can see and lift it.

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
    /// `pair:<username>@<address>`.
    pub pair: String,
    /// `user:<username>`.
    pub user: String,
    /// `ip:<address>`; `None` when the address is unknown
    /// ([`UNKNOWN_ADDRESS`](crate::service::UNKNOWN_ADDRESS)): one key shared by every
    /// client without an address would let anyone lock everyone out.
    pub address: Option<String>,
}

impl Keys {
    /// Keys for a username tried from an address. An unknown address keeps the pair key
    /// (`pair:<account>@unknown`, still per account) and drops the address key.
    pub fn new(username: &str, address: &str) -> Self {
        let user = username.to_lowercase();
        let known = !address.is_empty() && address != crate::service::UNKNOWN_ADDRESS;
        Self {
            pair: format!("pair:{user}@{address}"),
            user: format!("user:{user}"),
            address: known.then(|| format!("ip:{address}")),
        }
    }

    /// The keys in the order [`Throttle::judge`] reads them: pair, account, address.
    fn list(&self) -> Vec<String> {
        let mut v = vec![self.pair.clone(), self.user.clone()];
        v.extend(self.address.clone());
        v
    }
}

/// A blocked key as administrators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Block {
    /// `pair:<name>@<address>` (one client on one account), `user:<name>` (an account:
    /// delays only clients that failed on it) or `ip:<address>` (an address: delays only
    /// accounts that never logged in from it).
    pub key: String,
    /// Failures counted.
    pub failures: i64,
    /// `true` for a lock (a pair reached `lock_after`), `false` for a back-off delay.
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

/// Why an attempt may not go ahead: wait this many milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Wait(Millis);

impl Throttle {
    /// A throttle over `store`.
    pub fn new(store: Arc<dyn ThrottleStore>, cfg: ThrottleConfig, clock: Arc<dyn Clock>) -> Self {
        Self { store, cfg, clock }
    }

    /// Count an attempt before its password is checked; `Locked` (and nothing counted)
    /// when a key holds it back.
    pub async fn admit(&self, keys: &Keys) -> Result<()> {
        let now = self.clock.now_ms();
        let seen = self
            .store
            .modify(
                &keys.list(),
                &|cur: &[Option<ThrottleState>]| match self.judge(cur, now) {
                    Ok(next) => next.into_iter().map(Some).collect(),
                    Err(_) => vec![None; cur.len()],
                },
            )
            .await?;
        match self.judge(&seen, now) {
            Ok(_) => Ok(()),
            Err(Wait(ms)) => Err(AuthError::Locked {
                retry_after_secs: (ms + 999) / 1000,
            }),
        }
    }

    /// The admitted attempt succeeded: clear its pair and mark it known, and take the
    /// attempt back from the account and the address (which keep counting others).
    pub async fn succeed(&self, keys: &Keys) -> Result<()> {
        let now = self.clock.now_ms();
        self.store
            .modify(&keys.list(), &|cur: &[Option<ThrottleState>]| {
                let pair = cur.first().copied().flatten().unwrap_or_default();
                let mut out = vec![Some(ThrottleState {
                    failures: 0,
                    blocked_until: 0,
                    known_at: now,
                    ..pair
                })];
                out.extend(cur.iter().skip(1).map(|s| s.map(take_back)));
                out
            })
            .await?;
        Ok(())
    }

    /// The admitted attempt could not be judged (a provider or storage failure): take it
    /// back from every key.
    pub async fn cancel(&self, keys: &Keys) -> Result<()> {
        self.store
            .modify(&keys.list(), &|cur: &[Option<ThrottleState>]| {
                cur.iter().map(|s| s.map(take_back)).collect()
            })
            .await?;
        Ok(())
    }

    /// Lift a block (admin). Lifting `user:<name>` also lifts every `pair:<name>@…`.
    /// Account names match whatever their case, as they are counted.
    pub async fn clear(&self, key: &str) -> Result<()> {
        let key = if key.starts_with("user:") || key.starts_with("pair:") {
            key.to_lowercase()
        } else {
            key.to_owned()
        };
        self.store.clear(&key).await?;
        if let Some(name) = key.strip_prefix("user:") {
            self.store.clear_prefix(&format!("pair:{name}@")).await?;
        }
        Ok(())
    }

    /// Lift everything that holds back `username` (after an administrator set a password).
    pub async fn clear_account(&self, username: &str) -> Result<()> {
        self.clear(&Keys::new(username, "").user).await
    }

    /// Keys blocked now.
    pub async fn blocked(&self) -> Result<Vec<Block>> {
        let now = self.clock.now_ms();
        let mut out: Vec<Block> = self
            .store
            .blocked(now)
            .await?
            .into_iter()
            .map(|(key, s)| Block {
                locked: key.starts_with("pair:") && s.failures >= self.cfg.lock_after,
                key,
                failures: s.failures,
                until: s.blocked_until,
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// Forget counters quiet for longer than the window and pairs no longer known.
    pub async fn purge(&self) -> Result<u64> {
        let now = self.clock.now_ms();
        self.store
            .purge(
                now - self.cfg.window_secs * 1000,
                now - self.cfg.known_client_secs * 1000,
            )
            .await
    }

    /// The states after admitting an attempt with the keys in `cur` (pair, account,
    /// address), or how long it must wait. Pure, so the store may re-run it.
    fn judge(
        &self,
        cur: &[Option<ThrottleState>],
        now: Millis,
    ) -> Result<[ThrottleState; 3], Wait> {
        let c = &self.cfg;
        let state = |i: usize| self.fresh(cur.get(i).copied().flatten().unwrap_or_default(), now);
        let (pair, user, ip) = (state(0), state(1), state(2));
        let known = pair.known_at > 0 && now - pair.known_at < c.known_client_secs * 1000;
        let mut wait = 0;
        if pair.blocked_until > now {
            wait = pair.blocked_until - now;
        }
        if pair.failures > 0 && user.blocked_until > now {
            wait = wait.max(user.blocked_until - now);
        }
        if !known && ip.blocked_until > now {
            wait = wait.max(ip.blocked_until - now);
        }
        if wait > 0 {
            return Err(Wait(wait));
        }
        Ok([
            self.count(pair, now, c.free_failures, true),
            self.count(user, now, c.lock_after, false),
            self.count(ip, now, c.free_failures * c.address_factor.max(1), false),
        ])
    }

    /// `s` with its counter reset when the window passed without failures and no block.
    fn fresh(&self, mut s: ThrottleState, now: Millis) -> ThrottleState {
        if now - s.last_failure_at > self.cfg.window_secs * 1000 && s.blocked_until <= now {
            s.failures = 0;
            s.blocked_until = 0;
        }
        s
    }

    /// Count one attempt: free up to `free`, then delays; a lock at `lock_after` if
    /// `lockable`.
    fn count(&self, s: ThrottleState, now: Millis, free: i64, lockable: bool) -> ThrottleState {
        let c = &self.cfg;
        let failures = s.failures + 1;
        let until = if lockable && failures >= c.lock_after {
            now + c.lock_secs * 1000
        } else if failures > free {
            let n = (failures - free - 1).min(30) as u32;
            now + (c.base_delay_secs.saturating_mul(1_i64 << n)).min(c.max_delay_secs) * 1000
        } else {
            0
        };
        ThrottleState {
            failures,
            last_failure_at: now,
            blocked_until: until.max(s.blocked_until),
            known_at: s.known_at,
        }
    }
}

/// One attempt fewer (it was not a failure); the delay it may have set stays.
fn take_back(s: ThrottleState) -> ThrottleState {
    ThrottleState {
        failures: (s.failures - 1).max(0),
        ..s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bk_core::clock::ManualClock;

    const NOW: Millis = 1_000_000_000;

    fn throttle() -> Throttle {
        let clock = ManualClock::new(NOW);
        let store: Arc<dyn ThrottleStore> =
            Arc::new(crate::store::memory::MemoryThrottle::default());
        Throttle::new(store, ThrottleConfig::default(), clock)
    }

    fn delay(s: ThrottleState) -> Millis {
        (s.blocked_until - NOW).max(0) / 1000
    }

    #[test]
    fn an_unknown_address_has_no_address_key() {
        let known = Keys::new("Bob", "10.0.0.1");
        assert_eq!(
            known.list(),
            ["pair:bob@10.0.0.1", "user:bob", "ip:10.0.0.1"]
        );
        let unknown = Keys::new("Bob", crate::service::UNKNOWN_ADDRESS);
        assert_eq!(unknown.list(), ["pair:bob@unknown", "user:bob"]);
        assert_eq!(unknown.address, None);
    }

    #[tokio::test]
    async fn without_an_address_one_account_failing_does_not_slow_another() {
        let t = throttle();
        let unknown = crate::service::UNKNOWN_ADDRESS;
        for i in 0..40 {
            t.admit(&Keys::new(&format!("victim{i}"), unknown))
                .await
                .unwrap();
        }
        assert!(t.admit(&Keys::new("fresh", unknown)).await.is_ok());
    }

    #[test]
    fn pair_delays_grow_then_lock() {
        let t = throttle();
        let mut s = ThrottleState::default();
        let mut delays = vec![];
        for _ in 0..10 {
            s = t.count(s, NOW, 3, true);
            delays.push(delay(s));
        }
        assert_eq!(delays, vec![0, 0, 0, 1, 2, 4, 8, 16, 32, 900]);
    }

    #[test]
    fn account_and_address_keys_delay_but_never_lock() {
        let t = throttle();
        let mut s = ThrottleState::default();
        for _ in 0..200 {
            s = t.count(s, NOW, 10, false);
        }
        assert_eq!(delay(s), 60, "capped at max_delay_secs");
    }

    #[test]
    fn window_resets_counter() {
        let t = throttle();
        let s = ThrottleState {
            failures: 5,
            last_failure_at: 0,
            ..ThrottleState::default()
        };
        assert_eq!(t.fresh(s, 10_000_000).failures, 0);
    }

    #[test]
    fn an_account_under_attack_holds_back_only_failing_clients() {
        let t = throttle();
        let attacked = ThrottleState {
            failures: 50,
            last_failure_at: NOW,
            blocked_until: NOW + 60_000,
            known_at: 0,
        };
        let clean = None;
        let failing = Some(ThrottleState {
            failures: 1,
            last_failure_at: NOW,
            ..ThrottleState::default()
        });
        assert!(t.judge(&[clean, Some(attacked), None], NOW).is_ok());
        assert_eq!(
            t.judge(&[failing, Some(attacked), None], NOW),
            Err(Wait(60_000))
        );
    }

    #[test]
    fn an_address_under_attack_holds_back_only_unknown_pairs() {
        let t = throttle();
        let attacked = Some(ThrottleState {
            failures: 64,
            last_failure_at: NOW,
            blocked_until: NOW + 60_000,
            known_at: 0,
        });
        let known = Some(ThrottleState {
            known_at: NOW - 86_400_000,
            ..ThrottleState::default()
        });
        assert!(t.judge(&[known, None, attacked], NOW).is_ok());
        assert_eq!(t.judge(&[None, None, attacked], NOW), Err(Wait(60_000)));
        let long_ago = Some(ThrottleState {
            known_at: NOW - 31 * 86_400_000,
            ..ThrottleState::default()
        });
        assert!(
            t.judge(&[long_ago, None, attacked], NOW).is_err(),
            "known for 30 days"
        );
    }

    #[tokio::test]
    async fn admitted_attempts_are_counted_and_a_success_takes_its_own_back() {
        let t = throttle();
        let keys = Keys::new("Alice", "10.0.0.1");
        for _ in 0..4 {
            t.admit(&keys).await.unwrap();
        }
        assert!(matches!(
            t.admit(&keys).await,
            Err(AuthError::Locked {
                retry_after_secs: 1
            })
        ));
        let other = Keys::new("alice", "10.0.0.2");
        t.admit(&other).await.unwrap();
        t.succeed(&other).await.unwrap();
        let pair = t.store.get(&other.pair).await.unwrap().unwrap();
        assert_eq!((pair.failures, pair.known_at), (0, NOW));
        assert_eq!(t.store.get(&keys.user).await.unwrap().unwrap().failures, 4);
        t.clear("user:ALICE").await.unwrap();
        t.admit(&keys).await.unwrap();
    }
}
