//! A `pbkdf2_sha256` hash made by Django itself (as BK V6 stores them) is imported, logs
//! in, and is upgraded to argon2id. Django comes from PyPI: installed with pip when it is
//! missing. Without pip the test says "skipped" outside CI and fails in CI.

use std::process::Command;

use bk_auth::testing::spawn_login;
use serde_json::json;

use crate::http_support::{admin_token, client};

const MAKE_PASSWORD: &str = "\
from django.conf import settings
settings.configure(PASSWORD_HASHERS=['django.contrib.auth.hashers.PBKDF2PasswordHasher'])
from django.contrib.auth.hashers import make_password
print(make_password('V6-secret-pass'))";

fn python(args: &[&str]) -> Option<std::process::Output> {
    Command::new("python3").args(args).output().ok()
}

/// Django's hash of `V6-secret-pass`, or `None` when Django cannot be had here.
fn django_hash() -> Option<String> {
    let have = || python(&["-c", "import django"]).is_some_and(|o| o.status.success());
    if !have() {
        let installed = python(&["-m", "pip", "install", "--quiet", "Django"])
            .is_some_and(|o| o.status.success());
        if !installed || !have() {
            return None;
        }
    }
    let out = python(&["-c", MAKE_PASSWORD])?;
    assert!(
        out.status.success(),
        "make_password failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap().trim().to_owned())
}

#[tokio::test]
async fn a_hash_made_by_django_imports_logs_in_and_is_upgraded() {
    let Some(hash) = django_hash() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but Django could not be installed with pip"
        );
        eprintln!("skipped: Django not installed (and pip could not install it)");
        return;
    };
    assert!(hash.starts_with("pbkdf2_sha256$"), "{hash}");
    let svc = spawn_login().await;
    let admin = admin_token(&svc).await;
    let resp = client()
        .post(format!("{}/login/api/admin/import/", svc.base_url))
        .header("cookie", format!("bk_token={admin}"))
        .json(&json!([{"username": "v6user01", "chname": "老用户", "password_hash": hash}]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    assert!(svc.login("v6user01", "wrong-pass").await.is_none());
    assert!(
        svc.login("v6user01", "V6-secret-pass").await.is_some(),
        "Django's hash logs in"
    );
    let stored = svc
        .service
        .find_user("v6user01")
        .await
        .unwrap()
        .unwrap()
        .password_hash
        .unwrap();
    assert!(stored.starts_with("$argon2id$"), "upgraded: {stored}");
    assert!(svc.login("v6user01", "V6-secret-pass").await.is_some());
}
