//! The agent daemon: the loop that ties the supervisor to an engine.
//!
//! - **Heartbeat** every interval the engine asks for, and at once when an instance changes
//!   state: version, protocol, host, API URL, capacity, applied revision, every status.
//! - **Desired state** by long poll from the last applied revision; for each assignment the
//!   release is made present (package fetched by digest into `packages/`, its SHA-256 and
//!   size checked, unpacked with `bk_core::archive` into the release directory through a
//!   temporary directory and a rename), then the supervisor converges (tasks run once).
//! - **Outages**: calls back off (1 s doubling to 10 s); running instances are left alone,
//!   so an engine restart changes nothing on the host.
//!
//! The agent's own API ([`api`]) serves instance logs to the engine.

pub mod api;
mod client;
mod releases;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bk_core::agent_proto::{Capacity, DesiredState, Heartbeat, InstanceKind, PROTOCOL_VERSION};
use tokio::sync::{Notify, RwLock};

pub use client::{ClientError, EngineClient};
pub use releases::Releases;

use crate::Supervisor;

/// The agent's token: `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wrap a token.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The token itself, for the header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// Settings of a daemon.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    /// Base URL of the engine.
    pub engine_url: String,
    /// This agent's registered id.
    pub id: String,
    /// Its token.
    pub token: Token,
    /// Address at which the router reaches this host's instances.
    pub host: String,
    /// Base URL of this agent's API, as the engine reaches it.
    pub api_url: Option<String>,
    /// Where packages and releases are kept.
    pub data_dir: PathBuf,
    /// What this agent takes.
    pub capacity: Capacity,
}

/// A running agent.
#[derive(Debug)]
pub struct Daemon {
    cfg: DaemonConfig,
    sup: Supervisor,
    client: EngineClient,
    releases: Releases,
    applied: AtomicU64,
    interval_ms: AtomicU64,
    engine_key: RwLock<Option<String>>,
    stop: Notify,
}

fn backoff(failures: u32) -> Duration {
    Duration::from_millis((1000u64 << failures.min(4)).min(10_000))
}

impl Daemon {
    /// A daemon over `sup`, whose release layout must be `data_dir/releases`.
    pub fn new(cfg: DaemonConfig, sup: Supervisor) -> Result<Arc<Self>, ClientError> {
        let client = EngineClient::new(&cfg.engine_url, &cfg.id, cfg.token.clone())?;
        let releases =
            Releases::new(&cfg.data_dir).map_err(|e| ClientError::Package(e.to_string()))?;
        Ok(Arc::new(Self {
            cfg,
            sup,
            client,
            releases,
            applied: AtomicU64::new(0),
            interval_ms: AtomicU64::new(5_000),
            engine_key: RwLock::new(None),
            stop: Notify::new(),
        }))
    }

    /// The supervisor.
    pub fn supervisor(&self) -> &Supervisor {
        &self.sup
    }

    /// The key the engine presents on calls to this agent (from its last heartbeat reply).
    pub async fn engine_key(&self) -> Option<String> {
        self.engine_key.read().await.clone()
    }

    /// This agent's id and token (for the V6 shim).
    pub fn credentials(&self) -> (&str, &Token) {
        (&self.cfg.id, &self.cfg.token)
    }

    /// Run until [`Daemon::stop`], then stop every instance gracefully.
    pub async fn run(self: Arc<Self>) {
        let hb = tokio::spawn(self.clone().heartbeats());
        let ds = tokio::spawn(self.clone().watch_desired());
        self.stop.notified().await;
        hb.abort();
        ds.abort();
        self.sup.shutdown().await;
    }

    /// Ask [`Daemon::run`] to end.
    pub fn stop(&self) {
        self.stop.notify_one();
    }

    async fn heartbeats(self: Arc<Self>) {
        let mut changes = self.sup.changes();
        let mut failures = 0u32;
        loop {
            let hb = Heartbeat {
                agent_version: format!("bk-agent {}", env!("CARGO_PKG_VERSION")),
                protocol: PROTOCOL_VERSION,
                host: self.cfg.host.clone(),
                api_url: self.cfg.api_url.clone(),
                capacity: self.cfg.capacity.clone(),
                applied_revision: self.applied.load(Ordering::Relaxed),
                instances: self.sup.statuses(),
            };
            let wait = match self.client.heartbeat(&hb).await {
                Ok(reply) => {
                    failures = 0;
                    self.interval_ms
                        .store(reply.heartbeat_interval_ms.max(50), Ordering::Relaxed);
                    *self.engine_key.write().await = Some(reply.engine_key);
                    Duration::from_millis(self.interval_ms.load(Ordering::Relaxed))
                }
                Err(e) => {
                    failures += 1;
                    tracing::warn!(error = %e, "heartbeat failed");
                    backoff(failures)
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                r = changes.changed() => {
                    if r.is_err() { return; }
                    // Let a burst of changes settle into one heartbeat.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    changes.borrow_and_update();
                }
            }
        }
    }

    async fn watch_desired(self: Arc<Self>) {
        let mut failures = 0u32;
        let mut first = true;
        loop {
            let after = if first {
                0
            } else {
                self.applied.load(Ordering::Relaxed)
            };
            match self.client.desired(after, Duration::from_secs(25)).await {
                Ok(d) => {
                    failures = 0;
                    if first || d.revision != self.applied.load(Ordering::Relaxed) {
                        match self.apply(d).await {
                            Ok(()) => first = false,
                            Err(e) => {
                                failures += 1;
                                tracing::warn!(error = %e, "could not apply the desired state; retrying");
                                tokio::time::sleep(backoff(failures)).await;
                            }
                        }
                    }
                }
                Err(e) => {
                    failures += 1;
                    tracing::warn!(error = %e, "desired state: engine call failed");
                    tokio::time::sleep(backoff(failures)).await;
                }
            }
        }
    }

    async fn apply(&self, d: DesiredState) -> Result<(), String> {
        for a in &d.instances {
            self.releases
                .ensure(&self.client, &a.spec, &a.package)
                .await
                .map_err(|e| e.to_string())?;
        }
        let list = d
            .instances
            .into_iter()
            .map(|a| (a.spec, a.kind == InstanceKind::Task))
            .collect();
        self.sup.converge_with(list).map_err(|e| e.to_string())?;
        self.applied.store(d.revision, Ordering::Relaxed);
        tracing::info!(revision = d.revision, "desired state applied");
        Ok(())
    }
}
