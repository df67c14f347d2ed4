//! Disabling, deleting and re-passwording a user ends their sessions at once, even those
//! cached in this process and those being issued by logins in flight.

use std::sync::Arc;

use bk_auth::model::UserPatch;
use bk_auth::service::{Caller, ClientInfo, CreateUser, LoginService};
use bk_auth::testing::{self, spawn_login};

fn client(n: usize) -> ClientInfo {
    ClientInfo {
        address: format!("10.1.{}.{}", n / 250, n % 250),
        user_agent: "race/1".into(),
    }
}

async fn admin(svc: &LoginService) -> Caller {
    let t = svc
        .login_password("admin", testing::ADMIN_PASSWORD, &client(9999))
        .await
        .unwrap();
    svc.caller(Some(&t.token)).await.unwrap()
}

async fn user(svc: &LoginService, admin: &Caller, name: &str) {
    svc.create_user(
        admin,
        CreateUser {
            username: name.into(),
            password: Some("Racing-pass-1".into()),
            ..CreateUser::default()
        },
    )
    .await
    .unwrap();
}

/// `true` when no check of the service accepts `token` any more.
async fn dead(svc: &LoginService, token: &str) -> bool {
    svc.is_login(token).await.unwrap().is_none()
        && svc.session_user(token).await.unwrap().is_none()
        && svc.user_of_token(token).await.unwrap().is_none()
        && svc.caller(Some(token)).await.is_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_disable_racing_logins_leaves_no_live_token() {
    let t = spawn_login().await;
    let svc = &t.service;
    let admin = Arc::new(admin(svc).await);
    for round in 0..3 {
        let name = format!("racer{round:02}");
        user(svc, &admin, &name).await;
        let mut set = tokio::task::JoinSet::new();
        for i in 0..24 {
            let (s, n) = (svc.clone(), name.clone());
            set.spawn(async move {
                s.login_password(&n, "Racing-pass-1", &client(round * 100 + i))
                    .await
                    .ok()
                    .map(|i| i.token)
            });
            if i == 6 {
                let (svc, admin, name) = (svc.clone(), admin.clone(), name.clone());
                set.spawn(async move {
                    let patch = UserPatch {
                        disabled: Some(true),
                        ..UserPatch::default()
                    };
                    svc.update_user(&admin, &name, &patch).await.unwrap();
                    None
                });
            }
        }
        let mut tokens = Vec::new();
        while let Some(r) = set.join_next().await {
            tokens.extend(r.unwrap());
        }
        for tok in &tokens {
            assert!(
                dead(svc, tok).await,
                "round {round}: a token outlived the disable"
            );
        }
    }
}

#[tokio::test]
async fn cached_sessions_end_with_disable_delete_and_password_changes() {
    let t = spawn_login().await;
    let svc = &t.service;
    let admin = admin(svc).await;
    let disable = UserPatch {
        disabled: Some(true),
        ..UserPatch::default()
    };
    let login = |name: &'static str| async move {
        let tok = svc
            .login_password(name, "Racing-pass-1", &client(1))
            .await
            .unwrap()
            .token;
        // Answered (and cached) once before the change.
        assert_eq!(svc.is_login(&tok).await.unwrap().as_deref(), Some(name));
        tok
    };
    for name in ["gone0001", "gone0002", "gone0003", "gone0004"] {
        user(svc, &admin, name).await;
    }
    let tok = login("gone0001").await;
    svc.update_user(&admin, "gone0001", &disable).await.unwrap();
    assert!(dead(svc, &tok).await, "disabled");
    assert!(
        svc.login_password("gone0001", "Racing-pass-1", &client(2))
            .await
            .is_err()
    );

    let tok = login("gone0002").await;
    svc.delete_user(&admin, "gone0002").await.unwrap();
    assert!(dead(svc, &tok).await, "deleted");

    let tok = login("gone0003").await;
    svc.reset_password(&admin, "gone0003", Some("Another-pass-2".into()))
        .await
        .unwrap();
    assert!(dead(svc, &tok).await, "password reset");

    let tok = login("gone0004").await;
    let me = svc.caller(Some(&tok)).await.unwrap();
    let fresh = svc
        .change_password(&me, "Racing-pass-1", "Another-pass-3", &client(1))
        .await
        .unwrap();
    assert!(dead(svc, &tok).await, "own password changed");
    assert_eq!(
        svc.is_login(&fresh.token).await.unwrap().as_deref(),
        Some("gone0004"),
        "the caller's new token works"
    );
}

#[tokio::test]
async fn an_overwrite_import_that_disables_or_repasswords_ends_sessions() {
    let t = spawn_login().await;
    let svc = &t.service;
    let admin = admin(svc).await;
    for name in ["stays001", "leaves01", "moves001"] {
        user(svc, &admin, name).await;
    }
    let mut tokens = Vec::new();
    for name in ["stays001", "leaves01", "moves001"] {
        let tok = svc
            .login_password(name, "Racing-pass-1", &client(3))
            .await
            .unwrap()
            .token;
        assert!(svc.is_login(&tok).await.unwrap().is_some());
        tokens.push(tok);
    }
    let body = serde_json::json!([
        {"username": "stays001", "chname": "Stays"},
        {"username": "leaves01", "disabled": true},
        {"username": "moves001", "password": "Imported-pass-4"},
    ])
    .to_string();
    svc.import_users(
        &admin,
        bk_auth::service::transfer::Format::Json,
        &body,
        true,
    )
    .await
    .unwrap();
    assert!(
        svc.is_login(&tokens[0]).await.unwrap().is_some(),
        "unchanged"
    );
    assert!(dead(svc, &tokens[1]).await, "disabled by the import");
    assert!(dead(svc, &tokens[2]).await, "re-passworded by the import");
}
