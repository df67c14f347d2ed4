//! `Db` and `Tx`: placeholders, transactions, error classification, value round trips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bk_core::clock::ManualClock;
use bk_core::db::migrate::{Migration, MigrationSet, run};
use bk_core::db::{Db, DbError, DbOptions, Dialect};
use sqlx::Row;

use crate::support::TestDb;

on_every_database!(
    placeholders_are_rewritten,
    rollback_leaves_nothing,
    unique_violation_is_conflict,
    values_round_trip,
);

static ITEMS: MigrationSet = MigrationSet {
    component: "test_items",
    migrations: &[Migration {
        version: 1,
        name: "items",
        sql: "CREATE TABLE t_items (
    id {{id}},
    name VARCHAR(64) NOT NULL UNIQUE,
    note TEXT NOT NULL,
    n BIGINT NOT NULL,
    flag SMALLINT NOT NULL,
    data {{blob}}
)",
        overrides: &[],
    }],
};

async fn items(t: &TestDb) -> &Db {
    run(&t.db, &ITEMS, ManualClock::new(0).as_ref())
        .await
        .unwrap();
    &t.db
}

async fn count(db: &Db) -> i64 {
    db.fetch_optional(db.query("SELECT COUNT(*) FROM t_items"))
        .await
        .unwrap()
        .unwrap()
        .get(0)
}

async fn insert(db: &Db, name: &str, n: i64) -> Result<u64, DbError> {
    let q = db.query("INSERT INTO t_items (name, note, n, flag) VALUES (?, 'why? because', ?, ?)");
    db.execute(q.bind(name.to_owned()).bind(n).bind(1i16)).await
}

async fn placeholders_are_rewritten(t: &TestDb) {
    let db = items(t).await;
    for (name, n) in [("a", 1), ("b", 2), ("c", 3)] {
        insert(db, name, n).await.unwrap();
    }
    let q = db
        .query("SELECT name, note FROM t_items WHERE note = 'why? because' AND n IN (?, ?) AND name <> ? ORDER BY n")
        .bind(1i64)
        .bind(3i64)
        .bind("zzz");
    let rows = db.fetch_all(q).await.unwrap();
    let got: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        got,
        vec![
            ("a".into(), "why? because".into()),
            ("c".into(), "why? because".into())
        ]
    );
    // Statements built at run time are rewritten too.
    let sql = format!(
        "SELECT COUNT(*) FROM t_items WHERE n IN ({})",
        ["?"; 3].join(", ")
    );
    let q = db.query_dynamic(sql).bind(1i64).bind(2i64).bind(9i64);
    assert_eq!(
        db.fetch_optional(q)
            .await
            .unwrap()
            .unwrap()
            .get::<i64, _>(0),
        2
    );
    if t.dialect == Dialect::Postgres {
        assert!(db.sql("SELECT ? , '?'").as_str().contains("$1 , '?'"));
    }
}

async fn rollback_leaves_nothing(t: &TestDb) {
    let db = items(t).await;
    {
        let mut tx = db.begin().await.unwrap();
        let q = db.query("INSERT INTO t_items (name, note, n, flag) VALUES (?, '', 1, 0)");
        tx.execute(q.bind("dropped")).await.unwrap();
        let seen = tx
            .fetch_all(db.query("SELECT name FROM t_items"))
            .await
            .unwrap();
        assert_eq!(seen.len(), 1, "visible inside the transaction");
        // Dropped without commit.
    }
    assert_eq!(count(db).await, 0);

    // A transaction that fails half-way is rolled back as a whole.
    insert(db, "taken", 1).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let q = |name: &str| {
        db.query("INSERT INTO t_items (name, note, n, flag) VALUES (?, '', 2, 0)")
            .bind(name.to_owned())
    };
    tx.execute(q("first")).await.unwrap();
    assert!(matches!(
        tx.execute(q("taken")).await,
        Err(DbError::Conflict(_))
    ));
    drop(tx);
    let names: Vec<String> = db
        .fetch_all(db.query("SELECT name FROM t_items"))
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(names, vec!["taken".to_owned()]);

    let mut tx = db.begin().await.unwrap();
    tx.execute(q("kept")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(count(db).await, 2);
}

async fn unique_violation_is_conflict(t: &TestDb) {
    let db = items(t).await;
    insert(db, "dup", 1).await.unwrap();
    match insert(db, "dup", 2).await {
        Err(e @ DbError::Conflict(_)) => {
            let api: bk_core::ApiError = e.into();
            assert_eq!(api.code, bk_core::ErrorCode::Conflict);
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    // Other failures are not conflicts.
    let bad = db
        .execute(db.query("INSERT INTO t_nowhere (x) VALUES (1)"))
        .await;
    assert!(matches!(bad, Err(DbError::Other(_))), "{bad:?}");
    assert!(matches!(
        Db::connect("oracle://h/db", &DbOptions::default()).await,
        Err(DbError::Config(_))
    ));
    db.ping().await.unwrap();
}

async fn values_round_trip(t: &TestDb) {
    let db = items(t).await;
    let blob: Vec<u8> = (0..=255).collect();
    let text = "中文 🚀 ünïcödé";
    let big = 1_700_000_000_123i64;
    let q = db.query("INSERT INTO t_items (name, note, n, flag, data) VALUES (?, ?, ?, ?, ?)");
    db.execute(
        q.bind("first")
            .bind(text)
            .bind(big)
            .bind(1i16)
            .bind(blob.clone()),
    )
    .await
    .unwrap();
    insert(db, "second", -1).await.unwrap();
    let rows = db
        .fetch_all(db.query("SELECT id, note, n, flag, data FROM t_items ORDER BY id"))
        .await
        .unwrap();
    let (id1, id2): (i64, i64) = (rows[0].get(0), rows[1].get(0));
    assert!(id2 > id1, "ids are assigned in order");
    assert_eq!(rows[0].get::<String, _>(1), text);
    assert_eq!(rows[0].get::<i64, _>(2), big);
    assert_eq!(rows[0].get::<i64, _>(3), 1, "SMALLINT reads as an integer");
    assert_eq!(rows[0].get::<Option<Vec<u8>>, _>(4), Some(blob));
    assert_eq!(rows[1].get::<Option<Vec<u8>>, _>(4), None);
}
