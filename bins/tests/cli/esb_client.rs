//! The gateway of a running `bk up` against the real PyPI clients (`bkapi-component-open`
//! 2.1 over `bkapi-client-core` 1.2): an app created through the engine's developer API,
//! its secret, and a `bk_token` from login. The clients need Python with those packages
//! (`scripts/services` installs them); without them the test says so and passes, except
//! under `CI`, where it fails.

use std::process::Command;

use serde_json::{Value, json};

use crate::support::{command, login, start};

const BK: &str = env!("CARGO_BIN_EXE_bk");

fn python_with_clients() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import bkapi_component.open, bkapi_client_core"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but python3 cannot import bkapi-component-open: run scripts/services"
        );
        eprintln!("skipped: pip install bkapi-component-open (scripts/services does)");
    }
    ok
}

#[tokio::test]
async fn bkapi_component_open_gets_the_user_and_the_app_through_the_gateway() {
    if !python_with_clients() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(BK, Some("up"), dir.path());
    cmd.env("BK_ADMIN_PASSWORD", "Esb-Client-Passw0rd");
    let bk = start(cmd);
    let token = login(&bk.base_url, "admin", "Esb-Client-Passw0rd")
        .await
        .unwrap();

    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!("{}/paas/api/v1/apps/", bk.base_url))
        .bearer_auth(&token)
        .json(&json!({"code": "esb-demo", "name": "ESB demo"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["data"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"));

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli/py/esb_client.py");
    let out = Command::new("python3")
        .args([
            script,
            &bk.base_url,
            "esb-demo",
            secret,
            &token,
            "esb-demo;ghost",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();

    let u = &v["get_user_v2"];
    assert_eq!(
        (u["result"].as_bool(), u["code"].as_i64()),
        (Some(true), Some(0)),
        "{u}"
    );
    assert_eq!(u["data"]["bk_username"], "admin");
    assert_eq!(u["data"]["bk_role"], 1);
    for f in ["chname", "email", "phone"] {
        assert!(u["data"][f].is_string(), "{f}: {u}");
    }
    assert_eq!(v["get_user"]["data"]["username"], "admin");
    assert_eq!(v["get_user"]["data"]["role"], "1");
    assert_eq!(v["is_login_v2"]["data"], json!({"bk_username": "admin"}));
    assert_eq!(v["is_login"]["data"], json!({"username": "admin"}));
    assert_eq!(
        v["get_app_info"]["data"],
        json!([{"bk_app_code": "esb-demo", "bk_app_name": "ESB demo", "introduction": "", "creator": "", "developer": "admin"}])
    );
    let bad = &v["wrong_secret"];
    assert_eq!(
        (bad["result"].as_bool(), bad["code"].as_i64()),
        (Some(false), Some(1306406)),
        "{bad}"
    );

    // The secret and the token never reach the log.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let logs = bk.log_lines().join("\n");
    assert!(
        logs.contains("/api/c/compapi/v2/bk_login/get_user/"),
        "gateway calls are access-logged"
    );
    assert!(
        !logs.contains(secret) && !logs.contains(&token),
        "secrets in logs"
    );
}
