//! `bk up` and `bk-login` from first start to shutdown.

use crate::support::{command, login, start};

const BK: &str = env!("CARGO_BIN_EXE_bk");
const BK_LOGIN: &str = env!("CARGO_BIN_EXE_bk-login");

#[tokio::test]
async fn first_start_prints_a_random_admin_password_once_and_stores_the_esb_token() {
    let dir = tempfile::tempdir().unwrap();
    let mut bk = start(command(BK, Some("up"), dir.path()));
    std::thread::sleep(std::time::Duration::from_millis(100));
    let err = bk.stderr_text();
    let password = err
        .lines()
        .find_map(|l| l.split("password: ").nth(1))
        .unwrap_or_else(|| panic!("admin password printed on first start: {err}"))
        .trim()
        .to_owned();
    let token = login(&bk.base_url, "admin", &password)
        .await
        .expect("printed password works");

    // The ESB token was generated, stored 0600, and grants service trust.
    let token_path = dir.path().join("secrets/esb_token");
    let esb = std::fs::read_to_string(&token_path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&token_path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let http = reqwest::Client::new();
    let b: serde_json::Value = http
        .get(format!(
            "{}/login/api/v2/get_user/?bk_username=admin",
            bk.base_url
        ))
        .header("X-APP-CODE", "esb")
        .header("X-APP-TOKEN", esb.trim())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(b["data"]["bk_role"], 1);

    // Logs are JSON lines with request ids and never carry the token or the password.
    let b: serde_json::Value = http
        .get(format!(
            "{}/login/accounts/is_login/?bk_token={token}",
            bk.base_url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(b["data"]["username"], "admin");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let logs = bk.log_lines();
    let access: Vec<serde_json::Value> = logs
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"] == "bk::access")
        .collect();
    assert!(
        access
            .iter()
            .any(|v| v["path"] == "/login/accounts/is_login/"
                && v["request_id"].as_str().unwrap().len() == 32)
    );
    let all = logs.join("\n");
    assert!(
        !all.contains(&token) && !all.contains(&password) && !all.contains(esb.trim()),
        "secrets in logs"
    );

    assert!(bk.terminate().success(), "graceful stop on SIGTERM");
    drop(bk);

    // Second start: the admin exists, nothing is printed, the same password works.
    let bk = start(command(BK, Some("up"), dir.path()));
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(!bk.stderr_text().contains("password"), "printed only once");
    assert!(login(&bk.base_url, "admin", &password).await.is_some());
}

#[tokio::test]
async fn bk_login_takes_the_admin_password_and_esb_token_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(BK_LOGIN, None, dir.path());
    cmd.env("BK_ADMIN_PASSWORD", "Env-Passw0rd-42")
        .env("BK_ESB_TOKEN", "esb-from-env-123");
    let bk = start(cmd);
    let token = login(&bk.base_url, "admin", "Env-Passw0rd-42")
        .await
        .expect("env password works");
    // Standalone: the APIs also answer without /login.
    let b: serde_json::Value = reqwest::get(format!(
        "{}/accounts/is_login/?bk_token={token}",
        bk.base_url
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(b["data"]["username"], "admin");
    let b: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{}/api/v2/get_user/?bk_username=admin",
            bk.base_url
        ))
        .header("X-APP-CODE", "esb")
        .header("X-APP-TOKEN", "esb-from-env-123")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(b["data"]["bk_username"], "admin");
    assert!(
        !dir.path().join("secrets/esb_token").exists(),
        "nothing generated when the env provides it"
    );
}
