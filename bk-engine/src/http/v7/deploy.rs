//! V7 deploy paths with BK's shapes: deployments (+ result, lists), offlines (+ result),
//! released state and info, source packages. Bare bodies; errors `{code, detail}`.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use bk_core::http::ApiContext;
use bk_core::http::extract::Path;
use bk_core::http::extract::{Json, Query};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::shape::{app_url, datetime};
use crate::http::AppState;
use crate::http::auth::Authed;
use crate::http::docs::BkError;
use crate::model::Env;
use crate::service::{DeployRequest, DeploymentView, Released};

/// A deploy request as BK clients send it; `package` (or `revision` with `version_type:
/// package`) is an uploaded package's digest, `release` an earlier release.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub(super) struct V7DeployBody {
    #[serde(default)]
    version_type: Option<String>,
    #[serde(default)]
    version_name: Option<String>,
    #[serde(default)]
    revision: Option<String>,
    #[serde(default)]
    package: Option<String>,
    #[serde(default)]
    release: Option<String>,
}

/// `{deployment_id}`.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct DeploymentId {
    deployment_id: String,
}

/// `{offline_operation_id}`.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct OfflineId {
    offline_operation_id: String,
}

/// The result of a deployment or an offline.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct V7Result {
    /// `pending`, `successful` or `failed`.
    status: String,
    logs: String,
    error_detail: String,
    error_tips: serde_json::Value,
}

/// One deployment in a list.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct V7Deployment {
    id: String,
    deployment_id: String,
    status: String,
    environment: String,
    operator: V7Operator,
    created: String,
    start_time: String,
    complete_time: Option<String>,
    err_detail: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct V7Operator {
    username: String,
}

impl From<&DeploymentView> for V7Deployment {
    fn from(d: &DeploymentView) -> Self {
        Self {
            id: d.id.clone(),
            deployment_id: d.id.clone(),
            status: d.state.v7_status().to_owned(),
            environment: d.env.clone(),
            operator: V7Operator {
                username: d.created_by.clone(),
            },
            created: datetime(d.created_at),
            start_time: datetime(d.created_at),
            complete_time: d.finished.then(|| datetime(d.updated_at)),
            err_detail: d.reason.clone().filter(|_| d.state.v7_status() == "failed"),
        }
    }
}

/// A page (DRF style).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct V7Page {
    count: usize,
    next: Option<String>,
    previous: Option<String>,
    results: Vec<V7Deployment>,
}

/// Paging.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct V7ListQuery {
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    offset: Option<u32>,
}

/// A link.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Link {
    url: String,
}

/// What a module serves in an env (`released_state` / `released_info`).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct V7Released {
    is_offlined: bool,
    deployment: Option<V7Deployment>,
    exposed_link: Link,
    default_access_entrance: Link,
    /// The serving release's version label.
    version: Option<String>,
    /// Process types and replicas of the serving release.
    processes: Vec<V7Process>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct V7Process {
    name: String,
    command: String,
    replicas: u32,
}

/// An uploaded source package.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct V7SourcePackage {
    id: String,
    version: String,
    package_name: String,
    package_size: u64,
    sha256_signature: String,
}

fn result_of(e: crate::service::EventLog) -> V7Result {
    let failed = e.deployment.state.v7_status() == "failed";
    V7Result {
        status: e.deployment.state.v7_status().to_owned(),
        logs: e.text,
        error_detail: if failed {
            e.deployment.reason.unwrap_or_default()
        } else {
            String::new()
        },
        error_tips: serde_json::json!({}),
    }
}

/// Deploy the module (`deploy` in bkapi-paasv3); answers at once with the id.
#[utoipa::path(post, path = "/paas/api/bkapps/applications/{code}/modules/{module}/envs/{env}/deployments/", tag = "v7",
    params(("code" = String, Path), ("module" = String, Path), ("env" = String, Path)), request_body = V7DeployBody,
    responses((status = 200, body = DeploymentId), (status = 400, body = BkError), (status = 401, body = BkError), (status = 403, body = BkError), (status = 404, body = BkError), (status = 409, body = BkError)))]
pub(super) async fn create(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module, env)): Path<(String, String, String)>,
    Json(b): Json<V7DeployBody>,
) -> Response {
    let _ = (&b.version_type, &b.version_name);
    let req = DeployRequest {
        package: b.package.or(b.revision),
        release: b.release,
    };
    ctx.reply(
        svc.deploy(&who, &code, &module, &env, req)
            .await
            .map(|d| DeploymentId {
                deployment_id: d.id,
            }),
    )
}

/// The result of a deployment, with its log.
#[utoipa::path(get, path = "/paas/api/bkapps/applications/{code}/modules/{module}/deployments/{id}/result/", tag = "v7",
    params(("code" = String, Path), ("module" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = V7Result), (status = 401, body = BkError), (status = 403, body = BkError), (status = 404, body = BkError)))]
pub(super) async fn result(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, _module, id)): Path<(String, String, String)>,
) -> Response {
    ctx.reply(svc.event_log(&who, &code, &id).await.map(result_of))
}

/// Deployments of the module, newest first.
#[utoipa::path(get, path = "/paas/api/bkapps/applications/{code}/modules/{module}/deployments/lists/", tag = "v7",
    params(("code" = String, Path), ("module" = String, Path), V7ListQuery),
    responses((status = 200, body = V7Page), (status = 401, body = BkError), (status = 403, body = BkError), (status = 404, body = BkError)))]
