//! The agent protocol over HTTP (`bk_core::agent_proto`): `POST /v1/agent/heartbeat`,
//! `GET /v1/agent/desired`, `GET /v1/agent/packages/{sha256}` (streamed). Authenticated by
//! `X-ID` + `X-TOKEN` + `X-Agent-Protocol` on every call; errors in the platform envelope
//! (403 for an unknown agent or a wrong token, 400 naming both protocol versions).

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bk_core::agent_proto::{HEADER_ID, HEADER_PROTOCOL, HEADER_TOKEN, Heartbeat};
use bk_core::http::ApiContext;
use bk_core::http::extract::Json;
use bk_core::http::extract::Path;
use futures_util::stream;
use serde::Deserialize;
use tokio::io::AsyncReadExt;

use crate::deploy::agents::{AgentCredentials, AgentsBackend};
use crate::error::EngineError;

/// The protocol endpoints, to merge at the root of the engine's listener.
pub fn agent_router(agents: AgentsBackend) -> Router {
    Router::new()
        .route("/v1/agent/heartbeat", post(heartbeat))
        .route("/v1/agent/desired", get(desired))
        .route("/v1/agent/packages/{sha256}", get(package))
        .layer(axum::extract::DefaultBodyLimit::max(4 << 20))
        .with_state(agents)
}

struct Creds(AgentCredentials);

impl<S: Send + Sync> FromRequestParts<S> for Creds {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let h = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (Some(id), Some(token)) = (h(HEADER_ID), h(HEADER_TOKEN)) else {
            return Err(ApiContext::from_parts(parts).err(EngineError::Forbidden(
                "agent calls need the X-ID and X-TOKEN headers".into(),
            )));
        };
        let protocol = match h(HEADER_PROTOCOL) {
            None => None,
            Some(v) => Some(v.trim().parse::<u32>().map_err(|_| {
                ApiContext::from_parts(parts).err(EngineError::Invalid(
                    "x-agent-protocol: must be a number".into(),
                ))
            })?),
        };
        Ok(Creds(AgentCredentials {
            id,
            token,
            protocol,
        }))
    }
}

async fn heartbeat(
    State(agents): State<AgentsBackend>,
    ctx: ApiContext,
    Creds(who): Creds,
    Json(hb): Json<Heartbeat>,
) -> Response {
    ctx.reply(agents.heartbeat(&who, hb).await)
}

#[derive(Debug, Deserialize)]
struct DesiredQuery {
    #[serde(default)]
    after: u64,
    #[serde(default)]
    wait_ms: u64,
}

async fn desired(
    State(agents): State<AgentsBackend>,
    ctx: ApiContext,
    Creds(who): Creds,
    Query(q): Query<DesiredQuery>,
) -> Response {
    ctx.reply(
        agents
            .desired(&who, q.after, Duration::from_millis(q.wait_ms))
            .await,
    )
}

async fn package(
    State(agents): State<AgentsBackend>,
    ctx: ApiContext,
    Creds(who): Creds,
    Path(sha256): Path<String>,
) -> Response {
    let (file, len) = match agents.package(&who, &sha256).await {
        Ok(f) => f,
        Err(e) => return ctx.err(e),
    };
    let chunks = stream::unfold(file, |mut f| async move {
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    });
    let mut resp = Body::from_stream(chunks).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/gzip"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    resp
}
