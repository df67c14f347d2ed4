//! The SQL implementation of every login store, over [`bk_core::db::Db`] (SQLite,
//! PostgreSQL, MySQL/MariaDB through sqlx's `Any` driver).
//!
//! Queries are runtime-checked portable SQL with `?` placeholders; the conformance suite
//! in `tests/api/storage.rs` runs them against all three databases. Tables are prefixed
//! `login_`; the history of this crate's migrations is kept under the component `login`.
//!
//! Changes that could leave the platform without an administrator (`delete`, `set_roles`,
//! disabling, overwriting imports) first take the row lock `login_locks('superusers')`,
//! so two of them never check "is this the last superuser?" against the same state.
//!
//! Every writing transaction starts with [`begin_write`], which on SQLite takes the
//! database write lock before the first read (`BEGIN IMMEDIATE` semantics): a deferred
//! transaction that reads, then writes after another connection committed, fails with
//! "database is locked" however long the busy timeout.

mod audit;
mod identities;
mod migrations;
mod pending;
mod sessions;
mod throttle;
mod users;

use bk_core::clock::Clock;
use bk_core::db::migrate::{self, Applied};
use bk_core::db::{Db, DbError, Dialect, Query, Tx};
use sqlx::any::AnyRow;
use sqlx::{Any, Row};

use crate::error::{AuthError, Result};

/// Every login store over one database. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct SqlStore {
    db: Db,
}

impl SqlStore {
    /// A store over `db`. Call [`SqlStore::migrate`] once before use.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Create or upgrade the `login_*` tables; returns the versions applied now.
    pub async fn migrate(&self, clock: &dyn Clock) -> Result<Applied> {
        Ok(migrate::run(&self.db, &migrations::LOGIN, clock).await?)
    }

    /// The database underneath.
    pub fn db(&self) -> &Db {
        &self.db
    }
}

/// Start a transaction that will write. On SQLite the first statement takes the write
/// lock (a no-op update of the lock row), so nothing read in the transaction can be
/// overtaken by another connection's commit; PostgreSQL and MySQL lock rows as they go.
async fn begin_write(db: &Db) -> Result<Tx> {
    let mut tx = db.begin().await?;
    if db.dialect() == Dialect::Sqlite {
        tx.execute(db.query("UPDATE login_locks SET version = version WHERE name = 'superusers'"))
            .await?;
    }
    Ok(tx)
}

/// A failure that a retry of the whole transaction can clear: a unique conflict with a
/// concurrent insert, a deadlock or a serialisation failure (SQLSTATE 40001 / 40P01).
fn is_retryable(e: &AuthError) -> bool {
    match e {
        AuthError::Db(DbError::Conflict(_)) => true,
        AuthError::Db(DbError::Other(sqlx::Error::Database(d))) => {
            matches!(d.code().as_deref(), Some("40001" | "40P01"))
        }
        _ => false,
    }
}

/// Either the pool or an open transaction, so read helpers serve both.
enum Ex<'a> {
    Db(&'a Db),
    Tx(&'a mut Tx),
}

impl Ex<'_> {
    async fn fetch_all(&mut self, q: Query) -> Result<Vec<AnyRow>, DbError> {
        match self {
            Ex::Db(db) => db.fetch_all(q).await,
            Ex::Tx(tx) => tx.fetch_all(q).await,
        }
    }
}

/// A value bound to a query assembled at run time.
#[derive(Debug, Clone)]
enum Arg {
    Int(i64),
    Small(i16),
    Text(String),
}

fn bind_all(mut q: Query, args: &[Arg]) -> Query {
    for a in args {
        q = match a {
            Arg::Int(v) => q.bind(*v),
            Arg::Small(v) => q.bind(*v),
            Arg::Text(v) => q.bind(v.clone()),
        };
    }
    q
}

/// A column of a row, decoding failures reported as storage errors.
fn col<'r, T>(row: &'r AnyRow, name: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    row.try_get(name)
        .map_err(|e| AuthError::Db(DbError::Other(e)))
}

/// `COUNT(*)` of the first row.
fn count(row: Option<AnyRow>) -> Result<u64> {
    match row {
        Some(r) => Ok(u64::try_from(
            r.try_get::<i64, _>(0)
                .map_err(|e| AuthError::Db(DbError::Other(e)))?,
        )
        .unwrap_or(0)),
        None => Ok(0),
    }
}

/// Page number and size as used: page from 1, size 1..=1000 with 0 meaning 100.
fn paging(page: u32, page_size: u32) -> (u32, u32, i64) {
    let page = page.max(1);
    let size = match page_size {
        0 => 100,
        n => n.min(1000),
    };
    (page, size, (i64::from(page) - 1) * i64::from(size))
}

/// `n` placeholders separated by commas.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// At most `max` characters of `s`.
fn truncate_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn flag(b: bool) -> i16 {
    i16::from(b)
}