pub(super) async fn lists(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module)): Path<(String, String)>,
    Query(q): Query<V7ListQuery>,
) -> Response {
    let r = svc
        .list_deployments(
            &who,
            &code,
            Some(&module),
            q.limit.unwrap_or(20),
            q.offset.unwrap_or(0),
        )
        .await
        .map(|ds| {
            let results: Vec<V7Deployment> = ds
                .iter()
                .filter(|d| d.kind == crate::model::OperationKind::Deploy)
                .map(V7Deployment::from)
                .collect();
            V7Page {
                count: results.len(),
                next: None,
                previous: None,
                results,
            }
        });
    ctx.reply(r)
}

/// Take the module offline in `env`.
#[utoipa::path(post, path = "/paas/api/bkapps/applications/{code}/modules/{module}/envs/{env}/offlines/", tag = "v7",
    params(("code" = String, Path), ("module" = String, Path), ("env" = String, Path)),
    responses((status = 200, body = OfflineId), (status = 400, body = BkError), (status = 401, body = BkError), (status = 403, body = BkError), (status = 404, body = BkError), (status = 409, body = BkError)))]
pub(super) async fn offline(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module, env)): Path<(String, String, String)>,
) -> Response {
    ctx.reply(
        svc.offline(&who, &code, &module, &env)
            .await
            .map(|d| OfflineId {
                offline_operation_id: d.id,
            }),
    )
}

/// The result of an offline.
#[utoipa::path(get, path = "/paas/api/bkapps/applications/{code}/modules/{module}/offlines/{id}/result/", tag = "v7",
    params(("code" = String, Path), ("module" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = V7Result), (status = 401, body = BkError), (status = 403, body = BkError), (status = 404, body = BkError)))]
pub(super) async fn offline_result(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, _module, id)): Path<(String, String, String)>,
) -> Response {
    ctx.reply(svc.event_log(&who, &code, &id).await.map(result_of))
}

fn released_view(svc: &AppState, code: &str, module: &str, env: &str, r: Released) -> V7Released {
    let env_v = Env::parse(env).unwrap_or(Env::Stag);
    let url = if module == crate::model::ModuleName::DEFAULT {
        app_url(svc.config(), code, env_v)
    } else {
        format!(
            "{}/{}--{module}--{code}/",
            svc.config().public_url.trim_end_matches('/'),
            env_v.v7_name()
        )
    };
    V7Released {
        is_offlined: r.slot.release_id.is_none(),
        deployment: r.deployment.as_ref().map(V7Deployment::from),
        exposed_link: Link { url: url.clone() },
        default_access_entrance: Link { url },
        version: r.release.as_ref().map(|rel| rel.version.clone()),
        processes: r
            .release
            .iter()
            .flat_map(|rel| rel.formation.processes.iter())
            .map(|p| V7Process {
                name: p.name.clone(),
                command: p.command.clone(),
                replicas: r.slot.replicas.get(&p.name).copied().unwrap_or(p.replicas),
            })
            .collect(),
    }
}

/// Whether and what the module serves in `env`; 404 when it was never deployed.
#[utoipa::path(get, path = "/paas/api/bkapps/applications/{code}/modules/{module}/envs/{env}/released_state/", tag = "v7",
    params(("code" = String, Path), ("module" = String, Path), ("env" = String, Path)),
    responses((status = 200, body = V7Released), (status = 401, body = BkError), (status = 403, body = BkError), (status = 404, body = BkError)))]
pub(super) async fn released_state(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module, env)): Path<(String, String, String)>,
) -> Response {
    let r = svc.released(&who, &code, &module, &env).await;
    ctx.reply(r.map(|r| released_view(&svc, &code, &module, &env, r)))
}

/// The released version, link and processes of the module in `env`.
#[utoipa::path(get, path = "/paas/api/bkapps/applications/{code}/modules/{module}/envs/{env}/released_info/", tag = "v7",
    params(("code" = String, Path), ("module" = String, Path), ("env" = String, Path)),
    responses((status = 200, body = V7Released), (status = 401, body = BkError), (status = 403, body = BkError), (status = 404, body = BkError)))]
pub(super) async fn released_info(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module, env)): Path<(String, String, String)>,
) -> Response {
    let r = svc.released(&who, &code, &module, &env).await;
    ctx.reply(r.map(|r| released_view(&svc, &code, &module, &env, r)))
}

/// Upload a source package (the raw `.tar.gz` as the body).
#[utoipa::path(post, path = "/paas/api/bkapps/applications/{code}/modules/{module}/source_package/", tag = "v7",
    params(("code" = String, Path), ("module" = String, Path)),
    request_body(content = Vec<u8>, content_type = "application/gzip"),
    responses((status = 200, body = V7SourcePackage), (status = 400, body = BkError), (status = 401, body = BkError), (status = 403, body = BkError), (status = 404, body = BkError)))]
pub(super) async fn source_package(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let r = svc
        .upload_package(&who, &code, &module, body.to_vec())
        .await
        .map(|u| V7SourcePackage {
            id: u.digest.clone(),
            package_name: format!(
                "{code}-{}.tar.gz",
                if u.version.is_empty() {
                    "package"
                } else {
                    &u.version
                }
            ),
            version: u.version,
            package_size: u.size,
            sha256_signature: u.digest,
        });
    ctx.reply(r)
}
