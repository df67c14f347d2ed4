//! `bk up` with `engine.deploy.backend = "agents"`: the agent protocol on the platform's
//! own listener. With the embedded agent off, a real `bk-agent` process registered by the
//! admin takes the instances of a prod deploy, served at `/o/<code>/`; with it on (the
//! default), `bk up` alone deploys to its own host through the same protocol.

use std::time::Duration;

use serde_json::Value;

use crate::agent::agent_cmd;
use crate::support::{self, bk};

const ADMIN_PW: &str = "Adm1n-password-for-agents";

fn sample() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/samples/hello")
}

/// `bk up` in agents mode with `env` on top, the CLI logged in as admin with `hello`
/// created: (server, CLI config dir, data dir).
fn up_agents(env: &[(&str, &str)]) -> (support::Running, tempfile::TempDir, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let conf = tempfile::tempdir().unwrap();
    let mut cmd = support::command(env!("CARGO_BIN_EXE_bk"), Some("up"), data.path());
    cmd.env("BK_ADMIN_PASSWORD", ADMIN_PW)
        .env("BK_ENGINE__DEPLOY__BACKEND", "agents")
        .env("BK_ENGINE__AGENTS__HEARTBEAT_MS", "200")
        .envs(env.iter().copied());
    let server = support::start(cmd);
    let (ok, _, err) = bk(
        conf.path(),
        &[
            "login",
            "--url",
            &server.base_url,
            "-u",
            "admin",
            "--password-stdin",
        ],
        Some(&format!("{ADMIN_PW}\n")),
    );
    assert!(ok, "{err}");
    let (ok, _, err) = bk(
        conf.path(),
        &["app", "create", "hello", "--name", "Hello"],
        None,
    );
    assert!(ok, "{err}");
    (server, conf, data)
}

async fn get(url: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn instances(conf: &std::path::Path, env: &str) -> Vec<Value> {
    let (ok, out, err) = bk(conf, &["ps", "hello", "--env", env, "--json"], None);
    assert!(ok, "{err}");
    let ps: Value = serde_json::from_str(&out).unwrap();
    ps.get("instances")
        .and_then(Value::as_array)
        .or(ps.as_array())
        .cloned()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bk_up_with_agents_deploys_to_a_bk_agent_process() {
    let (server, conf, data) = up_agents(&[("BK_LOCAL_AGENT__ENABLED", "false")]);
    let base = server.base_url.clone();

    // No agent yet: the deploy fails naming the missing capacity.
    let (ok, _, err) = bk(
        conf.path(),
        &[
            "deploy",
            "hello",
            sample().to_str().unwrap(),
            "--env",
            "stag",
        ],
        None,
    );
    assert!(!ok);
    assert!(err.contains("failed") && err.contains("agent"), "{err}");

    // Registered with the CLI: the token is printed once, for the agent's environment.
    let (ok, out, err) = bk(conf.path(), &["agent", "add", "host-1", "--json"], None);
    assert!(ok, "{err}");
    let reg: Value = serde_json::from_str(&out).unwrap();
    let (ok, _, err) = bk(conf.path(), &["agent", "add", "host-1"], None);
    assert!(!ok, "a second agent with the same id was registered");
    assert!(!err.is_empty());
    let agent_token = reg["token"].as_str().unwrap().to_owned();
    let mut cmd = agent_cmd(&base, "host-1", &data.path().join("host-1"), "32600-32699");
    cmd.args(["--listen", "127.0.0.1:0", "--host", "127.0.0.1"])
        .env("BK_AGENT_TOKEN", &agent_token);
    let mut agent = support::start(cmd);

    // Prod needs a deploy to stag first (the V6 guards).
    for env in ["stag", "prod"] {
        let (ok, out, err) = bk(
            conf.path(),
            &["deploy", "hello", sample().to_str().unwrap(), "--env", env],
            None,
        );
        assert!(ok, "deploy to {env} failed: {out}\n{err}");
    }
    let (status, body) = get(&format!("{base}/o/hello/")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("hello"), "{body}");
    let list = instances(conf.path(), "prod");
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["state"], "ready", "{list:?}");
    assert_eq!(list[0]["host"], "host-1", "{list:?}");
    let port = list[0]["port"].as_u64().unwrap();
    assert!((32600..=32699).contains(&port), "{list:?}");
    // stag and prod each run one instance on it.
    let (ok, out, err) = bk(conf.path(), &["agent", "list"], None);
    assert!(ok, "{err}");
    let row = out
        .lines()
        .find(|l| l.starts_with("host-1"))
        .unwrap_or_default();
    assert!(row.contains(" up ") && row.contains(" 2/100 "), "{out}");

    // The agent stops its instances on SIGTERM; bk up stops without touching them.
    assert!(agent.terminate().success());
    let gone = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/"))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .is_err();
    assert!(gone, "the instance outlived its agent");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bk_up_alone_deploys_through_its_embedded_agent() {
    let (mut server, conf, data) = up_agents(&[("BK_LOCAL_AGENT__PORTS", "32700-32799")]);
    let base = server.base_url.clone();
    let (ok, out, err) = bk(
        conf.path(),
        &[
            "deploy",
            "hello",
            sample().to_str().unwrap(),
            "--env",
            "stag",
        ],
        None,
    );
    assert!(ok, "deploy failed: {out}\n{err}");
    let (status, body) = get(&format!("{base}/t/hello/")).await;
    assert_eq!(status, 200, "{body}");
    let list = instances(conf.path(), "stag");
    assert_eq!(list[0]["host"], "local", "{list:?}");
    let port = list[0]["port"].as_u64().unwrap();
    assert!((32700..=32799).contains(&port), "{list:?}");

    // The embedded agent is listed like any other, and stops its instances with bk up.
    let token = support::login(&base, "admin", ADMIN_PW).await.unwrap();
    let agents: Value = reqwest::Client::new()
        .get(format!("{base}/paas/api/v1/agents/"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = agents["data"].as_array().unwrap();
    assert!(
        listed
            .iter()
            .any(|a| a["id"] == "local" && a["state"] == "up"),
        "{agents}"
    );
    assert!(server.terminate().success());
    let gone = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/"))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .is_err();
    assert!(gone, "the instance outlived bk up");

    // Started again over the same data: the embedded agent gets a new token (the old one
    // lived only in the stopped process) and serves what stag served.
    let mut cmd = support::command(env!("CARGO_BIN_EXE_bk"), Some("up"), data.path());
    cmd.env("BK_ENGINE__DEPLOY__BACKEND", "agents")
        .env("BK_ENGINE__AGENTS__HEARTBEAT_MS", "200")
        .env("BK_LOCAL_AGENT__PORTS", "32700-32799");
    let again = support::start(cmd);
    let url = format!("{}/t/hello/", again.base_url);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let status = reqwest::get(&url).await.map(|r| r.status().as_u16());
        if status.as_ref().is_ok_and(|s| *s == 200) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not served after a restart: {status:?}; {}",
            again.stderr_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
