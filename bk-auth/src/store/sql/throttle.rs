//! [`ThrottleStore`]: one `login_throttle` row per key (`user:<name>`, `ip:<addr>`).

use async_trait::async_trait;
use bk_core::clock::Millis;
use bk_core::crypto::sha256_hex;
use bk_core::db::DbError;
use sqlx::any::AnyRow;

use super::{SqlStore, col, truncate_chars};
use crate::error::{AuthError, Result};
use crate::model::ThrottleState;
use crate::store::ThrottleStore;

/// Longest key stored as is (the column is `VARCHAR(255)`).
const MAX_KEY: usize = 255;

/// The stored form of a key: as is, or, when too long (a username typed by an attacker),
/// a prefix plus the SHA-256 of the whole key, so distinct keys stay distinct.
fn stored_key(key: &str) -> String {
    if key.chars().count() <= MAX_KEY {
        key.to_owned()
    } else {
        format!(
            "{}#{}",
            truncate_chars(key, MAX_KEY - 65),
            sha256_hex(key.as_bytes())
        )
    }
}

fn state_from_row(row: &AnyRow) -> Result<ThrottleState> {
    Ok(ThrottleState {
        failures: col(row, "failures")?,
        last_failure_at: col(row, "last_failure_at")?,
        blocked_until: col(row, "blocked_until")?,
    })
}

impl SqlStore {
    /// Update the row, or insert it when missing, in one transaction.
    async fn put_once(&self, key: &str, s: &ThrottleState) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let updated = tx
            .execute(
                self.db
                    .query(
                        "UPDATE login_throttle SET failures = ?, last_failure_at = ?, blocked_until = ? \
                         WHERE throttle_key = ?",
                    )
                    .bind(s.failures)
                    .bind(s.last_failure_at)
                    .bind(s.blocked_until)
                    .bind(key.to_owned()),
            )
            .await?;
        if updated == 0 {
            tx.execute(
                self.db
                    .query(
                        "INSERT INTO login_throttle (throttle_key, failures, last_failure_at, blocked_until) \
                         VALUES (?, ?, ?, ?)",
                    )
                    .bind(key.to_owned())
                    .bind(s.failures)
                    .bind(s.last_failure_at)
                    .bind(s.blocked_until),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl ThrottleStore for SqlStore {
    async fn get(&self, key: &str) -> Result<Option<ThrottleState>> {
        let q = self
            .db
            .query("SELECT failures, last_failure_at, blocked_until FROM login_throttle WHERE throttle_key = ?")
            .bind(stored_key(key));
        self.db
            .fetch_optional(q)
            .await?
            .as_ref()
            .map(state_from_row)
            .transpose()
    }

    async fn put(&self, key: &str, state: &ThrottleState) -> Result<()> {
        let key = stored_key(key);
        match self.put_once(&key, state).await {
            // Another request inserted the same key between our update and insert: it
            // exists now, so the retry updates it.
            Err(AuthError::Db(DbError::Conflict(_))) => self.put_once(&key, state).await,
            other => other,
        }
    }

    async fn clear(&self, key: &str) -> Result<()> {
        self.db
            .execute(
                self.db
                    .query("DELETE FROM login_throttle WHERE throttle_key = ?")
                    .bind(stored_key(key)),
            )
            .await?;
        Ok(())
    }

    async fn blocked(&self, now: Millis) -> Result<Vec<(String, ThrottleState)>> {
        let q = self
            .db
            .query(
                "SELECT throttle_key, failures, last_failure_at, blocked_until FROM login_throttle \
                 WHERE blocked_until > ? ORDER BY throttle_key",
            )
            .bind(now);
        self.db
            .fetch_all(q)
            .await?
            .iter()
            .map(|r| Ok((col(r, "throttle_key")?, state_from_row(r)?)))
            .collect()
    }

    async fn purge(&self, before: Millis) -> Result<u64> {
        Ok(self
            .db
            .execute(
                self.db
                    .query("DELETE FROM login_throttle WHERE last_failure_at < ?")
                    .bind(before),
            )
            .await?)
    }
}
