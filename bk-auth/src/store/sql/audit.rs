//! [`AuditStore`]: the append-only `login_audit` log, read newest first.

use async_trait::async_trait;
use sqlx::any::AnyRow;

use super::{Arg, SqlStore, bind_all, col, count, paging, truncate_chars};
use crate::error::{AuthError, Result};
use crate::model::{AuditEntry, AuditQuery, LoginResult, Page};
use crate::store::AuditStore;

fn entry_from_row(row: &AnyRow) -> Result<AuditEntry> {
    let result: String = col(row, "result")?;
    Ok(AuditEntry {
        id: col(row, "id")?,
        at: col(row, "logged_at")?,
        username: col(row, "username")?,
        address: col(row, "address")?,
        user_agent: col(row, "user_agent")?,
        result: LoginResult::parse(&result).ok_or_else(|| {
            AuthError::Internal(format!("login_audit: unknown result {result:?}"))
        })?,
        provider: col(row, "provider")?,
    })
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn record(&self, e: &AuditEntry) -> Result<()> {
        let q = self
            .db
            .query(
                "INSERT INTO login_audit (logged_at, username, address, user_agent, result, provider) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(e.at)
            .bind(truncate_chars(&e.username, 64).to_owned())
            .bind(e.address.clone())
            .bind(truncate_chars(&e.user_agent, 256).to_owned())
            .bind(e.result.as_str())
            .bind(e.provider.clone());
        self.db.execute(q).await?;
        Ok(())
    }

    async fn query(&self, q: &AuditQuery) -> Result<Page<AuditEntry>> {
        let (page, page_size, offset) = paging(q.page, q.page_size);
        let mut cond = String::from("1 = 1");
        let mut args = Vec::new();
        if let Some(u) = &q.username {
            cond.push_str(" AND username = ?");
            args.push(Arg::Text(u.clone()));
        }
        if let Some(r) = q.result {
            cond.push_str(" AND result = ?");
            args.push(Arg::Text(r.as_str().to_owned()));
        }
        if let Some(since) = q.since {
            cond.push_str(" AND logged_at >= ?");
            args.push(Arg::Int(since));
        }
        if let Some(until) = q.until {
            cond.push_str(" AND logged_at < ?");
            args.push(Arg::Int(until));
        }
        let total = count(
            self.db
                .fetch_optional(bind_all(
                    self.db
                        .query_dynamic(format!("SELECT COUNT(*) FROM login_audit WHERE {cond}")),
                    &args,
                ))
                .await?,
        )?;
        let sql = format!(
            "SELECT id, logged_at, username, address, user_agent, result, provider FROM login_audit \
             WHERE {cond} ORDER BY logged_at DESC, id DESC LIMIT ? OFFSET ?"
        );
        args.extend([Arg::Int(i64::from(page_size)), Arg::Int(offset)]);
        let rows = self
            .db
            .fetch_all(bind_all(self.db.query_dynamic(sql), &args))
            .await?;
        let results = rows
            .iter()
            .map(entry_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            count: total,
            page,
            page_size,
            results,
        })
    }
}
