//! App authentication: a secret (checked through bk-core's `AppDirectory`) or an HMAC
//! signature with a fresh timestamp (both directions) and a nonce seen once.

use bk_core::apps::AppDirectory;
use bk_core::clock::Millis;

use super::credentials::Credentials;
use super::nonce::NonceStore;
use super::secret_cache::SecretCache;
use super::signature::{self, Signed};
use crate::error::{EsbError, Result};

/// Accepted distance between `bk_timestamp` and now, both ways, in seconds.
pub const WINDOW_SECS: i64 = 300;

/// What app auth needs besides the credentials.
pub struct AppAuth<'a> {
    /// The app directory (the engine).
    pub apps: &'a dyn AppDirectory,
    /// The replay store.
    pub nonces: &'a dyn NonceStore,
    /// Verified secrets.
    pub cache: &'a SecretCache,
    /// Now, ms.
    pub now: Millis,
}

const INVALID: &str = "bk_app_code or bk_app_secret is invalid";

fn query_value<'q>(q: &'q [(String, String)], name: &str) -> Option<&'q str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

impl AppAuth<'_> {
    /// The app code the call is authenticated as.
    pub async fn authenticate(&self, creds: &Credentials, signed: &Signed<'_>) -> Result<String> {
        let Some(app) = creds.app_code.as_deref() else {
            return Err(EsbError::AppAuth(
                "bk_app_code is required (in X-Bkapi-Authorization, the query or the body)".into(),
            ));
        };
        if let Some(secret) = creds.app_secret.as_deref() {
            if self.cache.hit(app, secret, self.now) {
                return Ok(app.to_owned());
            }
            if self.apps.verify_secret(app, secret).await? {
                self.cache.remember(app, secret, self.now);
                return Ok(app.to_owned());
            }
            return Err(EsbError::AppAuth(INVALID.into()));
        }
        let Some(sig) = query_value(signed.query, "bk_signature") else {
            return Err(EsbError::AppAuth(
                "bk_app_secret is required, or a signature (bk_signature, bk_nonce, bk_timestamp)"
                    .into(),
            ));
        };
        let nonce = query_value(signed.query, "bk_nonce")
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| EsbError::AppAuth("bk_nonce must be a positive integer".into()))?;
        let ts = query_value(signed.query, "bk_timestamp")
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(|| EsbError::AppAuth("bk_timestamp must be unix seconds".into()))?;
        let now_secs = self.now.div_euclid(1000);
        if (now_secs - ts).abs() > WINDOW_SECS {
            return Err(EsbError::AppAuth(format!(
                "bk_timestamp is more than {WINDOW_SECS} s away from the gateway's clock; sign the request again"
            )));
        }
        let message = signed.message();
        let ok = self
            .apps
            .any_secret(app, &|secret| signature::verify(secret, &message, sig))
            .await?;
        if !ok {
            return Err(EsbError::AppAuth(
                "bk_signature does not match (or bk_app_code is invalid)".into(),
            ));
        }
        let expires = (ts + WINDOW_SECS + 1).saturating_mul(1000);
        if !self.nonces.first_use(app, nonce, self.now, expires) {
            return Err(EsbError::AppAuth(
                "bk_nonce was used already: every signed request needs a new nonce".into(),
            ));
        }
        Ok(app.to_owned())
    }
}
