//! Password hashing: argon2id for everything we write; Django `pbkdf2_sha256$…` hashes
//! imported from BK V6 are verified and flagged for upgrade. Hashing runs on the blocking
//! pool behind a semaphore so a login storm cannot exhaust memory or starve the runtime,
//! and no hash is verified above [`cost::CostCap`] (imported hashes carry their own cost).

pub mod cost;
mod legacy;
pub mod policy;

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::config::Argon2Config;
use crate::error::{AuthError, Result};
use cost::CostCap;

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
    cap: CostCap,
    permits: Arc<Semaphore>,
    dummy: OnceLock<String>,
}

impl Hasher {
    /// A hasher with the configured argon2id cost.
    pub fn new(cfg: &Argon2Config) -> Result<Self> {
        let params = Params::new(cfg.memory_kib, cfg.iterations, cfg.parallelism, None)
            .map_err(|e| AuthError::Invalid(format!("login.argon2: {e}")))?;
        Ok(Self {
            cap: CostCap::of(&params),
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

    /// Check `password` against `stored`; `None`, an unreadable hash and a hash above the
    /// cost cap are checked against the dummy hash instead and fail, so every refusal
    /// costs the same time and never more memory than the configured cost.
    fn verify_blocking(&self, password: &str, stored: Option<&str>) -> Verified {
        const NO: Verified = Verified {
            ok: false,
            needs_rehash: false,
        };
        if let Some(s) = stored.filter(|s| s.starts_with("pbkdf2_sha256$")) {
            return Verified {
                ok: legacy::verify_django_pbkdf2(password, s),
                needs_rehash: true,
            };
        }
        let parsed = stored.and_then(|s| PasswordHash::new(s).ok());
        let Some((parsed, params)) = parsed.and_then(|h| self.cap.check(&h).ok().map(|p| (h, p)))
        else {
            let dummy = self.dummy.get_or_init(|| {
                self.hash_blocking("timing equalisation")
                    .unwrap_or_default()
            });
            if let Ok(d) = PasswordHash::new(dummy) {
                let _ = self.argon2().verify_password(password.as_bytes(), &d);
            }
            return NO;
        };
        let ok = self
            .argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        let current = parsed.algorithm.as_str() == "argon2id"
            && params.m_cost() == self.params.m_cost()
            && params.t_cost() == self.params.t_cost()
            && params.p_cost() == self.params.p_cost();
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
        let stored = stored.map(str::to_owned);
        tokio::task::spawn_blocking(move || me.verify_blocking(&pw, stored.as_deref()))
            .await
            .map_err(|e| AuthError::Internal(e.to_string()))
    }

    /// Whether `stored` may be imported: a Django `pbkdf2_sha256` hash within its
    /// iteration cap, or an argon2 PHC string within the cost cap. The error says why not.
    pub fn check_importable(&self, stored: &str) -> std::result::Result<(), String> {
        if stored.starts_with("pbkdf2_sha256$") {
            return legacy::parse_django(stored).map(|_| ()).ok_or_else(|| {
                format!(
                    "not a valid pbkdf2_sha256 hash (pbkdf2_sha256$<iterations 1..={}>$<salt>$<base64 of 32 bytes>)",
                    legacy::MAX_ITERATIONS
                )
            });
        }
        let hash = PasswordHash::new(stored)
            .map_err(|_| "not an argon2 or pbkdf2_sha256 hash".to_owned())?;
        if !hash.algorithm.as_str().starts_with("argon2") {
            return Err(format!(
                "{} hashes are not supported (argon2 or pbkdf2_sha256)",
                hash.algorithm
            ));
        }
        self.cap.check(&hash).map(|_| ())
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
        assert!(h.check_importable(&stored).is_ok());
        assert!(h.check_importable("md5$abc").is_err());
    }

    #[tokio::test]
    async fn hashes_above_the_cost_cap_are_never_verified() {
        let h = cheap();
        // The right password, hashed at 5x the configured memory: within reach of a real
        // check, so only the cap can make it fail.
        let heavy = Hasher::new(&Argon2Config {
            memory_kib: 5 * 1024,
            iterations: 1,
            parallelism: 1,
            max_concurrent: 1,
        })
        .unwrap();
        let stored = heavy.hash_blocking("correct horse").unwrap();
        assert!(heavy.verify_blocking("correct horse", Some(&stored)).ok);
        assert!(!h.verify("correct horse", Some(&stored)).await.unwrap().ok);
        let err = h.check_importable(&stored).unwrap_err();
        assert!(err.contains("m=5120") && err.contains("m<=4096"), "{err}");
        // Terabytes claimed: refused without allocating them (else this test aborts).
        let bomb = "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
        assert!(!h.verify("x", Some(bomb)).await.unwrap().ok);
        assert!(h.check_importable(bomb).is_err());
    }
}
