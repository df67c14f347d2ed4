//! The whole deploy loop through the real binaries: `bk up` (engine + local backend + app
//! router on one listener) and the `bk` client as a developer runs it: log in, create the
//! app, deploy a directory (packed by the CLI) with progress, see it served at `/t/hello/`,
//! list its instances, read its log, and see a failing deploy reported with its reason.

use std::path::Path;

use serde_json::Value;

use crate::support::{self, bk};

const ADMIN_PW: &str = "Adm1n-password-for-deploy";

fn samples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("tests")
        .join("samples")
}

#[test]
fn a_developer_deploys_with_the_cli_and_the_app_serves_at_t() {
    let data = tempfile::tempdir().unwrap();
    let conf_root = tempfile::tempdir().unwrap();
    let conf = conf_root.path().join("bk");
    let mut cmd = support::command(env!("CARGO_BIN_EXE_bk"), Some("up"), data.path());
    // A port range of its own: another test's app on a shared port would answer this
    // one's readiness probe.
    cmd.env("BK_ADMIN_PASSWORD", ADMIN_PW)
        .env("BK_LOCAL_AGENT__PORTS", "35000-35099");
    let mut server = support::start(cmd);
    let url = server.base_url.clone();

    let (ok, _, err) = bk(
        &conf,
        &["login", "--url", &url, "-u", "admin", "--password-stdin"],
        Some(&format!("{ADMIN_PW}\n")),
    );
    assert!(ok, "{err}");
    let (ok, _, err) = bk(&conf, &["app", "create", "hello", "--name", "Hello"], None);
    assert!(ok, "{err}");

    let hello = samples().join("hello");
    let (ok, out, err) = bk(
        &conf,
        &["deploy", "hello", hello.to_str().unwrap(), "--env", "stag"],
        None,
    );
    assert!(ok, "deploy failed: {out}\n{err}");
    // Progress: numbered steps with elapsed time (the states seen; a fast deploy may pass
    // some between two reads), ending in success; the engine's log lines on stdout.
    assert!(err.contains("/7] "), "{err}");
    assert!(!out.trim().is_empty(), "no deploy log lines");
    assert!(err.contains("succeeded in"), "{err}");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let (status, body) = rt.block_on(async {
        let r = reqwest::get(format!("{url}/t/hello/")).await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    });
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("hello"), "{body}");

    let (ok, out, err) = bk(&conf, &["ps", "hello", "--json"], None);
    assert!(ok, "{err}");
    let ps: Value = serde_json::from_str(&out).unwrap();
    let instances = ps
        .get("instances")
        .and_then(Value::as_array)
        .or(ps.as_array())
        .cloned()
        .unwrap();
    assert_eq!(instances.len(), 1, "{ps}");
    assert_eq!(instances[0]["state"], "ready", "{ps}");
    let instance = instances[0]["id"].as_str().unwrap().to_owned();
    let (ok, out, _) = bk(&conf, &["ps", "hello"], None);
    assert!(ok);
    assert!(out.starts_with("INSTANCE"), "{out}");
    assert!(out.contains(&instance), "{out}");

    let (ok, _, err) = bk(&conf, &["logs", "hello", "--instance", &instance], None);
    assert!(ok, "{err}");

    // A package whose process crashes: the CLI exits non-zero with the reason, and the
    // previous release keeps serving.
    let (ok, _, err) = bk(
        &conf,
        &[
            "deploy",
            "hello",
            samples().join("crasher").to_str().unwrap(),
        ],
        None,
    );
    assert!(!ok);
    assert!(err.contains("failed"), "{err}");
    let status = rt.block_on(async {
        reqwest::get(format!("{url}/t/hello/"))
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(status, 200);

    let (ok, out, _) = bk(&conf, &["releases", "hello", "--json"], None);
    assert!(ok);
    assert!(
        !serde_json::from_str::<Value>(&out)
            .unwrap()
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Stopping the platform stops the app's processes.
    assert!(server.terminate().success());
    let status = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("http://127.0.0.1:{}/", instances[0]["port"]))
            .timeout(std::time::Duration::from_secs(2))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    });
    assert_eq!(
        status, 0,
        "the app process still answers after bk up stopped"
    );
}
