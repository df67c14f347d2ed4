//! Remembers, briefly, that an (app, secret) pair was right, so a busy app does not cost a
//! database read and a decryption per call. Only SHA-256 digests of secrets are kept, and
//! only positive answers (a wrong secret is asked again every time). A revoked secret keeps
//! working for at most the TTL.

use std::collections::HashMap;
use std::sync::Mutex;

use bk_core::clock::Millis;
use sha2::{Digest, Sha256};

/// How long a verified secret is trusted without asking again.
pub const TTL_MS: Millis = 10_000;
const MAX: usize = 10_000;

/// Verified (app, secret digest) pairs with their expiry.
#[derive(Debug, Default)]
pub struct SecretCache {
    ok: Mutex<HashMap<(String, [u8; 32]), Millis>>,
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

impl SecretCache {
    /// Whether the pair was verified less than the TTL ago.
    pub fn hit(&self, app: &str, secret: &str, now: Millis) -> bool {
        let Ok(m) = self.ok.lock() else { return false };
        // The map key needs an owned String; the lookup is by (app, digest) anyway.
        m.get(&(app.to_owned(), digest(secret)))
            .is_some_and(|exp| *exp > now)
    }

    /// Remember a verified pair.
    pub fn remember(&self, app: &str, secret: &str, now: Millis) {
        let Ok(mut m) = self.ok.lock() else { return };
        if m.len() >= MAX {
            m.retain(|_, exp| *exp > now);
            if m.len() >= MAX {
                m.clear();
            }
        }
        m.insert((app.to_owned(), digest(secret)), now + TTL_MS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_only_the_same_pair_within_the_ttl() {
        let c = SecretCache::default();
        c.remember("a", "s", 0);
        assert!(c.hit("a", "s", TTL_MS - 1));
        assert!(!c.hit("a", "t", 1));
        assert!(!c.hit("b", "s", 1));
        assert!(!c.hit("a", "s", TTL_MS));
    }
}
