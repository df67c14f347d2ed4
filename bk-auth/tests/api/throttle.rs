//! Brute force: growing delays, a temporary lock visible to admins, lifted by time or
//! by an admin; attempts counted before the password is checked, so parallel requests
//! cannot outrun the limit; an attacked account or address never locks out people who
//! have not been failing. Time is a manual clock, so nothing sleeps.

use std::sync::Arc;

use bk_auth::error::AuthError;
use bk_auth::model::{AuditQuery, LoginResult};
use bk_auth::service::{Caller, ClientInfo, LoginService};
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
        .find(|l| l["key"] == "pair:admin@127.0.0.1")
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
    // Lifting the account lifts its pairs; the address is known to admin anyway.
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

fn from(address: &str) -> ClientInfo {
    ClientInfo {
        address: address.into(),
        user_agent: "attack/1".into(),
    }
}

async fn as_admin(svc: &LoginService) -> Caller {
    let token = svc
        .login_password("admin", testing::ADMIN_PASSWORD, &from("192.0.2.250"))
        .await
        .unwrap()
        .token;
    svc.caller(Some(&token)).await.unwrap()
}

/// How many attempts on `username` ended with `result` (the audit log writes
/// `bad_credentials` only after a password was checked).
async fn audited(svc: &LoginService, admin: &Caller, username: &str, result: LoginResult) -> u64 {
    let q = AuditQuery {
        username: Some(username.into()),
        result: Some(result),
        page: 1,
        page_size: 1000,
        ..AuditQuery::default()
    };
    svc.audit_log(admin, &q).await.unwrap().count
}

