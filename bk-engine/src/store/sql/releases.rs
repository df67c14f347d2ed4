//! [`ReleaseStore`]: `engine_packages` (uploads) and `engine_releases` (immutable).

use async_trait::async_trait;
use bk_core::types::AppCode;
use sqlx::any::AnyRow;

use super::{SqlStore, col, corrupt, insert_audit, lock_app};
use crate::error::{EngineError, Result};
use crate::model::{AuditEntry, Env, ModuleName, Release, UploadedPackage};
use crate::package::PackageDesc;
use crate::store::ReleaseStore;

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| EngineError::Internal(format!("encode: {e}")))
}

pub(super) fn parse_json<T: serde::de::DeserializeOwned>(
    table: &str,
    what: &str,
    s: &str,
) -> Result<T> {
    serde_json::from_str(s).map_err(|_| corrupt(table, what, "<json>"))
}

const RELEASE_COLUMNS: &str = "id, app_code, module, env, version, package_digest, package_size, formation, config, source, created_by, created_at";

fn release_from_row(row: &AnyRow) -> Result<Release> {
    const T: &str = "engine_releases";
    let app: String = col(row, "app_code")?;
    let module: String = col(row, "module")?;
    let env: String = col(row, "env")?;
    let size: i64 = col(row, "package_size")?;
    Ok(Release {
        id: col(row, "id")?,
        app_code: AppCode::parse_legacy(&app).map_err(|_| corrupt(T, "app_code", &app))?,
        module: ModuleName::parse(&module).map_err(|_| corrupt(T, "module", &module))?,
        env: Env::parse(&env).map_err(|_| corrupt(T, "env", &env))?,
        version: col(row, "version")?,
        package_digest: col(row, "package_digest")?,
        package_size: u64::try_from(size).unwrap_or(0),
        formation: parse_json(T, "formation", &col::<String>(row, "formation")?)?,
        config: parse_json(T, "config", &col::<String>(row, "config")?)?,
        source: parse_json(T, "source", &col::<String>(row, "source")?)?,
        created_by: col(row, "created_by")?,
        created_at: col(row, "created_at")?,
    })
}

#[async_trait]
impl ReleaseStore for SqlStore {
    async fn put_package(
        &self,
        app: &str,
        module: &ModuleName,
        pkg: &UploadedPackage,
        desc: &PackageDesc,
        audit: &AuditEntry,
    ) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        lock_app(&mut tx, db, app).await?;
        tx.execute(
            db.query(
                "DELETE FROM engine_packages WHERE app_code = ? AND module = ? AND digest = ?",
            )
            .bind(app.to_owned())
            .bind(module.as_str().to_owned())
            .bind(pkg.digest.clone()),
        )
        .await?;
        tx.execute(
            db.query(
                "INSERT INTO engine_packages (app_code, module, digest, size, version, description, uploaded_by, uploaded_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(app.to_owned())
            .bind(module.as_str().to_owned())
            .bind(pkg.digest.clone())
            .bind(i64::try_from(pkg.size).unwrap_or(i64::MAX))
            .bind(pkg.version.clone())
            .bind(json(desc)?)
            .bind(pkg.uploaded_by.clone())
            .bind(pkg.uploaded_at),
        )
        .await?;
        insert_audit(&mut tx, db, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn package(
        &self,
        app: &str,
        module: &ModuleName,
        digest: &str,
    ) -> Result<Option<(UploadedPackage, PackageDesc)>> {
        let row = self
            .db
            .fetch_optional(
                self.db
                    .query(
                        "SELECT digest, size, version, description, uploaded_by, uploaded_at FROM engine_packages \
                         WHERE app_code = ? AND module = ? AND digest = ?",
                    )
                    .bind(app.to_owned())
                    .bind(module.as_str().to_owned())
                    .bind(digest.to_owned()),
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let size: i64 = col(&row, "size")?;
        let pkg = UploadedPackage {
            digest: col(&row, "digest")?,
            size: u64::try_from(size).unwrap_or(0),
            version: col(&row, "version")?,
            uploaded_by: col(&row, "uploaded_by")?,
            uploaded_at: col(&row, "uploaded_at")?,
        };
        let desc = parse_json(
            "engine_packages",
            "description",
            &col::<String>(&row, "description")?,
        )?;
        Ok(Some((pkg, desc)))
    }

    async fn create_release(&self, r: &Release) -> Result<()> {
        let db = &self.db;
        db.execute(
            db.query(
                "INSERT INTO engine_releases (id, app_code, module, env, version, package_digest, package_size, formation, config, source, created_by, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(r.id.clone())
            .bind(r.app_code.as_str().to_owned())
            .bind(r.module.as_str().to_owned())
            .bind(r.env.v7_name())
            .bind(r.version.clone())
            .bind(r.package_digest.clone())
            .bind(i64::try_from(r.package_size).unwrap_or(i64::MAX))
            .bind(json(&r.formation)?)
            .bind(json(&r.config)?)
            .bind(json(&r.source)?)
            .bind(r.created_by.clone())
            .bind(r.created_at),
        )
        .await?;
        Ok(())
    }

    async fn release(&self, id: &str) -> Result<Option<Release>> {
        let sql = "SELECT id, app_code, module, env, version, package_digest, package_size, formation, config, source, created_by, created_at FROM engine_releases WHERE id = ?";
        debug_assert!(sql.contains(RELEASE_COLUMNS));
        let row = self
            .db
            .fetch_optional(self.db.query(sql).bind(id.to_owned()))
            .await?;
        row.as_ref().map(release_from_row).transpose()
    }

    async fn releases(
        &self,
        app: &str,
        module: Option<&ModuleName>,
        limit: u32,
    ) -> Result<Vec<Release>> {
        let limit = i64::from(limit.clamp(1, 1000));
        let rows = match module {
            Some(m) => {
                self.db
                    .fetch_all(
                        self.db
                            .query(
                                "SELECT id, app_code, module, env, version, package_digest, package_size, formation, config, source, created_by, created_at \
                                 FROM engine_releases WHERE app_code = ? AND module = ? ORDER BY created_at DESC, id DESC LIMIT ?",
                            )
                            .bind(app.to_owned())
                            .bind(m.as_str().to_owned())
                            .bind(limit),
                    )
                    .await?
            }
            None => {
                self.db
                    .fetch_all(
                        self.db
                            .query(
                                "SELECT id, app_code, module, env, version, package_digest, package_size, formation, config, source, created_by, created_at \
                                 FROM engine_releases WHERE app_code = ? ORDER BY created_at DESC, id DESC LIMIT ?",
                            )
                            .bind(app.to_owned())
                            .bind(limit),
                    )
                    .await?
            }
        };
        rows.iter().map(release_from_row).collect()
    }
}
