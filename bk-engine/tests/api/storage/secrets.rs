//! App secrets: sealed rows, one or two live, ids never reused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

pub(super) async fn secrets_one_or_two_live(u: Under) {
    create(&u, "demo", "alice").await;
    let a = audit("demo", "secret.rotate");
    let s2 =
        u.s.secrets
            .add_secret("demo", &sealed("two"), "bob", T0 + 1, &a)
            .await
            .unwrap();
    assert_eq!(
        (s2.id, s2.created_by.as_str(), s2.revoked_at),
        (2, "bob", None)
    );
    assert_err!(
        u.s.secrets.add_secret("demo", &sealed("three"), "bob", T0, &a).await,
        EngineError::Conflict(m) if m.contains("revoke the older one (id 1)")
    );
    u.s.secrets
        .revoke_secret("demo", 1, T0 + 2, &audit("demo", "secret.revoke"))
        .await
        .unwrap();
    assert_err!(
        u.s.secrets.revoke_secret("demo", 2, T0, &audit("demo", "secret.revoke")).await,
        EngineError::Conflict(m) if m.contains("only live secret")
    );
    assert_err!(
        u.s.secrets
            .revoke_secret("demo", 1, T0, &audit("demo", "secret.revoke"))
            .await,
        EngineError::NotFound(_)
    );
    assert_err!(
        u.s.secrets
            .revoke_secret("demo", 9, T0, &audit("demo", "secret.revoke"))
            .await,
        EngineError::NotFound(_)
    );
    let s3 =
        u.s.secrets
            .add_secret("demo", &sealed("three"), "bob", T0 + 3, &a)
            .await
            .unwrap();
    assert_eq!(s3.id, 3, "ids are never reused");
    let all = u.s.secrets.secrets("demo").await.unwrap();
    let ids: Vec<(i64, bool)> = all.iter().map(|s| (s.id, s.is_live())).collect();
    assert_eq!(ids, vec![(3, true), (2, true), (1, false)]);
    assert_eq!(all[2].revoked_at, Some(T0 + 2));
    assert_eq!(all[0].sealed, sealed("three"));
    assert_err!(
        u.s.secrets
            .add_secret("nope", &sealed("x"), "bob", T0, &a)
            .await,
        EngineError::NotFound(_)
    );
}
