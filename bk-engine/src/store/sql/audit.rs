//! [`AuditStore`]: the append-only `engine_audit` log, read newest first. Other stores
//! write their entries with [`insert_audit`] inside their own transactions.

use async_trait::async_trait;
use bk_core::db::{Db, Tx};
use sqlx::any::AnyRow;

use super::{SqlStore, col, count, paging};
use crate::error::{EngineError, Result};
use crate::model::{AuditEntry, AuditQuery, Page};
use crate::store::AuditStore;

const INSERT: &str = "INSERT INTO engine_audit (logged_at, actor, address, app_code, action, target, detail) \
                      VALUES (?, ?, ?, ?, ?, ?, ?)";

fn detail_text(e: &AuditEntry) -> String {
    e.detail.to_string()
}

/// Write `e` as part of `tx`.
pub(crate) async fn insert_audit(tx: &mut Tx, db: &Db, e: &AuditEntry) -> Result<()> {
    tx.execute(
        db.query(INSERT)
            .bind(e.at)
            .bind(e.actor.clone())
            .bind(e.address.clone())
            .bind(e.app_code.clone())
            .bind(e.action.clone())
            .bind(e.target.clone())
            .bind(detail_text(e)),
    )
    .await?;
    Ok(())
}

fn entry_from_row(row: &AnyRow) -> Result<AuditEntry> {
    let detail: String = col(row, "detail")?;
    Ok(AuditEntry {
        id: col(row, "id")?,
        at: col(row, "logged_at")?,
        actor: col(row, "actor")?,
        address: col(row, "address")?,
        app_code: col(row, "app_code")?,
        action: col(row, "action")?,
        target: col(row, "target")?,
        detail: serde_json::from_str(&detail)
            .map_err(|_| EngineError::Internal("engine_audit: detail is not JSON".into()))?,
    })
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn record(&self, e: &AuditEntry) -> Result<()> {
        self.db
            .execute(
                self.db
                    .query(INSERT)
                    .bind(e.at)
                    .bind(e.actor.clone())
                    .bind(e.address.clone())
                    .bind(e.app_code.clone())
                    .bind(e.action.clone())
                    .bind(e.target.clone())
                    .bind(detail_text(e)),
            )
            .await?;
        Ok(())
    }

    async fn query(&self, q: &AuditQuery) -> Result<Page<AuditEntry>> {
        let (page, page_size, offset) = paging(q.page, q.page_size);
        let mut cond = String::from("1 = 1");
        let mut args = Vec::new();
        if let Some(a) = &q.app_code {
            cond.push_str(" AND app_code = ?");
            args.push(a.clone());
        }
        if let Some(a) = &q.action {
            cond.push_str(" AND action = ?");
            args.push(a.clone());
        }
        let mut count_q = self
            .db
            .query_dynamic(format!("SELECT COUNT(*) FROM engine_audit WHERE {cond}"));
        for a in &args {
            count_q = count_q.bind(a.clone());
        }
        let total = count(self.db.fetch_optional(count_q).await?)?;
        let mut rows_q = self.db.query_dynamic(format!(
            "SELECT id, logged_at, actor, address, app_code, action, target, detail FROM engine_audit \
             WHERE {cond} ORDER BY logged_at DESC, id DESC LIMIT ? OFFSET ?"
        ));
        for a in &args {
            rows_q = rows_q.bind(a.clone());
        }
        let rows = self
            .db
            .fetch_all(rows_q.bind(i64::from(page_size)).bind(offset))
            .await?;
        Ok(Page {
            count: total,
            page,
            page_size,
            results: rows.iter().map(entry_from_row).collect::<Result<_>>()?,
        })
    }
}
