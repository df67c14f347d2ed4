//! One conformance suite for the engine stores, run against every available backend:
//! `storage::{sqlite,postgres,mysql}::<check>`. Each check gets fresh, migrated stores as
//! trait objects, so another implementation can be run through the same checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
pub(crate) use std::sync::Arc;

pub(crate) use bk_core::clock::{Millis, SystemClock};
pub(crate) use bk_core::db::Dialect;
pub(crate) use bk_core::types::AppCode;
pub(crate) use bk_engine::error::EngineError;
pub(crate) use bk_engine::model::*;
pub(crate) use bk_engine::service::Stores;
pub(crate) use bk_engine::store::sql::SqlStore;

use crate::support;

mod agents;
mod apps;
mod concurrency;
mod deploy;
mod env_vars;
mod members;
mod secrets;

use agents::*;
use apps::*;
use concurrency::*;
use deploy::*;
use env_vars::*;
use members::*;
use secrets::*;

/// The stores under test.
pub(crate) struct Under {
    pub s: Stores,
    pub agents: Arc<dyn bk_engine::store::agents::AgentStore>,
}

async fn run<F, Fut>(dialect: Dialect, check: F)
where
    F: FnOnce(Under) -> Fut,
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
    let store = Arc::new(store);
    check(Under {
        s: Stores::all(store.clone()),
        agents: store,
    })
    .await;
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
    app_crud,
    unicode_round_trips,
    create_is_all_or_nothing,
    set_state_is_compare_and_set,
    modules_keep_one_default,
    members_keep_a_developer,
    env_vars_set_replace_unset,
    env_var_bulk_is_all_or_nothing,
    secrets_one_or_two_live,
    audit_goes_with_the_change,
    concurrent_creates_of_one_code,
    concurrent_removals_keep_a_developer,
    concurrent_rotations_keep_two_live,
    agents_and_placements,
    releases_and_packages_round_trip,
    deployment_transitions_are_compare_and_set,
    deploy_logs_are_bounded,
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

pub(crate) fn code(s: &str) -> AppCode {
    AppCode::parse(s).unwrap()
}

pub(crate) fn sealed(tag: &str) -> SealedSecret {
    SealedSecret {
        key_id: "0123456789abcdef".into(),
        nonce: format!("nonce-{tag}"),
        ciphertext: format!("ciphertext-{tag}"),
    }
}

pub(crate) fn audit(app: &str, action: &str) -> AuditEntry {
    AuditEntry {
        id: 0,
        at: T0,
        actor: "alice".into(),
        address: "10.0.0.1".into(),
        app_code: Some(app.into()),
        action: action.into(),
        target: format!("app {app}"),
        detail: serde_json::json!({"why": "test"}),
    }
}

pub(crate) fn module(app: &str, name: &str, is_default: bool) -> Module {
    Module {
        app_code: code(app),
        name: ModuleName::parse(name).unwrap(),
        uuid: new_uuid().unwrap(),
        is_default,
        language: Language::Python,
        source_dir: String::new(),
        creator: "alice".into(),
        created_at: T0,
    }
}

pub(crate) fn new_app(c: &str, name: &str, creator: &str) -> NewApp {
    NewApp {
        app: App {
            code: code(c),
            uuid: new_uuid().unwrap(),
            name: AppName::parse(name).unwrap(),
            language: Language::Go,
            description: "描述 with ünïcode".into(),
            creator: creator.into(),
            state: AppState::Developing,
            prod_protected: false,
            created_at: T0,
            updated_at: T0,
        },
        default_module: module(c, "default", true),
        secret: sealed(c),
    }
}

pub(crate) async fn create(u: &Under, c: &str, creator: &str) -> App {
    u.s.apps
        .create(
            &new_app(c, &format!("{c} name"), creator),
            &audit(c, "app.create"),
        )
        .await
        .unwrap()
}

pub(crate) fn member(app: &str, username: &str) -> Member {
    Member {
        app_code: code(app),
        username: username.into(),
        role: MemberRole::Developer,
        added_by: "alice".into(),
        added_at: T0,
    }
}

pub(crate) fn var(module: Option<&str>, scope: EnvScope, key: &str, value: &str) -> NewEnvVar {
    NewEnvVar {
        module: module.map(|m| ModuleName::parse(m).unwrap()),
        scope,
        key: EnvVarKey::parse(key).unwrap(),
        value: value.into(),
        description: String::new(),
    }
}
