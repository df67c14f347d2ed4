//! Schemas of the envelopes, for the OpenAPI documents only: [`super::envelope`] writes
//! the real bodies, and these describe exactly what it writes, so a client (or a
//! response-conformance fuzzer) can rely on the documents. One generic per envelope
//! style; the legacy styles (login V1/V2) answer client errors with HTTP 200 too, so their
//! one schema covers both outcomes (`data` is `null` on failure).
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

/// The login V1 envelope (`/login/accounts/`), success or client error, both HTTP 200.
#[derive(ToSchema)]
pub struct V1Reply<T> {
    /// `true` on success.
    result: bool,
    /// `"00"` on success, else the V1 error code (`"1200"` invalid token...).
    code: String,
    /// Empty on success, else what went wrong.
    message: String,
    /// The answer; `null` on failure.
    data: Option<T>,
}

/// The login V2 envelope (`/login/api/v2/`), success or client error, both HTTP 200.
#[derive(ToSchema)]
pub struct V2Reply<T> {
    /// `true` on success.
    result: bool,
    /// `0` on success, else the error code (`1302100` invalid token...).
    bk_error_code: i64,
    /// Empty on success, else what went wrong.
    bk_error_msg: String,
    /// The answer; `null` on failure.
    data: Option<T>,
}
