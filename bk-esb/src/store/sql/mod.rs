//! The SQL implementation of every gateway store, over [`bk_core::db::Db`] (SQLite,
//! PostgreSQL, MySQL/MariaDB through sqlx's `Any` driver): runtime-checked portable SQL
//! with `?` placeholders, run against all three by the conformance suite in
//! `tests/api/storage/`. Tables are prefixed `esb_`. Every write runs in one transaction
//! that also bumps `esb_revision`, the number gateway processes poll.

mod config;
mod docs;
mod grants;
mod migrations;

use std::sync::Arc;

use bk_core::clock::Clock;
use bk_core::db::migrate::{self, Applied};
use bk_core::db::{Db, DbError, Tx};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{EsbError, Result};

/// Every gateway store over one database. Cheap to clone.
#[derive(Clone)]
pub struct SqlStore {
    db: Db,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl SqlStore {
    /// A store over `db` stamping rows with `clock`'s time; call [`SqlStore::migrate`]
    /// once before use.
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    /// Create or upgrade the `esb_*` tables; returns the versions applied now.
    pub async fn migrate(&self, clock: &dyn Clock) -> Result<Applied> {
        Ok(migrate::run(&self.db, &migrations::ESB, clock).await?)
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// A write transaction, with the revision bumped in it.
    async fn begin_write(&self) -> Result<Tx> {
        let mut tx = self.db.begin().await?;
        tx.execute(
            self.db
                .query("UPDATE esb_revision SET revision = revision + 1 WHERE id = 1"),
        )
        .await?;
        Ok(tx)
    }
}

/// A column of a row, decoding failures reported as storage errors.
fn col<'r, T>(row: &'r AnyRow, name: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(name)
        .map_err(|e| EsbError::Db(DbError::Other(e)))
}
