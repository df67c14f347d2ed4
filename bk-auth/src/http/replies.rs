//! Documentation-only shapes of the small `data` objects that handlers write inline with
//! `serde_json::json!`, so the OpenAPI document describes them; the envelopes around them
//! are bk-core's ([`bk_core::http::docs`]).
#![allow(dead_code)]

use utoipa::ToSchema;

use std::collections::BTreeMap;

pub(crate) use bk_core::http::docs::{Envelope, Failure};

use super::v1::V1User;
use super::v2::V2User;

/// A login V1 envelope (`/login/accounts/`) of one `data` type: success or client error,
/// both HTTP 200 (a generic would lose `data`'s `null` in utoipa, hence the macro).
macro_rules! v1_reply {
    ($name:ident, $data:ty) => {
        #[doc = concat!("The login V1 envelope of `", stringify!($data), "`: `code` `\"00\"` and `data` on success, else the V1 error code (`\"1200\"` invalid token...), a message and `data: null`; HTTP 200 either way.")]
        #[derive(ToSchema)]
        pub(crate) struct $name {
            result: bool,
            code: String,
            message: String,
            data: Option<$data>,
        }
    };
}

/// A login V2 envelope (`/login/api/v2/`) of one `data` type, like [`v1_reply`].
macro_rules! v2_reply {
    ($name:ident, $data:ty) => {
        #[doc = concat!("The login V2 envelope of `", stringify!($data), "`: `bk_error_code` `0` and `data` on success, else the error code (`1302100` invalid token...), a message and `data: null`; HTTP 200 either way.")]
        #[derive(ToSchema)]
        pub(crate) struct $name {
            result: bool,
            bk_error_code: i64,
            bk_error_msg: String,
            data: Option<$data>,
        }
    };
}

v1_reply!(V1LoggedInReply, LoggedInV1);
v1_reply!(V1UserReply, V1User);
v1_reply!(V1UsersReply, Vec<V1User>);
v1_reply!(V1UserMapReply, BTreeMap<String, V1User>);
v2_reply!(V2LoggedInReply, LoggedInV2);
v2_reply!(V2UserReply, V2User);
v2_reply!(V2UsersReply, Vec<V2User>);
v2_reply!(V2UserMapReply, BTreeMap<String, V2User>);

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
