//! Writers racing on one app: the unique keys and the app's row lock decide.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

pub(super) async fn concurrent_creates_of_one_code(u: Under) {
    let s = &u.s;
    let tries = (0..4).map(|i| async move {
        s.apps
            .create(
                &new_app("race", &format!("Race {i}"), "alice"),
                &audit("race", "app.create"),
            )
            .await
    });
    let results = futures_join_all(tries).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{results:?}");
    for r in results.iter().filter(|r| r.is_err()) {
        assert!(matches!(r, Err(EngineError::Conflict(_))), "{r:?}");
    }
    assert_eq!(u.s.members.members("race").await.unwrap().len(), 1);
    assert_eq!(u.s.modules.modules("race").await.unwrap().len(), 1);
}

pub(super) async fn concurrent_removals_keep_a_developer(u: Under) {
    create(&u, "demo", "alice").await;
    u.s.members
        .add_member(&member("demo", "bob"), &audit("demo", "member.add"))
        .await
        .unwrap();
    let s = &u.s;
    let results = futures_join_all(["alice", "bob"].map(|who| async move {
        s.members
            .remove_member("demo", who, &audit("demo", "member.remove"))
            .await
    }))
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert_eq!(u.s.members.members("demo").await.unwrap().len(), 1);
}

pub(super) async fn concurrent_rotations_keep_two_live(u: Under) {
    create(&u, "demo", "alice").await;
    let s = &u.s;
    let results = futures_join_all((0..4).map(|i| async move {
        s.secrets
            .add_secret(
                "demo",
                &sealed(&i.to_string()),
                "alice",
                T0,
                &audit("demo", "secret.rotate"),
            )
            .await
    }))
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    let live =
        u.s.secrets
            .secrets("demo")
            .await
            .unwrap()
            .iter()
            .filter(|s| s.is_live())
            .count();
    assert_eq!(live, 2);
}

/// Run futures concurrently on separate tasks' worth of connections: `tokio::join!` over a
/// vector, without another dependency.
async fn futures_join_all<F, T>(futs: impl IntoIterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T>,
{
    let futs: Vec<_> = futs.into_iter().map(Box::pin).collect();
    let mut out = Vec::new();
    let mut pending: Vec<_> = futs.into_iter().map(Some).collect();
    let mut results: Vec<Option<T>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (i, slot) in pending.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        results[i] = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.extend(results.into_iter().map(|r| r.unwrap()));
    out
}
