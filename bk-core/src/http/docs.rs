//! Schemas of the envelopes, for the OpenAPI documents only: [`super::envelope`] writes
//! the real bodies, and these describe exactly what it writes, so a client (or a
//! response-conformance fuzzer) can rely on the documents. The legacy styles
//! (login V1/V2, V6) need one concrete type per `data` (a generic `Option<T>` field loses
//! its `null` in utoipa), so their crates define them.
#![allow(dead_code)]

use utoipa::ToSchema;

/// The platform envelope of a success (admin, profile, tokens, `/paas/api/v1/`).
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

/// The platform envelope of a failure, with the HTTP status of its code.
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
