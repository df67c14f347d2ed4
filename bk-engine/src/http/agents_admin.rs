//! `/paas/api/v1/agents/`: register (token shown once), list, enable, disable, delete.
//! Superusers only. The backend comes from the router's `Extension<AgentsBackend>`
//! ([`super::with_agents`]); without one these answer 409.

use axum::Extension;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;
use bk_core::ApiError;
use bk_core::ErrorCode;
use bk_core::http::ApiContext;
use bk_core::http::extract::Json;
use bk_core::http::extract::Path;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Authed;
use super::client;
use super::docs::{Envelope, Failure};
use crate::deploy::agents::{AgentView, AgentsBackend, NewAgentToken};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, register))
        .routes(routes!(delete))
        .routes(routes!(enable))
        .routes(routes!(disable))
}

pub(super) struct Addr(String);

impl<S: Send + Sync> FromRequestParts<S> for Addr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Addr(client::address(parts)))
    }
}

type Agents = Option<Extension<AgentsBackend>>;

fn backend(a: Agents) -> Result<AgentsBackend, ApiError> {
    a.map(|Extension(b)| b).ok_or_else(|| {
        // A configuration fact, not a fault: answered 409 and not logged as an error.
        ApiError::with_detail(
            ErrorCode::Conflict,
            "this platform runs apps on its own host (the local backend); agents need the agents backend".to_owned(),
        )
    })
}

/// A new agent.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct RegisterAgent {
    /// 1-63 lower-case letters, digits or '-'.
    id: String,
}

/// Every agent with its state (`up`, `down`, `disabled`).
#[utoipa::path(get, path = "/paas/api/v1/agents/", tag = "agents",
    responses((status = 200, body = Envelope<Vec<AgentView>>), (status = 401, body = Failure), (status = 403, body = Failure), (status = 409, description = "The platform runs no agents backend", body = Failure)))]
pub(super) async fn list(ctx: ApiContext, Authed(who): Authed, agents: Agents) -> Response {
    let r = async { Ok::<_, ApiError>(backend(agents)?.list(&who).await?) }.await;
    ctx.reply(r)
}

/// Register an agent: the answer holds its token, shown this once (stored as SHA-256).
#[utoipa::path(post, path = "/paas/api/v1/agents/", tag = "agents", request_body = RegisterAgent,
    responses((status = 200, body = Envelope<NewAgentToken>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 409, body = Failure)))]
pub(super) async fn register(
    ctx: ApiContext,
    Authed(who): Authed,
    Addr(addr): Addr,
    agents: Agents,
    Json(body): Json<RegisterAgent>,
) -> Response {
    let r =
        async { Ok::<_, ApiError>(backend(agents)?.register(&who, &addr, &body.id).await?) }.await;
    ctx.reply(r)
}

/// Remove an agent; its instances move to other agents first (409 when they cannot).
#[utoipa::path(delete, path = "/paas/api/v1/agents/{id}/", tag = "agents", params(("id" = String, Path)),
    responses((status = 200, body = Envelope<bool>), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, body = Failure)))]
pub(super) async fn delete(
    ctx: ApiContext,
    Authed(who): Authed,
    Addr(addr): Addr,
    agents: Agents,
    Path(id): Path<String>,
) -> Response {
    let r = async {
        backend(agents)?.remove(&who, &addr, &id).await?;
        Ok::<_, ApiError>(true)
    }
    .await;
    ctx.reply(r)
}

/// Enable an agent: it takes new instances again.
#[utoipa::path(post, path = "/paas/api/v1/agents/{id}/enable/", tag = "agents", params(("id" = String, Path)),
    responses((status = 200, body = Envelope<bool>), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, description = "The platform runs no agents backend", body = Failure)))]
pub(super) async fn enable(
    ctx: ApiContext,
    Authed(who): Authed,
    Addr(addr): Addr,
    agents: Agents,
    Path(id): Path<String>,
) -> Response {
    let r = async {
        backend(agents)?.set_enabled(&who, &addr, &id, true).await?;
        Ok::<_, ApiError>(true)
    }
    .await;
    ctx.reply(r)
}

/// Disable an agent: its instances move to other agents where there is room.
#[utoipa::path(post, path = "/paas/api/v1/agents/{id}/disable/", tag = "agents", params(("id" = String, Path)),
    responses((status = 200, body = Envelope<bool>), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, description = "The platform runs no agents backend", body = Failure)))]
pub(super) async fn disable(
    ctx: ApiContext,
    Authed(who): Authed,
    Addr(addr): Addr,
    agents: Agents,
    Path(id): Path<String>,
) -> Response {
    let r = async {
        backend(agents)?
            .set_enabled(&who, &addr, &id, false)
            .await?;
        Ok::<_, ApiError>(true)
    }
    .await;
    ctx.reply(r)
}
