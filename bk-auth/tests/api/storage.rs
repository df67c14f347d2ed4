//! One conformance suite for the login stores, run against every available backend:
//! `storage::{sqlite,postgres,mysql}::<check>`. Each check gets fresh, migrated stores as
//! trait objects, so another implementation can be run through the same checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::Arc;

use bk_auth::error::AuthError;
use bk_auth::model::{
    AuditEntry, AuditQuery, LoginResult, NewUser, Session, ThrottleState, UserPatch, UserQuery,
};
use bk_auth::store::sql::SqlStore;
use bk_auth::store::{
    AuditStore, BUILTIN_ADMIN, ImportReport, PendingLogin, PendingLoginStore, SessionStore,
    ThrottleStore, UserStore,
};
use bk_core::clock::{Millis, SystemClock};
use bk_core::db::Dialect;
use bk_core::types::Role::{self, Auditor, Developer, Operator, Staff, Superuser};

use crate::support;

/// The stores under test, as an embedder would hold them.
#[derive(Clone)]
pub struct Stores {
    pub users: Arc<dyn UserStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub throttle: Arc<dyn ThrottleStore>,
    pub audit: Arc<dyn AuditStore>,
    pub pending: Arc<dyn PendingLoginStore>,
}

impl Stores {
    fn sql(store: SqlStore) -> Self {
        let s = Arc::new(store);
        Self {
            users: s.clone(),
            sessions: s.clone(),
            throttle: s.clone(),
            audit: s.clone(),
            pending: s,
        }
    }
}

async fn run<F, Fut>(dialect: Dialect, check: F)
where
    F: FnOnce(Stores) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(t) = support::fresh(dialect).await else {
        return;
    };
    let store = SqlStore::new(t.db.clone());
    assert_eq!(store.migrate(&SystemClock).await.unwrap().versions, vec![1]);
    assert!(
        store
            .migrate(&SystemClock)
            .await
            .unwrap()
            .versions
            .is_empty()
    );
    check(Stores::sql(store)).await;
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
    import_is_all_or_nothing,
    import_overwrite_and_skip,
    sessions,
    session_purge,
    throttle,
    audit_log,
    pending_logins,
);

const T0: Millis = 1_700_000_000_000;

macro_rules! assert_err {
    ($e:expr, $p:pat $(if $guard:expr)?) => {
        match $e {
            Err($p) $(if $guard)? => {}
            other => panic!("expected {}, got {other:?}", stringify!($p $(if $guard)?)),
        }
    };
}

