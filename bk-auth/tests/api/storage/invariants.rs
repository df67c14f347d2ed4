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
            .0
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
    let (report, _) = s.users.import(batch.clone(), false, T0 + 1).await.unwrap();
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

    let (report, _) = s.users.import(batch, true, T0 + 2).await.unwrap();
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
        s.users.import(Vec::new(), true, T0).await.unwrap().0,
        ImportReport::default()
    );
}

pub(super) async fn parallel_demotions_keep_a_superuser(s: Stores) {
    // Two superusers; each round both are demoted, disabled or deleted at the same time
    // (in every pairing): exactly one change wins and one enabled superuser is left.
    let disable = UserPatch {
        disabled: Some(true),
        ..UserPatch::default()
    };
    for round in 0..6 {
        let (a, b) = (format!("sup{round}a"), format!("sup{round}b"));
        for old in s.users.list_all(Some(Superuser)).await.unwrap() {
            s.users.delete(&old.username).await.ok();
        }
        create(&s, &a, &[Superuser]).await;
        create(&s, &b, &[Superuser]).await;
        for old in s.users.list_all(Some(Superuser)).await.unwrap() {
            if old.username != a && old.username != b {
                s.users.delete(&old.username).await.unwrap();
            }
        }
        let change = |name: String, kind: usize| {
            let s = s.clone();
            let disable = disable.clone();
            async move {
                match kind {
                    0 => s.users.set_roles(&name, &[Developer], T0).await.map(|_| ()),
                    1 => s.users.update(&name, &disable, T0).await.map(|_| ()),
                    _ => s.users.delete(&name).await.map(|_| ()),
                }
            }
        };
        let (ka, kb) = (round % 3, (round / 3 + round) % 3);
        let (ra, rb) = tokio::join!(
            tokio::spawn(change(a.clone(), ka)),
            tokio::spawn(change(b.clone(), kb))
        );
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert!(
            ra.is_ok() != rb.is_ok(),
            "round {round}: exactly one may succeed: {ra:?} {rb:?}"
        );
        let loser = if ra.is_err() { ra } else { rb };
        assert_err!(loser, AuthError::Protected(m) if m.contains("last enabled superuser"));
        let left: Vec<_> = s
            .users
            .list_all(Some(Superuser))
            .await
            .unwrap()
            .into_iter()
            .filter(|u| !u.disabled)
            .collect();
        assert_eq!(left.len(), 1, "round {round}: {:?}", usernames(&left));
    }
}

pub(super) async fn import_revokes_sessions_and_keeps_admin_source(s: Stores) {
    let with_hash = |name: &str, hash: &str| {
        let mut u = user(name, &[]);
        u.password_hash = Some(hash.into());
        u
    };
    let mut admin = with_hash(BUILTIN_ADMIN, "$argon2id$admin");
    admin.roles = vec![Superuser];
    s.users.create(admin.clone(), T0).await.unwrap();
    for (name, hash) in [
        ("keeper", "$argon2id$k"),
        ("leaver", "$argon2id$l"),
        ("mover", "$argon2id$m"),
    ] {
        s.users.create(with_hash(name, hash), T0).await.unwrap();
        put_session(&s, &session_of(&format!("{name}-token"), name)).await;
    }
    let mut leaver = with_hash("leaver", "$argon2id$l");
    leaver.disabled = true;
    let batch = vec![
        with_hash("keeper", "$argon2id$k"),
        leaver,
        with_hash("mover", "$argon2id$m2"),
    ];
    let (report, mut revoked) = s.users.import(batch, true, T0 + 1).await.unwrap();
    assert_eq!(report.updated, 3);
    revoked.sort();
    assert_eq!(revoked, names(["leaver-token", "mover-token"]));
    assert!(
        s.sessions.get("keeper-token").await.unwrap().is_some(),
        "unchanged password keeps its sessions"
    );
    assert!(s.sessions.get("leaver-token").await.unwrap().is_none());
    assert!(s.sessions.get("mover-token").await.unwrap().is_none());

    // The built-in admin's source cannot be changed by an import, and the row is named.
    let mut hijack = admin.clone();
    hijack.source = "corp-sso".into();
    let batch = vec![user("newbie", &[]), hijack];
    assert_err!(
        s.users.import(batch, true, T0 + 2).await,
        AuthError::Protected(m) if m.contains("row 2") && m.contains("source")
    );
    assert!(
        s.users.get("newbie").await.unwrap().is_none(),
        "nothing written"
    );
    assert_eq!(
        s.users.get(BUILTIN_ADMIN).await.unwrap().unwrap().source,
        "local"
    );
    // Importing it unchanged is fine.
    s.users.import(vec![admin], true, T0 + 3).await.unwrap();
}

fn session_of(hash: &str, user: &str) -> Session {
    Session {
        token_hash: hash.into(),
        username: user.into(),
        created_at: T0,
        expires_at: T0 + 86_400_000,
        last_seen_at: T0,
        address: "10.0.0.1".into(),
        user_agent: "test".into(),
    }
}
