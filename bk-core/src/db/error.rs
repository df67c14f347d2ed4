//! Storage errors, classified by what the caller can do about them.

use crate::{ApiError, ErrorCode};

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The connection settings are wrong (bad URL, unsupported scheme).
    #[error("database configuration: {0}")]
    Config(String),
    /// The database cannot be reached right now; retrying later may work.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// A unique constraint was violated.
    #[error("duplicate value: {0}")]
    Conflict(#[source] sqlx::Error),
    /// A migration failed or the schema is newer than this binary.
    #[error("migration {component} v{version}: {message}")]
    Migration {
        /// Which crate's history.
        component: String,
        /// Which migration.
        version: i64,
        /// What happened.
        message: String,
    },
    /// Any other database error (a bug, a corrupt row).
    #[error("database error: {0}")]
    Other(#[source] sqlx::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => DbError::Conflict(e),
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_) => DbError::Unavailable(e),
            sqlx::Error::Database(d) if is_connection_lost(d.code().as_deref()) => {
                DbError::Unavailable(e)
            }
            _ => DbError::Other(e),
        }
    }
}

/// SQLSTATE class 08 (connection exception), 57P0x (server shutting down), MySQL 2006/2013,
/// SQLite BUSY/LOCKED.
fn is_connection_lost(code: Option<&str>) -> bool {
    match code {
        Some(c) => {
            c.starts_with("08")
                || c.starts_with("57P0")
                || c == "2006"
                || c == "2013"
                || c == "1927"
                || c == "5"
                || c == "6"
        }
        None => false,
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(_) => ApiError::new(ErrorCode::Unavailable).caused_by(e),
            DbError::Conflict(_) => ApiError::new(ErrorCode::Conflict).caused_by(e),
            _ => ApiError::new(ErrorCode::Internal).caused_by(e),
        }
    }
}
