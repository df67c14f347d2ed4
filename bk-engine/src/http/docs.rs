//! Schemas of the envelopes, for the OpenAPI documents only: bk-core's envelope module
//! writes the real bodies, and these describe exactly what it writes, so a client (or a
//! response-conformance fuzzer) can rely on the documents.
#![allow(dead_code)]

use utoipa::ToSchema;

/// The platform envelope of a success (`/paas/api/v1/`).
#[derive(ToSchema)]
pub struct Envelope<T> {
    /// `true`.
    result: bool,
    /// `0`.
    code: i64,
    /// Empty.
    message: String,
    /// The answer.
    data: T,
    /// The request id (also in `X-Request-Id`).
    request_id: String,
}

/// The platform envelope of a failure (`/paas/api/v1/`), with the HTTP status of its code.
#[derive(ToSchema)]
pub struct Failure {
    /// `false`.
    result: bool,
    /// Numeric error code (bk-core's table).
    code: i64,
    /// What went wrong and what to do.
    message: String,
    /// `null`.
    data: (),
    /// The request id (also in `X-Request-Id`).
    request_id: String,
}

/// A V7 error (DRF style): an upper-case code name and a detail.
#[derive(ToSchema)]
pub struct BkError {
    /// `NOT_FOUND`, `INVALID_PARAMETER`, `UNAUTHENTICATED`...
    code: String,
    /// What went wrong.
    detail: String,
}
