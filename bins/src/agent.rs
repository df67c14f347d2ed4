//! `bk-agent`: the agent daemon of `bk_agent` composed into a process. Configuration
//! (`bk-agent.toml` < `BK_AGENT_*` < flags), the token (`BK_AGENT_TOKEN` or a 0600 file,
//! never logged), a first heartbeat that turns a refused id/token into a clear exit, the
//! agent API listener, and SIGTERM/SIGINT.
//!
//! **On SIGTERM the agent stops its instances** (SIGTERM → grace → SIGKILL per process
//! group, as the supervisor always does) and then exits. Unlike kubelet, which leaves
//! containers to the container runtime, a native instance's stdout/stderr and supervision
//! live in this process: an instance left behind would run unlogged and unwatched, and a
//! restarted agent could not adopt it. So a restart replaces instances cleanly: the
//! engine sees the agent's instances stop, and the restarted agent starts them again from
//! the desired state (same release, fresh ports). After SIGKILL the engine places the
//! instances elsewhere once the agent times out; whoever kills an agent with SIGKILL kills
//! its instances' process groups too (each instance runs in its own group).

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use bk_agent::daemon::{ClientError, Daemon, DaemonConfig, EngineClient, Releases, Token};
use bk_agent::{LogPolicy, LogStore, NativeConfig, NativeRunner, Supervisor, SupervisorConfig};
use bk_core::agent_proto::{Capacity, Heartbeat, PROTOCOL_VERSION};
use bk_core::config::{self, ConfigError, Override};
use bk_core::telemetry::LogConfig;
use clap::Parser;
use serde::{Deserialize, Serialize};

/// Environment variable holding the token (preferred over a file in containers).
pub const TOKEN_ENV: &str = "BK_AGENT_TOKEN";

/// Everything `bk-agent` reads (`bk-agent.toml`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    /// The agent.
    pub agent: AgentSection,
    /// Logging.
    pub log: LogConfig,
}

/// `[agent]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentSection {
    /// Base URL of the engine's agent protocol (`http://10.0.0.1:8080`).
    pub engine_url: String,
    /// This agent's id, as registered with `POST /paas/api/v1/agents/`.
    pub id: String,
    /// File holding the token (mode 0600 or stricter); `BK_AGENT_TOKEN` wins if set.
    pub token_file: String,
    /// Address of the agent's API (instance logs for the engine).
    pub listen: String,
    /// Address the router uses to reach this host's instances.
    pub host: String,
    /// URL of the agent's API as the engine reaches it; empty: `http://<host>:<port>`
    /// when listening on all addresses, else the listen address.
    pub api_url: String,
    /// Packages, releases and instance logs.
    pub data_dir: PathBuf,
    /// Range of `PORT`s handed to instances, `A-B`.
    pub ports: String,
    /// Most instances this host runs.
    pub max_instances: u32,
    /// Memory handed out to instances, bytes (0: not accounted).
    pub memory_bytes: u64,
}

impl Default for AgentSection {
    fn default() -> Self {
        Self {
            engine_url: String::new(),
            id: String::new(),
            token_file: String::new(),
            listen: "0.0.0.0:7070".into(),
            host: "127.0.0.1".into(),
            api_url: String::new(),
            data_dir: PathBuf::from("./bk-agent-data"),
            ports: "20000-29999".into(),
            max_instances: 100,
            memory_bytes: 0,
        }
    }
}

/// `BK_AGENT_*` variables that set a key directly (`BK_AGENT__KEY` works as well).
pub const ENV_ALIASES: &[(&str, &str)] = &[
    ("BK_AGENT_ENGINE_URL", "agent.engine_url"),
    ("BK_AGENT_ID", "agent.id"),
    ("BK_AGENT_TOKEN_FILE", "agent.token_file"),
    ("BK_AGENT_LISTEN", "agent.listen"),
    ("BK_AGENT_HOST", "agent.host"),
    ("BK_AGENT_API_URL", "agent.api_url"),
    ("BK_AGENT_DATA_DIR", "agent.data_dir"),
    ("BK_AGENT_PORTS", "agent.ports"),
    ("BK_AGENT_MAX_INSTANCES", "agent.max_instances"),
    ("BK_LOG_FORMAT", "log.format"),
    ("BK_LOG", "log.filter"),
];

/// `bk-agent`: run the instances the engine places on this host.
#[derive(Debug, Parser)]
#[command(
    name = "bk-agent",
    version,
    about = "Run the BK app instances of this host"
)]
pub struct AgentCli {
    /// TOML config file [env: BK_AGENT_CONFIG].
    #[arg(long, env = "BK_AGENT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Engine base URL.
    #[arg(long)]
    pub engine_url: Option<String>,
    /// This agent's registered id.
    #[arg(long)]
    pub id: Option<String>,
    /// File with the token, mode 0600 (or set BK_AGENT_TOKEN).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Address of the agent's API [default: 0.0.0.0:7070].
    #[arg(long)]
    pub listen: Option<String>,
    /// Address the router reaches instances at [default: 127.0.0.1].
    #[arg(long)]
    pub host: Option<String>,
    /// URL of the agent's API as the engine reaches it.
    #[arg(long)]
    pub api_url: Option<String>,
    /// Packages, releases and logs [default: ./bk-agent-data].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Ports for instances, `A-B` [default: 20000-29999].
    #[arg(long)]
    pub ports: Option<String>,
    /// Most instances on this host [default: 100].
    #[arg(long)]
    pub max_instances: Option<u32>,
    /// Log lines as JSON.
    #[arg(long)]
    pub log_json: bool,
}

