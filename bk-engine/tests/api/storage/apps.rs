//! Apps: create with everything they start with, read, list, update, state changes, audit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

pub(super) async fn app_crud(u: Under) {
    let new = new_app("demo", "Demo", "alice");
    let app =
        u.s.apps
            .create(&new, &audit("demo", "app.create"))
            .await
            .unwrap();
    assert_eq!(app, new.app);
    assert_eq!(u.s.apps.get("demo").await.unwrap(), Some(new.app.clone()));
    assert_eq!(u.s.apps.get("nope").await.unwrap(), None);
    // It starts with its default module, its creator as developer and one secret.
    let modules = u.s.modules.modules("demo").await.unwrap();
    assert_eq!(modules, vec![new.default_module.clone()]);
    let members = u.s.members.members("demo").await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(
        (members[0].username.as_str(), members[0].role),
        ("alice", MemberRole::Developer)
    );
    let secrets = u.s.secrets.secrets("demo").await.unwrap();
    assert_eq!(secrets.len(), 1);
    assert_eq!((secrets[0].id, &secrets[0].sealed), (1, &new.secret));
    assert!(secrets[0].is_live());

    // Taken codes and names are refused, naming which.
    let mut dup = new_app("demo", "Other", "bob");
    assert_err!(u.s.apps.create(&dup, &audit("demo", "app.create")).await,
        EngineError::Conflict(m) if m.contains("app code demo"));
    dup = new_app("demo2", "Demo", "bob");
    assert_err!(u.s.apps.create(&dup, &audit("demo2", "app.create")).await,
        EngineError::Conflict(m) if m.contains("app name Demo"));

    create(&u, "b-app", "bob").await;
    let all: Vec<String> =
        u.s.apps
            .list(None)
            .await
            .unwrap()
            .iter()
            .map(|a| a.code.to_string())
            .collect();
    assert_eq!(all, vec!["b-app", "demo"]);
    let bobs: Vec<String> =
        u.s.apps
            .list(Some("bob"))
            .await
            .unwrap()
            .iter()
            .map(|a| a.code.to_string())
            .collect();
    assert_eq!(bobs, vec!["b-app"]);
    assert!(u.s.apps.list(Some("carol")).await.unwrap().is_empty());

    let patch = AppPatch {
        name: Some(AppName::parse("Demo 2").unwrap()),
        description: Some("new".into()),
        prod_protected: Some(true),
        language: Some(Language::Rust),
    };
    let updated =
        u.s.apps
            .update("demo", &patch, T0 + 5, &audit("demo", "app.update"))
            .await
            .unwrap();
    assert_eq!(updated.name.as_str(), "Demo 2");
    assert!(updated.prod_protected);
    assert_eq!(updated.language, Language::Rust);
    assert_eq!(updated.updated_at, T0 + 5);
    assert_eq!(u.s.apps.get("demo").await.unwrap(), Some(updated));
    let taken = AppPatch {
        name: Some(AppName::parse("b-app name").unwrap()),
        ..AppPatch::default()
    };
    assert_err!(u.s.apps.update("demo", &taken, T0, &audit("demo", "app.update")).await,
        EngineError::Conflict(m) if m.contains("b-app name"));
    // Renaming to its own name is not a conflict.
    let same = AppPatch {
        name: Some(AppName::parse("Demo 2").unwrap()),
        ..AppPatch::default()
    };
    u.s.apps
        .update("demo", &same, T0, &audit("demo", "app.update"))
        .await
        .unwrap();
    assert_err!(
        u.s.apps
            .update("nope", &same, T0, &audit("nope", "app.update"))
            .await,
        EngineError::NotFound(_)
    );
    u.s.apps.ping().await.unwrap();
}

pub(super) async fn unicode_round_trips(u: Under) {
    let mut new = new_app("zh-app", "蓝鲸应用 🚀", "张三.dev");
    new.app.description = "多行\n描述 — «quotes» 'single' \"double\" \\ back".into();
    u.s.apps
        .create(&new, &audit("zh-app", "app.create"))
        .await
        .unwrap();
    let got = u.s.apps.get("zh-app").await.unwrap().unwrap();
    assert_eq!(got.name.as_str(), "蓝鲸应用 🚀");
    assert_eq!(got.description, new.app.description);
    assert_eq!(got.creator, "张三.dev");
    u.s.env_vars
        .set_env_vars(
            "zh-app",
            &[var(
                None,
                EnvScope::All,
                "GREETING",
                "你好，世界 ✓ 'q' \"dq\"",
            )],
            "张三.dev",
            T0,
            &audit("zh-app", "env_var.set"),
        )
        .await
        .unwrap();
    let vars =
        u.s.env_vars
            .env_vars("zh-app", &EnvVarFilter::default())
            .await
            .unwrap();
    assert_eq!(vars[0].value, "你好，世界 ✓ 'q' \"dq\"");
}

