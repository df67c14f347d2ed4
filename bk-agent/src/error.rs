//! The agent's errors, each mapped to one code of the bk-core table, so the agent's HTTP
//! layer (built later) answers in the platform envelope without knowing these variants.

use bk_core::{ApiError, ErrorCode};

/// Why an agent operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// A spec or request failed validation; the text names the field and the rule.
    #[error("{0}")]
    Invalid(String),
    /// No instance with this id on this agent.
    #[error("instance {0} is not on this agent")]
    NotFound(String),
    /// The request conflicts with what runs (duplicate instance id, a port held by another
    /// instance); the text says which.
    #[error("{0}")]
    Conflict(String),
    /// Every port of the agent's range is in use.
    #[error("no free port in {first}-{last}; widen the agent's port range or run fewer instances")]
    PortsExhausted {
        /// First port of the range.
        first: u16,
        /// Last port of the range.
        last: u16,
    },
    /// The agent is shutting down and accepts no new work.
    #[error("the agent is shutting down")]
    ShuttingDown,
    /// A process could not be started; the text says what and why.
    #[error("{context}: {source}")]
    Start {
        /// What was being started, where.
        context: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A file or directory operation of the agent failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, on which path.
        context: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// Signalling a process failed.
    #[error("signal to process group {pgid}: {source}")]
    Signal {
        /// The process group.
        pgid: i32,
        /// The operating system's reason.
        source: nix::Error,
    },
}

impl AgentError {
    /// An I/O failure with what was being done.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        AgentError::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<bk_core::types::InvalidValue> for AgentError {
    fn from(e: bk_core::types::InvalidValue) -> Self {
        AgentError::Invalid(e.to_string())
    }
}

impl From<AgentError> for ApiError {
    fn from(e: AgentError) -> Self {
        match e {
            AgentError::Invalid(d) => ApiError::invalid(d),
            AgentError::NotFound(_) => ApiError::with_detail(ErrorCode::NotFound, e.to_string()),
            AgentError::Conflict(d) => ApiError::with_detail(ErrorCode::Conflict, d),
            AgentError::PortsExhausted { .. } | AgentError::ShuttingDown => {
                ApiError::with_detail(ErrorCode::Unavailable, e.to_string())
            }
            AgentError::Start { .. } | AgentError::Io { .. } | AgentError::Signal { .. } => {
                ApiError::new(ErrorCode::Internal).caused_by(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_to_the_error_table() {
        let cases = [
            (
                AgentError::Invalid("workdir: bad".into()),
                ErrorCode::InvalidParameter,
            ),
            (AgentError::NotFound("web-1".into()), ErrorCode::NotFound),
            (
                AgentError::Conflict("port 80 held".into()),
                ErrorCode::Conflict,
            ),
            (
                AgentError::PortsExhausted { first: 1, last: 2 },
                ErrorCode::Unavailable,
            ),
            (AgentError::ShuttingDown, ErrorCode::Unavailable),
            (
                AgentError::io("read /x", std::io::Error::other("boom")),
                ErrorCode::Internal,
            ),
        ];
        for (err, code) in cases {
            let api = ApiError::from(err);
            assert_eq!(api.code, code);
        }
        // Internal faults keep the OS text for the log, not for the client.
        let api = ApiError::from(AgentError::io(
            "read /secret/path",
            std::io::Error::other("x"),
        ));
        assert!(api.detail.is_none());
        assert!(api.source_error().is_some());
    }
}