impl AgentCli {
    /// The flags as config overrides.
    pub fn overrides(&self) -> Vec<Override> {
        let mut o = Vec::new();
        let mut s = |key: &str, v: &Option<String>, flag: &str| {
            if let Some(v) = v {
                o.push(Override::flag(key, v.as_str(), flag));
            }
        };
        s("agent.engine_url", &self.engine_url, "--engine-url");
        s("agent.id", &self.id, "--id");
        s("agent.listen", &self.listen, "--listen");
        s("agent.host", &self.host, "--host");
        s("agent.api_url", &self.api_url, "--api-url");
        s("agent.ports", &self.ports, "--ports");
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        s("agent.token_file", &path(&self.token_file), "--token-file");
        s("agent.data_dir", &path(&self.data_dir), "--data-dir");
        if let Some(n) = self.max_instances {
            o.push(Override::flag(
                "agent.max_instances",
                i64::from(n),
                "--max-instances",
            ));
        }
        if self.log_json {
            o.push(Override::flag("log.format", "json", "--log-json"));
        }
        o
    }
}

/// Load: defaults < file < environment < flags.
pub fn load(file: Option<&Path>, flags: Vec<Override>) -> Result<AgentConfig, ConfigError> {
    let mut overrides = config::env_overrides(std::env::vars(), ENV_ALIASES);
    overrides.extend(flags);
    config::load(file, &overrides)
}

/// `A-B` → `A..=B`.
pub fn parse_ports(s: &str) -> anyhow::Result<std::ops::RangeInclusive<u16>> {
    let bad = || anyhow::anyhow!("ports {s:?}: expected A-B with 1 <= A <= B <= 65535");
    let (a, b) = s.trim().split_once('-').ok_or_else(bad)?;
    let a: u16 = a.trim().parse().map_err(|_| bad())?;
    let b: u16 = b.trim().parse().map_err(|_| bad())?;
    if a == 0 || a > b {
        return Err(bad());
    }
    Ok(a..=b)
}

/// The token: `BK_AGENT_TOKEN`, else the file, which must not be readable by group or
/// others. Error texts name the file, never its content.
pub fn read_token(env: Option<String>, file: &str) -> anyhow::Result<Token> {
    if let Some(t) = env.filter(|t| !t.trim().is_empty()) {
        return Ok(Token::new(t.trim()));
    }
    if file.is_empty() {
        bail!("no token: set {TOKEN_ENV} or pass --token-file (a file of mode 0600)");
    }
    let meta = std::fs::metadata(file).with_context(|| format!("cannot read token file {file}"))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "token file {file} has mode {mode:04o}: it must be readable by its owner only \
             (chmod 600 {file})"
        );
    }
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read token file {file}"))?;
    let t = text.trim();
    if t.is_empty() {
        bail!("token file {file} is empty");
    }
    Ok(Token::new(t))
}

/// Run the agent until SIGTERM/SIGINT, then stop its instances.
pub async fn run(cfg: AgentConfig, token: Token) -> anyhow::Result<()> {
    let a = &cfg.agent;
    if a.engine_url.is_empty() {
        bail!("no engine URL: pass --engine-url (or BK_AGENT_ENGINE_URL)");
    }
    if a.id.is_empty() {
        bail!("no agent id: pass --id (or BK_AGENT_ID), as registered with the engine");
    }
    // A bad port range is refused before anything talks to the engine.
    parse_ports(&a.ports)?;
    let capacity = Capacity {
        max_instances: a.max_instances,
        memory_bytes: (a.memory_bytes > 0).then_some(a.memory_bytes),
    };

    check_credentials(a, &token, &capacity).await?;

    let listener = tokio::net::TcpListener::bind(&a.listen)
        .await
        .with_context(|| format!("cannot listen on {}", a.listen))?;
    let running = start(a, token, listener)?;
    tracing::info!(addr = %running.addr, id = %a.id, host = %a.host, api_url = %running.api_url,
        runner = %running.daemon.supervisor().runner_summary(), "listening");
    shutdown_signal().await;
    tracing::info!("stopping: instances get SIGTERM, then SIGKILL after their grace");
    running.stop().await;
    tracing::info!("stopped");
    Ok(())
}

