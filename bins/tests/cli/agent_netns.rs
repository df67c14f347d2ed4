//! Multi-host: the engine and two `bk-agent` processes as separate hosts. Each agent runs
//! in its own network namespace (`ip netns`), joined to the test's namespace by a veth pair
//! on a bridge (10.77.0.1/24 for the engine, 10.77.0.11 and .12 for the agents); the sample
//! app is deployed with 3 replicas, answers from the engine's namespace at
//! `<agent addr>:<port>`, and when one agent is killed (SIGKILL, with its instances) they
//! come up on the other. Needs root and `ip` (iproute2); skipped with a message otherwise.
//! Both agents use the same port range: they are different hosts.

use std::process::Command;

use bk_engine::deploy::backend::DeployBackend;

use crate::agent::agent_cmd;
use crate::agent_engine::{self, ready_on};
use crate::support::{Running, start};

fn sh(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{args:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn can_run() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let ip = Command::new("ip").arg("-V").output().is_ok();
    root && ip
}

/// The namespaces, veths and bridge of one test run; removed on drop, even after a
/// failed assertion, together with every process left in the namespaces.
struct Net {
    bridge: String,
    hosts: Vec<String>,
}

impl Net {
    fn create(n: usize) -> Net {
        let tag = std::process::id() % 1_000_000;
        let mut net = Net {
            bridge: format!("bkbr{tag}"),
            hosts: Vec::new(),
        };
        sh(&["ip", "link", "add", &net.bridge, "type", "bridge"]).unwrap();
        sh(&["ip", "addr", "add", "10.77.0.1/24", "dev", &net.bridge]).unwrap();
        sh(&["ip", "link", "set", &net.bridge, "up"]).unwrap();
        for i in 0..n {
            let ns = format!("bk{tag}h{i}");
            let (outer, inner) = (format!("bkv{tag}h{i}"), format!("bkn{tag}h{i}"));
            let addr = format!("{}/24", Net::addr(i));
            sh(&["ip", "netns", "add", &ns]).unwrap();
            net.hosts.push(ns.clone());
            sh(&[
                "ip", "link", "add", &outer, "type", "veth", "peer", "name", &inner,
            ])
            .unwrap();
            sh(&["ip", "link", "set", &inner, "netns", &ns]).unwrap();
            sh(&["ip", "link", "set", &outer, "master", &net.bridge]).unwrap();
            sh(&["ip", "link", "set", &outer, "up"]).unwrap();
            let exec = ["ip", "netns", "exec", ns.as_str(), "ip"];
            let run = |rest: &[&str]| sh(&[&exec[..], rest].concat()).unwrap();
            run(&["addr", "add", &addr, "dev", &inner]);
            run(&["link", "set", &inner, "up"]);
            // Readiness probes reach instances on loopback.
            run(&["link", "set", "lo", "up"]);
        }
        net
    }

    /// Address of host `i`.
    fn addr(i: usize) -> String {
        format!("10.77.0.{}", 11 + i)
    }

    /// SIGKILL everything in host `i`'s namespace: the agent and its instances.
    fn kill_all(&self, i: usize) {
        let out = Command::new("ip")
            .args(["netns", "pids", &self.hosts[i]])
            .output()
            .unwrap();
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            let _ = sh(&["kill", "-KILL", pid]);
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for i in 0..self.hosts.len() {
            self.kill_all(i);
            let _ = sh(&["ip", "netns", "del", &self.hosts[i]]);
        }
        let _ = sh(&["ip", "link", "del", &self.bridge]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_in_network_namespaces_serve_instances_and_fail_over() {
    if !can_run() {
        eprintln!("skipped: needs root and ip");
        return;
    }
    let net = Net::create(2);
    let tmp = tempfile::tempdir().unwrap();
    let engine = agent_engine::start(tmp.path(), "10.77.0.1:0").await;
    let ids = ["ns-a", "ns-b"];
    let mut agents: Vec<Running> = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let token = engine.register(id).await;
        let listen = format!("{}:0", Net::addr(i));
        let cmd = agent_cmd(&engine.url, id, &tmp.path().join(id), "33000-33099");
        let mut wrapped = Command::new("ip");
        wrapped
            .args([
                "netns",
                "exec",
                &net.hosts[i],
                cmd.get_program().to_str().unwrap(),
            ])
            .args(cmd.get_args())
            .args(["--listen", &listen, "--host", &Net::addr(i)])
            .env("BK_AGENT_TOKEN", &token);
        for (k, v) in cmd.get_envs() {
            if v.is_none() {
                wrapped.env_remove(k);
            }
        }
        agents.push(start(wrapped));
    }
    engine
        .until_listed("both agents up", |l| {
            l.len() == 2 && l.iter().all(|(_, s)| s == "up")
        })
        .await;

    engine.deploy(3).await;
    let seen = engine
        .until("3 ready over both hosts", |s| {
            ready_on(s, "ns-a") + ready_on(s, "ns-b") == 3
        })
        .await;
    let on_a = ready_on(&seen, "ns-a");
    assert!(on_a == 1 || on_a == 2, "spread over both hosts: {seen:?}");
    let http = reqwest::Client::new();
    for o in &seen {
        let addr = o.address.clone().unwrap();
        let host = Net::addr(if o.agent == "ns-a" { 0 } else { 1 });
        assert!(addr.starts_with(&format!("{host}:")), "{o:?}");
        let r = http
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{addr}");
    }
    // The engine reads an instance log from the agent's API across the namespaces.
    let chunk = engine
        .agents
        .read_log(&seen[0].status.id, false, 0, 4096)
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&chunk.data).contains("listening"));

    // Host A dies: the agent and its instances are SIGKILLed.
    let gone: Vec<String> = seen
        .iter()
        .filter(|o| o.agent == "ns-a")
        .map(|o| o.address.clone().unwrap())
        .collect();
    net.kill_all(0);
    let _ = agents[0].child.wait();
    let seen = engine
        .until("all 3 on ns-b", |s| ready_on(s, "ns-b") == 3)
        .await;
    for o in seen.iter().filter(|o| o.agent == "ns-b") {
        let addr = o.address.clone().unwrap();
        assert!(addr.starts_with("10.77.0.12:"), "{o:?}");
        let r = http
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{addr}");
    }
    for addr in gone {
        assert!(
            http.get(format!("http://{addr}/healthz"))
                .send()
                .await
                .is_err(),
            "{addr} still answers after host A was killed"
        );
    }
    engine
        .until_listed("ns-a down", |l| {
            l.iter().any(|(id, s)| id == "ns-a" && s == "down")
        })
        .await;
    // B stops cleanly on SIGTERM.
    assert!(agents[1].terminate().success());
    drop(net);
}
