//! One conformance suite for the login stores, run against every available backend:
//! `storage::{sqlite,postgres,mysql}::<check>`. Each check gets fresh, migrated stores as
//! trait objects, so another implementation can be run through the same checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
pub(crate) use std::sync::Arc;

pub(crate) use bk_auth::error::AuthError;
pub(crate) use bk_auth::model::{
    AuditEntry, AuditQuery, LoginResult, NewUser, Session, ThrottleState, UserPatch, UserQuery,
};
pub(crate) use bk_auth::store::sql::SqlStore;
pub(crate) use bk_auth::store::{BUILTIN_ADMIN, ImportReport, LinkedIdentity, PendingLogin};
pub(crate) use bk_core::clock::{Millis, SystemClock};
pub(crate) use bk_core::db::Dialect;
pub(crate) use bk_core::types::Role::{self, Auditor, Developer, Operator, Staff, Superuser};

use crate::support;

mod invariants;
mod state;
mod users;

use invariants::*;
use state::*;
use users::*;

/// The stores under test, as an embedder holds them.
pub use bk_auth::service::Stores;

async fn run<F, Fut>(dialect: Dialect, check: F)
where
    F: FnOnce(Stores) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(t) = support::fresh(dialect).await else {
        return;
    };
    let store = SqlStore::new(t.db.clone());
    assert_eq!(
        store.migrate(&SystemClock).await.unwrap().versions,
        vec![1, 2, 3]
    );
    assert!(
        store
            .migrate(&SystemClock)
            .await
            .unwrap()
            .versions
            .is_empty()
    );
    check(Stores::all(Arc::new(store))).await;
    t.close().await;
}

macro_rules! suite {
    ($db:ident, $dialect:ident, [$($check:ident),*]) => {
        mod $db {
            $(
                #[tokio::test]
                async fn $check() {
                    super::run(bk_core::db::Dialect::$dialect, super::$check).await;
                }
            )*
        }
    };
}

macro_rules! conformance {
    ($($check:ident),* $(,)?) => {
        suite!(sqlite, Sqlite, [$($check),*]);
        suite!(postgres, Postgres, [$($check),*]);
        suite!(mysql, MySql, [$($check),*]);
    };
}

conformance!(
    user_crud,
    unicode_round_trips,
    duplicate_and_invalid_users,
    get_many_omits_unknown,
    effective_role_filters,
    search_and_paging,
    admin_is_protected,
    last_superuser_is_protected,
    concurrent_demotions_keep_a_superuser,
    parallel_demotions_keep_a_superuser,
    import_is_all_or_nothing,
    import_overwrite_and_skip,
    import_revokes_sessions_and_keeps_admin_source,
    sessions,
    sessions_only_for_enabled_users,
    disable_races_session_inserts,
    session_purge,
    throttle,
    throttle_counts_concurrent_attempts_atomically,
    audit_log,
    pending_logins,
    external_identities,
);

pub(crate) const T0: Millis = 1_700_000_000_000;

macro_rules! assert_err {
    ($e:expr, $p:pat $(if $guard:expr)?) => {
        match $e {
            Err($p) $(if $guard)? => {}
            other => panic!("expected {}, got {other:?}", stringify!($p $(if $guard)?)),
        }
    };
}
pub(crate) use assert_err;

pub(crate) fn user(name: &str, roles: &[Role]) -> NewUser {
    NewUser {
        username: name.into(),
        chname: format!("{name} 用户"),
        email: format!("{name}@example.com"),
        language: "zh-cn".into(),
        time_zone: "Asia/Shanghai".into(),
        roles: roles.to_vec(),
        source: "local".into(),
        ..NewUser::default()
    }
}

pub(crate) fn names<T: AsRef<str>>(users: impl IntoIterator<Item = T>) -> Vec<String> {
    users.into_iter().map(|u| u.as_ref().to_owned()).collect()
}

pub(crate) fn usernames(users: &[bk_auth::model::User]) -> Vec<String> {
    names(users.iter().map(|u| u.username.as_str()))
}

pub(crate) async fn create(s: &Stores, name: &str, roles: &[Role]) {
    s.users.create(user(name, roles), T0).await.unwrap();
}
