//! An OIDC provider's client secret given through the environment
//! (`BK_LOGIN__OIDC__<ID>__CLIENT_SECRET`, as the config doc recommends) to the real
//! `bk-login`, checked by a real provider: `oidc-provider-mock` requiring registered
//! clients, so the token exchange succeeds only with the secret it issued. The
//! `redirect_uri` comes from `server.public_url`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{command, run, start};

const BK_LOGIN: &str = env!("CARGO_BIN_EXE_bk-login");
const PUBLIC_URL: &str = "http://paas.test";
const CALLBACK: &str = "http://paas.test/login/oidc/corp/callback/";

/// `oidc-provider-mock` requiring client registration; killed when dropped.
struct Mock {
    child: Child,
    issuer: String,
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_mock() -> Mock {
    let mut child = Command::new("oidc-provider-mock")
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--require-registration",
            "true",
        ])
        .env("NO_COLOR", "1")
        .env("PYTHONWARNINGS", "ignore")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("oidc-provider-mock must be installed (pip install oidc-provider-mock)");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Keep reading to the end so the pipe never fills and blocks the mock.
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("Uvicorn running on ").nth(1) {
                let _ = tx.send(
                    rest.split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
        }
    });
    let issuer = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("oidc-provider-mock did not start within 30 s");
    Mock { child, issuer }
}

/// Register a client whose callback is under the public URL; returns (id, secret).
async fn register(mock: &Mock) -> (String, String) {
    let resp = reqwest::Client::new()
        .post(format!("{}/oauth2/clients", mock.issuer))
        .json(&serde_json::json!({"redirect_uris": [CALLBACK]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let v: serde_json::Value = resp.json().await.unwrap();
    (
        v["client_id"].as_str().unwrap().to_owned(),
        v["client_secret"].as_str().unwrap().to_owned(),
    )
}

fn config(dir: &std::path::Path, mock: &Mock, client_id: &str) -> std::path::PathBuf {
    let file = dir.join("bk.toml");
    std::fs::write(
        &file,
        format!(
            "[server]\npublic_url = \"{PUBLIC_URL}\"\n\n\
             [[login.oidc]]\nid = \"corp\"\ndisplay_name = \"Corp SSO\"\nissuer = \"{}\"\nclient_id = \"{client_id}\"\nusername_claim = \"sub\"\n",
            mock.issuer
        ),
    )
    .unwrap();
    file
}

/// One enterprise login through `base` as subject `sub`; the callback's answer.
async fn login(base: &str, sub: &str) -> reqwest::Response {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let start = browser
        .get(format!("{base}/login/oidc/corp/start/"))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 302);
    let authorize = start.headers()["location"].to_str().unwrap().to_owned();
    let redirect_uri = url_param(&authorize, "redirect_uri");
    assert_eq!(redirect_uri, CALLBACK, "built from server.public_url");
    let back = browser
        .post(&authorize)
        .form(&[("sub", sub)])
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 302, "{:?}", back.text().await);
    let location = back.headers()["location"].to_str().unwrap().to_owned();
    // `paas.test` is the public name; this test reaches the same service directly.
    let callback = location.replacen(PUBLIC_URL, base, 1);
    browser.get(&callback).send().await.unwrap()
}

fn url_param(url: &str, name: &str) -> String {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn oidc_client_secret_from_the_environment_reaches_the_provider() {
    let mock = start_mock();
    let (client_id, secret) = register(&mock).await;
    let dir = tempfile::tempdir().unwrap();
    let file = config(dir.path(), &mock, &client_id);

    // With the secret the provider issued: logged in.
    let mut cmd = command(BK_LOGIN, None, dir.path());
    cmd.arg("--config")
        .arg(&file)
        .env("BK_LOGIN__OIDC__CORP__CLIENT_SECRET", &secret);
    let bk = start(cmd);
    let done = login(&bk.base_url, "alice").await;
    assert_eq!(done.status(), 302, "{:?}", done.text().await);
    let set_cookies: Vec<&str> = done
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert!(
        set_cookies
            .iter()
            .any(|c| c.starts_with("bk_token=") && !c.starts_with("bk_token=;")),
        "{set_cookies:?}"
    );
    let logs = bk.log_lines().join("\n") + &bk.stderr_text();
    assert!(!logs.contains(&secret), "the secret is never logged");
    drop(bk);

    // With another secret the provider refuses the code exchange: the variable is what
    // the service sends.
    let mut cmd = command(BK_LOGIN, None, dir.path());
    cmd.arg("--config")
        .arg(&file)
        .env("BK_LOGIN__OIDC__CORP__CLIENT_SECRET", "not-the-secret");
    let bk = start(cmd);
    let refused = login(&bk.base_url, "alice").await;
    assert_eq!(refused.status(), 502);
    let page = refused.text().await.unwrap();
    assert!(page.contains("Corp SSO refused the login"), "{page}");
    assert!(!page.contains("not-the-secret"));
}

#[test]
fn an_environment_variable_naming_no_configured_provider_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bk.toml");
    std::fs::write(
        &file,
        "[[login.oidc]]\nid = \"corp\"\ndisplay_name = \"Corp\"\nissuer = \"https://sso.corp.example\"\nclient_id = \"bk\"\n",
    )
    .unwrap();
    let mut cmd = command(BK_LOGIN, None, dir.path());
    cmd.arg("--config")
        .arg(&file)
        .env("BK_LOGIN__OIDC__CROP__CLIENT_SECRET", "s3cret-value");
    let (ok, err) = run(cmd);
    assert!(!ok);
    assert!(
        err.contains("BK_LOGIN__OIDC__CROP__CLIENT_SECRET")
            && err.contains("no element with id \"crop\""),
        "{err}"
    );
    assert!(!err.contains("s3cret-value"), "{err}");

    // A plain-http issuer is refused at start-up, naming the provider and the setting.
    std::fs::write(
        &file,
        "[[login.oidc]]\nid = \"corp\"\ndisplay_name = \"Corp\"\nissuer = \"http://sso.corp.example\"\nclient_id = \"bk\"\n",
    )
    .unwrap();
    let mut cmd = command(BK_LOGIN, None, dir.path());
    cmd.arg("--config").arg(&file);
    let (ok, err) = run(cmd);
    assert!(!ok);
    assert!(
        err.contains("login.oidc[corp].issuer") && err.contains("must use https"),
        "{err}"
    );
}