/// An agent daemon running in this process.
pub struct RunningAgent {
    /// The daemon.
    pub daemon: Arc<Daemon>,
    /// Where its API listens.
    pub addr: SocketAddr,
    /// Its API's URL as the engine reaches it.
    pub api_url: String,
    run: tokio::task::JoinHandle<()>,
    api: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningAgent {
    /// Stop every instance (SIGTERM, grace, SIGKILL per process group), then the daemon.
    pub async fn stop(self) {
        self.daemon.stop();
        if let Err(e) = self.run.await {
            tracing::warn!(error = %e, "agent loop ended abnormally");
        }
        self.api.abort();
    }
}

/// Start the daemon of `a` (engine URL, id and data dir set) with its API on `listener`:
/// what `bk-agent` runs, and what `bk up` embeds.
pub fn start(
    a: &AgentSection,
    token: Token,
    listener: tokio::net::TcpListener,
) -> anyhow::Result<RunningAgent> {
    let ports = parse_ports(&a.ports)?;
    crate::datadir::create_private_dir(&a.data_dir)?;
    let capacity = Capacity {
        max_instances: a.max_instances,
        memory_bytes: (a.memory_bytes > 0).then_some(a.memory_bytes),
    };
    // Orphaned grandchildren of instances are reaped here, not left as zombies.
    bk_agent::runner::native::become_subreaper().ok();
    let clock = bk_core::clock::system();
    let runner = Arc::new(NativeRunner::new(NativeConfig::detect(), clock.clone()));
    let logs = LogStore::new(a.data_dir.join("logs"), LogPolicy::default())?;
    let mut sup_cfg = SupervisorConfig::new(&a.id);
    sup_cfg.ports = ports;
    let layout = Arc::new(Releases::layout(&a.data_dir));
    let sup = Supervisor::new(sup_cfg, runner, layout, logs, clock)?;

    let addr = listener.local_addr()?;
    let api_url = api_url(a, addr);
    let daemon = Daemon::new(
        DaemonConfig {
            engine_url: a.engine_url.clone(),
            id: a.id.clone(),
            token,
            host: a.host.clone(),
            api_url: Some(api_url.clone()),
            data_dir: a.data_dir.clone(),
            capacity,
        },
        sup,
    )?;
    let router = bk_agent::daemon::api::router(daemon.clone());
    let api = tokio::spawn(async move { axum::serve(listener, router).await });
    let run = tokio::spawn(daemon.clone().run());
    Ok(RunningAgent {
        daemon,
        addr,
        api_url,
        run,
        api,
    })
}

fn api_url(a: &AgentSection, addr: SocketAddr) -> String {
    if !a.api_url.is_empty() {
        a.api_url.trim_end_matches('/').to_owned()
    } else if addr.ip().is_unspecified() {
        format!("http://{}:{}", a.host, addr.port())
    } else {
        format!("http://{addr}")
    }
}

/// One heartbeat before anything starts: a refused id or token ends the process with a
/// clear message (the daemon itself would retry forever). An unreachable engine does not:
/// the daemon keeps trying, as after any engine outage.
async fn check_credentials(
    a: &AgentSection,
    token: &Token,
    capacity: &Capacity,
) -> anyhow::Result<()> {
    let client = EngineClient::new(&a.engine_url, &a.id, token.clone())?;
    let hb = Heartbeat {
        agent_version: format!("bk-agent {}", env!("CARGO_PKG_VERSION")),
        protocol: PROTOCOL_VERSION,
        host: a.host.clone(),
        api_url: None,
        capacity: capacity.clone(),
        applied_revision: 0,
        instances: Vec::new(),
    };
    match client.heartbeat(&hb).await {
        Ok(_) => Ok(()),
        Err(ClientError::Refused { status, .. }) if status == 401 || status == 403 => bail!(
            "the engine at {} refused agent {:?} (HTTP {status}): the id or the token is wrong, \
             or the agent is disabled; register it with POST /paas/api/v1/agents/ and use the \
             token it returned",
            a.engine_url,
            a.id
        ),
        Err(ClientError::Refused { status, message }) => {
            bail!(
                "the engine refused agent {:?} (HTTP {status}): {message}",
                a.id
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, "engine not reachable yet; retrying in the background");
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        AgentCli::command().debug_assert();
    }

    #[test]
    fn ports_parse_and_reject() {
        assert_eq!(parse_ports("31000-31099").unwrap(), 31000..=31099);
        for bad in ["", "5", "0-10", "10-5", "a-b", "1-70000"] {
            assert!(parse_ports(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn token_from_env_wins_and_file_mode_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("token");
        std::fs::write(&f, "s3cret-value\n").unwrap();
        let path = f.to_str().unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = read_token(None, path).unwrap_err().to_string();
        assert!(
            err.contains("mode 0644") && err.contains("chmod 600"),
            "{err}"
        );
        assert!(!err.contains("s3cret"), "{err}");
        assert_eq!(
            read_token(Some("from-env".into()), path).unwrap().expose(),
            "from-env"
        );
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_token(None, path).unwrap().expose(), "s3cret-value");
        assert!(
            read_token(None, "")
                .unwrap_err()
                .to_string()
                .contains(TOKEN_ENV)
        );
    }
}
