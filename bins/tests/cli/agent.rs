//! The real `bk-agent` binary against the engine's agents backend over HTTP: it comes
//! `up` with its token, runs the instances placed on it, stops them on SIGTERM; a wrong
//! token ends it with a clear message that does not echo the token; a token file others
//! can read is refused.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use bk_engine::deploy::backend::DeployBackend;

use crate::agent_engine::{self, ready_on};
use crate::support::{run, start};

pub const BK_AGENT: &str = env!("CARGO_BIN_EXE_bk-agent");

/// `bk-agent` with the flags of a test, no `BK_*` from the caller's environment.
pub fn agent_cmd(engine: &str, id: &str, dir: &Path, ports: &str) -> Command {
    let mut c = Command::new(BK_AGENT);
    for (k, _) in std::env::vars() {
        if k.starts_with("BK_") {
            c.env_remove(k);
        }
    }
    c.args(["--engine-url", engine, "--id", id, "--log-json"])
        .args(["--ports", ports])
        .arg("--data-dir")
        .arg(dir);
    c
}

fn token_file(dir: &Path, token: &str, mode: u32) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let f = dir.join("token");
    std::fs::write(&f, token).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
    f.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_binary_comes_up_runs_instances_and_stops_them_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = agent_engine::start(tmp.path(), "127.0.0.1:0").await;
    let token = engine.register("bin-a").await;
    let file = token_file(&tmp.path().join("etc"), &token, 0o600);

    let mut cmd = agent_cmd(&engine.url, "bin-a", &tmp.path().join("a"), "32400-32499");
    cmd.args([
        "--listen",
        "127.0.0.1:0",
        "--host",
        "127.0.0.1",
        "--token-file",
        &file,
    ]);
    let mut agent = start(cmd);
    engine
        .until_listed("bin-a up", |l| {
            l.iter().any(|(id, s)| id == "bin-a" && s == "up")
        })
        .await;

    engine.deploy(2).await;
    let seen = engine
        .until("2 ready on bin-a", |s| ready_on(s, "bin-a") == 2)
        .await;
    let http = reqwest::Client::new();
    for o in &seen {
        let addr = o.address.clone().unwrap();
        let r = http
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{addr}");
    }
    // The instance log through the agent's API (the engine key from the heartbeat reply).
    let chunk = engine
        .agents
        .read_log(&seen[0].status.id, false, 0, 4096)
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&chunk.data).contains("listening"),
        "{chunk:?}"
    );

    // SIGTERM: the agent stops its instances, then exits 0.
    let status = agent.terminate();
    assert!(status.success(), "{status:?}");
    for o in &seen {
        let addr = o.address.clone().unwrap();
        assert!(
            http.get(format!("http://{addr}/healthz"))
                .send()
                .await
                .is_err(),
            "instance at {addr} still answers after the agent stopped"
        );
    }
    let logs = agent.log_lines().join("\n");
    assert!(!logs.contains(&token), "token in the log");
    assert!(logs.contains("\"stopped\""), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_exits_non_zero_without_echoing_it_and_open_token_files_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = agent_engine::start(tmp.path(), "127.0.0.1:0").await;
    let token = engine.register("bin-b").await;

    let wrong = "wrong-token-0123456789abcdef";
    let mut cmd = agent_cmd(&engine.url, "bin-b", &tmp.path().join("b"), "32500-32599");
    cmd.args(["--listen", "127.0.0.1:0"])
        .env("BK_AGENT_TOKEN", wrong);
    let (ok, err) = tokio::task::spawn_blocking(move || run(cmd)).await.unwrap();
    assert!(!ok, "a wrong token must end the agent");
    assert!(
        err.contains("refused agent \"bin-b\"") && err.contains("token"),
        "{err}"
    );
    assert!(!err.contains(wrong), "token echoed: {err}");

    // A token file readable by others: refused before anything else, content not shown.
    let file = token_file(&tmp.path().join("etc"), &token, 0o644);
    let mut cmd = agent_cmd(&engine.url, "bin-b", &tmp.path().join("b"), "32500-32599");
    cmd.args(["--listen", "127.0.0.1:0", "--token-file", &file]);
    let (ok, err) = tokio::task::spawn_blocking(move || run(cmd)).await.unwrap();
    assert!(!ok);
    assert!(
        err.contains("mode 0644") && err.contains("chmod 600"),
        "{err}"
    );
    assert!(!err.contains(&token), "token echoed: {err}");

    // No token at all: says how to give one.
    let mut cmd = agent_cmd(&engine.url, "bin-b", &tmp.path().join("b"), "32500-32599");
    cmd.args(["--listen", "127.0.0.1:0"]);
    let (ok, err) = tokio::task::spawn_blocking(move || run(cmd)).await.unwrap();
    assert!(!ok);
    assert!(
        err.contains("BK_AGENT_TOKEN") && err.contains("--token-file"),
        "{err}"
    );

    // The agent never became live.
    let list = engine.agents.list(&agent_engine::admin()).await.unwrap();
    assert!(list.iter().all(|v| v.state != "up"), "{list:?}");
}
