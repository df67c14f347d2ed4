//! Why an archive was refused. Entry, size and format errors are the archive's fault and
//! name the entry; [`ArchiveError::Io`] is ours (the disk) and is not shown to clients.

/// An archive could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// An entry is unsafe or malformed.
    #[error("entry `{entry}`: {reason}")]
    Entry {
        /// Path of the entry as the archive names it (control characters escaped).
        entry: String,
        /// Why it was refused.
        reason: String,
    },
    /// The archive is over one of the [`ArchiveLimits`](super::ArchiveLimits).
    #[error("entry `{entry}`: {reason}")]
    TooLarge {
        /// The entry at which the limit was crossed.
        entry: String,
        /// Which limit.
        reason: String,
    },
    /// The archive as a whole is unusable (not gzip, truncated).
    #[error("{0}")]
    Invalid(String),
    /// Our own file system failed: not the archive's fault.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl ArchiveError {
    pub(crate) fn entry(entry: &str, reason: impl Into<String>) -> Self {
        Self::Entry {
            entry: entry.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn too_large(entry: &str, reason: impl Into<String>) -> Self {
        Self::TooLarge {
            entry: entry.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}
