//! Brute force: growing delays, a temporary lock visible to admins, lifted by time or
//! by an admin. Time is a manual clock, so nothing sleeps.

use bk_auth::testing::{self, spawn_login_with, test_config};
use bk_core::clock::ManualClock;
use serde_json::json;

use crate::http_support::{admin_token, client, get_json};

#[tokio::test]
async fn failures_delay_then_lock_and_admin_sees_and_lifts_it() {
    let clock = ManualClock::new(1_800_000_000_000);
    let svc = spawn_login_with(test_config(), clock.clone()).await;
    let admin = admin_token(&svc).await;
    // Three free failures, then each attempt must wait.
    for _ in 0..3 {
        assert!(svc.login("admin", "bad-guess").await.is_none());
    }
    assert!(svc.login("admin", "bad-guess").await.is_none());
    // Now blocked for 1 s: even the right password is refused until it passes.
    assert!(
        svc.login("admin", testing::ADMIN_PASSWORD).await.is_none(),
        "blocked"
    );
    clock.advance_secs(2);
    assert!(
        svc.login("admin", testing::ADMIN_PASSWORD).await.is_some(),
        "allowed after the delay"
    );

    // Reach the lock: 10 failures in the window, waiting out each delay.
    for _ in 0..10 {
        assert!(svc.login("admin", "bad-guess").await.is_none());
        clock.advance_secs(61);
    }
    clock.advance_secs(-61);
    let page = client()
        .get(format!("{}/login/", svc.base_url))
        .send()
        .await
        .unwrap();
    let csrf = testing::cookie(&page, "bk_csrftoken").unwrap();
    let resp = client()
        .post(format!("{}/login/", svc.base_url))
        .header("cookie", format!("bk_csrftoken={csrf}"))
        .form(&[
            ("username", "admin"),
            ("password", testing::ADMIN_PASSWORD),
            ("csrfmiddlewaretoken", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.text().await.unwrap().contains("Try again in"));

    let (s, b) = get_json(
        &format!("{}/login/api/admin/locks/", svc.base_url),
        Some(&admin),
    )
    .await;
    assert_eq!(s, 200);
    let lock = b["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["key"] == "user:admin")
        .expect("lock listed")
        .clone();
    assert_eq!(lock["locked"], json!(true));
    assert!(lock["until"].as_i64().unwrap() > 1_800_000_000_000);

    let del = client()
        .delete(format!(
            "{}/login/api/admin/locks/user:admin/",
            svc.base_url
        ))
        .header("cookie", format!("bk_token={admin}"))
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 200);
    // The address still carries failures, but far below its (5x) limit.
    assert!(svc.login("admin", testing::ADMIN_PASSWORD).await.is_some());
}

#[tokio::test]
async fn tokens_expire_and_idle_out() {
    let clock = ManualClock::new(1_800_000_000_000);
    let mut cfg = test_config();
    cfg.token_ttl_secs = 3600;
    cfg.idle_timeout_secs = 600;
    let svc = spawn_login_with(cfg, clock.clone()).await;
    let t = svc.login("admin", testing::ADMIN_PASSWORD).await.unwrap();
    clock.advance_secs(500);
    assert!(svc.service.is_login(&t).await.unwrap().is_some());
    clock.advance_secs(500);
    assert!(
        svc.service.is_login(&t).await.unwrap().is_some(),
        "use keeps it alive"
    );
    clock.advance_secs(700);
    assert!(
        svc.service.is_login(&t).await.unwrap().is_none(),
        "idle timeout"
    );
    let t = svc.login("admin", testing::ADMIN_PASSWORD).await.unwrap();
    for _ in 0..8 {
        clock.advance_secs(500);
        let _ = svc.service.is_login(&t).await.unwrap();
    }
    assert!(
        svc.service.is_login(&t).await.unwrap().is_none(),
        "hard lifetime"
    );
    // Expired sessions are purged from storage.
    assert!(svc.service.purge().await.unwrap() >= 2);
}
