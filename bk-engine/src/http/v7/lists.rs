//! `GET /paas/api/bkapps/applications/lists/minimal` and `.../lists/detailed`.

use axum::extract::{OriginalUri, State};
use axum::response::Response;
use bk_core::ApiError;
use bk_core::http::ApiContext;
use bk_core::http::extract::Query;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::shape::{app_url, datetime, deployed};
use crate::config::EngineConfig;
use crate::http::AppState;
use crate::http::auth::Authed;
use crate::http::docs::BkError;
use crate::model::{App, Env, Language};

/// `application` of a minimal list item.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct MinimalApp {
    id: String,
    code: String,
    name: String,
}

/// Market product of an app: never set on this platform.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Product {
    name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct MinimalItem {
    application: MinimalApp,
    /// Always `null` here.
    product: Option<Product>,
}

/// The apps the caller may see, code and name only.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct MinimalList {
    count: usize,
    results: Vec<MinimalItem>,
}

/// Brief information of the caller's apps (`get_minimal_app_list`).
#[utoipa::path(get, path = "/paas/api/bkapps/applications/lists/minimal", tag = "v7",
    responses((status = 200, body = MinimalList), (status = 401, body = BkError), (status = 403, body = BkError)))]
pub(super) async fn minimal(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
) -> Response {
    let r = svc.list_apps(&who).await.map(|apps| MinimalList {
        count: apps.len(),
        results: apps
            .into_iter()
            .map(|a| MinimalItem {
                application: MinimalApp {
                    id: a.uuid,
                    code: a.code.as_str().to_owned(),
                    name: a.name.as_str().to_owned(),
                },
                product: None,
            })
            .collect(),
    });
    ctx.reply(r)
}

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct DetailedParams {
    /// Page size (default 12, at most 1000).
    limit: Option<usize>,
    /// Items to skip.
    offset: Option<usize>,
    /// Only apps whose code or name contains this (case-insensitive).
    search_term: Option<String>,
    /// Only apps of this language.
    language: Option<String>,
    /// `true`: only apps the caller created.
    exclude_collaborated: Option<bool>,
    /// Accepted for compatibility; every app here is active.
    include_inactive: Option<bool>,
    /// `code`, `created`, `name` (default `code`); `-` in front for descending.
    order_by: Option<String>,
}

/// One env's entry in `deploy_info`.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct EnvDeploy {
    /// Where it is served; `null` until deployed.
    url: Option<String>,
    deployed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct DeployInfo {
    stag: EnvDeploy,
    prod: EnvDeploy,
}

/// `application` of a detailed list item.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct DetailedApp {
    id: String,
    code: String,
    name: String,
    region: String,
    region_name: String,
    logo_url: String,
    /// Whether any env is deployed.
    deploy_status: bool,
    deploy_info: DeployInfo,
    /// `YYYY-MM-DD HH:MM:SS`, UTC.
    created: String,
    updated: String,
    owner: String,
    creator: String,
    language: String,
    source_init_template: String,
    source_type: String,
    source_repo_id: Option<i64>,
    app_type: String,
    is_active: bool,
    last_deployed_date: Option<String>,
    is_deleted: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct DetailedItem {
    application: DetailedApp,
    product: Option<Product>,
    marked: bool,
}

/// A page of the caller's apps with details.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct DetailedList {
    count: usize,
    /// The next page's URL, `null` on the last page.
    next: Option<String>,
    previous: Option<String>,
    results: Vec<DetailedItem>,
}

fn env_deploy(cfg: &EngineConfig, app: &App, env: Env) -> EnvDeploy {
    let d = deployed(app, env);
    EnvDeploy {
        url: d.then(|| app_url(cfg, app.code.as_str(), env)),
        deployed: d,
    }
}

fn detailed_app(cfg: &EngineConfig, a: App) -> DetailedApp {
    let stag = env_deploy(cfg, &a, Env::Stag);
    let prod = env_deploy(cfg, &a, Env::Prod);
    DetailedApp {
        id: a.uuid.clone(),
        code: a.code.as_str().to_owned(),
        name: a.name.as_str().to_owned(),
        region: "default".into(),
        region_name: "default".into(),
        logo_url: String::new(),
        deploy_status: stag.deployed || prod.deployed,
        deploy_info: DeployInfo { stag, prod },
        created: datetime(a.created_at),
        updated: datetime(a.updated_at),
        owner: a.creator.clone(),
        creator: a.creator,
        language: a.language.as_str().to_owned(),
        source_init_template: String::new(),
        source_type: "package".into(),
        source_repo_id: None,
        app_type: "default".into(),
        is_active: true,
        last_deployed_date: None,
        is_deleted: false,
    }
}

fn page_url(uri: &axum::http::Uri, limit: usize, offset: usize) -> String {
    format!("{}?limit={limit}&offset={offset}", uri.path())
}

/// Details of the caller's apps, paged (`get_detailed_app_list`).
#[utoipa::path(get, path = "/paas/api/bkapps/applications/lists/detailed", tag = "v7", params(DetailedParams),
    responses((status = 200, body = DetailedList), (status = 400, body = BkError), (status = 401, body = BkError), (status = 403, body = BkError)))]
pub(super) async fn detailed(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    OriginalUri(uri): OriginalUri,
    Query(p): Query<DetailedParams>,
) -> Response {
    let r = async {
        let _ = p.include_inactive;
        let language = p
            .language
            .as_deref()
            .filter(|l| !l.is_empty())
            .map(Language::parse)
            .transpose()
            .map_err(ApiError::from)?;
        let mut apps = svc.list_apps(&who).await?;
        if let Some(term) = p.search_term.as_deref().filter(|t| !t.is_empty()) {
            let term = term.to_lowercase();
            apps.retain(|a| {
                a.code.as_str().contains(&term) || a.name.as_str().to_lowercase().contains(&term)
            });
        }
        if let Some(l) = language {
            apps.retain(|a| a.language == l);
        }
        if p.exclude_collaborated == Some(true) {
            apps.retain(|a| a.creator == who.username());
        }
        let order = p.order_by.as_deref().unwrap_or("code");
        let (desc, field) = order.strip_prefix('-').map_or((false, order), |f| (true, f));
        match field {
            "code" => apps.sort_by(|a, b| a.code.cmp(&b.code)),
            "created" => apps.sort_by_key(|a| a.created_at),
            "name" => apps.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str())),
            other => {
                return Err(ApiError::invalid(format!(
                    "order_by: unknown field {other:?}; use code, created or name, with - for descending"
                )));
            }
        }
        if desc {
            apps.reverse();
        }
        let count = apps.len();
        let limit = p.limit.unwrap_or(12).clamp(1, 1000);
        let offset = p.offset.unwrap_or(0);
        let cfg = svc.config();
        let results: Vec<DetailedItem> = apps
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|a| DetailedItem {
                application: detailed_app(cfg, a),
                product: None,
                marked: false,
            })
            .collect();
        Ok::<_, ApiError>(DetailedList {
            count,
            next: (offset + limit < count).then(|| page_url(&uri, limit, offset + limit)),
            previous: (offset > 0).then(|| page_url(&uri, limit, offset.saturating_sub(limit))),
            results,
        })
    }
    .await;
    ctx.reply(r)
}
