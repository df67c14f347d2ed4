//! The engine's errors, each mapped to one code of the bk-core table in [`From<EngineError>
//! for ApiError`](EngineError), the one place they meet the wire.
//!
//! Texts are written for the client (which field, what to do) and never carry secrets:
//! app secrets, env var values and tokens stay out of every variant.

use bk_core::{ApiError, ErrorCode};

/// Why an engine operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Input failed validation; the text names the field and the rule.
    #[error("{0}")]
    Invalid(String),
    /// The caller must log in.
    #[error("login required")]
    Unauthenticated,
    /// The caller may not do this; the text says what is needed.
    #[error("{0}")]
    Forbidden(String),
    /// No such thing, or one the caller may not see; the text names it.
    #[error("{0} not found")]
    NotFound(String),
    /// The write conflicts with existing data or an invariant; the text says which.
    #[error("{0}")]
    Conflict(String),
    /// A part the operation needs is not available now (deploying not enabled, a backend
    /// that cannot be reached); the text says which.
    #[error("{0}")]
    Unavailable(String),
    /// A service the engine depends on (login) failed; already in wire form.
    #[error("{0}")]
    Upstream(ApiError),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] bk_core::db::DbError),
    /// A bug or an unexpected failure; the text is for the log only.
    #[error("internal: {0}")]
    Internal(String),
}

impl EngineError {
    /// "app `code`": what the client reads for an app it cannot see or that does not exist.
    pub fn app_not_found(code: &str) -> Self {
        EngineError::NotFound(format!("app {code}"))
    }
}

impl From<bk_core::types::InvalidValue> for EngineError {
    fn from(e: bk_core::types::InvalidValue) -> Self {
        EngineError::Invalid(e.to_string())
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Invalid(d) => ApiError::invalid(d),
            EngineError::Unauthenticated => ApiError::new(ErrorCode::Unauthenticated),
            EngineError::Forbidden(d) => ApiError::with_detail(ErrorCode::PermissionDenied, d),
            EngineError::NotFound(what) => ApiError::with_detail(ErrorCode::NotFound, what),
            EngineError::Conflict(d) => ApiError::with_detail(ErrorCode::Conflict, d),
            EngineError::Unavailable(d) => ApiError::with_detail(ErrorCode::Unavailable, d),
            EngineError::Upstream(e) => e,
            EngineError::Db(e) => e.into(),
            EngineError::Internal(msg) => ApiError::new(ErrorCode::Internal).caused_by(msg),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use bk_core::lang::Lang;

    #[test]
    fn each_variant_has_its_code_and_internal_text_stays_out() {
        let cases: Vec<(EngineError, ErrorCode)> = vec![
            (
                EngineError::Invalid("name: too long".into()),
                ErrorCode::InvalidParameter,
            ),
            (EngineError::Unauthenticated, ErrorCode::Unauthenticated),
            (
                EngineError::Forbidden("x".into()),
                ErrorCode::PermissionDenied,
            ),
            (EngineError::app_not_found("demo"), ErrorCode::NotFound),
            (EngineError::Conflict("taken".into()), ErrorCode::Conflict),
            (
                EngineError::Upstream(ErrorCode::Unavailable.into()),
                ErrorCode::Unavailable,
            ),
            (
                EngineError::Internal("secret internals".into()),
                ErrorCode::Internal,
            ),
        ];
        for (e, code) in cases {
            let api = ApiError::from(e);
            assert_eq!(api.code, code);
            assert!(!api.message(Lang::En).contains("secret internals"));
        }
        assert_eq!(
            ApiError::from(EngineError::app_not_found("demo")).message(Lang::En),
            "Not found: app demo"
        );
    }
}