fn user(name: &str, roles: &[Role]) -> NewUser {
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

fn names<T: AsRef<str>>(users: impl IntoIterator<Item = T>) -> Vec<String> {
    users.into_iter().map(|u| u.as_ref().to_owned()).collect()
}

fn usernames(users: &[bk_auth::model::User]) -> Vec<String> {
    names(users.iter().map(|u| u.username.as_str()))
}

async fn create(s: &Stores, name: &str, roles: &[Role]) {
    s.users.create(user(name, roles), T0).await.unwrap();
}

async fn user_crud(s: Stores) {
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
    let updated = s.users.update("alice", &patch, T0 + 1).await.unwrap();
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

    let disabled = s
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
        .set_password_hash("alice", "pbkdf2_sha256$36000$salt$aGFzaA==", T0 + 4)
        .await
        .unwrap();
    s.users.record_login("alice", T0 + 5).await.unwrap();
    let got = s.users.get("alice").await.unwrap().unwrap();
    assert_eq!(
        got.password_hash.as_deref(),
        Some("pbkdf2_sha256$36000$salt$aGFzaA==")
    );
    assert_eq!((got.updated_at, got.last_login_at), (T0 + 4, Some(T0 + 5)));

    assert_err!(
        s.users.update("nobody", &patch, T0).await,
        AuthError::UserNotFound(_)
    );
    assert_err!(
        s.users.set_roles("nobody", &[Developer], T0).await,
        AuthError::UserNotFound(_)
    );
    assert_err!(
        s.users.set_password_hash("nobody", "x", T0).await,
        AuthError::UserNotFound(_)
    );
    assert_err!(
        s.users.record_login("nobody", T0).await,
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

async fn unicode_round_trips(s: Stores) {
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
    assert_eq!(patched.unwrap().chname, "李四");
    assert_eq!(
        s.users.get("zhang.san").await.unwrap().unwrap().chname,
        "李四"
    );
}

async fn duplicate_and_invalid_users(s: Stores) {
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

async fn get_many_omits_unknown(s: Stores) {
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

async fn effective_role_filters(s: Stores) {
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

async fn search_and_paging(s: Stores) {
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

async fn admin_is_protected(s: Stores) {
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

async fn last_superuser_is_protected(s: Stores) {
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

async fn concurrent_demotions_keep_a_superuser(s: Stores) {
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

async fn import_is_all_or_nothing(s: Stores) {
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

async fn import_overwrite_and_skip(s: Stores) {
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

fn session(hash: &str, user: &str, created: Millis) -> Session {
    Session {
        token_hash: hash.into(),
        username: user.into(),
        created_at: created,
        expires_at: created + 86_400_000,
        last_seen_at: created,
        address: "10.0.0.1".into(),
        user_agent: "Mozilla/5.0 (测试)".into(),
    }
}

async fn sessions(s: Stores) {
    let a1 = session(&"a1".repeat(32), "alice", T0);
    s.sessions.insert(&a1).await.unwrap();
    s.sessions
        .insert(&session("a2", "alice", T0))
        .await
        .unwrap();
    s.sessions.insert(&session("b1", "bob", T0)).await.unwrap();
    assert_eq!(
        s.sessions.get(&a1.token_hash).await.unwrap(),
        Some(a1.clone())
    );
    assert_eq!(s.sessions.get("unknown").await.unwrap(), None);

    s.sessions.touch(&a1.token_hash, T0 + 60_000).await.unwrap();
    s.sessions.touch(&a1.token_hash, T0 + 30_000).await.unwrap();
    assert_eq!(
        s.sessions
            .get(&a1.token_hash)
            .await
            .unwrap()
            .unwrap()
            .last_seen_at,
        T0 + 60_000,
        "never backwards"
    );
    s.sessions.touch("unknown", T0).await.unwrap();

    assert!(s.sessions.revoke("a2").await.unwrap());
    assert!(!s.sessions.revoke("a2").await.unwrap());
    s.sessions
        .insert(&session("a3", "alice", T0))
        .await
        .unwrap();
    let mut revoked = s.sessions.revoke_user("alice").await.unwrap();
    revoked.sort();
    assert_eq!(revoked, vec!["a1".repeat(32), "a3".to_owned()]);
    assert_eq!(s.sessions.get(&a1.token_hash).await.unwrap(), None);
    assert!(s.sessions.revoke_user("alice").await.unwrap().is_empty());
    assert!(
        s.sessions.get("b1").await.unwrap().is_some(),
        "other users keep theirs"
    );
}

async fn session_purge(s: Stores) {
    let day = 86_400_000;
    s.sessions
        .insert(&session("old", "alice", T0 - 2 * day))
        .await
        .unwrap(); // expired
    s.sessions
        .insert(&session("idle", "alice", T0 - day / 2))
        .await
        .unwrap(); // idle 12 h
    let mut fresh = session("fresh", "alice", T0 - day / 2);
    fresh.last_seen_at = T0 - 60_000;
    s.sessions.insert(&fresh).await.unwrap();
    s.sessions.insert(&session("new", "bob", T0)).await.unwrap();
    assert_eq!(s.sessions.purge(T0, None).await.unwrap(), 1);
    assert!(s.sessions.get("old").await.unwrap().is_none());
    assert_eq!(s.sessions.purge(T0, Some(T0 - 3_600_000)).await.unwrap(), 1);
    assert!(s.sessions.get("idle").await.unwrap().is_none());
    assert!(s.sessions.get("fresh").await.unwrap().is_some());
    assert_eq!(
        s.sessions.purge(T0 + day - 1, None).await.unwrap(),
        1,
        "fresh expired at T0 + 12 h"
    );
    assert!(
        s.sessions.get("new").await.unwrap().is_some(),
        "valid until its expiry"
    );
    assert_eq!(
        s.sessions.purge(T0 + day, None).await.unwrap(),
        1,
        "expired at its expiry"
    );
    assert!(s.sessions.get("new").await.unwrap().is_none());
}

async fn throttle(s: Stores) {
    let st = |failures, at, until| ThrottleState {
        failures,
        last_failure_at: at,
        blocked_until: until,
    };
    assert_eq!(s.throttle.get("user:alice").await.unwrap(), None);
    s.throttle.put("user:alice", &st(1, T0, 0)).await.unwrap();
    s.throttle
        .put("user:alice", &st(5, T0 + 10, T0 + 60_000))
        .await
        .unwrap();
    assert_eq!(
        s.throttle.get("user:alice").await.unwrap(),
        Some(st(5, T0 + 10, T0 + 60_000))
    );
    s.throttle
        .put("ip:10.0.0.1", &st(2, T0 - 3_600_000, 0))
        .await
        .unwrap();
    let long = format!("user:{}", "用".repeat(400));
    s.throttle.put(&long, &st(3, T0, T0 + 1)).await.unwrap();
    assert_eq!(
        s.throttle.get(&long).await.unwrap(),
        Some(st(3, T0, T0 + 1)),
        "long keys are stored too"
    );
    assert_eq!(
        s.throttle.get(&format!("{long}x")).await.unwrap(),
        None,
        "and stay distinct"
    );

    let blocked = s.throttle.blocked(T0).await.unwrap();
    assert_eq!(blocked.len(), 2);
    assert!(blocked.contains(&("user:alice".to_owned(), st(5, T0 + 10, T0 + 60_000))));
    assert_eq!(s.throttle.blocked(T0 + 60_000).await.unwrap(), vec![]);

    assert_eq!(s.throttle.purge(T0 - 1).await.unwrap(), 1);
    assert_eq!(s.throttle.get("ip:10.0.0.1").await.unwrap(), None);
    s.throttle.clear("user:alice").await.unwrap();
    s.throttle.clear("user:nobody").await.unwrap();
    assert_eq!(s.throttle.get("user:alice").await.unwrap(), None);
}

async fn audit_log(s: Stores) {
    let results = [
        LoginResult::Success,
        LoginResult::BadCredentials,
        LoginResult::Throttled,
    ];
    for i in 0..30i64 {
        let e = AuditEntry {
            id: 0,
            at: T0 + i * 1000,
            username: if i % 2 == 0 {
                "alice".into()
            } else {
                "鲍勃".into()
            },
            address: format!("10.0.0.{i}"),
            user_agent: "curl/8".into(),
            result: results[(i % 3) as usize],
            provider: "local".into(),
        };
        s.audit.record(&e).await.unwrap();
    }
    let mut long = AuditEntry {
        id: 0,
        at: T0 - 1,
        username: "x".repeat(100),
        address: "::1".into(),
        user_agent: "ua".repeat(200),
        result: LoginResult::Logout,
        provider: "oidc".into(),
    };
    s.audit.record(&long).await.unwrap();

    let all = s
        .audit
        .query(&AuditQuery {
            page: 1,
            page_size: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!((all.count, all.results.len()), (31, 10));
    assert_eq!(all.results[0].at, T0 + 29_000, "newest first");
    assert!(all.results.windows(2).all(|w| w[0].at > w[1].at));
    assert_eq!(all.results[0].username, "鲍勃");
    assert_eq!(all.results[0].result, LoginResult::Throttled);
    let last = s
        .audit
        .query(&AuditQuery {
            page: 4,
            page_size: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(last.results.len(), 1);
    long.id = last.results[0].id;
    long.username.truncate(64);
    long.user_agent.truncate(256);
    assert_eq!(last.results[0], long, "long fields are truncated");

    let q = AuditQuery {
        username: Some("alice".into()),
        page: 1,
        page_size: 100,
        ..AuditQuery::default()
    };
    let alice = s.audit.query(&q).await.unwrap();
    assert_eq!(alice.count, 15);
    assert!(alice.results.iter().all(|e| e.username == "alice"));
    let q = AuditQuery {
        result: Some(LoginResult::Throttled),
        page: 1,
        page_size: 100,
        ..AuditQuery::default()
    };
    assert_eq!(s.audit.query(&q).await.unwrap().count, 10);
    let q = AuditQuery {
        since: Some(T0 + 10_000),
        until: Some(T0 + 20_000),
        page: 1,
        page_size: 3,
        ..AuditQuery::default()
    };
    let window = s.audit.query(&q).await.unwrap();
    assert_eq!((window.count, window.results[0].at), (10, T0 + 19_000));
    let q = AuditQuery {
        username: Some("鲍勃".into()),
        result: Some(LoginResult::Success),
        since: Some(T0),
        page: 1,
        page_size: 100,
        ..AuditQuery::default()
    };
    let both = s.audit.query(&q).await.unwrap();
    assert_eq!(
        both.results.iter().map(|e| e.at).collect::<Vec<_>>(),
        vec![
            T0 + 27_000,
            T0 + 21_000,
            T0 + 15_000,
            T0 + 9_000,
            T0 + 3_000
        ]
    );
}

async fn pending_logins(s: Stores) {
    let p = |hash: &str, expires_at| PendingLogin {
        state_hash: hash.into(),
        provider: "oidc".into(),
        pkce_verifier: "verifier".into(),
        nonce: "nonce".into(),
        c_url: "http://paas.example.com/console/?a=1&b=中".into(),
        expires_at,
    };
    s.pending.put(&p("s1", T0 + 600_000)).await.unwrap();
    s.pending.put(&p("s2", T0 + 1)).await.unwrap();
    s.pending.put(&p("s3", T0 + 600_000)).await.unwrap();
    assert!(
        s.pending.put(&p("s1", T0)).await.is_err(),
        "a state is stored once"
    );
    assert_eq!(
        s.pending.take("s1", T0).await.unwrap(),
        Some(p("s1", T0 + 600_000))
    );
    assert_eq!(s.pending.take("s1", T0).await.unwrap(), None, "taken once");
    assert_eq!(s.pending.take("s2", T0 + 1).await.unwrap(), None, "expired");
    assert_eq!(s.pending.take("s2", T0).await.unwrap(), None, "and gone");
    assert_eq!(s.pending.take("unknown", T0).await.unwrap(), None);
    let (a, b) = tokio::join!(s.pending.take("s3", T0), s.pending.take("s3", T0));
    assert_eq!(
        a.unwrap().is_some() as u8 + b.unwrap().is_some() as u8,
        1,
        "concurrent takers: one wins"
    );
}
