//! Sessions, throttle counters, the audit log and pending external logins.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

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

/// Store `sess` for its (enabled) user; panics when the store refuses.
pub(crate) async fn put_session(s: &Stores, sess: &Session) {
    assert!(
        s.sessions.insert(sess, None).await.unwrap(),
        "session of {} stored",
        sess.username
    );
}

pub(super) async fn sessions(s: Stores) {
    create(&s, "alice", &[]).await;
    create(&s, "bob01", &[]).await;
    let a1 = session(&"a1".repeat(32), "alice", T0);
    put_session(&s, &a1).await;
    put_session(&s, &session("a2", "alice", T0)).await;
    put_session(&s, &session("b1", "bob01", T0)).await;
    assert_eq!(
        s.sessions.get(&a1.token_hash).await.unwrap(),
        Some(a1.clone())
    );
    assert_eq!(s.sessions.get("unknown").await.unwrap(), None);
    assert_eq!(
        s.users.get("alice").await.unwrap().unwrap().last_login_at,
        Some(T0),
        "storing a session notes the login"
    );

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
    put_session(&s, &session("a3", "alice", T0)).await;
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

pub(super) async fn sessions_only_for_enabled_users(s: Stores) {
    let mut u = user("carol", &[]);
    u.password_hash = Some("$argon2id$checked".into());
    s.users.create(u, T0).await.unwrap();
    // Unknown user, wrong hash: nothing stored.
    assert!(
        !s.sessions
            .insert(&session("n1", "nobody", T0), None)
            .await
            .unwrap()
    );
    assert!(
        !s.sessions
            .insert(&session("c0", "carol", T0), Some("$argon2id$other"))
            .await
            .unwrap(),
        "the password changed since it was checked"
    );
    assert_eq!(s.sessions.get("c0").await.unwrap(), None);
    assert!(
        s.sessions
            .insert(&session("c1", "carol", T0), Some("$argon2id$checked"))
            .await
            .unwrap()
    );
    put_session(&s, &session("c2", "carol", T0)).await;

    // Disabling revokes in the same call and returns what it revoked.
    let disable = UserPatch {
        disabled: Some(true),
        ..UserPatch::default()
    };
    let (_, mut revoked) = s.users.update("carol", &disable, T0).await.unwrap();
    revoked.sort();
    assert_eq!(revoked, names(["c1", "c2"]));
    assert_eq!(s.sessions.get("c1").await.unwrap(), None);
    assert!(
        !s.sessions
            .insert(&session("c3", "carol", T0), None)
            .await
            .unwrap()
    );

    // A re-enabled user logs in again; a password reset revokes, and can store the
    // caller's new session in the same transaction.
    let enable = UserPatch {
        disabled: Some(false),
        ..UserPatch::default()
    };
    s.users.update("carol", &enable, T0).await.unwrap();
    put_session(&s, &session("c4", "carol", T0)).await;
    let fresh = session("c5", "carol", T0 + 1);
    let revoked = s
        .users
        .set_password_hash("carol", "$argon2id$new", T0 + 1, Some(&fresh))
        .await
        .unwrap();
    assert_eq!(revoked, names(["c4"]));
    assert_eq!(s.sessions.get("c4").await.unwrap(), None);
    assert_eq!(s.sessions.get("c5").await.unwrap(), Some(fresh));
    s.users.update("carol", &disable, T0).await.unwrap();
    assert_err!(
        s.users
            .set_password_hash(
                "carol",
                "$argon2id$x",
                T0,
                Some(&session("c6", "carol", T0))
            )
            .await,
        AuthError::Unauthenticated
    );
    assert_eq!(s.sessions.get("c6").await.unwrap(), None);

    // A session left behind by an older version is not answered for a disabled user...
    s.users.update("carol", &enable, T0).await.unwrap();
    put_session(&s, &session("c7", "carol", T0)).await;
    // ...nor after its user is deleted (delete revokes in the same transaction).
    assert_eq!(s.users.delete("carol").await.unwrap(), names(["c7"]));
    assert_eq!(s.sessions.get("c7").await.unwrap(), None);
}

pub(super) async fn disable_races_session_inserts(s: Stores) {
    // Logins being issued while the user is disabled: whatever the interleaving, no
    // session of the user survives the disable.
    enum Done {
        Insert(bool),
        Disable(usize),
    }
    for round in 0..5 {
        let name = format!("racer{round}");
        create(&s, &name, &[]).await;
        let mut tasks: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = Done> + Send>>> =
            Vec::new();
        for i in 0..16 {
            let st = s.clone();
            let sess = session(&format!("{name}-{i}"), &name, T0);
            tasks.push(Box::pin(async move {
                Done::Insert(st.sessions.insert(&sess, None).await.unwrap())
            }));
            if i == 8 {
                let (s, name) = (s.clone(), name.clone());
                tasks.push(Box::pin(async move {
                    let patch = UserPatch {
                        disabled: Some(true),
                        ..UserPatch::default()
                    };
                    Done::Disable(s.users.update(&name, &patch, T0).await.unwrap().1.len())
                }));
            }
        }
        let (mut stored, mut revoked) = (0, 0);
        for d in futures_join_all(tasks).await {
            match d {
                Done::Insert(ok) => stored += usize::from(ok),
                Done::Disable(n) => revoked = n,
            }
        }
        for i in 0..16 {
            assert_eq!(
                s.sessions.get(&format!("{name}-{i}")).await.unwrap(),
                None,
                "round {round}: session {i} outlived the disable"
            );
        }
        assert_eq!(stored, revoked, "every stored session was revoked");
        assert!(s.sessions.revoke_user(&name).await.unwrap().is_empty());
    }
}

/// Run futures as concurrent tasks; their outputs in completion order. At most eight run
/// at once, the size of the test pool: more would only queue for a connection, and on a
/// loaded machine time out waiting for one (every transaction here waits on the same
/// rows, so they complete one after the other).
pub(crate) async fn futures_join_all<F>(futs: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let permits = Arc::new(tokio::sync::Semaphore::new(8));
    let mut set = tokio::task::JoinSet::new();
    for f in futs {
        let permits = permits.clone();
        set.spawn(async move {
            let _p = permits.acquire_owned().await;
            f.await
        });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.unwrap());
    }
    out
}

