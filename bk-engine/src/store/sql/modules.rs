//! [`ModuleStore`]: `engine_modules`, keeping exactly one default module per app.

use async_trait::async_trait;
use bk_core::db::{Db, DbError, Tx};
use bk_core::types::AppCode;
use sqlx::any::AnyRow;

use super::{SqlStore, col, corrupt, count, flag, insert_audit, lock_app};
use crate::error::{EngineError, Result};
use crate::model::{AuditEntry, Language, Module, ModuleName, NewModule};
use crate::store::ModuleStore;

fn module_from_row(row: &AnyRow) -> Result<Module> {
    let app: String = col(row, "app_code")?;
    let name: String = col(row, "name")?;
    let language: String = col(row, "language")?;
    let is_default: i16 = col(row, "is_default")?;
    Ok(Module {
        app_code: AppCode::parse_legacy(&app)
            .map_err(|_| corrupt("engine_modules", "app_code", &app))?,
        name: ModuleName::parse(&name).map_err(|_| corrupt("engine_modules", "name", &name))?,
        uuid: col(row, "uuid")?,
        is_default: is_default != 0,
        language: Language::parse(&language)
            .map_err(|_| corrupt("engine_modules", "language", &language))?,
        source_dir: col(row, "source_dir")?,
        creator: col(row, "creator")?,
        created_at: col(row, "created_at")?,
    })
}

fn module_not_found(app: &str, name: &ModuleName) -> EngineError {
    EngineError::NotFound(format!("module {name} of app {app}"))
}

/// Insert a module row as part of `tx` (the caller keeps the one-default invariant).
pub(super) async fn insert_module(tx: &mut Tx, db: &Db, m: &NewModule) -> Result<()> {
    let q = db
        .query(
            "INSERT INTO engine_modules (app_code, name, uuid, is_default, language, source_dir, creator, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(m.app_code.as_str().to_owned())
        .bind(m.name.as_str().to_owned())
        .bind(m.uuid.clone())
        .bind(flag(m.is_default))
        .bind(m.language.as_str())
        .bind(m.source_dir.clone())
        .bind(m.creator.clone())
        .bind(m.created_at);
    tx.execute(q).await.map_err(|e| match e {
        DbError::Conflict(_) => EngineError::Conflict(format!(
            "module {} already exists in app {}",
            m.name, m.app_code
        )),
        e => e.into(),
    })?;
    Ok(())
}

async fn module_exists(tx: &mut Tx, db: &Db, app: &str, name: &ModuleName) -> Result<bool> {
    Ok(count(
        tx.fetch_optional(
            db.query("SELECT COUNT(*) FROM engine_modules WHERE app_code = ? AND name = ?")
                .bind(app.to_owned())
                .bind(name.as_str().to_owned()),
        )
        .await?,
    )? > 0)
}

/// Whether `name` is a module of `app`, read inside `tx`.
pub(super) async fn require_module(
    tx: &mut Tx,
    db: &Db,
    app: &str,
    name: &ModuleName,
) -> Result<()> {
    if module_exists(tx, db, app, name).await? {
        Ok(())
    } else {
        Err(module_not_found(app, name))
    }
}

async fn clear_default(tx: &mut Tx, db: &Db, app: &str) -> Result<()> {
    tx.execute(
        db.query("UPDATE engine_modules SET is_default = 0 WHERE app_code = ?")
            .bind(app.to_owned()),
    )
    .await?;
    Ok(())
}

#[async_trait]
impl ModuleStore for SqlStore {
    async fn modules(&self, app: &str) -> Result<Vec<Module>> {
        let rows = self
            .db
            .fetch_all(
                self.db
                    .query(
                        "SELECT app_code, name, uuid, is_default, language, source_dir, creator, created_at \
                         FROM engine_modules WHERE app_code = ? ORDER BY is_default DESC, name",
                    )
                    .bind(app.to_owned()),
            )
            .await?;
        rows.iter().map(module_from_row).collect()
    }

    async fn create_module(&self, m: &NewModule, audit: &AuditEntry) -> Result<Module> {
        let db = &self.db;
        let app = m.app_code.as_str();
        let mut tx = db.begin().await?;
        lock_app(&mut tx, db, app).await?;
        if module_exists(&mut tx, db, app, &m.name).await? {
            return Err(EngineError::Conflict(format!(
                "module {} already exists in app {app}",
                m.name
            )));
        }
        if m.is_default {
            clear_default(&mut tx, db, app).await?;
        }
        insert_module(&mut tx, db, m).await?;
        insert_audit(&mut tx, db, audit).await?;
        tx.commit().await?;
        Ok(m.clone())
    }

    async fn set_default_module(
        &self,
        app: &str,
        name: &ModuleName,
        audit: &AuditEntry,
    ) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        lock_app(&mut tx, db, app).await?;
        require_module(&mut tx, db, app, name).await?;
        clear_default(&mut tx, db, app).await?;
        tx.execute(
            db.query("UPDATE engine_modules SET is_default = 1 WHERE app_code = ? AND name = ?")
                .bind(app.to_owned())
                .bind(name.as_str().to_owned()),
        )
        .await?;
        insert_audit(&mut tx, db, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_module(&self, app: &str, name: &ModuleName, audit: &AuditEntry) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        lock_app(&mut tx, db, app).await?;
        let row = tx
            .fetch_optional(
                db.query("SELECT is_default FROM engine_modules WHERE app_code = ? AND name = ?")
                    .bind(app.to_owned())
                    .bind(name.as_str().to_owned()),
            )
            .await?
            .ok_or_else(|| module_not_found(app, name))?;
        let is_default: i16 = col(&row, "is_default")?;
        if is_default != 0 {
            return Err(EngineError::Conflict(format!(
                "module {name} is the default module of app {app}; make another module the default first"
            )));
        }
        tx.execute(
            db.query("DELETE FROM engine_env_vars WHERE app_code = ? AND module = ?")
                .bind(app.to_owned())
                .bind(name.as_str().to_owned()),
        )
        .await?;
        tx.execute(
            db.query("DELETE FROM engine_modules WHERE app_code = ? AND name = ?")
                .bind(app.to_owned())
                .bind(name.as_str().to_owned()),
        )
        .await?;
        insert_audit(&mut tx, db, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
