//! The engine side of the agent protocol (`bk_core::agent_proto`): authenticate, heartbeat,
//! desired state (long poll), package download. Every call names the agent (`X-ID`),
//! proves it with its token (`X-TOKEN`, compared as SHA-256 in constant time) and states
//! its protocol version; an unknown id and a wrong token answer alike.

use std::time::Duration;

use bk_core::agent_proto::{DesiredState, Heartbeat, HeartbeatReply, PROTOCOL_VERSION};
use bk_core::crypto::{constant_time_eq, sha256_hex};

use super::AgentsBackend;
use crate::error::{EngineError, Result};
use crate::package::PackageDigest;

/// What an agent presents on every call.
#[derive(Debug, Clone)]
pub struct AgentCredentials {
    /// `X-ID`.
    pub id: String,
    /// `X-TOKEN` (never logged).
    pub token: String,
    /// `X-Agent-Protocol`, when sent.
    pub protocol: Option<u32>,
}

/// Refuse a protocol other than ours, naming both.
pub(crate) fn check_protocol(theirs: Option<u32>) -> Result<()> {
    match theirs {
        Some(PROTOCOL_VERSION) => Ok(()),
        Some(v) => Err(EngineError::Invalid(format!(
            "agent protocol version mismatch: the agent speaks version {v}, this engine speaks version {PROTOCOL_VERSION}; run a bk-agent built for this engine"
        ))),
        None => Err(EngineError::Invalid(format!(
            "missing agent protocol version (header x-agent-protocol); this engine speaks version {PROTOCOL_VERSION}"
        ))),
    }
}

const REFUSED: &str = "unknown agent or wrong token";

impl AgentsBackend {
    /// Check `who` against the registry; the agent's id when it may call.
    pub(crate) async fn authenticate(&self, who: &AgentCredentials) -> Result<()> {
        let st = self.inner.state.lock().await;
        let presented = sha256_hex(who.token.as_bytes());
        let ok = st
            .agents
            .get(&who.id)
            .is_some_and(|a| constant_time_eq(a.rec.token_hash.as_bytes(), presented.as_bytes()));
        drop(st);
        if !ok {
            return Err(EngineError::Forbidden(REFUSED.into()));
        }
        check_protocol(who.protocol)
    }

    /// Record a heartbeat; answer with the agent's revision, the interval and the engine key.
    pub async fn heartbeat(&self, who: &AgentCredentials, hb: Heartbeat) -> Result<HeartbeatReply> {
        self.authenticate(who).await?;
        check_protocol(Some(hb.protocol))?;
        if hb.host.trim().is_empty() || hb.host.len() > 255 {
            return Err(EngineError::Invalid(
                "host: the address the router reaches instances at is required (at most 255 characters)".into(),
            ));
        }
        if hb.api_url.as_ref().is_some_and(|u| u.len() > 512) {
            return Err(EngineError::Invalid(
                "api_url: at most 512 characters".into(),
            ));
        }
        let now = self.now();
        let mut st = self.inner.state.lock().await;
        let Some(a) = st.agents.get_mut(&who.id) else {
            return Err(EngineError::Forbidden(REFUSED.into()));
        };
        let was_down = a.down;
        if was_down {
            tracing::info!(agent = %who.id, "agent is back");
        }
        a.down = false;
        a.seen = Some(now);
        let record_changed = a.rec.host != hb.host
            || a.rec.api_url != hb.api_url
            || a.rec.agent_version != hb.agent_version
            || a.rec.capacity != hb.capacity;
        a.rec.host = hb.host;
        a.rec.api_url = hb.api_url;
        a.rec.agent_version = hb.agent_version;
        a.rec.capacity = hb.capacity;
        a.rec.last_seen = Some(now);
        let statuses: std::collections::HashMap<_, _> = hb
            .instances
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect();
        let statuses_changed = a.statuses != statuses;
        a.statuses = statuses;
        let revision = a.rec.revision;
        let persist = (record_changed || now - a.stored_seen > 30_000).then(|| {
            a.stored_seen = now;
            a.rec.clone()
        });
        // Forget retired instances this agent no longer reports.
        let reported: std::collections::HashSet<_> = a.statuses.keys().cloned().collect();
        st.retired
            .retain(|(id, agent), _| agent != &who.id || reported.contains(id));
        if statuses_changed || was_down || record_changed {
            self.bump();
        }
        drop(st);
        if let Some(rec) = persist {
            self.inner.store.record_seen(&rec).await?;
        }
        Ok(HeartbeatReply {
            revision,
            heartbeat_interval_ms: u64::try_from(self.inner.cfg.heartbeat_interval.as_millis())
                .unwrap_or(u64::MAX),
            engine_key: self.inner.engine_key.clone(),
        })
    }

    /// The agent's desired state: at once when newer than `after`, else when it changes or
    /// after `wait` (capped by the configured maximum).
    pub async fn desired(
        &self,
        who: &AgentCredentials,
        after: u64,
        wait: Duration,
    ) -> Result<DesiredState> {
        self.authenticate(who).await?;
        let mut rx = {
            let st = self.inner.state.lock().await;
            let a = st
                .agents
                .get(&who.id)
                .ok_or_else(|| EngineError::Forbidden(REFUSED.into()))?;
            a.revision.subscribe()
        };
        let wait = wait.min(self.inner.cfg.max_wait);
        if *rx.borrow_and_update() <= after {
            // Either a change or the timeout; both answer with the current state.
            let _ = tokio::time::timeout(wait, rx.changed()).await;
        }
        let st = self.inner.state.lock().await;
        let a = st
            .agents
            .get(&who.id)
            .ok_or_else(|| EngineError::Forbidden(REFUSED.into()))?;
        Ok(DesiredState {
            revision: a.rec.revision,
            instances: st
                .placed
                .values()
                .filter(|p| p.agent == who.id)
                .map(|p| p.assignment.clone())
                .collect(),
        })
    }

    /// A package this agent was assigned, for streaming.
    pub async fn package(
        &self,
        who: &AgentCredentials,
        sha256: &str,
    ) -> Result<(tokio::fs::File, u64)> {
        self.authenticate(who).await?;
        let digest = PackageDigest::parse(sha256)
            .map_err(|_| EngineError::Invalid("sha256: must be 64 lower-case hex digits".into()))?;
        let assigned = {
            let st = self.inner.state.lock().await;
            st.placed
                .values()
                .any(|p| p.agent == who.id && p.assignment.package.sha256 == digest.as_str())
        };
        if !assigned {
            return Err(EngineError::NotFound(format!(
                "package {sha256} (not assigned to agent {})",
                who.id
            )));
        }
        self.inner
            .packages
            .open(&digest)
            .await
            .map_err(|e| EngineError::Internal(format!("opening package {sha256}: {e}")))?
            .ok_or_else(|| EngineError::NotFound(format!("package {sha256}")))
    }
}