async fn make_user(svc: &LoginService, admin: &Caller, name: &str, password: &str) {
    svc.create_user(
        admin,
        bk_auth::service::CreateUser {
            username: name.into(),
            password: Some(password.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

/// Run `n` logins at once; `right` says which one carries the right password.
async fn storm(
    svc: &Arc<LoginService>,
    user: &str,
    password: &str,
    n: usize,
    right: Option<usize>,
    address: &str,
) -> Vec<Result<String, AuthError>> {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        let svc = svc.clone();
        let (user, address) = (user.to_owned(), address.to_owned());
        let pw = if Some(i) == right {
            password.to_owned()
        } else {
            format!("wrong-{i}")
        };
        set.spawn(async move {
            svc.login_password(&user, &pw, &from(&address))
                .await
                .map(|i| i.token)
        });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_attempts_cannot_outrun_the_limit() {
    let clock = ManualClock::new(1_800_000_000_000);
    let t = spawn_login_with(test_config(), clock.clone()).await;
    let svc = &t.service;
    let admin = as_admin(svc).await;
    make_user(svc, &admin, "victim01", "Right-pass-1").await;

    // 40 wrong passwords at once from one client: only free_failures + 1 = 4 are checked
    // (the fourth sets the first delay), the others are refused unchecked.
    let out = storm(svc, "victim01", "", 40, None, "198.51.100.7").await;
    let locked = out
        .iter()
        .filter(|r| matches!(r, Err(AuthError::Locked { .. })))
        .count();
    let checked = audited(svc, &admin, "victim01", LoginResult::BadCredentials).await;
    assert_eq!(checked, 4, "passwords checked");
    assert_eq!(locked, 36);
    assert_eq!(
        audited(svc, &admin, "victim01", LoginResult::Throttled).await,
        36
    );
    // Past the limit, 39 wrong and the right one at once: none is checked, none logs in.
    let out = storm(
        svc,
        "victim01",
        "Right-pass-1",
        40,
        Some(39),
        "198.51.100.7",
    )
    .await;
    assert!(
        out.iter()
            .all(|r| matches!(r, Err(AuthError::Locked { .. }))),
        "{out:?}"
    );
    assert_eq!(
        audited(svc, &admin, "victim01", LoginResult::BadCredentials).await,
        4
    );
    assert_eq!(
        audited(svc, &admin, "victim01", LoginResult::Success).await,
        0
    );

    // From a fresh client and a fresh account, 39 wrong + the right one at once: at most
    // four are checked, whichever of them wins.
    make_user(svc, &admin, "victim02", "Right-pass-2").await;
    let out = storm(
        svc,
        "victim02",
        "Right-pass-2",
        40,
        Some(39),
        "198.51.100.8",
    )
    .await;
    let ok = out.iter().filter(|r| r.is_ok()).count();
    let checked = audited(svc, &admin, "victim02", LoginResult::BadCredentials).await;
    assert!(
        checked + ok as u64 <= 4,
        "checked {checked}, logged in {ok}"
    );
    assert!(ok <= 1);
}

#[tokio::test]
async fn an_attacked_account_never_locks_out_its_owner() {
    let clock = ManualClock::new(1_800_000_000_000);
    let t = spawn_login_with(test_config(), clock.clone()).await;
    let svc = &t.service;
    let admin = as_admin(svc).await;
    make_user(svc, &admin, "owner001", "Owner-pass-1").await;
    // Twelve attackers, each failing until its own pair locks (delays waited out).
    for a in 0..12 {
        for _ in 0..10 {
            let r = svc
                .login_password("owner001", "guess", &from(&format!("203.0.113.{a}")))
                .await;
            assert!(r.is_err());
            clock.advance_secs(61);
        }
    }
    clock.advance_secs(-61);
    // Every attacker is locked; the account delays clients that have failed on it...
    let r = svc
        .login_password("owner001", "Owner-pass-1", &from("203.0.113.11"))
        .await;
    assert!(matches!(r, Err(AuthError::Locked { .. })), "{r:?}");
    // ...but its owner, on a client that has not been failing, logs in at once.
    svc.login_password("owner001", "Owner-pass-1", &from("192.0.2.10"))
        .await
        .expect("the owner is never locked out");
    // The built-in admin likewise.
    for _ in 0..15 {
        let _ = svc
            .login_password("admin", "guess", &from("203.0.113.99"))
            .await;
    }
    svc.login_password("admin", testing::ADMIN_PASSWORD, &from("192.0.2.11"))
        .await
        .expect("admin is never locked out");
    let blocks = svc.blocks(&admin).await.unwrap();
    assert!(
        blocks
            .iter()
            .any(|b| b.key == "pair:owner001@203.0.113.11" && b.locked),
        "{blocks:?}"
    );
    assert!(
        !blocks
            .iter()
            .any(|b| b.key.starts_with("user:") && b.locked),
        "accounts are delayed, never locked: {blocks:?}"
    );
}

#[tokio::test]
async fn failures_from_an_address_slow_only_strangers_there() {
    let clock = ManualClock::new(1_800_000_000_000);
    let t = spawn_login_with(test_config(), clock.clone()).await;
    let svc = &t.service;
    let admin = as_admin(svc).await;
    make_user(svc, &admin, "regular1", "Steady-pass-1").await;
    make_user(svc, &admin, "newcomer", "Fresh-pass-1").await;
    let office = "10.20.30.40";
    // A colleague logged in from the office before.
    svc.login_password("regular1", "Steady-pass-1", &from(office))
        .await
        .unwrap();
    // 64 anonymous failures from the office, on names that do not exist.
    for i in 0..64 {
        let _ = svc
            .login_password(&format!("ghost{i:03}"), "guess", &from(office))
            .await;
    }
    // The colleague still logs in from there at once.
    svc.login_password("regular1", "Steady-pass-1", &from(office))
        .await
        .expect("a known client is not slowed by others' failures");
    // Someone who never logged in from there is slowed down, not locked...
    let r = svc
        .login_password("newcomer", "Fresh-pass-1", &from(office))
        .await;
    let Err(AuthError::Locked { retry_after_secs }) = r else {
        panic!("expected a delay, got {r:?}");
    };
    assert!(
        retry_after_secs <= 60,
        "a delay, never a lock: {retry_after_secs}"
    );
    // ...and gets in once it has passed; from elsewhere, at once.
    svc.login_password("newcomer", "Fresh-pass-1", &from("10.99.0.1"))
        .await
        .unwrap();
    clock.advance_secs(retry_after_secs);
    svc.login_password("newcomer", "Fresh-pass-1", &from(office))
        .await
        .expect("after the delay");
    let blocks = svc.blocks(&admin).await.unwrap();
    assert!(blocks.iter().all(|b| !b.locked), "{blocks:?}");
}
