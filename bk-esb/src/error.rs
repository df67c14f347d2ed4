//! The gateway's errors, each mapped to one code of bk-core's table (whose `esb_code`
//! column gives the 1306xxx number clients see).

use bk_core::{ApiError, ErrorCode};

/// Why a gateway call failed. The text is written for the caller: it names the parameter,
/// the app, the component or the limit, and never a secret.
#[derive(Debug, thiserror::Error)]
pub enum EsbError {
    /// A parameter is missing or malformed (1306406).
    #[error("{0}")]
    Argument(String),
    /// The body does not parse as what it claims to be (1306000).
    #[error("{0}")]
    BadBody(String),
    /// App credentials missing, unknown or wrong; signature invalid or replayed (1306406).
    #[error("{0}")]
    AppAuth(String),
    /// No user, or the user's credentials are not acceptable (1306401).
    #[error("{0}")]
    UserAuth(String),
    /// The app has no (live) grant for the component (1306403).
    #[error("{0}")]
    AppPermission(String),
    /// No component at this path (HTTP 404).
    #[error("{0}")]
    NotFound(String),
    /// The channel is switched off (1306405).
    #[error("{0}")]
    Inactive(String),
    /// A rate-limit rule refused the call (1306429).
    #[error("{0}")]
    RateLimited(String),
    /// The backend failed or timed out (1306201).
    #[error("{0}")]
    Backend(String),
    /// The user named does not exist.
    #[error("user {0} does not exist")]
    UserNotFound(String),
    /// A write conflicts with what is stored (duplicate name...).
    #[error("{0}")]
    Conflict(String),
    /// Admin: the caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Admin: the caller is not logged in.
    #[error("login required")]
    Unauthenticated,
    /// An answer from another service (login, the engine) passed through.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] bk_core::db::DbError),
    /// A bug; the text is for the log only.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<EsbError> for ApiError {
    fn from(e: EsbError) -> Self {
        match e {
            EsbError::Argument(d) => ApiError::invalid(d),
            EsbError::BadBody(d) => ApiError::with_detail(ErrorCode::MalformedBody, d),
            EsbError::AppAuth(d) => ApiError::with_detail(ErrorCode::AppUnauthenticated, d),
            EsbError::UserAuth(d) => ApiError::with_detail(ErrorCode::Unauthenticated, d),
            EsbError::AppPermission(d) => ApiError::with_detail(ErrorCode::AppPermissionDenied, d),
            EsbError::NotFound(d) => ApiError::with_detail(ErrorCode::NotFound, d),
            EsbError::Inactive(d) => ApiError::with_detail(ErrorCode::Inactive, d),
            EsbError::RateLimited(d) => ApiError::with_detail(ErrorCode::TooManyRequests, d),
            EsbError::Backend(d) => ApiError::with_detail(ErrorCode::UpstreamFailed, d),
            EsbError::UserNotFound(u) => ApiError::with_detail(ErrorCode::UserNotFound, u),
            EsbError::Conflict(d) => ApiError::with_detail(ErrorCode::Conflict, d),
            EsbError::Forbidden(d) => ApiError::with_detail(ErrorCode::PermissionDenied, d),
            EsbError::Unauthenticated => ApiError::new(ErrorCode::Unauthenticated),
            EsbError::Api(e) => e,
            EsbError::Db(e) => e.into(),
            EsbError::Internal(msg) => ApiError::new(ErrorCode::Internal).caused_by(msg),
        }
    }
}

impl From<bk_core::types::InvalidValue> for EsbError {
    fn from(e: bk_core::types::InvalidValue) -> Self {
        EsbError::Argument(e.to_string())
    }
}

/// Result alias of this crate.
pub type Result<T, E = EsbError> = std::result::Result<T, E>;
