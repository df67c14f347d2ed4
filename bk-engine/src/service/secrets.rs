//! App secrets: listed masked, revealed to the app's developers (audited), rotated (at
//! most two live), revoked; and verified for other services in constant time.

use bk_core::clock::Millis;
use serde_json::json;

use super::EngineService;
use super::access::{Caller, existing_code};
use crate::error::{EngineError, Result};
use crate::model::StoredSecret;
use crate::secret::AppSecret;

/// A secret as listed: masked.
#[derive(Debug, Clone)]
pub struct SecretInfo {
    /// Sequence number within the app.
    pub id: i64,
    /// First characters, the rest starred.
    pub masked: String,
    /// Who made it.
    pub created_by: String,
    /// When (ms).
    pub created_at: Millis,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Millis>,
}

/// A secret shown in full.
#[derive(Debug, Clone)]
pub struct RevealedSecret {
    /// Sequence number within the app.
    pub id: i64,
    /// The secret.
    pub secret: AppSecret,
    /// When it was made (ms).
    pub created_at: Millis,
}

impl EngineService {
    fn open(&self, s: &StoredSecret) -> Result<AppSecret> {
        self.secret_box.open(&s.app_code, &s.sealed)
    }

    /// Every secret of the app, newest first, masked.
    pub async fn secrets(&self, who: &Caller, code: &str) -> Result<Vec<SecretInfo>> {
        let app = self.visible_app(who, code).await?;
        self.stores
            .secrets
            .secrets(app.code.as_str())
            .await?
            .iter()
            .map(|s| {
                Ok(SecretInfo {
                    id: s.id,
                    masked: self.open(s)?.masked(),
                    created_by: s.created_by.clone(),
                    created_at: s.created_at,
                    revoked_at: s.revoked_at,
                })
            })
            .collect()
    }

    /// Show secret `id` in full (live or revoked); the audit log records who saw it.
    pub async fn reveal_secret(&self, who: &Caller, code: &str, id: i64) -> Result<RevealedSecret> {
        let app = self.visible_app(who, code).await?;
        let stored = self
            .stores
            .secrets
            .secrets(app.code.as_str())
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| EngineError::NotFound(format!("secret {id} of app {}", app.code)))?;
        let secret = self.open(&stored)?;
        let audit = self.entry(
            who,
            Some(app.code.as_str()),
            "secret.reveal",
            format!("secret {id}"),
            json!({}),
        );
        self.stores.audit.record(&audit).await?;
        Ok(RevealedSecret {
            id,
            secret,
            created_at: stored.created_at,
        })
    }

    /// The newest live secret in full (what `bk app info` shows); audited like a reveal.
    pub async fn current_secret(&self, who: &Caller, code: &str) -> Result<RevealedSecret> {
        let app = self.visible_app(who, code).await?;
        let newest = self
            .stores
            .secrets
            .secrets(app.code.as_str())
            .await?
            .into_iter()
            .find(StoredSecret::is_live)
            .ok_or_else(|| EngineError::Internal(format!("app {} has no live secret", app.code)))?;
        self.reveal_secret(who, code, newest.id).await
    }

    /// Add a new live secret (the previous one stays live until revoked); refused while two
    /// are live.
    pub async fn rotate_secret(&self, who: &Caller, code: &str) -> Result<RevealedSecret> {
        let app = self.visible_app(who, code).await?;
        let secret = AppSecret::generate()?;
        let sealed = self.secret_box.seal(&app.code, &secret)?;
        let audit = self.entry(
            who,
            Some(app.code.as_str()),
            "secret.rotate",
            "secret (new)",
            json!({}),
        );
        let now = self.clock.now_ms();
        let stored = self
            .stores
            .secrets
            .add_secret(app.code.as_str(), &sealed, who.username(), now, &audit)
            .await?;
        tracing::info!(app = %app.code, id = stored.id, actor = who.username(), "app secret rotated");
        Ok(RevealedSecret {
            id: stored.id,
            secret,
            created_at: now,
        })
    }

    /// Revoke a live secret; the last live one stays.
    pub async fn revoke_secret(&self, who: &Caller, code: &str, id: i64) -> Result<()> {
        let app = self.visible_app(who, code).await?;
        let audit = self.entry(
            who,
            Some(app.code.as_str()),
            "secret.revoke",
            format!("secret {id}"),
            json!({}),
        );
        self.stores
            .secrets
            .revoke_secret(app.code.as_str(), id, self.clock.now_ms(), &audit)
            .await?;
        tracing::info!(app = %app.code, id, actor = who.username(), "app secret revoked");
        Ok(())
    }

    /// Whether `secret` is a live secret of `app_code`. Unknown apps and malformed codes
    /// answer `false`, like a wrong secret. Every live secret is compared (in constant
    /// time), so the time taken does not tell which one matched.
    pub async fn verify_app_secret(&self, app_code: &str, secret: &str) -> Result<bool> {
        let Ok(code) = existing_code(app_code) else {
            return Ok(false);
        };
        let presented = AppSecret::from_presented(secret);
        let mut ok = false;
        for s in self.stores.secrets.secrets(code.as_str()).await? {
            if s.is_live() {
                ok |= self.open(&s)?.matches(&presented);
            }
        }
        Ok(ok)
    }

    /// Whether `check` accepts one of the app's live secrets (an HMAC signature made with
    /// it); the secrets never leave the engine. `false` for unknown apps.
    pub async fn any_live_secret(
        &self,
        app_code: &str,
        check: &bk_core::apps::SecretCheck<'_>,
    ) -> Result<bool> {
        let Ok(code) = existing_code(app_code) else {
            return Ok(false);
        };
        let mut ok = false;
        for s in self.stores.secrets.secrets(code.as_str()).await? {
            if s.is_live() {
                ok |= check(self.open(&s)?.expose());
            }
        }
        Ok(ok)
    }
}