pub(super) async fn session_purge(s: Stores) {
    create(&s, "alice", &[]).await;
    create(&s, "bob01", &[]).await;
    let day = 86_400_000;
    put_session(&s, &session("old", "alice", T0 - 2 * day)).await; // expired
    put_session(&s, &session("idle", "alice", T0 - day / 2)).await; // idle 12 h
    let mut fresh = session("fresh", "alice", T0 - day / 2);
    fresh.last_seen_at = T0 - 60_000;
    put_session(&s, &fresh).await;
    put_session(&s, &session("new", "bob01", T0)).await;
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

fn st(failures: i64, at: Millis, until: Millis) -> ThrottleState {
    ThrottleState {
        failures,
        last_failure_at: at,
        blocked_until: until,
        known_at: 0,
    }
}

/// Replace the state of `key`.
async fn put(s: &Stores, key: &str, state: ThrottleState) {
    s.throttle
        .modify(&[key.to_owned()], &|_: &[Option<ThrottleState>]| {
            vec![Some(state)]
        })
        .await
        .unwrap();
}

pub(super) async fn throttle(s: Stores) {
    assert_eq!(s.throttle.get("user:alice").await.unwrap(), None);
    put(&s, "user:alice", st(1, T0, 0)).await;
    put(&s, "user:alice", st(5, T0 + 10, T0 + 60_000)).await;
    assert_eq!(
        s.throttle.get("user:alice").await.unwrap(),
        Some(st(5, T0 + 10, T0 + 60_000))
    );
    put(&s, "ip:10.0.0.1", st(2, T0 - 3_600_000, 0)).await;
    let long = format!("user:{}", "用".repeat(400));
    put(&s, &long, st(3, T0, T0 + 1)).await;
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

    // modify sees the states in key order and leaves `None` entries alone.
    let keys = names(["user:alice", "user:nobody", "ip:10.0.0.1"]);
    let seen = s
        .throttle
        .modify(&keys, &|_: &[Option<ThrottleState>]| vec![None, None, None])
        .await
        .unwrap();
    assert_eq!(
        seen,
        vec![
            Some(st(5, T0 + 10, T0 + 60_000)),
            None,
            Some(st(2, T0 - 3_600_000, 0))
        ]
    );
    assert_eq!(s.throttle.get("user:nobody").await.unwrap(), None);

    let blocked = s.throttle.blocked(T0).await.unwrap();
    assert_eq!(blocked.len(), 2);
    assert!(blocked.contains(&("user:alice".to_owned(), st(5, T0 + 10, T0 + 60_000))));
    assert_eq!(s.throttle.blocked(T0 + 60_000).await.unwrap(), vec![]);

    // Known pairs outlive the failure window.
    let known = ThrottleState {
        known_at: T0,
        ..st(0, T0 - 3_600_000, 0)
    };
    put(&s, "pair:alice@10.0.0.1", known).await;
    assert_eq!(s.throttle.purge(T0 - 1, T0 - 1).await.unwrap(), 1);
    assert_eq!(s.throttle.get("ip:10.0.0.1").await.unwrap(), None);
    assert_eq!(
        s.throttle.get("pair:alice@10.0.0.1").await.unwrap(),
        Some(known)
    );
    assert_eq!(s.throttle.purge(T0 - 1, T0 + 1).await.unwrap(), 1);

    // Clearing resets counters and keeps what a pair knows.
    put(
        &s,
        "pair:alice@10.0.0.1",
        ThrottleState {
            known_at: T0,
            ..st(9, T0, T0 + 1)
        },
    )
    .await;
    put(&s, "pair:alice@10.0.0.2", st(9, T0, T0 + 1)).await;
    put(&s, "pair:alice_x@10.0.0.2", st(9, T0, T0 + 1)).await;
    s.throttle.clear_prefix("pair:alice@").await.unwrap();
    assert_eq!(
        s.throttle.get("pair:alice@10.0.0.1").await.unwrap(),
        Some(ThrottleState {
            known_at: T0,
            ..st(0, T0, 0)
        })
    );
    assert_eq!(
        s.throttle.get("pair:alice@10.0.0.2").await.unwrap(),
        Some(st(0, T0, 0))
    );
    assert_eq!(
        s.throttle.get("pair:alice_x@10.0.0.2").await.unwrap(),
        Some(st(9, T0, T0 + 1)),
        "_ is not a wildcard"
    );
    s.throttle.clear("user:alice").await.unwrap();
    s.throttle.clear("user:nobody").await.unwrap();
    assert_eq!(
        s.throttle.get("user:alice").await.unwrap(),
        Some(st(0, T0 + 10, 0))
    );
}

pub(super) async fn throttle_counts_concurrent_attempts_atomically(s: Stores) {
    // 40 attempts at once over three keys, none existing yet: each increments all three,
    // and refuses (writes nothing) once the first key is at 5. Nothing is lost, and
    // exactly five are admitted.
    let keys = names(["pair:eve@10.0.0.9", "user:eve", "ip:10.0.0.9"]);
    let attempts = (0..40).map(|_| {
        let s = s.clone();
        let keys = keys.clone();
        async move {
            let seen = s
                .throttle
                .modify(&keys, &|cur: &[Option<ThrottleState>]| {
                    let n = cur[0].map_or(0, |c| c.failures);
                    if n >= 5 {
                        return vec![None; 3];
                    }
                    cur.iter()
                        .map(|c| {
                            let c = c.unwrap_or_default();
                            Some(ThrottleState {
                                failures: c.failures + 1,
                                ..c
                            })
                        })
                        .collect()
                })
                .await
                .unwrap();
            seen[0].map_or(0, |c| c.failures) < 5
        }
    });
    let admitted = futures_join_all(attempts)
        .await
        .into_iter()
        .filter(|a| *a)
        .count();
    assert_eq!(admitted, 5);
    for k in &keys {
        assert_eq!(s.throttle.get(k).await.unwrap().unwrap().failures, 5, "{k}");
    }
    // Plain increments from many tasks are never lost either.
    let key = names(["ip:10.0.0.10"]);
    let bumps = (0..40).map(|_| {
        let s = s.clone();
        let key = key.clone();
        async move {
            s.throttle
                .modify(&key, &|cur: &[Option<ThrottleState>]| {
                    let c = cur[0].unwrap_or_default();
                    vec![Some(ThrottleState {
                        failures: c.failures + 1,
                        ..c
                    })]
                })
                .await
                .unwrap()
        }
    });
    futures_join_all(bumps).await;
    assert_eq!(
        s.throttle
            .get("ip:10.0.0.10")
            .await
            .unwrap()
            .unwrap()
            .failures,
        40
    );
}

pub(super) async fn audit_log(s: Stores) {
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

pub(super) async fn pending_logins(s: Stores) {
    let p = |hash: &str, expires_at| PendingLogin {
        state_hash: hash.into(),
        provider: "oidc".into(),
        pkce_verifier: "verifier".into(),
        nonce: "nonce".into(),
        c_url: "http://paas.example.com/console/?a=1&b=中".into(),
        expires_at,
        browser_hash: format!("browser-{hash}"),
        address: if hash == "s3" {
            "2001:db8::1"
        } else {
            "198.51.100.7"
        }
        .into(),
    };
    s.pending.put(&p("s1", T0 + 600_000)).await.unwrap();
    s.pending.put(&p("s2", T0 + 1)).await.unwrap();
    s.pending.put(&p("s3", T0 + 600_000)).await.unwrap();
    assert_eq!(s.pending.count(None, T0).await.unwrap(), 3);
    assert_eq!(
        s.pending.count(None, T0 + 1).await.unwrap(),
        2,
        "s2 expired"
    );
    assert_eq!(s.pending.count(Some("198.51.100.7"), T0).await.unwrap(), 2);
    assert_eq!(s.pending.count(Some("2001:db8::1"), T0).await.unwrap(), 1);
    assert_eq!(s.pending.count(Some("203.0.113.1"), T0).await.unwrap(), 0);
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
    s.pending.put(&p("s4", T0 + 5)).await.unwrap();
    s.pending.put(&p("s5", T0 + 6)).await.unwrap();
    assert_eq!(
        s.pending.purge(T0 + 5).await.unwrap(),
        1,
        "s4 expired, s5 not yet"
    );
    assert_eq!(s.pending.purge(T0 + 5).await.unwrap(), 0);
    assert_eq!(
        s.pending.count(None, T0).await.unwrap(),
        2,
        "s3 and s5 remain"
    );
    assert_eq!(s.pending.take("unknown", T0).await.unwrap(), None);
    let (a, b) = tokio::join!(s.pending.take("s3", T0), s.pending.take("s3", T0));
    assert_eq!(
        a.unwrap().is_some() as u8 + b.unwrap().is_some() as u8,
        1,
        "concurrent takers: one wins"
    );
}

pub(super) async fn external_identities(s: Stores) {
    create(&s, "erin", &[Developer]).await;
    create(&s, "frank", &[Developer]).await;
    let link = |sub: &str, user: &str| LinkedIdentity {
        provider: "corp".into(),
        subject: sub.into(),
        issuer: "https://sso.corp.example".into(),
        username: user.into(),
        created_at: T0,
    };
    assert_eq!(
        s.identities.find_subject("corp", "sub-1").await.unwrap(),
        None
    );
    s.identities.link(&link("sub-1", "erin")).await.unwrap();
    assert_eq!(
        s.identities.find_subject("corp", "sub-1").await.unwrap(),
        Some(link("sub-1", "erin"))
    );
    assert_eq!(
        s.identities.find_username("corp", "erin").await.unwrap(),
        Some(link("sub-1", "erin"))
    );
    assert_eq!(
        s.identities.find_subject("other", "sub-1").await.unwrap(),
        None
    );
    // One subject, one account; one account, one subject (per provider).
    assert_err!(
        s.identities.link(&link("sub-1", "frank")).await,
        AuthError::Forbidden(_)
    );
    assert_err!(
        s.identities.link(&link("sub-2", "erin")).await,
        AuthError::Forbidden(_)
    );
    // Another provider may link the same subject text and account.
    let mut other = link("sub-1", "erin");
    other.provider = "other".into();
    s.identities.link(&other).await.unwrap();
    // Racing first logins of two subjects for one account: exactly one wins.
    let (l3, l4) = (link("sub-3", "frank"), link("sub-4", "frank"));
    let (a, b) = tokio::join!(s.identities.link(&l3), s.identities.link(&l4));
    assert_eq!(a.is_ok() as u8 + b.is_ok() as u8, 1, "{a:?} {b:?}");
    // Deleting the user deletes its links.
    s.users.delete("erin").await.unwrap();
    assert_eq!(
        s.identities.find_subject("corp", "sub-1").await.unwrap(),
        None
    );
    assert_eq!(
        s.identities.find_subject("other", "sub-1").await.unwrap(),
        None
    );
    // Linking to an account that does not exist fails.
    assert!(s.identities.link(&link("sub-9", "nobody")).await.is_err());
}
