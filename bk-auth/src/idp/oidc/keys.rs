//! The provider's signing keys (JWKS from discovery's `jwks_uri`): cached, fetched again
//! once when no cached key verifies a token (the provider rotated its keys), and the ID
//! token verification that uses them.

use std::sync::{Arc, PoisonError};

use jsonwebtoken::jwk::Jwk;
use serde::Deserialize;
use serde_json::Value;

use super::OidcProvider;
use super::discovery::Endpoints;
use super::id_token::{self, Expected, Rejected};
use crate::error::{AuthError, Result};

impl OidcProvider {
    /// The provider's signing keys: cached, or fetched when `refresh` or none are cached.
    /// Returns them and whether they were fetched now.
    async fn keys(&self, eps: &Endpoints, refresh: bool) -> Result<(Arc<Vec<Jwk>>, bool)> {
        let cached = self
            .keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(k) = cached.filter(|_| !refresh) {
            return Ok((k, false));
        }
        let failed = |e: &dyn std::fmt::Display| {
            tracing::warn!(provider = %self.cfg.id, error = %e, "OIDC key set fetch failed");
            AuthError::Provider(format!(
                "{} is unreachable or misconfigured (its signing keys could not be read)",
                self.cfg.display_name
            ))
        };
        let body = self
            .get_ok(eps.jwks.as_str())
            .await
            .map_err(|e| failed(&e))?;
        #[derive(Deserialize)]
        struct KeySet {
            keys: Vec<Value>,
        }
        let set: KeySet = serde_json::from_slice(&body).map_err(|e| failed(&e))?;
        // Keys we cannot use (other types, encryption-only algorithms) are skipped, not fatal.
        let keys: Vec<Jwk> = set
            .keys
            .into_iter()
            .filter_map(|k| serde_json::from_value(k).ok())
            .collect();
        let keys = Arc::new(keys);
        *self.keys.lock().unwrap_or_else(PoisonError::into_inner) = Some(keys.clone());
        Ok((keys, true))
    }

    /// Verify the ID token (signature, then claims) and return its subject. A token no
    /// cached key verifies gets one more try with a freshly fetched key set.
    pub(super) async fn verify_id_token(
        &self,
        eps: &Endpoints,
        token: &str,
        nonce: &str,
    ) -> Result<String> {
        let expected = Expected {
            issuer: self.issuer(),
            client_id: &self.cfg.client_id,
            nonce,
            now_secs: self.clock.now_secs(),
            algorithms: &eps.algorithms,
        };
        let (keys, fresh) = self.keys(eps, false).await?;
        let verdict = match id_token::verify(token, &keys, &expected) {
            Err(Rejected::Unverified(_)) if !fresh => {
                let (keys, _) = self.keys(eps, true).await?;
                id_token::verify(token, &keys, &expected)
            }
            other => other,
        };
        verdict.map_err(|r| {
            let why = r.why();
            tracing::warn!(provider = %self.cfg.id, why, "OIDC ID token rejected");
            AuthError::Provider(format!(
                "{} returned an ID token that does not match this login ({why})",
                self.cfg.display_name
            ))
        })
    }
}
