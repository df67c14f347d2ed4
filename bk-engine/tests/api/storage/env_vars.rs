//! Env vars: set, replace, filter, unset, all-or-nothing bulk writes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

pub(super) async fn env_vars_set_replace_unset(u: Under) {
    create(&u, "demo", "alice").await;
    u.s.modules
        .create_module(
            &module("demo", "web", false),
            &audit("demo", "module.create"),
        )
        .await
        .unwrap();
    let a = audit("demo", "env_var.set");
    u.s.env_vars
        .set_env_vars(
            "demo",
            &[
                var(None, EnvScope::All, "DB_URL", "mysql://a"),
                var(None, EnvScope::Prod, "DB_URL", "mysql://prod"),
                var(Some("web"), EnvScope::Stag, "DB_URL", "mysql://web-stag"),
            ],
            "alice",
            T0,
            &a,
        )
        .await
        .unwrap();
    // Setting the same value again replaces in place (MySQL reports matched rows).
    u.s.env_vars
        .set_env_vars(
            "demo",
            &[var(None, EnvScope::All, "DB_URL", "mysql://a")],
            "bob",
            T0 + 1,
            &a,
        )
        .await
        .unwrap();
    let mut changed = var(None, EnvScope::Prod, "DB_URL", "mysql://prod2");
    changed.description = "primary".into();
    u.s.env_vars
        .set_env_vars("demo", &[changed], "bob", T0 + 2, &a)
        .await
        .unwrap();
    let all =
        u.s.env_vars
            .env_vars("demo", &EnvVarFilter::default())
            .await
            .unwrap();
    assert_eq!(all.len(), 3);
    let prod = all.iter().find(|v| v.scope == EnvScope::Prod).unwrap();
    assert_eq!(
        (
            prod.value.as_str(),
            prod.description.as_str(),
            prod.updated_by.as_str(),
            prod.updated_at
        ),
        ("mysql://prod2", "primary", "bob", T0 + 2)
    );
    let global = all.iter().find(|v| v.scope == EnvScope::All).unwrap();
    assert_eq!(
        (global.updated_by.as_str(), global.module.as_ref()),
        ("bob", None)
    );
    // Filters.
    let web_only = EnvVarFilter {
        scope: None,
        module: Some(Some(ModuleName::parse("web").unwrap())),
    };
    assert_eq!(
        u.s.env_vars
            .env_vars("demo", &web_only)
            .await
            .unwrap()
            .len(),
        1
    );
    let app_wide = EnvVarFilter {
        scope: None,
        module: Some(None),
    };
    assert_eq!(
        u.s.env_vars
            .env_vars("demo", &app_wide)
            .await
            .unwrap()
            .len(),
        2
    );
    let prod_only = EnvVarFilter {
        scope: Some(EnvScope::Prod),
        module: None,
    };
    assert_eq!(
        u.s.env_vars
            .env_vars("demo", &prod_only)
            .await
            .unwrap()
            .len(),
        1
    );
    // What the web module sees in stag: its own var wins.
    let web = ModuleName::parse("web").unwrap();
    assert_eq!(
        effective_env(&all, &web, Env::Stag)["DB_URL"],
        "mysql://web-stag"
    );
    assert_eq!(
        effective_env(&all, &web, Env::Prod)["DB_URL"],
        "mysql://prod2"
    );

    let key = EnvVarKey::parse("DB_URL").unwrap();
    u.s.env_vars
        .unset_env_var(
            "demo",
            None,
            EnvScope::Prod,
            &key,
            &audit("demo", "env_var.unset"),
        )
        .await
        .unwrap();
    assert_err!(
        u.s.env_vars.unset_env_var("demo", None, EnvScope::Prod, &key, &audit("demo", "env_var.unset")).await,
        EngineError::NotFound(m) if m.contains("DB_URL")
    );
    u.s.env_vars
        .unset_env_var(
            "demo",
            Some(&web),
            EnvScope::Stag,
            &key,
            &audit("demo", "env_var.unset"),
        )
        .await
        .unwrap();
    assert_eq!(
        u.s.env_vars
            .env_vars("demo", &EnvVarFilter::default())
            .await
            .unwrap()
            .len(),
        1
    );
    assert_err!(
        u.s.env_vars
            .set_env_vars("nope", &[var(None, EnvScope::All, "A", "1")], "x", T0, &a)
            .await,
        EngineError::NotFound(_)
    );
}

pub(super) async fn env_var_bulk_is_all_or_nothing(u: Under) {
    create(&u, "demo", "alice").await;
    let a = audit("demo", "env_var.set");
    let vars = [
        var(None, EnvScope::All, "A", "1"),
        var(Some("ghost"), EnvScope::All, "B", "2"),
    ];
    assert_err!(
        u.s.env_vars.set_env_vars("demo", &vars, "alice", T0, &a).await,
        EngineError::NotFound(m) if m.contains("module ghost")
    );
    assert!(
        u.s.env_vars
            .env_vars("demo", &EnvVarFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    let q = AuditQuery {
        action: Some("env_var.set".into()),
        ..AuditQuery::default()
    };
    assert_eq!(u.s.audit.query(&q).await.unwrap().count, 0);
}
