//! Storage through sqlx's `Any` driver: one code path for SQLite (embedded default),
//! PostgreSQL and MySQL/MariaDB.
//!
//! Queries are written once with `?` placeholders and portable SQL; [`Db::query`]
//! rewrites placeholders for PostgreSQL (cached per statement). Times are stored as
//! `BIGINT` milliseconds, flags as `SMALLINT`, so every driver decodes the same types.
//! Each crate owns a [`migrate::MigrationSet`] whose history is kept apart from the
//! others' in `bk_schema_migrations`.
//!
//! SQLite allows one writer at a time; [`Db::begin`] serialises write transactions in
//! process for it, so transactions never fail with `SQLITE_BUSY` on lock upgrade.

mod dialect;
mod error;
pub mod migrate;
#[cfg(feature = "test-utils")]
pub mod testing;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Once, RwLock};
use std::time::Duration;

use sqlx::any::{AnyArguments, AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyConnection, AnyPool, AssertSqlSafe, SqlSafeStr, SqlStr};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use dialect::Dialect;
pub use error::DbError;

/// Pool settings.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Most connections held open.
    pub max_connections: u32,
    /// How long a request waits for a connection before the database counts as unavailable.
    pub acquire_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

/// A query ready for `.bind(...)` and execution.
pub type Query = sqlx::query::Query<'static, Any, AnyArguments>;

/// A connection pool plus what differs between databases.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    dialect: Dialect,
    rewritten: Arc<RwLock<HashMap<&'static str, Arc<str>>>>,
    write_lock: Option<Arc<Mutex<()>>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("dialect", &self.dialect)
            .finish_non_exhaustive()
    }
}

static DRIVERS: Once = Once::new();

impl Db {
    /// Connect to `url` (`sqlite://path`, `postgres://…`, `mysql://…`). For SQLite the file
    /// is created when missing and put in WAL mode.
    pub async fn connect(url: &str, opts: &DbOptions) -> Result<Self, DbError> {
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let dialect = Dialect::from_url(url)?;
        dialect.require_driver()?;
        let url = dialect.normalize_url(url);
        let connect = AnyConnectOptions::from_str(&url)
            .map_err(|e| DbError::Config(redact(&url, &e.to_string())))?;
        let mut pool = AnyPoolOptions::new()
            .max_connections(if dialect == Dialect::Sqlite {
                opts.max_connections.max(2)
            } else {
                opts.max_connections
            })
            .min_connections(if dialect == Dialect::Sqlite { 1 } else { 0 })
            .acquire_timeout(opts.acquire_timeout)
            .test_before_acquire(dialect != Dialect::Sqlite);
        if dialect == Dialect::Sqlite {
            pool = pool.after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::raw_sql("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON;")
                        .execute(conn)
                        .await
                        .map(|_| ())
                })
            });
        }
        let pool = pool.connect_with(connect).await.map_err(DbError::from)?;
        Ok(Self {
            pool,
            dialect,
            rewritten: Arc::default(),
            write_lock: (dialect == Dialect::Sqlite).then(|| Arc::new(Mutex::new(()))),
        })
    }

    /// Which database this is.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The underlying pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The statement text for this database (placeholders rewritten for PostgreSQL).
    pub fn sql(&self, sql: &'static str) -> SqlStr {
        if self.dialect != Dialect::Postgres {
            return sql.into_sql_str();
        }
        if let Ok(map) = self.rewritten.read()
            && let Some(s) = map.get(sql)
        {
            return AssertSqlSafe(s.clone()).into_sql_str();
        }
        let s: Arc<str> = dialect::numbered_placeholders(sql).into();
        if let Ok(mut map) = self.rewritten.write() {
            map.insert(sql, s.clone());
        }
        // The text is a compile-time constant with only its placeholders renumbered.
        AssertSqlSafe(s).into_sql_str()
    }

    /// A query for `sql` (written with `?` placeholders).
    pub fn query(&self, sql: &'static str) -> Query {
        sqlx::query(self.sql(sql))
    }

    /// A query whose text was assembled at run time from constant fragments (e.g. a
    /// variable number of placeholders). Values must still be bound, never formatted in.
    pub fn query_dynamic(&self, sql: String) -> Query {
        let sql = if self.dialect == Dialect::Postgres {
            dialect::numbered_placeholders(&sql)
        } else {
            sql
        };
        sqlx::query(AssertSqlSafe(sql))
    }

    /// Fetch at most one row.
    pub async fn fetch_optional(&self, q: Query) -> Result<Option<AnyRow>, DbError> {
        q.fetch_optional(&self.pool).await.map_err(DbError::from)
    }

    /// Fetch all rows.
    pub async fn fetch_all(&self, q: Query) -> Result<Vec<AnyRow>, DbError> {
        q.fetch_all(&self.pool).await.map_err(DbError::from)
    }

    /// Execute outside a transaction; returns rows affected.
    pub async fn execute(&self, q: Query) -> Result<u64, DbError> {
        q.execute(&self.pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(DbError::from)
    }

    /// Start a transaction. On SQLite this also takes the in-process write lock.
    pub async fn begin(&self) -> Result<Tx, DbError> {
        let guard = match &self.write_lock {
            Some(l) => Some(l.clone().lock_owned().await),
            None => None,
        };
        let tx = self.pool.begin().await.map_err(DbError::from)?;
        Ok(Tx { tx, _guard: guard })
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(DbError::from)
    }

    /// Close the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A transaction. Dropping it without [`Tx::commit`] rolls back.
pub struct Tx {
    tx: sqlx::Transaction<'static, Any>,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl Tx {
    /// The connection to run statements on: `q.execute(tx.conn())`.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Execute; returns rows affected.
    pub async fn execute(&mut self, q: Query) -> Result<u64, DbError> {
        q.execute(&mut *self.tx)
            .await
            .map(|r| r.rows_affected())
            .map_err(DbError::from)
    }

    /// Fetch at most one row.
    pub async fn fetch_optional(&mut self, q: Query) -> Result<Option<AnyRow>, DbError> {
        q.fetch_optional(&mut *self.tx).await.map_err(DbError::from)
    }

    /// Fetch all rows.
    pub async fn fetch_all(&mut self, q: Query) -> Result<Vec<AnyRow>, DbError> {
        q.fetch_all(&mut *self.tx).await.map_err(DbError::from)
    }

    /// Commit.
    pub async fn commit(self) -> Result<(), DbError> {
        self.tx.commit().await.map_err(DbError::from)
    }
}

/// Remove a password from a connection URL before it goes into a message.
pub fn redact(url: &str, text: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) if u.password().is_some() => {
            let pw = u.password().unwrap_or_default();
            text.replace(pw, "***")
        }
        _ => text.to_owned(),
    }
}
