//! The storage layer (`bk_core::db`) against every available database:
//! `<module>::{sqlite,postgres,mysql}::<check>`.

/// One `#[tokio::test]` per check and database kind; a check is an `async fn(&TestDb)`
/// given a fresh, empty database.
macro_rules! on_every_database {
    ($($check:ident),* $(,)?) => {
        on_every_database!(@db sqlite, Sqlite, [$($check),*]);
        on_every_database!(@db postgres, Postgres, [$($check),*]);
        on_every_database!(@db mysql, MySql, [$($check),*]);
    };
    (@db $db:ident, $dialect:ident, [$($check:ident),*]) => {
        mod $db {
            $(
                #[tokio::test]
                async fn $check() {
                    if let Some(t) = crate::support::fresh(bk_core::db::Dialect::$dialect).await {
                        super::$check(&t).await;
                        t.close().await;
                    }
                }
            )*
        }
    };
}

mod db;
mod migrate;
mod support;
