//! Test support (feature `test-utils`): fresh, empty databases. SQLite always (in a
//! temporary directory); PostgreSQL and MySQL/MariaDB when `BK_TEST_POSTGRES_URL` /
//! `BK_TEST_MYSQL_URL` name a connection allowed to create databases. Every call creates
//! a uniquely named database; tests end with [`TestDb::close`], which drops it (after a
//! panic, `Drop` tries, best effort). With `CI` set a missing URL fails the test, so CI
//! never skips a backend silently. `scripts/services` starts both servers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Db, DbOptions, Dialect};

/// A database that exists for one test.
pub struct TestDb {
    /// Connected to the fresh database.
    pub db: Db,
    /// Which kind.
    pub dialect: Dialect,
    cleanup: Cleanup,
}

enum Cleanup {
    /// SQLite: the directory goes with the value.
    Dir(#[allow(dead_code)] tempfile::TempDir),
    /// A server: drop the database through the admin connection.
    Drop { admin_url: String, name: String },
    /// Dropped already.
    Done,
}

/// The environment variable naming the admin connection of a server kind.
pub fn url_var(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "BK_TEST_POSTGRES_URL",
        _ => "BK_TEST_MYSQL_URL",
    }
}

/// A fresh, empty database, or `None` when that server is not configured (outside CI).
pub async fn fresh(dialect: Dialect) -> Option<TestDb> {
    if dialect == Dialect::Sqlite {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let db = Db::connect(&url, &DbOptions::default())
            .await
            .expect("open SQLite");
        return Some(TestDb {
            db,
            dialect,
            cleanup: Cleanup::Dir(dir),
        });
    }
    let var = url_var(dialect);
    let admin_url = match std::env::var(var) {
        Ok(u) if !u.is_empty() => u,
        _ if std::env::var_os("CI").is_some() => {
            panic!(
                "CI is set but {var} is not: run scripts/services (or .ci/run) so no backend is skipped"
            )
        }
        _ => {
            eprintln!(
                "skipped on {}: set {var} (scripts/services prints it)",
                dialect.name()
            );
            return None;
        }
    };
    let name = unique_name();
    let create = match dialect {
        Dialect::Postgres => format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"),
        _ => format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"),
    };
    admin_exec(&admin_url, &create)
        .await
        .unwrap_or_else(|e| panic!("{var}: {create}: {e}"));
    let mut url = url::Url::parse(&admin_url).expect("database URL");
    url.set_path(&format!("/{name}"));
    let db = Db::connect(url.as_str(), &DbOptions::default())
        .await
        .expect("connect to the fresh database");
    Some(TestDb {
        db,
        dialect,
        cleanup: Cleanup::Drop { admin_url, name },
    })
}

/// `bk_test_<pid>_<n>_<nanos>`: unique across the processes nextest runs in parallel.
fn unique_name() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "bk_test_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

async fn admin_exec(admin_url: &str, sql: &str) -> Result<(), super::DbError> {
    let admin = Db::connect(
        admin_url,
        &DbOptions {
            max_connections: 1,
            ..DbOptions::default()
        },
    )
    .await?;
    let res = admin.execute(admin.query_dynamic(sql.to_owned())).await;
    admin.close().await;
    res.map(|_| ())
}

impl TestDb {
    /// Close the pool, then drop the database.
    pub async fn close(mut self) {
        self.db.close().await;
        if let Some((admin_url, sql)) = self.take_drop()
            && let Err(e) = admin_exec(&admin_url, &sql).await
        {
            eprintln!("could not drop the test database: {e}");
        }
    }

    fn take_drop(&mut self) -> Option<(String, String)> {
        let Cleanup::Drop { admin_url, name } = std::mem::replace(&mut self.cleanup, Cleanup::Done)
        else {
            return None;
        };
        let sql = match self.dialect {
            Dialect::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            _ => format!("DROP DATABASE IF EXISTS {name}"),
        };
        Some((admin_url, sql))
    }
}

impl Drop for TestDb {
    // Reached without `close` only when a test panicked. Drop cannot await, and the
    // test's runtime is blocked here, so use a thread with a runtime of its own; give up
    // after a few seconds (MySQL waits for locks that connections of the blocked runtime
    // may still hold). A leftover database is harmless.
    fn drop(&mut self) {
        let Some((admin_url, sql)) = self.take_drop() else {
            return;
        };
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(tokio::time::timeout(
                Duration::from_secs(5),
                admin_exec(&admin_url, &sql),
            ))
            .map_err(std::io::Error::other)?
            .map_err(std::io::Error::other)
        })
        .join();
    }
}
