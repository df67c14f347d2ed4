//! [`SessionStore`]: `login_sessions`, keyed by the token's SHA-256 (never the token).
//!
//! A session is stored only in a transaction that first updates its user's row
//! (`last_login_at`) under the condition that the user is enabled and, for password
//! logins, still has the hash that was checked. The update locks the row, so a disable,
//! delete or password change that runs at the same time either comes first (and the
//! condition fails) or waits, and then deletes the new session in its own transaction.

use async_trait::async_trait;
use bk_core::clock::Millis;
use bk_core::db::{Db, Dialect, Tx};
use sqlx::any::AnyRow;

use super::{SqlStore, begin_write, col};
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

/// Insert `s` inside `tx` (its user's row must already be locked by the caller).
pub(super) async fn insert_session(tx: &mut Tx, db: &Db, s: &Session) -> Result<()> {
    let q = db
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
    tx.execute(q).await?;
    Ok(())
}

/// Delete every session of `username` inside `tx`; returns their hashes. The read locks
/// the rows (`FOR UPDATE` where the database has it), so it sees sessions committed after
/// the transaction began, exactly the ones the delete removes.
pub(super) async fn revoke_sessions(tx: &mut Tx, db: &Db, username: &str) -> Result<Vec<String>> {
    let select = if db.dialect() == Dialect::Sqlite {
        "SELECT token_hash FROM login_sessions WHERE username = ?"
    } else {
        "SELECT token_hash FROM login_sessions WHERE username = ? FOR UPDATE"
    };
    let rows = tx
        .fetch_all(db.query(select).bind(username.to_owned()))
        .await?;
    let hashes = rows
        .iter()
        .map(|r| col::<String>(r, "token_hash"))
        .collect::<Result<Vec<_>>>()?;
    if !hashes.is_empty() {
        tx.execute(
            db.query("DELETE FROM login_sessions WHERE username = ?")
                .bind(username.to_owned()),
        )
        .await?;
    }
    Ok(hashes)
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn insert(&self, s: &Session, expect_hash: Option<&str>) -> Result<bool> {
        let mut tx = begin_write(&self.db).await?;
        let q = match expect_hash {
            Some(h) => self
                .db
                .query(
                    "UPDATE login_users SET last_login_at = ? WHERE username = ? AND disabled = 0 AND password_hash = ?",
                )
                .bind(s.created_at)
                .bind(s.username.clone())
                .bind(h.to_owned()),
            None => self
                .db
                .query("UPDATE login_users SET last_login_at = ? WHERE username = ? AND disabled = 0")
                .bind(s.created_at)
                .bind(s.username.clone()),
        };
        if tx.execute(q).await? == 0 {
            return Ok(false);
        }
        insert_session(&mut tx, &self.db, s).await?;
        tx.commit().await?;
        Ok(true)
    }

    // The hot path: one primary-key lookup, joined to the user so a disabled or deleted
    // user's session is never answered even if it outlived them.
    async fn get(&self, token_hash: &str) -> Result<Option<Session>> {
        let q = self
            .db
            .query(
                "SELECT s.token_hash, s.username, s.created_at, s.expires_at, s.last_seen_at, s.address, s.user_agent \
                 FROM login_sessions s JOIN login_users u ON u.username = s.username \
                 WHERE s.token_hash = ? AND u.disabled = 0",
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
        let mut tx = begin_write(&self.db).await?;
        let hashes = revoke_sessions(&mut tx, &self.db, username).await?;
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
