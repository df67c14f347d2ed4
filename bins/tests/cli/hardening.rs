//! The data directory's permissions, the CSRF key, and secrets kept out of every output
//! of the real binary, also when it fails.

use std::path::Path;

use crate::support::{command, run, start};

const BK: &str = env!("CARGO_BIN_EXE_bk");
const BK_LOGIN: &str = env!("CARGO_BIN_EXE_bk-login");

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new/data");
    let mut cmd = command(BK, Some("up"), &data);
    cmd.env("BK_ADMIN_PASSWORD", "Perm-Passw0rd-42");
    let bk = start(cmd);
    // A login writes to the database, so SQLite's -wal/-shm files exist too.
    assert!(
        crate::support::login(&bk.base_url, "admin", "Perm-Passw0rd-42")
            .await
            .is_some()
    );
    assert_eq!(mode(&data), 0o700, "data dir");
    assert_eq!(mode(&data.join("bk.db")), 0o600, "bk.db");
    for companion in ["bk.db-wal", "bk.db-shm"] {
        let p = data.join(companion);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{companion}");
        }
    }
    assert_eq!(mode(&data.join("secrets")), 0o700, "secrets/");
    assert_eq!(mode(&data.join("secrets/esb_token")), 0o600);
    assert_eq!(mode(&data.join("secrets/csrf_key")), 0o600);
    drop(bk);

    // An existing database and secrets left world-readable are tightened at start.
    use std::os::unix::fs::PermissionsExt;
    for p in ["bk.db", "secrets", "secrets/csrf_key"] {
        let mode = if p == "secrets" { 0o755 } else { 0o644 };
        std::fs::set_permissions(data.join(p), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let bk = start(command(BK, Some("up"), &data));
    assert_eq!(mode(&data.join("bk.db")), 0o600);
    assert_eq!(mode(&data.join("secrets")), 0o700);
    assert_eq!(mode(&data.join("secrets/csrf_key")), 0o600);
    drop(bk);
}

#[tokio::test]
async fn the_csrf_key_survives_restarts_and_can_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let page_cookie = |base: String| async move {
        let resp = reqwest::get(format!("{base}/login/")).await.unwrap();
        resp.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    };
    // A form from before a restart still posts after it (the key is kept on disk).
    let mut cmd = command(BK_LOGIN, None, dir.path());
    cmd.env("BK_ADMIN_PASSWORD", "Csrf-Passw0rd-42");
    let bk = start(cmd);
    let cookie = page_cookie(bk.base_url.clone()).await;
    drop(bk);
    let bk = start(command(BK_LOGIN, None, dir.path()));
    let csrf = cookie.split_once('=').unwrap().1.to_owned();
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/login/", bk.base_url))
        .header("cookie", &cookie)
        .form(&[
            ("username", "admin"),
            ("password", "Csrf-Passw0rd-42"),
            ("csrfmiddlewaretoken", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    drop(bk);

    // BK_CSRF_KEY must be long enough; the error gives its length, never its value.
    let mut cmd = command(BK_LOGIN, None, dir.path());
    cmd.env("BK_CSRF_KEY", "short-key-value");
    let (ok, err) = run(cmd);
    assert!(
        !ok && err.contains("BK_CSRF_KEY") && err.contains("32"),
        "{err}"
    );
    assert!(!err.contains("short-key-value"), "{err}");
}

/// Secrets handed to the binary in every way it takes them.
const ADMIN_PW: &str = "Root-S3cret-Value-1";
const ESB: &str = "esb-S3cret-Value-2";
const CSRF_KEY: &str = "csrf-S3cret-Value-3-0123456789abcdef";
const OIDC_SECRET: &str = "oidc-S3cret-Value-4";
const DB_PW: &str = "db-S3cret-Value-5";

fn with_secrets(dir: &Path, extra_toml: &str) -> std::process::Command {
    let file = dir.join("bk.toml");
    std::fs::write(
        &file,
        format!(
            "[[login.oidc]]\nid = \"corp\"\ndisplay_name = \"Corp\"\nissuer = \"https://sso.invalid\"\nclient_id = \"bk\"\n{extra_toml}"
        ),
    )
    .unwrap();
    let mut cmd = command(BK, Some("up"), dir);
    cmd.arg("--config")
        .arg(&file)
        .env("BK_ADMIN_PASSWORD", ADMIN_PW)
        .env("BK_ESB_TOKEN", ESB)
        .env("BK_CSRF_KEY", CSRF_KEY)
        .env("BK_LOGIN__OIDC__CORP__CLIENT_SECRET", OIDC_SECRET);
    cmd
}

fn assert_no_secret(what: &str, text: &str) {
    for s in [ADMIN_PW, ESB, CSRF_KEY, OIDC_SECRET, DB_PW] {
        assert!(!text.contains(s), "{what}: a secret was printed:\n{text}");
    }
}

#[test]
fn secrets_never_reach_stdout_or_stderr_even_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let output = |mut cmd: std::process::Command| {
        let out = cmd.output().unwrap();
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };

    // A bad config value: refused at start with the key named.
    let (ok, text) = output(with_secrets(
        dir.path(),
        "[login.cookie]\nsecure = \"sometimes\"\n",
    ));
    assert!(!ok && text.contains("login.cookie.secure"), "{text}");
    assert_no_secret("bad cookie.secure", &text);

    // A value of the wrong type in the file.
    let (ok, text) = output(with_secrets(
        dir.path(),
        "[login]\ntoken_ttl_secs = \"soon\"\n",
    ));
    assert!(!ok && text.contains("token_ttl_secs"), "{text}");
    assert_no_secret("bad type", &text);

    // An unreachable database whose URL carries a password.
    let mut cmd = with_secrets(dir.path(), "");
    cmd.args([
        "--database-url",
        &format!("postgres://bk:{DB_PW}@127.0.0.1:1/bk"),
    ])
    .env("BK_DATABASE__ACQUIRE_TIMEOUT_MS", "500");
    let (ok, text) = output(cmd);
    assert!(!ok, "{text}");
    assert_no_secret("unreachable database", &text);

    // A listen address that cannot be bound.
    let mut cmd = with_secrets(dir.path(), "");
    cmd.args(["--listen", "256.0.0.1:80"]);
    let (ok, text) = output(cmd);
    assert!(!ok, "{text}");
    assert_no_secret("bad listen address", &text);
}

#[test]
fn secrets_never_reach_the_start_up_lines() {
    let dir = tempfile::tempdir().unwrap();
    // Offline, the OIDC discovery of a provider would fail the start: run without it.
    let mut cmd = command(BK, Some("up"), dir.path());
    cmd.env("BK_ADMIN_PASSWORD", ADMIN_PW)
        .env("BK_ESB_TOKEN", ESB)
        .env("BK_CSRF_KEY", CSRF_KEY);
    let mut bk = start(cmd);
    assert!(bk.terminate().success());
    let text = format!("{}\n{}", bk.log_lines().join("\n"), bk.stderr_text());
    assert_no_secret("start-up", &text);
}
