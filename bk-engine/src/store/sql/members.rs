//! [`MemberStore`]: `engine_members`, never leaving an app without a developer.

use async_trait::async_trait;
use bk_core::db::{Db, DbError, Tx};
use bk_core::types::AppCode;
use sqlx::any::AnyRow;

use super::{SqlStore, col, corrupt, count, insert_audit, lock_app};
use crate::error::{EngineError, Result};
use crate::model::{AuditEntry, Member, MemberRole};
use crate::store::MemberStore;

fn member_from_row(row: &AnyRow) -> Result<Member> {
    let app: String = col(row, "app_code")?;
    let role: String = col(row, "role")?;
    Ok(Member {
        app_code: AppCode::parse_legacy(&app)
            .map_err(|_| corrupt("engine_members", "app_code", &app))?,
        username: col(row, "username")?,
        role: MemberRole::parse(&role).ok_or_else(|| corrupt("engine_members", "role", &role))?,
        added_by: col(row, "added_by")?,
        added_at: col(row, "added_at")?,
    })
}

/// Insert a member row as part of `tx`.
pub(super) async fn insert_member(tx: &mut Tx, db: &Db, m: &Member) -> Result<()> {
    let q = db
        .query(
            "INSERT INTO engine_members (app_code, username, role, added_by, added_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(m.app_code.as_str().to_owned())
        .bind(m.username.clone())
        .bind(m.role.as_str())
        .bind(m.added_by.clone())
        .bind(m.added_at);
    tx.execute(q).await.map_err(|e| match e {
        DbError::Conflict(_) => EngineError::Conflict(format!(
            "{} is already a member of app {}",
            m.username, m.app_code
        )),
        e => e.into(),
    })?;
    Ok(())
}

#[async_trait]
impl MemberStore for SqlStore {
    async fn members(&self, app: &str) -> Result<Vec<Member>> {
        let rows = self
            .db
            .fetch_all(
                self.db
                    .query(
                        "SELECT app_code, username, role, added_by, added_at FROM engine_members \
                         WHERE app_code = ? ORDER BY username",
                    )
                    .bind(app.to_owned()),
            )
            .await?;
        rows.iter().map(member_from_row).collect()
    }

    async fn is_member(&self, app: &str, username: &str) -> Result<bool> {
        Ok(count(
            self.db
                .fetch_optional(
                    self.db
                        .query("SELECT COUNT(*) FROM engine_members WHERE app_code = ? AND username = ?")
                        .bind(app.to_owned())
                        .bind(username.to_owned()),
                )
                .await?,
        )? > 0)
    }

    async fn add_member(&self, m: &Member, audit: &AuditEntry) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        lock_app(&mut tx, db, m.app_code.as_str()).await?;
        let already = count(
            tx.fetch_optional(
                db.query("SELECT COUNT(*) FROM engine_members WHERE app_code = ? AND username = ?")
                    .bind(m.app_code.as_str().to_owned())
                    .bind(m.username.clone()),
            )
            .await?,
        )? > 0;
        if already {
            return Err(EngineError::Conflict(format!(
                "{} is already a member of app {}",
                m.username, m.app_code
            )));
        }
        insert_member(&mut tx, db, m).await?;
        insert_audit(&mut tx, db, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn remove_member(&self, app: &str, username: &str, audit: &AuditEntry) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        lock_app(&mut tx, db, app).await?;
        let developers = count(
            tx.fetch_optional(
                db.query("SELECT COUNT(*) FROM engine_members WHERE app_code = ? AND role = ?")
                    .bind(app.to_owned())
                    .bind(MemberRole::Developer.as_str()),
            )
            .await?,
        )?;
        let row = tx
            .fetch_optional(
                db.query("SELECT role FROM engine_members WHERE app_code = ? AND username = ?")
                    .bind(app.to_owned())
                    .bind(username.to_owned()),
            )
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("member {username} of app {app}")))?;
        let role: String = col(&row, "role")?;
        if role == MemberRole::Developer.as_str() && developers <= 1 {
            return Err(EngineError::Conflict(format!(
                "{username} is the last developer of app {app}; add another developer first"
            )));
        }
        tx.execute(
            db.query("DELETE FROM engine_members WHERE app_code = ? AND username = ?")
                .bind(app.to_owned())
                .bind(username.to_owned()),
        )
        .await?;
        insert_audit(&mut tx, db, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
