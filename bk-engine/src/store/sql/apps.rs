//! [`AppStore`]: `engine_apps`, and creating an app with everything it starts with.

use async_trait::async_trait;
use bk_core::clock::Millis;
use bk_core::db::{Db, DbError, Tx};
use bk_core::types::AppCode;
use sqlx::any::AnyRow;

use super::members::insert_member;
use super::modules::insert_module;
use super::secrets::insert_secret;
use super::{SqlStore, col, corrupt, count, flag, insert_audit, lock_app};
use crate::error::{EngineError, Result};
use crate::model::{
    App, AppName, AppPatch, AppState, AuditEntry, Language, Member, MemberRole, NewApp,
};
use crate::store::AppStore;

const COLUMNS: &str = "code, uuid, name, language, description, creator, state, prod_protected, created_at, updated_at";

pub(super) fn app_from_row(row: &AnyRow) -> Result<App> {
    let code: String = col(row, "code")?;
    let name: String = col(row, "name")?;
    let language: String = col(row, "language")?;
    let state: i16 = col(row, "state")?;
    let prod_protected: i16 = col(row, "prod_protected")?;
    Ok(App {
        code: AppCode::parse_legacy(&code).map_err(|_| corrupt("engine_apps", "code", &code))?,
        uuid: col(row, "uuid")?,
        name: AppName::parse(&name).map_err(|_| corrupt("engine_apps", "name", &name))?,
        language: Language::parse(&language)
            .map_err(|_| corrupt("engine_apps", "language", &language))?,
        description: col(row, "description")?,
        creator: col(row, "creator")?,
        state: AppState::from_code(i64::from(state))
            .ok_or_else(|| corrupt("engine_apps", "state", &state.to_string()))?,
        prod_protected: prod_protected != 0,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

async fn exists(tx: &mut Tx, db: &Db, sql: &'static str, value: &str) -> Result<bool> {
    Ok(count(
        tx.fetch_optional(db.query(sql).bind(value.to_owned()))
            .await?,
    )? > 0)
}

async fn name_taken(tx: &mut Tx, db: &Db, name: &AppName, except: &str) -> Result<bool> {
    let n = count(
        tx.fetch_optional(
            db.query("SELECT COUNT(*) FROM engine_apps WHERE name = ? AND code <> ?")
                .bind(name.as_str().to_owned())
                .bind(except.to_owned()),
        )
        .await?,
    )?;
    Ok(n > 0)
}

async fn select(tx: &mut Tx, db: &Db, code: &str) -> Result<App> {
    let row = tx
        .fetch_optional(
            db.query_dynamic(format!("SELECT {COLUMNS} FROM engine_apps WHERE code = ?"))
                .bind(code.to_owned()),
        )
        .await?
        .ok_or_else(|| EngineError::app_not_found(code))?;
    app_from_row(&row)
}

#[async_trait]
impl AppStore for SqlStore {
    async fn ping(&self) -> Result<()> {
        Ok(self.db.ping().await?)
    }

    async fn create(&self, new: &NewApp, audit: &AuditEntry) -> Result<App> {
        let db = &self.db;
        let app = &new.app;
        let code = app.code.as_str();
        let mut tx = db.begin().await?;
        // Checked first for clear messages; the unique indexes decide races.
        if exists(
            &mut tx,
            db,
            "SELECT COUNT(*) FROM engine_apps WHERE code = ?",
            code,
        )
        .await?
        {
            return Err(EngineError::Conflict(format!(
                "app code {code} is taken; choose another"
            )));
        }
        if name_taken(&mut tx, db, &app.name, code).await? {
            return Err(EngineError::Conflict(format!(
                "app name {} is taken; choose another",
                app.name
            )));
        }
        let insert = db
            .query(
                "INSERT INTO engine_apps (code, uuid, name, language, description, creator, state, \
                 prod_protected, revision, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
            )
            .bind(code.to_owned())
            .bind(app.uuid.clone())
            .bind(app.name.as_str().to_owned())
            .bind(app.language.as_str())
            .bind(app.description.clone())
            .bind(app.creator.clone())
            .bind(app.state.code())
            .bind(flag(app.prod_protected))
            .bind(app.created_at)
            .bind(app.updated_at);
        tx.execute(insert).await.map_err(|e| match e {
            DbError::Conflict(_) => EngineError::Conflict(format!(
                "app code {code} or name {} was taken by a concurrent request; choose another",
                app.name
            )),
            e => e.into(),
        })?;
        insert_module(&mut tx, db, &new.default_module).await?;
        insert_member(
            &mut tx,
            db,
            &Member {
                app_code: app.code.clone(),
                username: app.creator.clone(),
                role: MemberRole::Developer,
                added_by: app.creator.clone(),
                added_at: app.created_at,
            },
        )
        .await?;
        insert_secret(
            &mut tx,
            db,
            code,
            1,
            &new.secret,
            &app.creator,
            app.created_at,
        )
        .await?;
        insert_audit(&mut tx, db, audit).await?;
        tx.commit().await?;
        Ok(app.clone())
    }

    async fn get(&self, code: &str) -> Result<Option<App>> {
        let row = self
            .db
            .fetch_optional(
                self.db
                    .query_dynamic(format!("SELECT {COLUMNS} FROM engine_apps WHERE code = ?"))
                    .bind(code.to_owned()),
            )
            .await?;
        row.as_ref().map(app_from_row).transpose()
    }

    async fn list(&self, member: Option<&str>) -> Result<Vec<App>> {
        let rows = match member {
            None => {
                self.db
                    .fetch_all(
                        self.db
                            .query_dynamic(format!("SELECT {COLUMNS} FROM engine_apps ORDER BY code")),
                    )
                    .await?
            }
            Some(user) => {
                self.db
                    .fetch_all(
                        self.db
                            .query_dynamic(format!(
                                "SELECT {COLUMNS} FROM engine_apps WHERE code IN \
                                 (SELECT app_code FROM engine_members WHERE username = ?) ORDER BY code"
                            ))
                            .bind(user.to_owned()),
                    )
                    .await?
            }
        };
        rows.iter().map(app_from_row).collect()
    }

    async fn update(
        &self,
        code: &str,
        patch: &AppPatch,
        now: Millis,
        audit: &AuditEntry,
    ) -> Result<App> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        lock_app(&mut tx, db, code).await?;
        let mut app = select(&mut tx, db, code).await?;
        if let Some(name) = &patch.name {
            if name_taken(&mut tx, db, name, code).await? {
                return Err(EngineError::Conflict(format!(
                    "app name {name} is taken; choose another"
                )));
            }
            app.name = name.clone();
        }
        if let Some(d) = &patch.description {
            app.description.clone_from(d);
        }
        if let Some(p) = patch.prod_protected {
            app.prod_protected = p;
        }
        if let Some(l) = patch.language {
            app.language = l;
        }
        app.updated_at = now;
        let q = db
            .query(
                "UPDATE engine_apps SET name = ?, description = ?, prod_protected = ?, language = ?, \
                 updated_at = ? WHERE code = ?",
            )
            .bind(app.name.as_str().to_owned())
            .bind(app.description.clone())
            .bind(flag(app.prod_protected))
            .bind(app.language.as_str())
            .bind(now)
            .bind(code.to_owned());
        tx.execute(q).await.map_err(|e| match e {
            DbError::Conflict(_) => EngineError::Conflict(format!(
                "app name {} was taken by a concurrent request; choose another",
                app.name
            )),
            e => e.into(),
        })?;
        insert_audit(&mut tx, db, audit).await?;
        tx.commit().await?;
        Ok(app)
    }

    async fn set_state(
        &self,
        code: &str,
        from: AppState,
        to: AppState,
        now: Millis,
        audit: &AuditEntry,
    ) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        lock_app(&mut tx, db, code).await?;
        let n = tx
            .execute(
                db.query(
                    "UPDATE engine_apps SET state = ?, updated_at = ? WHERE code = ? AND state = ?",
                )
                .bind(to.code())
                .bind(now)
                .bind(code.to_owned())
                .bind(from.code()),
            )
            .await?;
        if n == 0 {
            let cur = select(&mut tx, db, code).await?;
            return Err(EngineError::Conflict(format!(
                "app {code} is {} ({}), not {} ({})",
                cur.state,
                cur.state.code(),
                from,
                from.code()
            )));
        }
        insert_audit(&mut tx, db, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
