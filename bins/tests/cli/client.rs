//! The client commands (`bk login`, `bk app`, `bk env`, `bk member`, `bk logout`) against a
//! real `bk up`, as a script would run them: password on stdin, credentials in a private
//! config dir, `--json` output parsed.

use serde_json::Value;

use crate::support::{self, bk};

const ADMIN_PW: &str = "Adm1n-password-for-cli";

#[test]
fn a_script_logs_in_creates_an_app_sets_vars_and_logs_out() {
    let data = tempfile::tempdir().unwrap();
    let conf = tempfile::tempdir().unwrap();
    let conf = conf.path().join("bk");
    let mut cmd = support::command(env!("CARGO_BIN_EXE_bk"), Some("up"), data.path());
    cmd.env("BK_ADMIN_PASSWORD", ADMIN_PW);
    let server = support::start(cmd);
    let url = server.base_url.clone();

    // Not logged in: the error says what to do.
    let (ok, _, err) = bk(&conf, &["app", "list"], None);
    assert!(!ok);
    assert!(err.contains("bk login"), "{err}");

    // A wrong password fails in the platform's words, and saves nothing.
    let (ok, _, err) = bk(
        &conf,
        &["login", "--url", &url, "-u", "admin", "--password-stdin"],
        Some("wrong-password\n"),
    );
    assert!(!ok, "{err}");
    assert!(!conf.join("credentials.json").exists());

    let (ok, out, err) = bk(
        &conf,
        &["login", "--url", &url, "-u", "admin", "--password-stdin"],
        Some(&format!("{ADMIN_PW}\n")),
    );
    assert!(ok, "{err}");
    assert!(out.contains("as admin"), "{out}");
    let saved: Value =
        serde_json::from_slice(&std::fs::read(conf.join("credentials.json")).unwrap()).unwrap();
    let token = saved["token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 20);
    assert!(!out.contains(&token) && !err.contains(&token));

    let (ok, out, err) = bk(
        &conf,
        &[
            "app",
            "create",
            "demo",
            "--name",
            "Demo",
            "--language",
            "Python",
        ],
        None,
    );
    assert!(ok, "{err}");
    assert!(out.contains("App secret"), "{out}");
    // A bad code is refused with the server's message.
    let (ok, _, err) = bk(&conf, &["app", "create", "Bad_Code", "--name", "X"], None);
    assert!(!ok);
    assert!(err.contains("code"), "{err}");

    let (ok, out, _) = bk(&conf, &["app", "list", "--json"], None);
    assert!(ok);
    let apps: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(apps.as_array().unwrap().len(), 1);
    assert_eq!(apps[0]["code"], "demo");
    let (ok, out, _) = bk(&conf, &["app", "list"], None);
    assert!(ok);
    assert!(out.lines().next().unwrap().starts_with("CODE"), "{out}");
    assert!(out.contains("demo") && out.contains("Demo"), "{out}");

    let (ok, _, err) = bk(
        &conf,
        &[
            "env", "set", "demo", "FOO=bar", "URL=a=b", "--scope", "stag",
        ],
        None,
    );
    assert!(ok, "{err}");
    let (ok, out, _) = bk(&conf, &["env", "list", "demo", "--json"], None);
    assert!(ok);
    let vars: Value = serde_json::from_str(&out).unwrap();
    let mut got: Vec<(String, String, String)> = vars
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["key"].as_str().unwrap().to_owned(),
                v["value"].as_str().unwrap().to_owned(),
                v["scope"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("FOO".into(), "bar".into(), "stag".into()),
            ("URL".into(), "a=b".into(), "stag".into())
        ]
    );
    let (ok, _, err) = bk(&conf, &["env", "set", "demo", "lower=1"], None);
    assert!(!ok);
    assert!(err.to_lowercase().contains("key"), "{err}");
    let (ok, _, err) = bk(
        &conf,
        &["env", "unset", "demo", "FOO", "--scope", "stag"],
        None,
    );
    assert!(ok, "{err}");
    let (_, out, _) = bk(&conf, &["env", "list", "demo", "--json"], None);
    assert_eq!(
        serde_json::from_str::<Value>(&out)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let (ok, out, _) = bk(&conf, &["member", "list", "demo", "--json"], None);
    assert!(ok);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()[0]["username"],
        "admin"
    );
    let (ok, out, _) = bk(&conf, &["app", "info", "demo"], None);
    assert!(ok);
    assert!(out.contains("default") && out.contains("admin"), "{out}");

    // Logout revokes the token on the server, not only locally.
    let (ok, out, _) = bk(&conf, &["logout"], None);
    assert!(ok);
    assert!(out.contains("Logged out"), "{out}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{url}/paas/api/v1/apps/"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(status, 401);
    let (ok, _, err) = bk(&conf, &["app", "list"], None);
    assert!(!ok);
    assert!(err.contains("bk login"), "{err}");
    drop(server);
}
