//! Extractors whose rejections answer in the route's envelope with a clear message,
//! instead of axum's plain-text 400/415/422.

use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::Response;
use serde::de::DeserializeOwned;

use super::context::ApiContext;
use crate::error::{ApiError, ErrorCode};

/// Query string, deserialized.
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

/// JSON body, deserialized.
#[derive(Debug, Clone)]
pub struct Json<T>(pub T);

/// Form body, deserialized.
#[derive(Debug, Clone)]
pub struct Form<T>(pub T);

/// Path parameters, deserialized (a segment that is not UTF-8 or not of the type
/// answers 400 in the route's envelope, not axum's plain text).
#[derive(Debug, Clone)]
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(e) => Err(ApiContext::from_parts(parts).err(path_error(&e))),
        }
    }
}

fn path_error(e: &PathRejection) -> ApiError {
    match e {
        // A route without the parameters it extracts: our bug, not the client's.
        PathRejection::MissingPathParams(_) => ApiError::new(ErrorCode::Internal),
        _ => ApiError::invalid(format!("path: {}", e.body_text())),
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(e) => Err(ApiContext::from_parts(parts).err(query_error(&e))),
        }
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let ctx = ApiContext::from_parts(&parts);
        match axum::Json::<T>::from_request(Request::from_parts(parts, body), state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(e) => Err(ctx.err(json_error(&e))),
        }
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Form<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let ctx = ApiContext::from_parts(&parts);
        match axum::Form::<T>::from_request(Request::from_parts(parts, body), state).await {
            Ok(axum::Form(v)) => Ok(Form(v)),
            Err(e) => Err(ctx.err(form_error(&e))),
        }
    }
}

fn query_error(e: &QueryRejection) -> ApiError {
    ApiError::invalid(format!(
        "query string: {}",
        e.body_text()
            .trim_start_matches("Failed to deserialize query string: ")
    ))
}

/// Map a JSON body rejection to a client error that says what to fix.
pub fn json_error(e: &JsonRejection) -> ApiError {
    match e {
        JsonRejection::MissingJsonContentType(_) => ApiError::with_detail(
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with Content-Type: application/json",
        ),
        JsonRejection::BytesRejection(b) if b.status().as_u16() == 413 => too_large(),
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::invalid(format!("body is not valid JSON: {}", e.body_text()))
        }
        JsonRejection::JsonDataError(_) => ApiError::invalid(e.body_text().replace(
            "Failed to deserialize the JSON body into the target type: ",
            "body: ",
        )),
        _ => ApiError::invalid(format!("body: {}", e.body_text())),
    }
}

fn form_error(e: &FormRejection) -> ApiError {
    match e {
        FormRejection::BytesRejection(b) if b.status().as_u16() == 413 => too_large(),
        FormRejection::InvalidFormContentType(_) => ApiError::with_detail(
            ErrorCode::UnsupportedMediaType,
            "send the body as a form with Content-Type: application/x-www-form-urlencoded",
        ),
        _ => ApiError::invalid(format!("form: {}", e.body_text())),
    }
}

fn too_large() -> ApiError {
    ApiError::with_detail(
        ErrorCode::PayloadTooLarge,
        "the request body exceeds the limit of this route",
    )
}
