//! The logged-in user as an axum extractor.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::Response;
use bk_core::identity::UserInfo;
use http::request::Parts;

use super::layer::unauthenticated;

/// The user [`LoginLayer`](super::LoginLayer) verified. Without the layer in front (a
/// routing mistake) the request is refused with `401` JSON rather than served anonymously.
/// Take `Option<CurrentUser>` on routes the layer lets through unauthenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser(pub UserInfo);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<UserInfo>()
            .cloned()
            .map(CurrentUser)
            .ok_or_else(|| unauthenticated(None))
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for CurrentUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<UserInfo>().cloned().map(CurrentUser))
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use http::{Request, StatusCode};
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn missing_user_is_401_json() {
        let app = Router::new()
            .route(
                "/",
                get(|CurrentUser(u): CurrentUser| async move { u.username }),
            )
            .route(
                "/maybe",
                get(|u: Option<CurrentUser>| async move { format!("{}", u.is_some()) }),
            );
        let resp = app
            .clone()
            .oneshot(Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let body = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["code"], 1302401);
        let resp = app
            .oneshot(Request::get("/maybe").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
}
