//! A small migration runner that keeps each crate's history apart.
//!
//! sqlx's own migrator keeps one version sequence per database; our crates share one
//! database, so history lives in `bk_schema_migrations (component, version)`.
//! Migrations are embedded, written in portable SQL with two placeholders —
//! `{{id}}` (auto-increment primary key) and `{{blob}}` — and may give per-dialect text
//! where portable SQL is not enough. Statements are separated by `;` at line ends.
//! On MySQL, `CREATE TABLE` gets `utf8mb4` with a binary (case-sensitive) collation.
//! Changing an applied migration is detected by checksum and refused.

use super::{Db, DbError, Dialect};
use crate::clock::Clock;
use crate::crypto::sha256_hex;

/// One schema change.
#[derive(Debug)]
pub struct Migration {
    /// Increasing number within the component.
    pub version: i64,
    /// Short description.
    pub name: &'static str,
    /// Portable SQL.
    pub sql: &'static str,
    /// Replacement SQL for one dialect, when portable SQL cannot express the change.
    pub overrides: &'static [(Dialect, &'static str)],
}

/// The migrations of one component (usually one crate).
#[derive(Debug)]
pub struct MigrationSet {
    /// Component name, unique in the database (`login`, `esb`, `engine`...).
    pub component: &'static str,
    /// In version order.
    pub migrations: &'static [Migration],
}

const HISTORY: &str = "CREATE TABLE IF NOT EXISTS bk_schema_migrations (
    component VARCHAR(64) NOT NULL,
    version BIGINT NOT NULL,
    name VARCHAR(200) NOT NULL,
    checksum VARCHAR(64) NOT NULL,
    applied_at BIGINT NOT NULL,
    PRIMARY KEY (component, version)
)";

impl Migration {
    fn text(&self, d: Dialect) -> &'static str {
        self.overrides
            .iter()
            .find(|(od, _)| *od == d)
            .map(|(_, s)| *s)
            .unwrap_or(self.sql)
    }

    fn statements(&self, d: Dialect) -> Vec<String> {
        let text = self
            .text(d)
            .replace("{{id}}", d.id_column())
            .replace("{{blob}}", d.blob_type());
        text.split(";\n")
            .map(str::trim)
            .map(|s| s.trim_end_matches(';').trim())
            .filter(|s| {
                !s.is_empty()
                    && !s
                        .lines()
                        .all(|l| l.trim_start().starts_with("--") || l.trim().is_empty())
            })
            .map(|s| {
                if d == Dialect::MySql && s.to_ascii_uppercase().starts_with("CREATE TABLE") {
                    format!("{s} ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")
                } else {
                    s.to_owned()
                }
            })
            .collect()
    }

    fn checksum(&self, d: Dialect) -> String {
        sha256_hex(self.text(d).as_bytes())
    }
}

/// What [`run`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Versions applied now.
    pub versions: Vec<i64>,
}

/// Apply the pending migrations of `set`, each in its own transaction where the database
/// allows transactional DDL (SQLite, PostgreSQL).
pub async fn run(db: &Db, set: &MigrationSet, clock: &dyn Clock) -> Result<Applied, DbError> {
    let d = db.dialect();
    let mig_err = |version: i64, message: String| DbError::Migration {
        component: set.component.to_owned(),
        version,
        message,
    };
    db.execute(sqlx::query(HISTORY)).await?;
    let mut applied = Applied::default();
    for m in set.migrations {
        let mut tx = db.begin().await?;
        if d == Dialect::Postgres {
            // Serialise concurrent migrators of the same database.
            tx.execute(sqlx::query("SELECT pg_advisory_xact_lock(7242001)"))
                .await?;
        }
        let existing = tx
            .fetch_optional(
                db.query(
                    "SELECT checksum FROM bk_schema_migrations WHERE component = ? AND version = ?",
                )
                .bind(set.component)
                .bind(m.version),
            )
            .await?;
        if let Some(row) = existing {
            let sum: String = sqlx::Row::try_get(&row, 0).map_err(DbError::Other)?;
            if sum != m.checksum(d) {
                return Err(mig_err(
                    m.version,
                    format!(
                        "{} was changed after it was applied; add a new migration instead",
                        m.name
                    ),
                ));
            }
            continue;
        }
        for stmt in m.statements(d) {
            tx.execute(db.query_dynamic(stmt))
                .await
                .map_err(|e| mig_err(m.version, format!("{}: {e}", m.name)))?;
        }
        tx.execute(
            db.query("INSERT INTO bk_schema_migrations (component, version, name, checksum, applied_at) VALUES (?, ?, ?, ?, ?)")
                .bind(set.component)
                .bind(m.version)
                .bind(m.name)
                .bind(m.checksum(d))
                .bind(clock.now_ms()),
        )
        .await?;
        tx.commit().await?;
        applied.versions.push(m.version);
    }
    let newest: Option<i64> = db
        .fetch_optional(
            db.query("SELECT MAX(version) FROM bk_schema_migrations WHERE component = ?")
                .bind(set.component),
        )
        .await?
        .and_then(|r| sqlx::Row::try_get::<Option<i64>, _>(&r, 0).ok().flatten());
    let known = set.migrations.last().map(|m| m.version).unwrap_or(0);
    if let Some(v) = newest
        && v > known
    {
        return Err(mig_err(
            v,
            format!(
                "the database schema is newer than this binary knows (v{known}); upgrade the binary"
            ),
        ));
    }
    Ok(applied)
}
