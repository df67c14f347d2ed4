//! Protected users and all-or-nothing imports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

pub(super) async fn admin_is_protected(s: Stores) {
    create(&s, BUILTIN_ADMIN, &[Superuser]).await;
    create(&s, "boss", &[Superuser]).await;
    let disable = UserPatch {
        disabled: Some(true),
        ..UserPatch::default()
    };
    assert_err!(s.users.delete(BUILTIN_ADMIN).await, AuthError::Protected(_));
    assert_err!(
        s.users.set_roles(BUILTIN_ADMIN, &[Developer], T0).await,
        AuthError::Protected(_)
    );
    assert_err!(
        s.users.set_roles(BUILTIN_ADMIN, &[], T0).await,
        AuthError::Protected(_)
    );
    assert_err!(
        s.users.update(BUILTIN_ADMIN, &disable, T0).await,
        AuthError::Protected(_)
    );
    let admin = s.users.get(BUILTIN_ADMIN).await.unwrap().unwrap();
    assert_eq!(
        (admin.roles.as_slice(), admin.disabled),
        (&[Superuser][..], false),
        "nothing changed"
    );
    // What keeps it an enabled superuser is allowed.
    let admin = s
        .users
        .set_roles(BUILTIN_ADMIN, &[Superuser, Developer], T0)
        .await
        .unwrap();
    assert_eq!(admin.roles, vec![Superuser, Developer]);
    let patch = UserPatch {
        chname: Some("管理员".into()),
        disabled: Some(false),
        ..UserPatch::default()
    };
    assert_eq!(
        s.users
            .update(BUILTIN_ADMIN, &patch, T0)
            .await
            .unwrap()
            .chname,
        "管理员"
    );
    // The other superuser is not special.
    s.users.delete("boss").await.unwrap();
}

pub(super) async fn last_superuser_is_protected(s: Stores) {
    create(&s, "boss", &[Superuser]).await;
    create(&s, "dev1", &[Developer]).await;
    let disable = UserPatch {
        disabled: Some(true),
        ..UserPatch::default()
    };
    assert_err!(s.users.delete("boss").await, AuthError::Protected(m) if m.contains("last enabled superuser"));
    assert_err!(
        s.users.set_roles("boss", &[Developer], T0).await,
        AuthError::Protected(_)
    );
    assert_err!(
        s.users.update("boss", &disable, T0).await,
        AuthError::Protected(_)
    );
    assert_eq!(s.users.list_all(Some(Superuser)).await.unwrap().len(), 1);
    // A disabled superuser does not count.
    create(&s, "sleeper", &[Superuser]).await;
    s.users.update("sleeper", &disable, T0).await.unwrap();
    assert_err!(s.users.delete("boss").await, AuthError::Protected(_));
    s.users.delete("sleeper").await.unwrap();
    // With two, one may go; then the other is the last.
    s.users.set_roles("dev1", &[Superuser], T0).await.unwrap();
    s.users.delete("boss").await.unwrap();
    assert_err!(s.users.delete("dev1").await, AuthError::Protected(_));
    assert_err!(
        s.users.set_roles("dev1", &[Staff], T0).await,
        AuthError::Protected(_)
    );
    // Non-superusers are unaffected.
    create(&s, "temp", &[Developer]).await;
    s.users.update("temp", &disable, T0).await.unwrap();
    s.users.delete("temp").await.unwrap();
}

pub(super) async fn concurrent_demotions_keep_a_superuser(s: Stores) {
    // Each round: two enabled superusers, one demoted and one deleted at the same time.
    let mut current = "boss0".to_owned();
    create(&s, &current, &[Superuser]).await;
    for round in 1..=5 {
        let other = format!("boss{round}");
        create(&s, &other, &[Superuser]).await;
        let (ra, rb) = tokio::join!(
            s.users.set_roles(&current, &[Developer], T0),
            s.users.delete(&other)
        );
        assert!(
            ra.is_ok() != rb.is_ok(),
            "exactly one may succeed: {ra:?} {rb:?}"
        );
        let left = s.users.list_all(Some(Superuser)).await.unwrap();
        assert_eq!(left.len(), 1, "{:?}", usernames(&left));
        current.clone_from(&left[0].username);
    }
}

pub(super) async fn import_is_all_or_nothing(s: Stores) {
    let dup_in_batch = vec![
        user("imp1", &[]),
        user("imp2", &[]),
        user("imp1", &[Developer]),
    ];
    assert_err!(
        s.users.import(dup_in_batch, false, T0).await,
        AuthError::Invalid(_)
    );
    assert!(
        s.users.list_all(None).await.unwrap().is_empty(),
        "nothing written"
    );
    let invalid = vec![user("imp1", &[]), user("imp2", &[]), user("x", &[])];
    assert_err!(
        s.users.import(invalid, true, T0).await,
        AuthError::Invalid(_)
    );
    assert!(
        s.users.list_all(None).await.unwrap().is_empty(),
        "nothing written"
    );

    // A batch that would demote the last superuser fails as a whole.
    create(&s, "boss", &[Superuser]).await;
    let demote = vec![
        user("imp1", &[]),
        user("imp2", &[]),
        user("boss", &[Developer]),
    ];
    assert_err!(
        s.users.import(demote, true, T0).await,
        AuthError::Protected(_)
    );
    assert_eq!(
        usernames(&s.users.list_all(None).await.unwrap()),
        names(["boss"])
    );
    assert_eq!(
        s.users.get("boss").await.unwrap().unwrap().roles,
        vec![Superuser]
    );
}

pub(super) async fn import_overwrite_and_skip(s: Stores) {
    let mut old = user("old1", &[Developer]);
    old.password_hash = Some("$argon2id$old".into());
    s.users.create(old, T0).await.unwrap();
    let mut batch = vec![
        user("new1", &[Auditor]),
        user("new2", &[]),
        user("old1", &[Operator]),
    ];
    batch[2].chname = "覆盖".into();
    let report = s.users.import(batch.clone(), false, T0 + 1).await.unwrap();
    assert_eq!(
        report,
        ImportReport {
            created: 2,
            updated: 0,
            skipped: 1
        }
    );
    assert_eq!(
        s.users.get("old1").await.unwrap().unwrap().roles,
        vec![Developer],
        "skipped"
    );
    assert_eq!(
        s.users.get("new1").await.unwrap().unwrap().roles,
        vec![Auditor]
    );

    let report = s.users.import(batch, true, T0 + 2).await.unwrap();
    assert_eq!(
        report,
        ImportReport {
            created: 0,
            updated: 3,
            skipped: 0
        }
    );
    let old = s.users.get("old1").await.unwrap().unwrap();
    assert_eq!(
        (old.chname.as_str(), old.roles.as_slice()),
        ("覆盖", &[Operator][..])
    );
    assert_eq!((old.created_at, old.updated_at), (T0, T0 + 2));
    assert_eq!(
        old.password_hash.as_deref(),
        Some("$argon2id$old"),
        "no hash in the import keeps the stored one"
    );
    assert_eq!(
        s.users.import(Vec::new(), true, T0).await.unwrap(),
        ImportReport::default()
    );
}
