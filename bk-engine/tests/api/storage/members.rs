//! Modules (one default) and members (a developer left).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

fn names(ms: &[Module]) -> Vec<(String, bool)> {
    ms.iter()
        .map(|m| (m.name.to_string(), m.is_default))
        .collect()
}

pub(super) async fn modules_keep_one_default(u: Under) {
    create(&u, "demo", "alice").await;
    u.s.modules
        .create_module(
            &module("demo", "api", false),
            &audit("demo", "module.create"),
        )
        .await
        .unwrap();
    assert_err!(
        u.s.modules.create_module(&module("demo", "api", false), &audit("demo", "module.create")).await,
        EngineError::Conflict(m) if m.contains("module api")
    );
    assert_err!(
        u.s.modules
            .create_module(
                &module("nope", "api", false),
                &audit("nope", "module.create")
            )
            .await,
        EngineError::NotFound(_)
    );
    // A new default module takes over.
    u.s.modules
        .create_module(
            &module("demo", "web", true),
            &audit("demo", "module.create"),
        )
        .await
        .unwrap();
    let ms = u.s.modules.modules("demo").await.unwrap();
    assert_eq!(
        names(&ms),
        vec![
            ("web".into(), true),
            ("api".into(), false),
            ("default".into(), false)
        ]
    );
    let api = ModuleName::parse("api").unwrap();
    u.s.modules
        .set_default_module("demo", &api, &audit("demo", "module.set_default"))
        .await
        .unwrap();
    let ms = u.s.modules.modules("demo").await.unwrap();
    assert_eq!(ms.iter().filter(|m| m.is_default).count(), 1);
    assert_eq!(ms[0].name, api);
    let ghost = ModuleName::parse("ghost").unwrap();
    assert_err!(
        u.s.modules
            .set_default_module("demo", &ghost, &audit("demo", "x"))
            .await,
        EngineError::NotFound(_)
    );
    // The default cannot go; another can, with its env vars.
    assert_err!(
        u.s.modules.delete_module("demo", &api, &audit("demo", "module.delete")).await,
        EngineError::Conflict(m) if m.contains("default module")
    );
    u.s.env_vars
        .set_env_vars(
            "demo",
            &[
                var(Some("web"), EnvScope::All, "A", "1"),
                var(None, EnvScope::All, "B", "2"),
            ],
            "alice",
            T0,
            &audit("demo", "env_var.set"),
        )
        .await
        .unwrap();
    let web = ModuleName::parse("web").unwrap();
    u.s.modules
        .delete_module("demo", &web, &audit("demo", "module.delete"))
        .await
        .unwrap();
    assert_eq!(
        names(&u.s.modules.modules("demo").await.unwrap()),
        vec![("api".into(), true), ("default".into(), false)]
    );
    let vars =
        u.s.env_vars
            .env_vars("demo", &EnvVarFilter::default())
            .await
            .unwrap();
    assert_eq!(vars.len(), 1);
    assert_eq!(vars[0].key.as_str(), "B");
    assert_err!(
        u.s.modules
            .delete_module("demo", &web, &audit("demo", "module.delete"))
            .await,
        EngineError::NotFound(_)
    );
}

pub(super) async fn members_keep_a_developer(u: Under) {
    create(&u, "demo", "alice").await;
    u.s.members
        .add_member(&member("demo", "bob"), &audit("demo", "member.add"))
        .await
        .unwrap();
    assert_err!(
        u.s.members.add_member(&member("demo", "bob"), &audit("demo", "member.add")).await,
        EngineError::Conflict(m) if m.contains("already a member")
    );
    assert_err!(
        u.s.members
            .add_member(&member("nope", "bob"), &audit("nope", "member.add"))
            .await,
        EngineError::NotFound(_)
    );
    assert!(u.s.members.is_member("demo", "bob").await.unwrap());
    assert!(!u.s.members.is_member("demo", "carol").await.unwrap());
    let users: Vec<String> =
        u.s.members
            .members("demo")
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.username)
            .collect();
    assert_eq!(users, vec!["alice", "bob"]);
    u.s.members
        .remove_member("demo", "alice", &audit("demo", "member.remove"))
        .await
        .unwrap();
    assert_err!(
        u.s.members.remove_member("demo", "bob", &audit("demo", "member.remove")).await,
        EngineError::Conflict(m) if m.contains("last developer")
    );
    assert_err!(
        u.s.members
            .remove_member("demo", "carol", &audit("demo", "member.remove"))
            .await,
        EngineError::NotFound(_)
    );
    assert_eq!(u.s.members.members("demo").await.unwrap().len(), 1);
}
