//! `[engine.deploy]` limits through the real `bk up`: a package whose readiness probe
//! never passes ends `timed_out` when the deployment's own limit comes first, and
//! `failed` (naming the readiness limit) when that one does, each within its configured
//! time, not the defaults' minutes.

use std::time::{Duration, Instant};

use crate::support::{self, bk};

const ADMIN_PW: &str = "Adm1n-password-for-limits";

/// Start `bk up` with `env` set, log in, create `hello`, deploy `unhealthy`: (success,
/// stderr of `bk deploy`, how long it took).
fn deploy_unhealthy(env: &[(&str, &str)]) -> (bool, String, Duration) {
    let data = tempfile::tempdir().unwrap();
    let conf_root = tempfile::tempdir().unwrap();
    let conf = conf_root.path().join("bk");
    let mut cmd = support::command(env!("CARGO_BIN_EXE_bk"), Some("up"), data.path());
    cmd.env("BK_ADMIN_PASSWORD", ADMIN_PW)
        .envs(env.iter().copied());
    let server = support::start(cmd);
    let url = server.base_url.clone();
    let (ok, _, err) = bk(
        &conf,
        &["login", "--url", &url, "-u", "admin", "--password-stdin"],
        Some(&format!("{ADMIN_PW}\n")),
    );
    assert!(ok, "{err}");
    let (ok, _, err) = bk(&conf, &["app", "create", "hello", "--name", "Hello"], None);
    assert!(ok, "{err}");
    let sample =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/samples/unhealthy");
    let started = Instant::now();
    let (ok, _, err) = bk(
        &conf,
        &["deploy", "hello", sample.to_str().unwrap(), "--env", "stag"],
        None,
    );
    (ok, err, started.elapsed())
}

#[test]
fn the_deployment_limit_ends_an_unhealthy_deploy_timed_out() {
    let (ok, err, took) = deploy_unhealthy(&[
        ("BK_ENGINE__DEPLOY__TIMEOUT_SECS", "3"),
        ("BK_ENGINE__DEPLOY__READY_TIMEOUT_SECS", "600"),
        ("BK_LOCAL_AGENT__PORTS", "35100-35199"),
    ]);
    assert!(!ok, "{err}");
    assert!(err.contains("timed_out"), "{err}");
    assert!(took >= Duration::from_secs(3), "{took:?}");
    assert!(took < Duration::from_secs(20), "took {took:?}; {err}");
}

#[test]
fn the_ready_limit_fails_an_unhealthy_deploy_naming_it() {
    let (ok, err, took) = deploy_unhealthy(&[
        ("BK_ENGINE__DEPLOY__READY_TIMEOUT_SECS", "2"),
        ("BK_LOCAL_AGENT__PORTS", "35200-35299"),
    ]);
    assert!(!ok, "{err}");
    assert!(err.contains("failed"), "{err}");
    assert!(
        err.contains("not ready within 2 s"),
        "the limit named: {err}"
    );
    assert!(took >= Duration::from_secs(2), "{took:?}");
    assert!(took < Duration::from_secs(20), "took {took:?}; {err}");
}

#[test]
fn a_zero_limit_is_refused_at_start() {
    let data = tempfile::tempdir().unwrap();
    let mut cmd = support::command(env!("CARGO_BIN_EXE_bk"), Some("up"), data.path());
    cmd.env("BK_ENGINE__DEPLOY__READY_TIMEOUT_SECS", "0");
    let (ok, err) = support::run(cmd);
    assert!(!ok);
    assert!(err.contains("engine.deploy.ready_timeout_secs"), "{err}");
}
