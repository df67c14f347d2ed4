//! The PaaS V7 resource paths (`/paas/api/bkapps/applications/...`) with the shapes BK's
//! own API returns (as documented for the `paasv3` gateway that `bkapi-paasv3` calls):
//! bare JSON bodies, HTTP statuses, errors as `{code, detail}`. The gateway (a later part)
//! exposes them to existing BK clients; here they answer to the same `bk_token` callers
//! as the developer API. Fields BK has and this platform does not (regions, repositories,
//! clusters, market products) are present with neutral values, so clients reading them do
//! not break.

mod deploy;
mod lists;
mod modules;
mod shape;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(lists::minimal))
        .routes(routes!(lists::detailed))
        .routes(routes!(modules::list))
        .routes(routes!(modules::info))
        .routes(routes!(deploy::create))
        .routes(routes!(deploy::result))
        .routes(routes!(deploy::lists))
        .routes(routes!(deploy::offline))
        .routes(routes!(deploy::offline_result))
        .routes(routes!(deploy::released_state))
        .routes(routes!(deploy::released_info))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(deploy::source_package))
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::service::MAX_PACKAGE_BYTES,
                )),
        )
}
