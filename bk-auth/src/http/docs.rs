//! The OpenAPI document at `/login/openapi.json` and Swagger UI at `/login/docs/`
//! (vendored: works offline).

use axum::Router;
use utoipa_swagger_ui::SwaggerUi;

pub(super) fn routes(doc: utoipa::openapi::OpenApi) -> Router {
    Router::new().merge(SwaggerUi::new("/login/docs").url("/login/openapi.json", doc))
}
