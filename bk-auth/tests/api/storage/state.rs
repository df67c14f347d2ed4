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

pub(super) async fn sessions(s: Stores) {
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

pub(super) async fn session_purge(s: Stores) {
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

pub(super) async fn throttle(s: Stores) {
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
