//! User records: CRUD, Unicode, duplicates, look-ups, role filters, search and paging.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

pub(super) async fn user_crud(s: Stores) {
    let mut new = user("alice", &[Developer, Staff, Developer]);
    new.qq = "10001".into();
    new.phone = "13800000000".into();
    new.wx_userid = "wx-alice".into();
    new.password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into());
    let created = s.users.create(new, T0).await.unwrap();
    assert_eq!(
        created.roles,
        vec![Staff, Developer],
        "sorted by code, deduplicated"
    );
    assert_eq!(
        (
            created.created_at,
            created.updated_at,
            created.last_login_at
        ),
        (T0, T0, None)
    );
    assert_eq!(s.users.get("alice").await.unwrap(), Some(created.clone()));
    assert_eq!(s.users.get("nobody").await.unwrap(), None);

    let staff = s.users.create(user("plain", &[]), T0).await.unwrap();
    assert_eq!(staff.roles, vec![Staff], "no roles means staff");
    assert_eq!(
        s.users.get("plain").await.unwrap().unwrap().roles,
        vec![Staff]
    );

    let patch = UserPatch {
        chname: Some("Alice Liddell".into()),
        email: Some("a@x.org".into()),
        ..UserPatch::default()
    };
    let (updated, revoked) = s.users.update("alice", &patch, T0 + 1).await.unwrap();
    assert!(revoked.is_empty());
    assert_eq!(
        (
            updated.chname.as_str(),
            updated.email.as_str(),
            updated.qq.as_str()
        ),
        ("Alice Liddell", "a@x.org", "10001")
    );
    assert_eq!(updated.updated_at, T0 + 1);
    assert_eq!(s.users.get("alice").await.unwrap(), Some(updated));

    let (disabled, _) = s
        .users
        .update(
            "alice",
            &UserPatch {
                disabled: Some(true),
                ..UserPatch::default()
            },
            T0 + 2,
        )
        .await
        .unwrap();
    assert!(disabled.disabled && s.users.get("alice").await.unwrap().unwrap().disabled);

    let with_roles = s
        .users
        .set_roles("alice", &[Auditor, Superuser], T0 + 3)
        .await
        .unwrap();
    assert_eq!(with_roles.roles, vec![Superuser, Auditor]);
    assert_eq!(s.users.get("alice").await.unwrap(), Some(with_roles));

    s.users
        .set_password_hash("alice", "pbkdf2_sha256$36000$salt$aGFzaA==", T0 + 4, None)
        .await
        .unwrap();
    let got = s.users.get("alice").await.unwrap().unwrap();
    assert_eq!(
        got.password_hash.as_deref(),
        Some("pbkdf2_sha256$36000$salt$aGFzaA==")
    );
    assert_eq!(got.updated_at, T0 + 4);
    // An upgrade applies only over the hash that was checked.
    assert!(
        !s.users
            .upgrade_password_hash("alice", "stale", "$argon2id$new", T0 + 5)
            .await
            .unwrap()
    );
    assert!(
        s.users
            .upgrade_password_hash(
                "alice",
                "pbkdf2_sha256$36000$salt$aGFzaA==",
                "$argon2id$new",
                T0 + 5
            )
            .await
            .unwrap()
    );
    assert_eq!(
        s.users
            .get("alice")
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .as_deref(),
        Some("$argon2id$new")
    );

    assert_err!(
        s.users.update("nobody", &patch, T0).await,
        AuthError::UserNotFound(_)
    );
    assert_err!(
        s.users.set_roles("nobody", &[Developer], T0).await,
        AuthError::UserNotFound(_)
    );
    assert_err!(
        s.users.set_password_hash("nobody", "x", T0, None).await,
        AuthError::UserNotFound(_)
    );
    assert_err!(s.users.delete("nobody").await, AuthError::UserNotFound(_));

    s.users.delete("alice").await.unwrap();
    assert_eq!(s.users.get("alice").await.unwrap(), None);
    assert_eq!(
        usernames(&s.users.list_all(None).await.unwrap()),
        names(["plain"])
    );
    // The name is free again, without roles left behind.
    assert_eq!(
        s.users.create(user("alice", &[]), T0).await.unwrap().roles,
        vec![Staff]
    );
    assert_eq!(
        s.users.get("alice").await.unwrap().unwrap().roles,
        vec![Staff]
    );
}

