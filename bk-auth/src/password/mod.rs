//! Password hashing: argon2id for everything we write; Django `pbkdf2_sha256$…` hashes
//! imported from BK V6 are verified and flagged for upgrade. Hashing runs on the blocking
//! pool behind a semaphore so a login storm cannot exhaust memory or starve the runtime.

mod legacy;
pub mod policy;

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::config::Argon2Config;
use crate::error::{AuthError, Result};

/// The outcome of a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The password matches.
    pub ok: bool,
    /// The stored hash should be replaced (legacy scheme or outdated parameters).
    pub needs_rehash: bool,
}

/// Hashes and verifies passwords.
#[derive(Debug)]
pub struct Hasher {
    params: Params,
    permits: Arc<Semaphore>,
    dummy: OnceLock<String>,
}

impl Hasher {
    /// A hasher with the configured argon2id cost.
    pub fn new(cfg: &Argon2Config) -> Result<Self> {
        let params = Params::new(cfg.memory_kib, cfg.iterations, cfg.parallelism, None)
            .map_err(|e| AuthError::Invalid(format!("login.argon2: {e}")))?;
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(cfg.max_concurrent.max(1))),
            dummy: OnceLock::new(),
        })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    fn hash_blocking(&self, password: &str) -> Result<String> {
        let salt_bytes =
            bk_core::crypto::random_bytes(16).map_err(|e| AuthError::Internal(e.to_string()))?;
        let salt =
            SaltString::encode_b64(&salt_bytes).map_err(|e| AuthError::Internal(e.to_string()))?;
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AuthError::Internal(format!("argon2: {e}")))
    }

    fn verify_blocking(&self, password: &str, stored: &str) -> Verified {
        if stored.starts_with("pbkdf2_sha256$") {
            return Verified {
                ok: legacy::verify_django_pbkdf2(password, stored),
                needs_rehash: true,
            };
        }
        let Ok(parsed) = PasswordHash::new(stored) else {
            return Verified {
                ok: false,
                needs_rehash: false,
            };
        };
        let ok = self
            .argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        let current = parsed.algorithm.as_str() == "argon2id"
            && Params::try_from(&parsed).map(|p| {
                p.m_cost() == self.params.m_cost()
                    && p.t_cost() == self.params.t_cost()
                    && p.p_cost() == self.params.p_cost()
            }) == Ok(true);
        Verified {
            ok,
            needs_rehash: ok && !current,
        }
    }

    /// Hash a new password.
    pub async fn hash(self: &Arc<Self>, password: &str) -> Result<String> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AuthError::Internal(e.to_string()))?;
        let me = self.clone();
        let pw = password.to_owned();
        tokio::task::spawn_blocking(move || me.hash_blocking(&pw))
            .await
            .map_err(|e| AuthError::Internal(e.to_string()))?
    }

    /// Verify `password` against `stored`; `None` verifies against a dummy hash and fails,
    /// taking as long as a real check.
    pub async fn verify(
        self: &Arc<Self>,
        password: &str,
        stored: Option<&str>,
    ) -> Result<Verified> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AuthError::Internal(e.to_string()))?;
        let me = self.clone();
        let pw = password.to_owned();
        let (stored, real) = match stored {
            Some(s) => (Some(s.to_owned()), true),
            None => (None, false),
        };
        let v = tokio::task::spawn_blocking(move || {
            // Unknown users are checked against a real hash (made once, on first need, not
            // at start-up) so their timing equals that of known users.
            let stored = stored.unwrap_or_else(|| {
                me.dummy
                    .get_or_init(|| me.hash_blocking("timing equalisation").unwrap_or_default())
                    .clone()
            });
            me.verify_blocking(&pw, &stored)
        })
        .await
        .map_err(|e| AuthError::Internal(e.to_string()))?;
        Ok(if real {
            v
        } else {
            Verified {
                ok: false,
                needs_rehash: false,
            }
        })
    }

    /// Whether `stored` is a hash format we can verify.
    pub fn is_supported_hash(stored: &str) -> bool {
        stored.starts_with("pbkdf2_sha256$") && legacy::parse_django(stored).is_some()
            || PasswordHash::new(stored).is_ok_and(|h| h.algorithm.as_str().starts_with("argon2"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Arc<Hasher> {
        Arc::new(
            Hasher::new(&Argon2Config {
                memory_kib: 1024,
                iterations: 1,
                parallelism: 1,
                max_concurrent: 2,
            })
            .unwrap(),
        )
    }

    #[tokio::test]
    async fn argon2_round_trip_and_rehash_on_param_change() {
        let h = cheap();
        let stored = h.hash("correct horse").await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(!stored.contains("correct horse"));
        assert_eq!(
            h.verify("correct horse", Some(&stored)).await.unwrap(),
            Verified {
                ok: true,
                needs_rehash: false
            }
        );
        assert!(!h.verify("wrong", Some(&stored)).await.unwrap().ok);
        let stronger = Arc::new(
            Hasher::new(&Argon2Config {
                memory_kib: 2048,
                iterations: 1,
                parallelism: 1,
                max_concurrent: 1,
            })
            .unwrap(),
        );
        assert_eq!(
            stronger
                .verify("correct horse", Some(&stored))
                .await
                .unwrap(),
            Verified {
                ok: true,
                needs_rehash: true
            }
        );
        assert!(!h.verify("x", None).await.unwrap().ok);
        assert!(Hasher::is_supported_hash(&stored));
        assert!(!Hasher::is_supported_hash("md5$abc"));
    }
}
