//! The agent's HTTP client to the engine: heartbeat, desired state (long poll), packages.
//! Every call carries the agent's id, token and protocol version; the token is never logged.

use std::path::Path;
use std::time::Duration;

use bk_core::agent_proto::{
    DesiredState, HEADER_ID, HEADER_PROTOCOL, HEADER_TOKEN, Heartbeat, HeartbeatReply,
    PROTOCOL_VERSION,
};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::Token;

/// Talks to one engine.
#[derive(Debug, Clone)]
pub struct EngineClient {
    base: String,
    id: String,
    token: Token,
    http: reqwest::Client,
}

/// Why a call to the engine failed; texts carry no token.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The engine could not be reached or broke the connection.
    #[error("engine unreachable: {0}")]
    Unreachable(String),
    /// The engine refused the call (wrong token, protocol mismatch...).
    #[error("engine refused ({status}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The engine's message.
        message: String,
    },
    /// A package did not match its digest or size, or could not be stored.
    #[error("package {0}")]
    Package(String),
}

impl EngineClient {
    /// A client of the engine at `base` (e.g. `http://10.0.0.1:8000`).
    pub fn new(base: &str, id: &str, token: Token) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| ClientError::Unreachable(e.to_string()))?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            id: id.to_owned(),
            token,
            http,
        })
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header(HEADER_ID, &self.id)
            .header(HEADER_TOKEN, self.token.expose())
            .header(HEADER_PROTOCOL, PROTOCOL_VERSION.to_string())
    }

    async fn send(rb: reqwest::RequestBuilder) -> Result<reqwest::Response, ClientError> {
        let resp = rb
            .send()
            .await
            .map_err(|e| ClientError::Unreachable(e.without_url().to_string()))?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status().as_u16();
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        let message = body["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| body.to_string());
        Err(ClientError::Refused { status, message })
    }

    async fn data<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T, ClientError> {
        let v: serde_json::Value = resp
            .json()
            .await
            .map_err(|e| ClientError::Unreachable(e.without_url().to_string()))?;
        serde_json::from_value(v["data"].clone())
            .map_err(|e| ClientError::Unreachable(format!("unexpected answer: {e}")))
    }

    /// Send a heartbeat.
    pub async fn heartbeat(&self, hb: &Heartbeat) -> Result<HeartbeatReply, ClientError> {
        let rb = self
            .req(reqwest::Method::POST, "/v1/agent/heartbeat")
            .timeout(Duration::from_secs(10))
            .json(hb);
        Self::data(Self::send(rb).await?).await
    }

    /// The desired state, newer than `after` or after `wait`.
    pub async fn desired(&self, after: u64, wait: Duration) -> Result<DesiredState, ClientError> {
        let path = format!(
            "/v1/agent/desired?after={after}&wait_ms={}",
            wait.as_millis()
        );
        let rb = self
            .req(reqwest::Method::GET, &path)
            .timeout(wait + Duration::from_secs(10));
        Self::data(Self::send(rb).await?).await
    }

    /// Download package `sha256` of `size` bytes to `dest`, checking both; written to a
    /// temporary file beside `dest` and renamed, so `dest` is whole or absent.
    pub async fn fetch_package(
        &self,
        sha256: &str,
        size: u64,
        dest: &Path,
    ) -> Result<(), ClientError> {
        let rb = self
            .req(
                reqwest::Method::GET,
                &format!("/v1/agent/packages/{sha256}"),
            )
            .timeout(Duration::from_secs(600));
        let mut resp = Self::send(rb).await?;
        let tmp = dest.with_extension("part");
        let io = |e: std::io::Error| ClientError::Package(format!("{sha256}: {e}"));
        let mut file = tokio::fs::File::create(&tmp).await.map_err(io)?;
        let mut hasher = Sha256::new();
        let mut got = 0u64;
        let result = async {
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| ClientError::Unreachable(e.without_url().to_string()))?
            {
                got += chunk.len() as u64;
                if got > size {
                    return Err(ClientError::Package(format!(
                        "{sha256}: larger than {size} bytes"
                    )));
                }
                hasher.update(&chunk);
                file.write_all(&chunk).await.map_err(io)?;
            }
            file.sync_all().await.map_err(io)?;
            let digest = hex::encode(hasher.finalize());
            if digest != sha256 || got != size {
                return Err(ClientError::Package(format!(
                    "{sha256}: digest or size mismatch (got {digest}, {got} bytes)"
                )));
            }
            tokio::fs::rename(&tmp, dest).await.map_err(io)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }
}