pub(super) async fn unicode_round_trips(s: Stores) {
    let mut new = user("zhang.san", &[Developer]);
    new.chname = "张三 🚀 Zhāng".into();
    new.email = "张三@例子.公司".into();
    s.users.create(new, T0).await.unwrap();
    let got = s.users.get("zhang.san").await.unwrap().unwrap();
    assert_eq!(
        (got.chname.as_str(), got.email.as_str()),
        ("张三 🚀 Zhāng", "张三@例子.公司")
    );
    let page = s
        .users
        .query(&UserQuery {
            search: Some("三 🚀".into()),
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(usernames(&page.results), names(["zhang.san"]));
    let patched = s
        .users
        .update(
            "zhang.san",
            &UserPatch {
                chname: Some("李四".into()),
                ..UserPatch::default()
            },
            T0,
        )
        .await;
    assert_eq!(patched.unwrap().0.chname, "李四");
    assert_eq!(
        s.users.get("zhang.san").await.unwrap().unwrap().chname,
        "李四"
    );
}

pub(super) async fn duplicate_and_invalid_users(s: Stores) {
    create(&s, "alice", &[]).await;
    assert_err!(s.users.create(user("alice", &[Superuser]), T0).await, AuthError::UserExists(n) if n == "alice");
    assert_eq!(
        s.users.get("alice").await.unwrap().unwrap().roles,
        vec![Staff],
        "the first one is untouched"
    );
    assert_err!(
        s.users.create(user("no", &[]), T0).await,
        AuthError::Invalid(_)
    );
    assert_err!(
        s.users.create(user("bad name", &[]), T0).await,
        AuthError::Invalid(_)
    );
    assert_eq!(
        usernames(&s.users.list_all(None).await.unwrap()),
        names(["alice"])
    );
}

pub(super) async fn get_many_omits_unknown(s: Stores) {
    for n in ["anna", "bert", "carl"] {
        create(&s, n, &[Developer]).await;
    }
    let want = names(["carl", "nobody", "anna", "anna"]);
    let mut got = usernames(&s.users.get_many(&want).await.unwrap());
    got.sort();
    assert_eq!(got, names(["anna", "carl"]));
    assert!(s.users.get_many(&[]).await.unwrap().is_empty());
    assert!(
        s.users
            .get_many(&names(["ghost"]))
            .await
            .unwrap()
            .is_empty()
    );
    let mut many: Vec<String> = (0..1200).map(|i| format!("nobody{i}")).collect();
    many.insert(700, "bert".into());
    many.push("anna".into());
    let got = usernames(&s.users.get_many(&many).await.unwrap());
    assert_eq!(
        got,
        names(["anna", "bert"]),
        "long lists are looked up in chunks"
    );
    let got = s.users.get_many(&names(["bert"])).await.unwrap();
    assert_eq!(got[0].roles, vec![Developer], "with their roles");
}

pub(super) async fn effective_role_filters(s: Stores) {
    create(&s, "staff1", &[Staff]).await;
    create(&s, "dev1", &[Staff, Developer]).await;
    create(&s, "boss", &[Developer, Superuser]).await;
    create(&s, "audi", &[Auditor]).await;
    create(&s, "oper", &[Auditor, Operator]).await;
    let expect = [
        (Staff, "staff1"),
        (Superuser, "boss"),
        (Developer, "dev1"),
        (Operator, "oper"),
        (Auditor, "audi"),
    ];
    for (role, who) in expect {
        let listed = s.users.list_all(Some(role)).await.unwrap();
        assert_eq!(usernames(&listed), names([who]), "list_all({role:?})");
        assert!(listed.iter().all(|u| u.role() == role));
        let page = s
            .users
            .query(&UserQuery {
                role: Some(role),
                ..UserQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(
            (page.count, usernames(&page.results)),
            (1, names([who])),
            "query({role:?})"
        );
    }
    let all = s.users.list_all(None).await.unwrap();
    assert_eq!(
        usernames(&all),
        names(["audi", "boss", "dev1", "oper", "staff1"])
    );
    assert_eq!(
        all[1].roles,
        vec![Superuser, Developer],
        "roles come with listings"
    );
}

pub(super) async fn search_and_paging(s: Stores) {
    for i in 1..=25 {
        create(&s, &format!("user{i:03}"), &[Developer]).await;
    }
    let mut a = user("alice", &[]);
    a.email = "Alice.Smith@Example.COM".into();
    s.users.create(a, T0).await.unwrap();
    let mut b = user("bob_b", &[]);
    b.chname = "鲍勃 100% sure".into();
    s.users.create(b, T0).await.unwrap();

    let q = |search: &str| UserQuery {
        search: Some(search.into()),
        ..UserQuery::default()
    };
    let found = |p: bk_auth::model::Page<bk_auth::model::User>| (p.count, usernames(&p.results));
    assert_eq!(
        found(s.users.query(&q("SMITH@example")).await.unwrap()),
        (1, names(["alice"]))
    );
    assert_eq!(
        found(s.users.query(&q("ALI")).await.unwrap()),
        (1, names(["alice"]))
    );
    assert_eq!(
        found(s.users.query(&q("鲍")).await.unwrap()),
        (1, names(["bob_b"]))
    );
    assert_eq!(
        found(s.users.query(&q("%")).await.unwrap()),
        (1, names(["bob_b"])),
        "% is literal"
    );
    assert_eq!(
        found(s.users.query(&q("_")).await.unwrap()),
        (1, names(["bob_b"])),
        "_ is literal"
    );
    assert_eq!(
        found(s.users.query(&q("!")).await.unwrap()).0,
        0,
        "the escape character is literal too"
    );
    assert_eq!(
        s.users.query(&q("   ")).await.unwrap().count,
        27,
        "blank search matches all"
    );

    let page = |n: u32| UserQuery {
        search: Some("USER0".into()),
        page: n,
        page_size: 10,
        ..UserQuery::default()
    };
    let p1 = s.users.query(&page(1)).await.unwrap();
    assert_eq!((p1.count, p1.page, p1.page_size), (25, 1, 10));
    assert_eq!(
        usernames(&p1.results),
        (1..=10).map(|i| format!("user{i:03}")).collect::<Vec<_>>()
    );
    let p3 = s.users.query(&page(3)).await.unwrap();
    assert_eq!(
        usernames(&p3.results),
        (21..=25).map(|i| format!("user{i:03}")).collect::<Vec<_>>()
    );
    assert!(p3.results.iter().all(|u| u.roles == vec![Developer]));
    let p4 = s.users.query(&page(4)).await.unwrap();
    assert_eq!((p4.count, p4.results.len()), (25, 0));

    for n in ["user002", "user004"] {
        s.users
            .update(
                n,
                &UserPatch {
                    disabled: Some(true),
                    ..UserPatch::default()
                },
                T0,
            )
            .await
            .unwrap();
    }
    let off = s
        .users
        .query(&UserQuery {
            disabled: Some(true),
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(found(off), (2, names(["user002", "user004"])));
    let on = UserQuery {
        search: Some("user".into()),
        disabled: Some(false),
        role: Some(Developer),
        ..UserQuery::default()
    };
    assert_eq!(s.users.query(&on).await.unwrap().count, 23);
    let staff = UserQuery {
        role: Some(Staff),
        ..UserQuery::default()
    };
    assert_eq!(
        found(s.users.query(&staff).await.unwrap()),
        (2, names(["alice", "bob_b"]))
    );
}
