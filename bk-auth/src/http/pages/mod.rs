//! The server-rendered login and logout pages (usable without JavaScript).

mod html;
mod login;
mod logout;

use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

pub(crate) use html::escape;
pub(crate) use login::redirect;

/// Form posts are small; anything larger is refused before parsing.
const FORM_LIMIT: usize = 16 * 1024;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login::show, login::submit))
        .routes(routes!(logout::logout))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
}
