//! [`EnvVarStore`]: `engine_env_vars`. `module = ''` is a var for every module.

use async_trait::async_trait;
use bk_core::clock::Millis;
use bk_core::types::AppCode;
use sqlx::any::AnyRow;

use super::modules::require_module;
use super::{SqlStore, col, corrupt, insert_audit, lock_app};
use crate::error::{EngineError, Result};
use crate::model::{AuditEntry, EnvScope, EnvVar, EnvVarFilter, EnvVarKey, ModuleName, NewEnvVar};
use crate::store::EnvVarStore;

fn module_column(m: Option<&ModuleName>) -> String {
    m.map(|m| m.as_str().to_owned()).unwrap_or_default()
}

fn var_from_row(row: &AnyRow) -> Result<EnvVar> {
    let app: String = col(row, "app_code")?;
    let module: String = col(row, "module")?;
    let scope: String = col(row, "scope")?;
    let key: String = col(row, "var_key")?;
    Ok(EnvVar {
        app_code: AppCode::parse_legacy(&app)
            .map_err(|_| corrupt("engine_env_vars", "app_code", &app))?,
        module: if module.is_empty() {
            None
        } else {
            Some(
                ModuleName::parse(&module)
                    .map_err(|_| corrupt("engine_env_vars", "module", &module))?,
            )
        },
        scope: EnvScope::parse(&scope).map_err(|_| corrupt("engine_env_vars", "scope", &scope))?,
        key: EnvVarKey::parse(&key).map_err(|_| corrupt("engine_env_vars", "var_key", &key))?,
        value: col(row, "value")?,
        description: col(row, "description")?,
        updated_by: col(row, "updated_by")?,
        updated_at: col(row, "updated_at")?,
    })
}

#[async_trait]
impl EnvVarStore for SqlStore {
    async fn env_vars(&self, app: &str, filter: &EnvVarFilter) -> Result<Vec<EnvVar>> {
        let rows = self
            .db
            .fetch_all(
                self.db
                    .query(
                        "SELECT app_code, module, scope, var_key, value, description, updated_by, updated_at \
                         FROM engine_env_vars WHERE app_code = ? ORDER BY module, scope, var_key",
                    )
                    .bind(app.to_owned()),
            )
            .await?;
        let mut vars = rows.iter().map(var_from_row).collect::<Result<Vec<_>>>()?;
        vars.retain(|v| filter.matches(v));
        Ok(vars)
    }

    async fn set_env_vars(
        &self,
        app: &str,
        vars: &[NewEnvVar],
        by: &str,
        now: Millis,
        audit: &AuditEntry,
    ) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        lock_app(&mut tx, db, app).await?;
        for v in vars {
            if let Some(m) = &v.module {
                require_module(&mut tx, db, app, m).await?;
            }
            let module = module_column(v.module.as_ref());
            // No portable upsert: update, and insert when nothing matched. The app lock
            // keeps a concurrent writer from inserting in between.
            let n = tx
                .execute(
                    db.query(
                        "UPDATE engine_env_vars SET value = ?, description = ?, updated_by = ?, updated_at = ? \
                         WHERE app_code = ? AND module = ? AND scope = ? AND var_key = ?",
                    )
                    .bind(v.value.clone())
                    .bind(v.description.clone())
                    .bind(by.to_owned())
                    .bind(now)
                    .bind(app.to_owned())
                    .bind(module.clone())
                    .bind(v.scope.as_str())
                    .bind(v.key.as_str().to_owned()),
                )
                .await?;
            if n == 0 {
                tx.execute(
                    db.query(
                        "INSERT INTO engine_env_vars (app_code, module, scope, var_key, value, description, updated_by, updated_at) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    )
                    .bind(app.to_owned())
                    .bind(module)
                    .bind(v.scope.as_str())
                    .bind(v.key.as_str().to_owned())
                    .bind(v.value.clone())
                    .bind(v.description.clone())
                    .bind(by.to_owned())
                    .bind(now),
                )
                .await?;
            }
        }
        insert_audit(&mut tx, db, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn unset_env_var(
        &self,
        app: &str,
        module: Option<&ModuleName>,
        scope: EnvScope,
        key: &EnvVarKey,
        audit: &AuditEntry,
    ) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        lock_app(&mut tx, db, app).await?;
        let n = tx
            .execute(
                db.query(
                    "DELETE FROM engine_env_vars WHERE app_code = ? AND module = ? AND scope = ? AND var_key = ?",
                )
                .bind(app.to_owned())
                .bind(module_column(module))
                .bind(scope.as_str())
                .bind(key.as_str().to_owned()),
            )
            .await?;
        if n == 0 {
            let module = module.map_or("all modules".to_owned(), |m| format!("module {m}"));
            return Err(EngineError::NotFound(format!(
                "env var {key} (scope {}, {module}) of app {app}",
                scope.as_str()
            )));
        }
        insert_audit(&mut tx, db, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
