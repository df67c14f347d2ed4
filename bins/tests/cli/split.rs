//! Login and the engine as two processes: `bk-login` and `bk-engine`, which finds login
//! by URL and checks tokens (cached briefly) and users over login's V2 API. The `bk`
//! client logs in against login and deploys against the engine; the app serves at
//! `/t/hello/` on the engine; a logout at login is seen by the engine once its cache
//! expires.

use std::time::Duration;

use serde_json::Value;

use crate::support::{self, bk};

const ADMIN_PW: &str = "Adm1n-password-for-split";
const ESB_TOKEN: &str = "esb-token-shared-by-login-and-engine-0123456789";

async fn status(url: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bk_login_and_bk_engine_apart_the_cli_logs_in_at_one_and_deploys_to_the_other() {
    let login_dir = tempfile::tempdir().unwrap();
    let engine_dir = tempfile::tempdir().unwrap();
    let conf = tempfile::tempdir().unwrap();

    let mut cmd = support::command(env!("CARGO_BIN_EXE_bk-login"), None, login_dir.path());
    cmd.env("BK_ADMIN_PASSWORD", ADMIN_PW)
        .env("BK_ESB_TOKEN", ESB_TOKEN);
    let login = support::start(cmd);

    let mut cmd = support::command(env!("CARGO_BIN_EXE_bk-engine"), None, engine_dir.path());
    cmd.args(["--login-url", &login.base_url])
        .env("BK_ESB_TOKEN", ESB_TOKEN)
        .env("BK_LOGIN_CLIENT__CACHE_MS", "300")
        .env("BK_LOCAL_AGENT__PORTS", "35300-35399");
    let mut engine = support::start(cmd);
    let base = engine.base_url.clone();
    // The engine serves no login of its own.
    let r = reqwest::get(format!("{base}/login/")).await.unwrap();
    assert_eq!(r.status(), 404);

    let (ok, out, err) = bk(
        conf.path(),
        &[
            "login",
            "--url",
            &base,
            "--login-url",
            &login.base_url,
            "-u",
            "admin",
            "--password-stdin",
        ],
        Some(&format!("{ADMIN_PW}\n")),
    );
    assert!(ok, "{err}");
    assert!(out.contains(&base), "{out}");
    let (ok, _, err) = bk(
        conf.path(),
        &["app", "create", "hello", "--name", "Hello"],
        None,
    );
    assert!(ok, "{err}");

    // Users are looked up at login under service trust: an unknown one is refused.
    let (ok, _, err) = bk(conf.path(), &["member", "add", "hello", "nobody"], None);
    assert!(!ok);
    assert!(err.contains("nobody"), "{err}");

    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/samples/hello");
    let (ok, out, err) = bk(
        conf.path(),
        &["deploy", "hello", sample.to_str().unwrap(), "--env", "stag"],
        None,
    );
    assert!(ok, "deploy failed: {out}\n{err}");
    let r = reqwest::get(format!("{base}/t/hello/")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("hello"));

    // Tokens: a wrong one is 401; after a logout at login the engine refuses the old one
    // once its cache (300 ms here) has let go.
    let saved: Value =
        serde_json::from_slice(&std::fs::read(conf.path().join("credentials.json")).unwrap())
            .unwrap();
    let token = saved["token"].as_str().unwrap().to_owned();
    assert_eq!(saved["login_url"].as_str().unwrap(), login.base_url);
    let apps = format!("{base}/paas/api/v1/apps/");
    assert_eq!(status(&apps, &token).await, 200);
    assert_eq!(status(&apps, "not-a-token").await, 401);
    let (ok, out, err) = bk(conf.path(), &["logout"], None);
    assert!(ok && !err.contains("warning"), "{out}{err}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(status(&apps, &token).await, 401);

    assert!(engine.terminate().success());
}
