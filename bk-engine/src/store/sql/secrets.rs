//! [`SecretStore`]: `engine_app_secrets`, sealed values only, between one and
//! [`MAX_LIVE_SECRETS`] live per app.

use async_trait::async_trait;
use bk_core::clock::Millis;
use bk_core::db::{Db, Tx};
use bk_core::types::AppCode;
use sqlx::any::AnyRow;

use super::{SqlStore, col, corrupt, count, insert_audit, lock_app};
use crate::error::{EngineError, Result};
use crate::model::{AuditEntry, SealedSecret, StoredSecret};
use crate::store::{MAX_LIVE_SECRETS, SecretStore};

fn secret_from_row(row: &AnyRow) -> Result<StoredSecret> {
    let app: String = col(row, "app_code")?;
    Ok(StoredSecret {
        app_code: AppCode::parse_legacy(&app)
            .map_err(|_| corrupt("engine_app_secrets", "app_code", &app))?,
        id: col(row, "id")?,
        sealed: SealedSecret {
            key_id: col(row, "key_id")?,
            nonce: col(row, "nonce")?,
            ciphertext: col(row, "ciphertext")?,
        },
        created_by: col(row, "created_by")?,
        created_at: col(row, "created_at")?,
        revoked_at: col(row, "revoked_at")?,
    })
}

/// Insert secret number `id` of `app` as part of `tx`.
pub(super) async fn insert_secret(
    tx: &mut Tx,
    db: &Db,
    app: &str,
    id: i64,
    s: &SealedSecret,
    by: &str,
    now: Millis,
) -> Result<()> {
    tx.execute(
        db.query(
            "INSERT INTO engine_app_secrets (app_code, id, key_id, nonce, ciphertext, created_by, created_at, revoked_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
        )
        .bind(app.to_owned())
        .bind(id)
        .bind(s.key_id.clone())
        .bind(s.nonce.clone())
        .bind(s.ciphertext.clone())
        .bind(by.to_owned())
        .bind(now),
    )
    .await?;
    Ok(())
}

async fn live_ids(tx: &mut Tx, db: &Db, app: &str) -> Result<Vec<i64>> {
    let rows = tx
        .fetch_all(
            db.query(
                "SELECT id FROM engine_app_secrets WHERE app_code = ? AND revoked_at IS NULL ORDER BY id",
            )
            .bind(app.to_owned()),
        )
        .await?;
    rows.iter().map(|r| col(r, "id")).collect()
}

#[async_trait]
impl SecretStore for SqlStore {
    async fn secrets(&self, app: &str) -> Result<Vec<StoredSecret>> {
        let rows = self
            .db
            .fetch_all(
                self.db
                    .query(
                        "SELECT app_code, id, key_id, nonce, ciphertext, created_by, created_at, revoked_at \
                         FROM engine_app_secrets WHERE app_code = ? ORDER BY id DESC",
                    )
                    .bind(app.to_owned()),
            )
            .await?;
        rows.iter().map(secret_from_row).collect()
    }

    async fn add_secret(
        &self,
        app: &str,
        sealed: &SealedSecret,
        by: &str,
        now: Millis,
        audit: &AuditEntry,
    ) -> Result<StoredSecret> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        lock_app(&mut tx, db, app).await?;
        let live = live_ids(&mut tx, db, app).await?;
        if live.len() >= MAX_LIVE_SECRETS {
            return Err(EngineError::Conflict(format!(
                "app {app} has {} live secrets (ids {}); revoke the older one (id {}) before rotating again",
                live.len(),
                live.iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                live.first().copied().unwrap_or_default()
            )));
        }
        // Ids are never reused, revoked ones included.
        let id = count(
            tx.fetch_optional(
                db.query("SELECT COALESCE(MAX(id), 0) FROM engine_app_secrets WHERE app_code = ?")
                    .bind(app.to_owned()),
            )
            .await?,
        )? as i64
            + 1;
        insert_secret(&mut tx, db, app, id, sealed, by, now).await?;
        insert_audit(&mut tx, db, audit).await?;
        tx.commit().await?;
        Ok(StoredSecret {
            app_code: AppCode::parse_legacy(app).map_err(EngineError::from)?,
            id,
            sealed: sealed.clone(),
            created_by: by.to_owned(),
            created_at: now,
            revoked_at: None,
        })
    }

    async fn revoke_secret(
        &self,
        app: &str,
        id: i64,
        now: Millis,
        audit: &AuditEntry,
    ) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        lock_app(&mut tx, db, app).await?;
        let live = live_ids(&mut tx, db, app).await?;
        if !live.contains(&id) {
            return Err(EngineError::NotFound(format!(
                "live secret {id} of app {app}"
            )));
        }
        if live.len() <= 1 {
            return Err(EngineError::Conflict(format!(
                "secret {id} is the only live secret of app {app}; rotate (add a new secret) before revoking it"
            )));
        }
        tx.execute(
            db.query("UPDATE engine_app_secrets SET revoked_at = ? WHERE app_code = ? AND id = ?")
                .bind(now)
                .bind(app.to_owned())
                .bind(id),
        )
        .await?;
        insert_audit(&mut tx, db, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