pub(super) async fn create_is_all_or_nothing(u: Under) {
    let first = create(&u, "first", "alice").await;
    let _ = first;
    // A default module whose UUID is taken makes the module insert fail after the app
    // row went in: nothing of the second app may remain.
    let taken_uuid = u.s.modules.modules("first").await.unwrap()[0].uuid.clone();
    let mut bad = new_app("second", "Second", "bob");
    bad.default_module.uuid = taken_uuid;
    assert!(
        u.s.apps
            .create(&bad, &audit("second", "app.create"))
            .await
            .is_err()
    );
    assert_eq!(u.s.apps.get("second").await.unwrap(), None);
    assert!(u.s.members.members("second").await.unwrap().is_empty());
    assert!(u.s.secrets.secrets("second").await.unwrap().is_empty());
    let q = AuditQuery {
        app_code: Some("second".into()),
        ..AuditQuery::default()
    };
    assert_eq!(u.s.audit.query(&q).await.unwrap().count, 0);
    // The name is free again.
    u.s.apps
        .create(
            &new_app("second", "Second", "bob"),
            &audit("second", "app.create"),
        )
        .await
        .unwrap();
}

pub(super) async fn set_state_is_compare_and_set(u: Under) {
    create(&u, "demo", "alice").await;
    u.s.apps
        .set_state(
            "demo",
            AppState::Developing,
            AppState::DeployingTest,
            T0 + 1,
            &audit("demo", "app.state"),
        )
        .await
        .unwrap();
    assert_eq!(
        u.s.apps.get("demo").await.unwrap().unwrap().state,
        AppState::DeployingTest
    );
    assert_err!(
        u.s.apps.set_state("demo", AppState::Developing, AppState::DeployingProd, T0, &audit("demo", "app.state")).await,
        EngineError::Conflict(m) if m.contains("deploying_test")
    );
    assert_eq!(
        u.s.apps.get("demo").await.unwrap().unwrap().state,
        AppState::DeployingTest
    );
    assert_err!(
        u.s.apps
            .set_state(
                "nope",
                AppState::Developing,
                AppState::InTest,
                T0,
                &audit("nope", "app.state")
            )
            .await,
        EngineError::NotFound(_)
    );
}

pub(super) async fn audit_goes_with_the_change(u: Under) {
    create(&u, "demo", "alice").await;
    create(&u, "other", "bob").await;
    // A refused change records nothing.
    assert!(
        u.s.members
            .remove_member("demo", "alice", &audit("demo", "member.remove"))
            .await
            .is_err()
    );
    let mut e = audit("demo", "secret.reveal");
    e.detail = serde_json::json!({"n": 1, "nested": {"list": [1, 2]}});
    e.at = T0 + 10;
    u.s.audit.record(&e).await.unwrap();
    let q = AuditQuery {
        app_code: Some("demo".into()),
        ..AuditQuery::default()
    };
    let page = u.s.audit.query(&q).await.unwrap();
    assert_eq!(page.count, 2);
    let actions: Vec<&str> = page.results.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, vec!["secret.reveal", "app.create"], "newest first");
    assert_eq!(page.results[0].detail, e.detail);
    assert_eq!(page.results[0].address, "10.0.0.1");
    assert!(page.results[0].id > 0);
    let only = AuditQuery {
        app_code: Some("demo".into()),
        action: Some("app.create".into()),
        page: 1,
        page_size: 1,
    };
    let p = u.s.audit.query(&only).await.unwrap();
    assert_eq!((p.count, p.results.len()), (1, 1));
    let all =
        u.s.audit
            .query(&AuditQuery {
                page_size: 1,
                page: 2,
                ..AuditQuery::default()
            })
            .await
            .unwrap();
    assert_eq!((all.count, all.results.len(), all.page), (3, 1, 2));
}
