//! [`ThrottleStore`]: one `login_throttle` row per key (`pair:<name>@<addr>`,
//! `user:<name>`, `ip:<addr>`).
//!
//! `modify` is a read-modify-write of several rows in one transaction: it first locks the
//! rows that exist (a no-op `UPDATE`, in key order so two transactions never wait on each
//! other in a cycle), reads them, and writes what the caller computed. Rows that did not
//! exist are inserted; when a concurrent transaction inserted the same key first, the
//! unique conflict (or, on MySQL, the deadlock between two gap locks) rolls this one back
//! and it runs again, now finding and locking the row. A row that appears between the
//! lock and the read (committed by another transaction) was read without its lock, so
//! that run is abandoned and retried too. So concurrent attempts are counted one after
//! the other and never lost.

use async_trait::async_trait;
use bk_core::clock::Millis;
use bk_core::crypto::sha256_hex;
use sqlx::any::AnyRow;

use super::{SqlStore, begin_write, col, is_retryable, placeholders, truncate_chars};
use crate::error::{AuthError, Result};
use crate::model::ThrottleState;
use crate::store::{ThrottleStore, ThrottleUpdate};

/// Longest key stored as is (the column is `VARCHAR(255)`).
const MAX_KEY: usize = 255;

/// Runs of a `modify` transaction before its conflict is reported.
const ATTEMPTS: u64 = 16;

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
        known_at: col(row, "known_at")?,
    })
}

impl SqlStore {
    /// One run of `modify`; `None` when it must run again (a row appeared unlocked).
    async fn modify_once(
        &self,
        keys: &[String],
        update: &ThrottleUpdate<'_>,
    ) -> Result<Option<Vec<Option<ThrottleState>>>> {
        let mut tx = begin_write(&self.db).await?;
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by(|a, b| keys[*a].cmp(&keys[*b]));
        let mut locked = vec![false; keys.len()];
        for i in order {
            locked[i] = tx
                .execute(
                    self.db
                        .query(
                            "UPDATE login_throttle SET failures = failures WHERE throttle_key = ?",
                        )
                        .bind(keys[i].clone()),
                )
                .await?
                > 0;
        }
        let sql = format!(
            "SELECT throttle_key, failures, last_failure_at, blocked_until, known_at FROM login_throttle \
             WHERE throttle_key IN ({})",
            placeholders(keys.len())
        );
        let mut q = self.db.query_dynamic(sql);
        for k in keys {
            q = q.bind(k.clone());
        }
        let rows = tx.fetch_all(q).await?;
        let mut current: Vec<Option<ThrottleState>> = vec![None; keys.len()];
        for row in &rows {
            let key: String = col(row, "throttle_key")?;
            if let Some(i) = keys.iter().position(|k| *k == key) {
                if !locked[i] {
                    return Ok(None);
                }
                current[i] = Some(state_from_row(row)?);
            }
        }
        let next = update(&current);
        for ((key, cur), new) in keys.iter().zip(&current).zip(next) {
            let Some(s) = new else { continue };
            let q = if cur.is_some() {
                self.db
                    .query(
                        "UPDATE login_throttle SET failures = ?, last_failure_at = ?, blocked_until = ?, known_at = ? \
                         WHERE throttle_key = ?",
                    )
                    .bind(s.failures)
                    .bind(s.last_failure_at)
                    .bind(s.blocked_until)
                    .bind(s.known_at)
                    .bind(key.clone())
            } else {
                self.db
                    .query(
                        "INSERT INTO login_throttle (failures, last_failure_at, blocked_until, known_at, throttle_key) \
                         VALUES (?, ?, ?, ?, ?)",
                    )
                    .bind(s.failures)
                    .bind(s.last_failure_at)
                    .bind(s.blocked_until)
                    .bind(s.known_at)
                    .bind(key.clone())
            };
            tx.execute(q).await?;
        }
        tx.commit().await?;
        Ok(Some(current))
    }
}

#[async_trait]
impl ThrottleStore for SqlStore {
    async fn get(&self, key: &str) -> Result<Option<ThrottleState>> {
        let q = self
            .db
            .query(
                "SELECT failures, last_failure_at, blocked_until, known_at FROM login_throttle WHERE throttle_key = ?",
            )
            .bind(stored_key(key));
        self.db
            .fetch_optional(q)
            .await?
            .as_ref()
            .map(state_from_row)
            .transpose()
    }

    async fn modify(
        &self,
        keys: &[String],
        update: &ThrottleUpdate<'_>,
    ) -> Result<Vec<Option<ThrottleState>>> {
        let keys: Vec<String> = keys.iter().map(|k| stored_key(k)).collect();
        let mut run = 1;
        loop {
            let last = match self.modify_once(&keys, update).await {
                Ok(Some(seen)) => return Ok(seen),
                Ok(None) => AuthError::Busy(
                    "throttle counters changed under every attempt; try again".into(),
                ),
                Err(e) if is_retryable(&e) => e,
                Err(e) => return Err(e),
            };
            if run >= ATTEMPTS {
                return Err(last);
            }
            // Let the transaction that won the row finish before contending again.
            tokio::time::sleep(std::time::Duration::from_millis(run)).await;
            run += 1;
        }
    }

    async fn clear(&self, key: &str) -> Result<()> {
        self.db
            .execute(
                self.db
                    .query("UPDATE login_throttle SET failures = 0, blocked_until = 0 WHERE throttle_key = ?")
                    .bind(stored_key(key)),
            )
            .await?;
        Ok(())
    }

    async fn clear_prefix(&self, prefix: &str) -> Result<()> {
        let mut pattern = String::with_capacity(prefix.len() + 1);
        for c in prefix.chars() {
            if matches!(c, '!' | '%' | '_') {
                pattern.push('!');
            }
            pattern.push(c);
        }
        pattern.push('%');
        self.db
            .execute(
                self.db
                    .query(
                        "UPDATE login_throttle SET failures = 0, blocked_until = 0 WHERE throttle_key LIKE ? ESCAPE '!'",
                    )
                    .bind(pattern),
            )
            .await?;
        Ok(())
    }

    async fn blocked(&self, now: Millis) -> Result<Vec<(String, ThrottleState)>> {
        let q = self
            .db
            .query(
                "SELECT throttle_key, failures, last_failure_at, blocked_until, known_at FROM login_throttle \
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

    async fn purge(&self, quiet_before: Millis, known_before: Millis) -> Result<u64> {
        Ok(self
            .db
            .execute(
                self.db
                    .query(
                        "DELETE FROM login_throttle WHERE last_failure_at < ? AND known_at < ? AND blocked_until < ?",
                    )
                    .bind(quiet_before)
                    .bind(known_before)
                    .bind(quiet_before),
            )
            .await?)
    }
}
