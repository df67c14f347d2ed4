//! [`SessionStore`]: `login_sessions`, keyed by the token's SHA-256 (never the token).

use async_trait::async_trait;
use bk_core::clock::Millis;
use sqlx::any::AnyRow;

use super::{SqlStore, col};
use crate::error::Result;
use crate::model::Session;
use crate::store::SessionStore;

fn session_from_row(row: &AnyRow) -> Result<Session> {
    Ok(Session {
        token_hash: col(row, "token_hash")?,
        username: col(row, "username")?,
        created_at: col(row, "created_at")?,
        expires_at: col(row, "expires_at")?,
        last_seen_at: col(row, "last_seen_at")?,
        address: col(row, "address")?,
        user_agent: col(row, "user_agent")?,
    })
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn insert(&self, s: &Session) -> Result<()> {
        let q = self
            .db
            .query(
                "INSERT INTO login_sessions (token_hash, username, created_at, expires_at, last_seen_at, address, user_agent) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(s.token_hash.clone())
            .bind(s.username.clone())
            .bind(s.created_at)
            .bind(s.expires_at)
            .bind(s.last_seen_at)
            .bind(s.address.clone())
            .bind(s.user_agent.clone());
        self.db.execute(q).await?;
        Ok(())
    }

    // The hot path: one primary-key lookup.
    async fn get(&self, token_hash: &str) -> Result<Option<Session>> {
        let q = self
            .db
            .query(
                "SELECT token_hash, username, created_at, expires_at, last_seen_at, address, user_agent \
                 FROM login_sessions WHERE token_hash = ?",
            )
            .bind(token_hash.to_owned());
        self.db
            .fetch_optional(q)
            .await?
            .as_ref()
            .map(session_from_row)
            .transpose()
    }

    async fn touch(&self, token_hash: &str, at: Millis) -> Result<()> {
        let q = self
            .db
            .query("UPDATE login_sessions SET last_seen_at = ? WHERE token_hash = ? AND last_seen_at < ?")
            .bind(at)
            .bind(token_hash.to_owned())
            .bind(at);
        self.db.execute(q).await?;
        Ok(())
    }

    async fn revoke(&self, token_hash: &str) -> Result<bool> {
        let q = self
            .db
            .query("DELETE FROM login_sessions WHERE token_hash = ?")
            .bind(token_hash.to_owned());
        Ok(self.db.execute(q).await? > 0)
    }

    async fn revoke_user(&self, username: &str) -> Result<Vec<String>> {
        let mut tx = self.db.begin().await?;
        let rows = tx
            .fetch_all(
                self.db
                    .query("SELECT token_hash FROM login_sessions WHERE username = ?")
                    .bind(username.to_owned()),
            )
            .await?;
        let hashes = rows
            .iter()
            .map(|r| col::<String>(r, "token_hash"))
            .collect::<Result<Vec<_>>>()?;
        tx.execute(
            self.db
                .query("DELETE FROM login_sessions WHERE username = ?")
                .bind(username.to_owned()),
        )
        .await?;
        tx.commit().await?;
        Ok(hashes)
    }

    async fn purge(&self, now: Millis, idle_before: Option<Millis>) -> Result<u64> {
        let q = match idle_before {
            Some(idle) => self
                .db
                .query("DELETE FROM login_sessions WHERE expires_at <= ? OR last_seen_at < ?")
                .bind(now)
                .bind(idle),
            None => self
                .db
                .query("DELETE FROM login_sessions WHERE expires_at <= ?")
                .bind(now),
        };
        Ok(self.db.execute(q).await?)
    }
}
