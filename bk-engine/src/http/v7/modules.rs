//! `GET /paas/api/bkapps/applications/{code}/modules/` and `.../modules/{module}/`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::Response;
use bk_core::ApiError;
use bk_core::http::ApiContext;
use bk_core::http::extract::Path;
use serde::Serialize;
use utoipa::ToSchema;

use super::shape::datetime;
use crate::http::AppState;
use crate::http::auth::Authed;
use crate::http::docs::BkError;

/// BK's `source_origin` for code uploaded as packages (1: repository/package source).
const SOURCE_ORIGIN: i64 = 1;

/// A module as `list_app_modules` shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ModuleBrief {
    id: String,
    name: String,
    source_origin: i64,
    is_default: bool,
}

/// The modules of an app (`list_app_modules`), default first.
#[utoipa::path(get, path = "/paas/api/bkapps/applications/{code}/modules/", tag = "v7",
    params(("code" = String, Path)),
    responses((status = 200, body = Vec<ModuleBrief>), (status = 400, body = BkError), (status = 401, body = BkError), (status = 403, body = BkError), (status = 404, body = BkError)))]
pub(super) async fn list(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path(code): Path<String>,
) -> Response {
    let r = svc.modules(&who, &code).await.map(|ms| {
        ms.into_iter()
            .map(|m| ModuleBrief {
                id: m.uuid,
                name: m.name.as_str().to_owned(),
                source_origin: SOURCE_ORIGIN,
                is_default: m.is_default,
            })
            .collect::<Vec<_>>()
    });
    ctx.reply(r)
}

/// Settings BK's console reads to drive features; constant here.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct WebConfig {
    templated_source_enabled: bool,
    runtime_type: String,
    build_method: String,
    artifact_type: String,
}

/// A module as `get_module_info` shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ModuleInfo {
    id: String,
    /// Source repository: `null` (apps deploy from packages).
    #[schema(value_type = Option<Object>)]
    repo: Option<serde_json::Value>,
    #[schema(value_type = Object)]
    repo_auth_info: BTreeMap<String, String>,
    web_config: WebConfig,
    /// Clusters per env: none here.
    #[schema(value_type = Object)]
    clusters: BTreeMap<String, String>,
    template_display_name: String,
    source_origin: i64,
    region: String,
    /// `YYYY-MM-DD HH:MM:SS`, UTC.
    created: String,
    updated: String,
    owner: String,
    name: String,
    is_default: bool,
    language: String,
    source_init_template: String,
    /// 1: sub-path URLs, 2: sub-domains.
    exposed_url_type: i64,
    user_preferred_root_domain: Option<String>,
    last_deployed_date: Option<String>,
    creator: String,
    /// The app's UUID.
    application: String,
}

/// One module (`get_module_info`).
#[utoipa::path(get, path = "/paas/api/bkapps/applications/{code}/modules/{module}/", tag = "v7",
    params(("code" = String, Path), ("module" = String, Path)),
    responses((status = 200, body = ModuleInfo), (status = 400, body = BkError), (status = 401, body = BkError), (status = 403, body = BkError), (status = 404, body = BkError)))]
pub(super) async fn info(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path((code, module)): Path<(String, String)>,
) -> Response {
    let r = async {
        let app = svc.visible_app(&who, &code).await?;
        let m = svc.module(&who, &code, &module).await?;
        let sub_domains = svc.config().root_domain().is_some();
        Ok::<_, ApiError>(ModuleInfo {
            id: m.uuid,
            repo: None,
            repo_auth_info: BTreeMap::new(),
            web_config: WebConfig {
                templated_source_enabled: false,
                runtime_type: "buildpack".into(),
                build_method: "buildpack".into(),
                artifact_type: "none".into(),
            },
            clusters: BTreeMap::new(),
            template_display_name: String::new(),
            source_origin: SOURCE_ORIGIN,
            region: "default".into(),
            created: datetime(m.created_at),
            updated: datetime(m.created_at),
            owner: app.creator.clone(),
            name: m.name.as_str().to_owned(),
            is_default: m.is_default,
            language: m.language.as_str().to_owned(),
            source_init_template: String::new(),
            exposed_url_type: if sub_domains { 2 } else { 1 },
            user_preferred_root_domain: svc.config().root_domain(),
            last_deployed_date: None,
            creator: m.creator,
            application: app.uuid,
        })
    }
    .await;
    ctx.reply(r)
}
