use std::time::Duration;

use bk_core::clock::ManualClock;

use super::*;
use crate::router::table::Env;

fn pool(weights: &[u32]) -> Pool {
    let meta = Arc::new(RouteMeta::new("demo", "default", Env::Prod));
    Pool::new(
        weights
            .iter()
            .enumerate()
            .map(|(i, &weight)| Live {
                state: Arc::new(BackendState::new(
                    &format!("i{i}"),
                    format!("127.0.0.1:{}", 9000 + i).parse().unwrap(),
                    Arc::clone(&meta),
                )),
                weight,
            })
            .collect(),
    )
}

fn id(g: &InFlight) -> &str {
    &g.backend.instance
}

#[test]
fn idle_instances_take_turns() {
    let p = pool(&[1, 1, 1]);
    let clock = ManualClock::new(0);
    let picked: Vec<String> = (0..6)
        .map(|_| id(&p.pick(&[], &*clock).unwrap()).to_owned())
        .collect();
    assert_eq!(picked, ["i0", "i1", "i2", "i0", "i1", "i2"]);
}

#[test]
fn the_least_loaded_instance_is_chosen() {
    let p = pool(&[1, 1, 1]);
    let clock = ManualClock::new(0);
    let held: Vec<InFlight> = (0..3).map(|_| p.pick(&[], &*clock).unwrap()).collect();
    let mut ids: Vec<&str> = held.iter().map(id).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        ["i0", "i1", "i2"],
        "three requests in flight spread over three"
    );
    // i1 finishes: the next request goes there, whatever the rotation says.
    let held: Vec<InFlight> = held.into_iter().filter(|g| id(g) != "i1").collect();
    for _ in 0..3 {
        let g = p.pick(&[], &*clock).unwrap();
        assert_eq!(id(&g), "i1");
    }
    assert_eq!(held.len(), 2);
    assert_eq!(p.backends[0].state.in_flight(), 1);
    drop(held);
    assert_eq!(p.backends[0].state.in_flight(), 0);
}

#[test]
fn weights_scale_the_share_and_zero_weight_is_out() {
    let p = pool(&[2, 1, 0]);
    let clock = ManualClock::new(0);
    let held: Vec<InFlight> = (0..3).map(|_| p.pick(&[], &*clock).unwrap()).collect();
    let on = |name: &str| held.iter().filter(|g| id(g) == name).count();
    assert_eq!((on("i0"), on("i1"), on("i2")), (2, 1, 0));
    assert!(pool(&[0]).pick(&[], &*clock).is_none());
    assert!(pool(&[]).pick(&[], &*clock).is_none());
}

#[test]
fn failed_instances_are_avoided_and_rest_after_a_connect_failure() {
    let p = pool(&[1, 1]);
    let clock = ManualClock::new(10_000);
    let first = p.pick(&[], &*clock).unwrap();
    let failed = Arc::clone(&first.backend);
    drop(first);
    // This request already failed on `failed`: never again for it.
    for _ in 0..4 {
        let g = p.pick(std::slice::from_ref(&failed), &*clock).unwrap();
        assert!(!Arc::ptr_eq(&g.backend, &failed));
    }
    // Marked down: other requests skip it until the time passes...
    failed.mark_down(&*clock, 2_000);
    for _ in 0..4 {
        assert!(!Arc::ptr_eq(
            &p.pick(&[], &*clock).unwrap().backend,
            &failed
        ));
    }
    clock.advance_ms(2_001);
    let chosen: Vec<bool> = (0..4)
        .map(|_| Arc::ptr_eq(&p.pick(&[], &*clock).unwrap().backend, &failed))
        .collect();
    assert!(
        chosen.contains(&true),
        "back in rotation after the ejection"
    );
    // ...and a down instance is still used when it is the only one left.
    let single = pool(&[1]);
    single.backends[0].state.mark_down(&*clock, 60_000);
    assert!(single.pick(&[], &*clock).is_some());
}

#[tokio::test]
async fn drain_waits_for_requests_in_flight() {
    let p = pool(&[1, 1]);
    let clock = ManualClock::new(0);
    let g = p.pick(&[], &*clock).unwrap();
    let b = Arc::clone(&g.backend);
    let waiter = {
        let b = Arc::clone(&b);
        tokio::spawn(async move { b.drain(Duration::from_secs(30)).await })
    };
    // Draining: no new request goes there while the old one runs.
    tokio::task::yield_now().await;
    while !b.draining.load(Ordering::SeqCst) {
        tokio::task::yield_now().await;
    }
    for _ in 0..4 {
        assert!(!Arc::ptr_eq(&p.pick(&[], &*clock).unwrap().backend, &b));
    }
    assert!(!waiter.is_finished());
    drop(g);
    assert_eq!(waiter.await.unwrap(), Ok(()));
    // A deadline ends the wait with the count still open.
    let g = p.pick(&[], &*clock).unwrap();
    assert_eq!(g.backend.drain(Duration::from_millis(10)).await, Err(1));
    // Both drained: nothing is left to choose.
    assert!(p.pick(&[], &*clock).is_none());
}
