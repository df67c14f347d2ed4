//! The login crate's errors, each mapped to one code of the bk-core table.

use bk_core::{ApiError, ErrorCode};

/// Why a login operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Input failed validation; the text names the field and the rule.
    #[error("{0}")]
    Invalid(String),
    /// Username or password wrong (deliberately not saying which).
    #[error("wrong username or password")]
    BadCredentials,
    /// The token is missing, unknown, expired or revoked.
    #[error("invalid or expired bk_token")]
    InvalidToken,
    /// No such user.
    #[error("user {0} does not exist")]
    UserNotFound(String),
    /// The user exists already.
    #[error("user {0} already exists")]
    UserExists(String),
    /// The account is disabled.
    #[error("account disabled")]
    Disabled,
    /// Too many failures: locked until the given time (ms).
    #[error("too many failed attempts; try again in {retry_after_secs} s")]
    Locked {
        /// Seconds until another attempt is accepted.
        retry_after_secs: i64,
    },
    /// The caller must log in.
    #[error("login required")]
    Unauthenticated,
    /// The caller may not do this; the text says what is needed.
    #[error("{0}")]
    Forbidden(String),
    /// The change would break an invariant (last superuser, built-in admin...).
    #[error("{0}")]
    Protected(String),
    /// The password does not meet the policy; the text says which rule.
    #[error("{0}")]
    WeakPassword(String),
    /// The identity provider refused or failed; the text is safe for the user.
    #[error("identity provider: {0}")]
    Provider(String),
    /// Too much contention to finish now; retrying later works. The text is for the log.
    #[error("busy: {0}")]
    Busy(String),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] bk_core::db::DbError),
    /// A bug or an unexpected failure; the text is for the log only.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<bk_core::types::InvalidValue> for AuthError {
    fn from(e: bk_core::types::InvalidValue) -> Self {
        AuthError::Invalid(e.to_string())
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Invalid(d) | AuthError::WeakPassword(d) => ApiError::invalid(d),
            AuthError::BadCredentials => {
                ApiError::with_detail(ErrorCode::InvalidParameter, "wrong username or password")
            }
            AuthError::InvalidToken => ApiError::new(ErrorCode::InvalidToken),
            AuthError::UserNotFound(u) => ApiError::with_detail(ErrorCode::UserNotFound, u),
            AuthError::UserExists(u) => {
                ApiError::with_detail(ErrorCode::Conflict, format!("user {u} already exists"))
            }
            AuthError::Disabled => ApiError::new(ErrorCode::AccountDisabled),
            AuthError::Locked { retry_after_secs } => ApiError::with_detail(
                ErrorCode::AccountLocked,
                format!("try again in {retry_after_secs} s"),
            ),
            AuthError::Unauthenticated => ApiError::new(ErrorCode::Unauthenticated),
            AuthError::Forbidden(d) => ApiError::with_detail(ErrorCode::PermissionDenied, d),
            AuthError::Protected(d) => ApiError::with_detail(ErrorCode::Conflict, d),
            AuthError::Provider(d) => {
                ApiError::with_detail(ErrorCode::Unavailable, format!("identity provider: {d}"))
            }
            AuthError::Busy(msg) => ApiError::new(ErrorCode::Unavailable).caused_by(msg),
            AuthError::Db(e) => e.into(),
            AuthError::Internal(msg) => ApiError::new(ErrorCode::Internal).caused_by(msg),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = AuthError> = std::result::Result<T, E>;
