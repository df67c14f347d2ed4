//! Configuration layering and rejection of unknown keys, through the real binary.

use crate::support::{command, run, start};

const BK_LOGIN: &str = env!("CARGO_BIN_EXE_bk-login");

#[test]
fn unknown_keys_are_rejected_naming_the_key_and_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bk.toml");
    std::fs::write(&file, "[login]\ntoken_ttl = 5\n").unwrap();
    let mut cmd = command(BK_LOGIN, None, dir.path());
    cmd.arg("--config").arg(&file);
    let (ok, err) = run(cmd);
    assert!(!ok);
    assert!(
        err.contains("token_ttl") && err.contains("bk.toml"),
        "{err}"
    );

    let mut cmd = command(BK_LOGIN, None, dir.path());
    cmd.env("BK_LOGIN__NO_SUCH_KEY", "1");
    let (ok, err) = run(cmd);
    assert!(!ok);
    assert!(err.contains("BK_LOGIN__NO_SUCH_KEY"), "{err}");

    let mut cmd = command(BK_LOGIN, None, dir.path());
    cmd.args(["--database-url", "oracle://nope"]);
    let (ok, err) = run(cmd);
    assert!(!ok);
    assert!(err.contains("sqlite://, postgres:// or mysql://"), "{err}");
}

#[tokio::test]
async fn file_then_env_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bk.toml");
    // The file sets a short token lifetime and a cookie name; the environment overrides the name.
    std::fs::write(
        &file,
        "[login]\ntoken_ttl_secs = 120\n[login.cookie]\nname = \"from_file\"\n",
    )
    .unwrap();
    let mut cmd = command(BK_LOGIN, None, dir.path());
    cmd.arg("--config")
        .arg(&file)
        .env("BK_ADMIN_PASSWORD", "Env-Passw0rd-42");
    let bk = start(cmd);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!("{}/login/", bk.base_url))
        .send()
        .await
        .unwrap();
    let csrf = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let resp = http
        .post(format!("{}/login/", bk.base_url))
        .header("cookie", format!("bk_csrftoken={csrf}"))
        .form(&[
            ("username", "admin"),
            ("password", "Env-Passw0rd-42"),
            ("csrfmiddlewaretoken", &csrf),
        ])
        .send()
        .await
        .unwrap();
    let set = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set.starts_with("from_file=") && set.contains("Max-Age=120"),
        "{set}"
    );
}
