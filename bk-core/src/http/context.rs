//! Per-request facts handlers need to answer: envelope style, language, request id.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;
use serde::Serialize;

use super::envelope::{self, Style};
use super::request_id::RequestId;
use crate::error::ApiError;
use crate::lang::Lang;

/// Extracted from every request; never fails.
#[derive(Debug, Clone)]
pub struct ApiContext {
    /// Which envelope to answer with.
    pub style: Style,
    /// Which language messages use.
    pub lang: Lang,
    /// The request id (32 hex chars).
    pub request_id: RequestId,
}

impl ApiContext {
    /// Read the context from request parts.
    pub fn from_parts(parts: &Parts) -> Self {
        let style = parts.extensions.get::<Style>().copied().unwrap_or_default();
        let lang = parts
            .headers
            .get(Lang::HEADER)
            .and_then(|v| v.to_str().ok())
            .map(Lang::from_header)
            .unwrap_or_default();
        let request_id = parts
            .extensions
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(RequestId::generate);
        Self {
            style,
            lang,
            request_id,
        }
    }

    /// Answer success.
    pub fn ok<T: Serialize>(&self, data: T) -> Response {
        envelope::ok(self.style, self.request_id.as_str(), data)
    }

    /// Answer failure.
    pub fn err(&self, e: impl Into<ApiError>) -> Response {
        envelope::error(self.style, self.lang, self.request_id.as_str(), &e.into())
    }

    /// Answer a result.
    pub fn reply<T: Serialize, E: Into<ApiError>>(&self, r: Result<T, E>) -> Response {
        match r {
            Ok(v) => self.ok(v),
            Err(e) => self.err(e),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ApiContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts))
    }
}
