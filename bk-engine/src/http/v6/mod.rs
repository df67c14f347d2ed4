//! The V6 appengine API (`/v1/...`): envelope `{result, message, data}`, HTTP 200 for
//! client errors (as the other legacy APIs), platform callers authenticated by
//! `X-APP-CODE` + `X-APP-TOKEN`. Releases and events
//! (`releases.rs`) run through the same service methods as the developer API.

mod apps;
mod healthz;
mod releases;

use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(apps::create))
        .routes(routes!(healthz::healthz))
        .routes(routes!(releases::release, releases::offline))
        .routes(routes!(releases::event_logs))
        .layer(DefaultBodyLimit::max(64 * 1024))
}
