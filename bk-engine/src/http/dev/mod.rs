//! The developer API (`/paas/api/v1/...`): JSON in the platform envelope, HTTP statuses,
//! `bk_token` cookie or `Authorization: Bearer <bk_token>`. State-changing calls take a
//! JSON body (or none), which cross-site forms cannot send without a CORS preflight.

mod apps;
mod audit;
mod deploy;
mod env_vars;
mod members;
mod modules;
mod processes;
mod secrets;

use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

const JSON_LIMIT: usize = 64 * 1024;
/// A bulk env var set: up to 500 values of up to 8 KiB.
const ENV_VARS_LIMIT: usize = 5 * 1024 * 1024;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    let small = OpenApiRouter::new()
        .routes(routes!(apps::list, apps::create))
        .routes(routes!(apps::get, apps::update))
        .routes(routes!(modules::list, modules::create))
        .routes(routes!(modules::get, modules::update, modules::delete))
        .routes(routes!(members::list, members::add))
        .routes(routes!(members::remove))
        .routes(routes!(env_vars::unset))
        .routes(routes!(secrets::list, secrets::rotate))
        .routes(routes!(secrets::reveal_current))
        .routes(routes!(secrets::reveal))
        .routes(routes!(secrets::revoke))
        .routes(routes!(audit::list))
        .layer(DefaultBodyLimit::max(JSON_LIMIT));
    let big = OpenApiRouter::new()
        .routes(routes!(env_vars::list, env_vars::set))
        .layer(DefaultBodyLimit::max(ENV_VARS_LIMIT));
    let deploying = OpenApiRouter::new()
        .routes(routes!(deploy::releases))
        .routes(routes!(deploy::create))
        .routes(routes!(deploy::rollback))
        .routes(routes!(deploy::offline))
        .routes(routes!(deploy::list))
        .routes(routes!(deploy::get))
        .routes(routes!(deploy::cancel))
        .routes(routes!(deploy::logs))
        .routes(routes!(processes::list))
        .routes(routes!(processes::scale))
        .routes(routes!(processes::restart))
        .routes(routes!(processes::stop))
        .routes(routes!(processes::start))
        .routes(routes!(processes::logs))
        .layer(DefaultBodyLimit::max(JSON_LIMIT));
    let packages = OpenApiRouter::new()
        .routes(routes!(deploy::upload))
        .layer(DefaultBodyLimit::max(crate::service::MAX_PACKAGE_BYTES));
    small.merge(big).merge(deploying).merge(packages)
}
