//! The V6 appengine API (`/v1/...`): envelope `{result, message, data}`, HTTP 200 for
//! client errors (as the other legacy APIs), platform callers authenticated by
//! `X-APP-CODE` + `X-APP-TOKEN`. Releases, events and the agent protocol join these
//! routes in later parts of the engine.

mod apps;
mod healthz;

use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(apps::create))
        .routes(routes!(healthz::healthz))
        .layer(DefaultBodyLimit::max(64 * 1024))
}
