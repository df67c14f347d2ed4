//! A short-lived memory of token answers, so a page that makes ten requests asks login once.
//!
//! Keys are SHA-256 digests of the tokens: a memory dump of the app does not hand out
//! live sessions. "Not logged in" answers are kept for at most a second, so a user who has
//! just logged in is not sent back to the login page. The size is bounded; when full,
//! expired entries go first, then arbitrary ones in a batch (an eighth of the capacity), so
//! the cost of a purge is spread over many inserts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use bk_core::clock::{Clock, Millis};
use bk_core::identity::UserInfo;
use sha2::{Digest, Sha256};

/// Longest time a negative answer is kept, milliseconds.
const NEGATIVE_TTL_MS: Millis = 1_000;

type Key = [u8; 32];

#[derive(Debug)]
struct Entry {
    user: Option<UserInfo>,
    expires_at: Millis,
}

/// Answers of a token verifier, by token digest.
#[derive(Debug)]
pub struct TokenCache {
    clock: Arc<dyn Clock>,
    ttl_ms: Millis,
    max_entries: usize,
    map: Mutex<HashMap<Key, Entry>>,
}

fn key(token: &str) -> Key {
    Sha256::digest(token.as_bytes()).into()
}

impl TokenCache {
    /// A cache keeping positive answers for `ttl_ms` (0 disables caching) and at most
    /// `max_entries` of them.
    pub fn new(clock: Arc<dyn Clock>, ttl_ms: Millis, max_entries: usize) -> Self {
        Self {
            clock,
            ttl_ms: ttl_ms.max(0),
            max_entries,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        // A panic elsewhere while holding the lock leaves the map consistent (every
        // operation is one HashMap call), so a poisoned lock is still usable.
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn enabled(&self) -> bool {
        self.ttl_ms > 0 && self.max_entries > 0
    }

    /// `Some(answer)` when a live answer is cached; `None` on a miss.
    pub fn get(&self, token: &str) -> Option<Option<UserInfo>> {
        if !self.enabled() {
            return None;
        }
        let now = self.clock.now_ms();
        let k = key(token);
        let mut map = self.map();
        match map.get(&k) {
            Some(e) if e.expires_at > now => Some(e.user.clone()),
            Some(_) => {
                map.remove(&k);
                None
            }
            None => None,
        }
    }

    /// Remember the answer for `token`.
    pub fn put(&self, token: &str, user: Option<UserInfo>) {
        if !self.enabled() {
            return;
        }
        let now = self.clock.now_ms();
        let ttl = if user.is_some() {
            self.ttl_ms
        } else {
            self.ttl_ms.min(NEGATIVE_TTL_MS)
        };
        let k = key(token);
        let mut map = self.map();
        if map.len() >= self.max_entries && !map.contains_key(&k) {
            map.retain(|_, e| e.expires_at > now);
            if map.len() >= self.max_entries {
                let target = self.max_entries - self.max_entries.div_ceil(8);
                let victims: Vec<Key> = map.keys().take(map.len() - target).copied().collect();
                for v in victims {
                    map.remove(&v);
                }
            }
        }
        map.insert(
            k,
            Entry {
                user,
                expires_at: now + ttl,
            },
        );
    }

    /// Drop what is known about `token` (after a logout in this process).
    pub fn forget(&self, token: &str) {
        self.map().remove(&key(token));
    }

    /// Number of entries held, live or not yet purged.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bk_core::clock::ManualClock;
    use bk_core::types::Role;

    fn user(name: &str) -> UserInfo {
        UserInfo {
            username: name.into(),
            chname: String::new(),
            qq: String::new(),
            phone: String::new(),
            email: String::new(),
            role: Role::Staff,
            wx_userid: String::new(),
            language: "en".into(),
            time_zone: "UTC".into(),
        }
    }

    #[test]
    fn positive_answers_live_for_the_ttl() {
        let clock = ManualClock::new(0);
        let c = TokenCache::new(clock.clone(), 10_000, 100);
        assert_eq!(c.get("t1"), None);
        c.put("t1", Some(user("alice")));
        assert_eq!(c.get("t1"), Some(Some(user("alice"))));
        clock.advance_ms(9_999);
        assert_eq!(c.get("t1"), Some(Some(user("alice"))));
        clock.advance_ms(1);
        assert_eq!(c.get("t1"), None);
        assert!(c.is_empty(), "an expired entry is dropped when seen");
    }

    #[test]
    fn negative_answers_live_at_most_a_second() {
        let clock = ManualClock::new(0);
        let c = TokenCache::new(clock.clone(), 10_000, 100);
        c.put("bad", None);
        assert_eq!(c.get("bad"), Some(None));
        clock.advance_ms(1_000);
        assert_eq!(c.get("bad"), None);

        let short = TokenCache::new(clock.clone(), 200, 100);
        short.put("bad", None);
        clock.advance_ms(200);
        assert_eq!(short.get("bad"), None, "never longer than the positive TTL");
    }

    #[test]
    fn keys_are_digests_not_tokens() {
        let c = TokenCache::new(ManualClock::new(0), 10_000, 100);
        c.put("very-secret-token", Some(user("alice")));
        let dump = format!("{:?}", c.map());
        assert!(!dump.contains("very-secret-token"));
    }

    #[test]
    fn size_is_bounded_expired_entries_go_first() {
        let clock = ManualClock::new(0);
        let c = TokenCache::new(clock.clone(), 10_000, 16);
        for i in 0..8 {
            c.put(&format!("old{i}"), None);
        }
        clock.advance_ms(1_000);
        for i in 0..8 {
            c.put(&format!("live{i}"), Some(user("alice")));
        }
        assert_eq!(c.len(), 16);
        c.put("one-more", Some(user("bob")));
        assert_eq!(c.len(), 9, "the expired negative answers were purged");
        for i in 0..8 {
            assert!(c.get(&format!("live{i}")).is_some());
        }
        for i in 0..100 {
            c.put(&format!("flood{i}"), Some(user("eve")));
            assert!(c.len() <= 16);
        }
        assert_eq!(
            c.get("flood99"),
            Some(Some(user("eve"))),
            "the newest entry is kept"
        );
    }

    #[test]
    fn zero_ttl_disables_and_forget_drops() {
        let clock = ManualClock::new(0);
        let off = TokenCache::new(clock.clone(), 0, 100);
        off.put("t", Some(user("alice")));
        assert_eq!(off.get("t"), None);
        let c = TokenCache::new(clock, 5_000, 100);
        c.put("t", Some(user("alice")));
        c.forget("t");
        assert_eq!(c.get("t"), None);
    }
}
