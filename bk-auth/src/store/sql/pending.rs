//! [`PendingLoginStore`]: `login_pending`, each row taken at most once.

use async_trait::async_trait;
use bk_core::clock::Millis;

use super::{SqlStore, col, count};
use crate::error::Result;
use crate::store::{PendingLogin, PendingLoginStore};

#[async_trait]
impl PendingLoginStore for SqlStore {
    async fn put(&self, p: &PendingLogin) -> Result<()> {
        let q = self
            .db
            .query(
                "INSERT INTO login_pending (state_hash, provider, pkce_verifier, nonce, c_url, expires_at, browser_hash, address) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(p.state_hash.clone())
            .bind(p.provider.clone())
            .bind(p.pkce_verifier.clone())
            .bind(p.nonce.clone())
            .bind(p.c_url.clone())
            .bind(p.expires_at)
            .bind(p.browser_hash.clone())
            .bind(p.address.clone());
        self.db.execute(q).await?;
        Ok(())
    }

    async fn take(&self, state_hash: &str, now: Millis) -> Result<Option<PendingLogin>> {
        let q = self
            .db
            .query(
                "SELECT state_hash, provider, pkce_verifier, nonce, c_url, expires_at, browser_hash, address \
                 FROM login_pending WHERE state_hash = ?",
            )
            .bind(state_hash.to_owned());
        let found = match self.db.fetch_optional(q).await? {
            Some(r) => Some(PendingLogin {
                state_hash: col(&r, "state_hash")?,
                provider: col(&r, "provider")?,
                pkce_verifier: col(&r, "pkce_verifier")?,
                nonce: col(&r, "nonce")?,
                c_url: col(&r, "c_url")?,
                expires_at: col(&r, "expires_at")?,
                browser_hash: col(&r, "browser_hash")?,
                address: col(&r, "address")?,
            }),
            None => None,
        };
        // The delete decides who takes it: of two concurrent callers only one removes the row.
        let removed = match &found {
            Some(_) => {
                self.db
                    .execute(
                        self.db
                            .query("DELETE FROM login_pending WHERE state_hash = ?")
                            .bind(state_hash.to_owned()),
                    )
                    .await?
            }
            None => 0,
        };
        Ok(found.filter(|p| removed == 1 && p.expires_at > now))
    }

    async fn count(&self, address: Option<&str>, now: Millis) -> Result<u64> {
        let q = match address {
            Some(a) => self
                .db
                .query("SELECT COUNT(*) FROM login_pending WHERE address = ? AND expires_at > ?")
                .bind(a.to_owned())
                .bind(now),
            None => self
                .db
                .query("SELECT COUNT(*) FROM login_pending WHERE expires_at > ?")
                .bind(now),
        };
        count(self.db.fetch_optional(q).await?)
    }

    async fn purge(&self, now: Millis) -> Result<u64> {
        Ok(self
            .db
            .execute(
                self.db
                    .query("DELETE FROM login_pending WHERE expires_at <= ?")
                    .bind(now),
            )
            .await?)
    }
}
