//! Documentation-only shapes of the small `data` objects that handlers write inline with
//! `serde_json::json!`, so the OpenAPI document describes them; the envelopes around them
//! are bk-core's ([`bk_core::http::docs`]).
#![allow(dead_code)]

use utoipa::ToSchema;

pub(crate) use bk_core::http::docs::{Envelope, Failure, V1Reply, V2Reply};

/// `data` of V1 `is_login`.
#[derive(ToSchema)]
pub(crate) struct LoggedInV1 {
    /// Whose token it is.
    username: String,
}

/// `data` of V2 `is_login`.
#[derive(ToSchema)]
pub(crate) struct LoggedInV2 {
    /// Whose token it is.
    bk_username: String,
}

/// `data` of a token revocation.
#[derive(ToSchema)]
pub(crate) struct Revoked {
    /// `true`.
    revoked: bool,
}

/// `data` of a password change.
#[derive(ToSchema)]
pub(crate) struct Changed {
    /// `true`.
    changed: bool,
}

/// `data` of a lifted lock.
#[derive(ToSchema)]
pub(crate) struct Unlocked {
    /// The key lifted.
    unlocked: String,
}

/// `data` of a deleted user.
#[derive(ToSchema)]
pub(crate) struct Deleted {
    /// The name deleted.
    deleted: String,
}
