//! The SQL implementation of every engine store, over [`bk_core::db::Db`] (SQLite,
//! PostgreSQL, MySQL/MariaDB through sqlx's `Any` driver).
//!
//! Queries are runtime-checked portable SQL with `?` placeholders; the conformance suite
//! in `tests/api/storage/` runs them against all three databases. Tables are prefixed
//! `engine_`; the history of this crate's migrations is kept under the component `engine`.
//!
//! A write that must keep an app's invariants (one default module, a developer left, the
//! live-secret count) first bumps the app's `revision` ([`lock_app`]): the row lock
//! serialises concurrent writers of the same app on PostgreSQL and MySQL (SQLite
//! serialises every write transaction anyway), and an unknown app is found at once.

mod agents;
mod apps;
mod audit;
mod deployments;
mod env_vars;
mod members;
mod migrations;
mod modules;
mod releases;
mod secrets;

use bk_core::clock::Clock;
use bk_core::db::migrate::{self, Applied};
use bk_core::db::{Db, DbError, Tx};
use sqlx::any::AnyRow;
use sqlx::{Any, Row};

use crate::error::{EngineError, Result};

pub(crate) use audit::insert_audit;

/// Every engine store over one database. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct SqlStore {
    db: Db,
}

impl SqlStore {
    /// A store over `db`. Call [`SqlStore::migrate`] once before use.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Create or upgrade the `engine_*` tables; returns the versions applied now.
    pub async fn migrate(&self, clock: &dyn Clock) -> Result<Applied> {
        Ok(migrate::run(&self.db, &migrations::ENGINE, clock).await?)
    }

    /// The database underneath.
    pub fn db(&self) -> &Db {
        &self.db
    }
}

/// Take the app's row lock for the rest of `tx` by bumping its revision; `NotFound` when
/// there is no such app. Every write to one app's rows starts with this.
pub(crate) async fn lock_app(tx: &mut Tx, db: &Db, code: &str) -> Result<()> {
    let n = tx
        .execute(
            db.query("UPDATE engine_apps SET revision = revision + 1 WHERE code = ?")
                .bind(code.to_owned()),
        )
        .await?;
    if n == 0 {
        return Err(EngineError::app_not_found(code));
    }
    Ok(())
}

/// A column of a row, decoding failures reported as storage errors.
pub(crate) fn col<'r, T>(row: &'r AnyRow, name: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    row.try_get(name)
        .map_err(|e| EngineError::Db(DbError::Other(e)))
}

/// `COUNT(*)` (or another integer) of the first column of the first row.
pub(crate) fn count(row: Option<AnyRow>) -> Result<u64> {
    match row {
        Some(r) => Ok(u64::try_from(
            r.try_get::<i64, _>(0)
                .map_err(|e| EngineError::Db(DbError::Other(e)))?,
        )
        .unwrap_or(0)),
        None => Ok(0),
    }
}

/// Page number and size as used: page from 1, size 1..=1000 with 0 meaning 100.
pub(crate) fn paging(page: u32, page_size: u32) -> (u32, u32, i64) {
    let page = page.max(1);
    let size = match page_size {
        0 => 100,
        n => n.min(1000),
    };
    (page, size, (i64::from(page) - 1) * i64::from(size))
}

pub(crate) fn flag(b: bool) -> i16 {
    i16::from(b)
}

/// A stored value that does not parse: the row was written by something else.
pub(crate) fn corrupt(table: &str, what: &str, value: &str) -> EngineError {
    EngineError::Internal(format!("{table}: unreadable {what} {value:?}"))
}
