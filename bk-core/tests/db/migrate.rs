//! The migration runner: idempotent, checksummed, one history per component.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bk_core::clock::ManualClock;
use bk_core::db::migrate::{Applied, Migration, MigrationSet, run};
use bk_core::db::{Db, DbError};
use sqlx::Row;

use crate::support::TestDb;

on_every_database!(
    applying_twice_is_a_no_op,
    a_changed_migration_is_refused,
    components_keep_separate_histories,
    a_newer_schema_is_refused,
    a_failed_migration_stops_there,
);

const NOTES_V1: Migration = Migration {
    version: 1,
    name: "notes",
    sql: "CREATE TABLE t_notes (\n    id {{id}},\n    body TEXT NOT NULL\n);\n-- a comment between statements;\nCREATE INDEX t_notes_body ON t_notes (id);\n",
    overrides: &[],
};
const NOTES_V2: Migration = Migration {
    version: 2,
    name: "attachments",
    sql: "CREATE TABLE t_attachments (id {{id}}, data {{blob}});\nINSERT INTO t_notes (body) VALUES ('seeded; with a semicolon?');",
    overrides: &[],
};
static NOTES: MigrationSet = MigrationSet {
    component: "test_notes",
    migrations: &[NOTES_V1, NOTES_V2],
};
static NOTES_V1_ONLY: MigrationSet = MigrationSet {
    component: "test_notes",
    migrations: &[NOTES_V1],
};
static NOTES_CHANGED: MigrationSet = MigrationSet {
    component: "test_notes",
    migrations: &[Migration {
        sql: "CREATE TABLE t_notes (id {{id}}, body TEXT, extra TEXT)",
        ..NOTES_V1
    }],
};
// Another crate's history: same version numbers, different tables.
static OTHER: MigrationSet = MigrationSet {
    component: "test_other",
    migrations: &[Migration {
        version: 1,
        name: "other",
        sql: "CREATE TABLE t_other (k VARCHAR(32) NOT NULL PRIMARY KEY)",
        overrides: &[],
    }],
};
static BROKEN: MigrationSet = MigrationSet {
    component: "test_broken",
    migrations: &[
        Migration {
            version: 1,
            name: "good",
            sql: "CREATE TABLE t_good (k BIGINT NOT NULL)",
            overrides: &[],
        },
        Migration {
            version: 2,
            name: "bad",
            sql: "CREATE TABLE t_bad (k NOSUCHTYPE NOT NULL, )",
            overrides: &[],
        },
    ],
};

fn clock() -> std::sync::Arc<ManualClock> {
    ManualClock::new(1_700_000_000_000)
}

async fn history(db: &Db) -> Vec<(String, i64, i64)> {
    let rows = db
        .fetch_all(db.query("SELECT component, version, applied_at FROM bk_schema_migrations ORDER BY component, version"))
        .await
        .unwrap();
    rows.iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

async fn applying_twice_is_a_no_op(t: &TestDb) {
    let c = clock();
    assert_eq!(
        run(&t.db, &NOTES, c.as_ref()).await.unwrap(),
        Applied {
            versions: vec![1, 2]
        }
    );
    c.advance_secs(60);
    assert_eq!(
        run(&t.db, &NOTES, c.as_ref()).await.unwrap(),
        Applied::default()
    );
    let at = 1_700_000_000_000;
    assert_eq!(
        history(&t.db).await,
        vec![("test_notes".into(), 1, at), ("test_notes".into(), 2, at)]
    );
    let rows =
        t.db.fetch_all(t.db.query("SELECT body FROM t_notes"))
            .await
            .unwrap();
    assert_eq!(rows.len(), 1, "the seed row was inserted once");
    assert_eq!(rows[0].get::<String, _>(0), "seeded; with a semicolon?");
}

async fn a_changed_migration_is_refused(t: &TestDb) {
    run(&t.db, &NOTES_V1_ONLY, clock().as_ref()).await.unwrap();
    match run(&t.db, &NOTES_CHANGED, clock().as_ref()).await {
        Err(DbError::Migration {
            component,
            version: 1,
            message,
        }) => {
            assert_eq!(component, "test_notes");
            assert!(
                message.contains("changed after it was applied"),
                "{message}"
            );
        }
        other => panic!("expected a checksum refusal, got {other:?}"),
    }
    // The original still applies cleanly (nothing was half-done).
    assert_eq!(
        run(&t.db, &NOTES, clock().as_ref()).await.unwrap().versions,
        vec![2]
    );
}

async fn components_keep_separate_histories(t: &TestDb) {
    assert_eq!(
        run(&t.db, &NOTES_V1_ONLY, clock().as_ref())
            .await
            .unwrap()
            .versions,
        vec![1]
    );
    assert_eq!(
        run(&t.db, &OTHER, clock().as_ref()).await.unwrap().versions,
        vec![1],
        "v1 of another component"
    );
    assert_eq!(
        run(&t.db, &NOTES, clock().as_ref()).await.unwrap().versions,
        vec![2]
    );
    assert!(
        run(&t.db, &OTHER, clock().as_ref())
            .await
            .unwrap()
            .versions
            .is_empty()
    );
    let h: Vec<(String, i64)> = history(&t.db)
        .await
        .into_iter()
        .map(|(c, v, _)| (c, v))
        .collect();
    assert_eq!(
        h,
        vec![
            ("test_notes".into(), 1),
            ("test_notes".into(), 2),
            ("test_other".into(), 1)
        ]
    );
}

async fn a_newer_schema_is_refused(t: &TestDb) {
    run(&t.db, &NOTES, clock().as_ref()).await.unwrap();
    match run(&t.db, &NOTES_V1_ONLY, clock().as_ref()).await {
        Err(DbError::Migration {
            version: 2,
            message,
            ..
        }) => assert!(message.contains("newer"), "{message}"),
        other => panic!("expected a refusal of the newer schema, got {other:?}"),
    }
}

async fn a_failed_migration_stops_there(t: &TestDb) {
    match run(&t.db, &BROKEN, clock().as_ref()).await {
        Err(DbError::Migration {
            component,
            version: 2,
            message,
        }) => {
            assert_eq!(component, "test_broken");
            assert!(message.starts_with("bad: "), "{message}");
        }
        other => panic!("expected v2 to fail, got {other:?}"),
    }
    let h: Vec<i64> = history(&t.db)
        .await
        .into_iter()
        .map(|(_, v, _)| v)
        .collect();
    assert_eq!(h, vec![1], "v1 stays applied, v2 is not recorded");
}
