//! The OpenAPI document at `<prefix>/openapi.json` and, with feature `swagger-ui`, the
//! Swagger UI at `<prefix>/docs/` (vendored: works offline).

use axum::Router;

use super::Mount;

#[cfg(feature = "swagger-ui")]
pub(super) fn routes(mount: &Mount, doc: utoipa::openapi::OpenApi) -> Router {
    use utoipa_swagger_ui::SwaggerUi;
    Router::new().merge(SwaggerUi::new(mount.path("/docs")).url(mount.path("/openapi.json"), doc))
}

#[cfg(not(feature = "swagger-ui"))]
pub(super) fn routes(mount: &Mount, doc: utoipa::openapi::OpenApi) -> Router {
    let doc = std::sync::Arc::new(doc);
    Router::new().route(
        &mount.path("/openapi.json"),
        axum::routing::get(move || {
            let doc = doc.clone();
            async move { axum::Json(doc.as_ref().clone()) }
        }),
    )
}
