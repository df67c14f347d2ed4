//! The nonce replay store: a signature's `(app, nonce)` is accepted once within the
//! timestamp window. [`NonceStore`] is the seam (Redis later, for replicas);
//! [`MemoryNonces`] keeps them in process, bounded.

use std::collections::HashMap;
use std::sync::Mutex;

use bk_core::clock::Millis;

/// Most nonces remembered in process; past it signed calls are refused (fail closed).
pub const MAX_NONCES: usize = 1_000_000;

/// Remembers nonces until they expire.
pub trait NonceStore: Send + Sync {
    /// Record `(app, nonce)` until `expires`; false when it was seen and has not expired,
    /// or when the store is full.
    fn first_use(&self, app: &str, nonce: u64, now: Millis, expires: Millis) -> bool;
}

/// Nonces in a map, purged of expired entries whenever it doubles.
#[derive(Debug)]
pub struct MemoryNonces {
    inner: Mutex<Inner>,
    max: usize,
}

#[derive(Debug, Default)]
struct Inner {
    seen: HashMap<(String, u64), Millis>,
    purge_at: usize,
}

impl Default for MemoryNonces {
    fn default() -> Self {
        Self::with_capacity(MAX_NONCES)
    }
}

impl MemoryNonces {
    /// A store holding at most `max` live nonces.
    pub fn with_capacity(max: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                seen: HashMap::new(),
                purge_at: 1024,
            }),
            max,
        }
    }
}

impl NonceStore for MemoryNonces {
    fn first_use(&self, app: &str, nonce: u64, now: Millis, expires: Millis) -> bool {
        let Ok(mut g) = self.inner.lock() else {
            return false;
        };
        let key = (app.to_owned(), nonce);
        if let Some(exp) = g.seen.get(&key)
            && *exp > now
        {
            return false;
        }
        if g.seen.len() >= g.purge_at || g.seen.len() >= self.max {
            g.seen.retain(|_, exp| *exp > now);
            g.purge_at = (g.seen.len() * 2).max(1024);
        }
        if g.seen.len() >= self.max {
            tracing::warn!(
                max = self.max,
                "esb: nonce store full; refusing signed calls until nonces expire"
            );
            return false;
        }
        g.seen.insert(key, expires);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_accepted_once_until_they_expire_and_the_store_is_bounded() {
        let n = MemoryNonces::with_capacity(2);
        assert!(n.first_use("a", 1, 0, 100));
        assert!(!n.first_use("a", 1, 50, 150));
        assert!(n.first_use("b", 1, 50, 150));
        assert!(!n.first_use("c", 1, 50, 150), "full");
        assert!(n.first_use("a", 1, 100, 200), "expired");
    }
}
