//! Schemas of the envelopes, for the OpenAPI documents only: the platform ones are
//! bk-core's (shared with login); the V7 error is the engine's own.
#![allow(dead_code)]

use utoipa::ToSchema;

pub use bk_core::http::docs::{Envelope, Failure};

/// A V7 error (DRF style): an upper-case code name and a detail.
#[derive(ToSchema)]
pub struct BkError {
    /// `NOT_FOUND`, `INVALID_PARAMETER`, `UNAUTHENTICATED`...
    code: String,
    /// What went wrong.
    detail: String,
}
