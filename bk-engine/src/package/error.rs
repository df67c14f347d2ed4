//! Why a package was refused. Every variant names what the developer must fix: the descriptor
//! file and field path, the Procfile line, or the archive entry. Faults on our side (the disk)
//! are kept apart and reach clients only as an internal error; messages never carry the values
//! of environment variables, so secrets a package holds do not end up in logs or responses.

use bk_core::{ApiError, ErrorCode};

/// A package could not be read, unpacked, packed or understood.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// A descriptor holds an invalid value; `path` names the field (`modules.web.processes.web.replicas`).
    #[error("{file}: {path}: {reason}")]
    Field {
        /// The descriptor file (`app_desc.yaml`, `app.yml`).
        file: String,
        /// Dotted path of the field inside the file.
        path: String,
        /// The rule it broke.
        reason: String,
    },
    /// A descriptor as a whole is unusable (syntax error, too large, unsupported version).
    #[error("{file}: {reason}")]
    Descriptor {
        /// The descriptor file.
        file: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A bad line in a Procfile.
    #[error("Procfile: line {line}: {reason}")]
    Procfile {
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        reason: String,
    },
    /// An archive entry (or a file being packed) is unsafe or malformed.
    #[error("entry `{entry}`: {reason}")]
    Entry {
        /// Path of the entry as the archive names it (control characters escaped).
        entry: String,
        /// Why it was refused.
        reason: String,
    },
    /// The package is over one of the [`Limits`](super::Limits).
    #[error("entry `{entry}`: {reason}")]
    TooLarge {
        /// The entry at which the limit was crossed.
        entry: String,
        /// Which limit.
        reason: String,
    },
    /// The package as a whole is not usable (not gzip, no descriptor, missing source dir).
    #[error("{0}")]
    Invalid(String),
    /// Our own file system failed: not the package's fault.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl PackageError {
    pub(crate) fn field(file: &str, path: &str, reason: impl Into<String>) -> Self {
        if path.is_empty() {
            return Self::Descriptor {
                file: file.to_owned(),
                reason: reason.into(),
            };
        }
        Self::Field {
            file: file.to_owned(),
            path: path.to_owned(),
            reason: reason.into(),
        }
    }

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

    /// Whether the package (its author) is at fault, as opposed to the platform.
    pub fn is_package_fault(&self) -> bool {
        !matches!(self, Self::Io { .. })
    }
}

impl From<PackageError> for ApiError {
    fn from(e: PackageError) -> Self {
        match e {
            PackageError::Io { .. } => ApiError::new(ErrorCode::Internal).caused_by(e),
            PackageError::TooLarge { .. } => {
                ApiError::with_detail(ErrorCode::PayloadTooLarge, format!("package rejected: {e}"))
            }
            _ => ApiError::invalid(format!("package rejected: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bk_core::lang::Lang;

    #[test]
    fn client_sees_the_field_path_but_never_our_io_errors() {
        let e: ApiError = PackageError::field(
            "app_desc.yaml",
            "modules.web.processes.web.replicas",
            "must be an integer 0..=20",
        )
        .into();
        assert_eq!(e.code, ErrorCode::InvalidParameter);
        assert_eq!(
            e.message(Lang::En),
            "Invalid parameter: package rejected: app_desc.yaml: modules.web.processes.web.replicas: must be an integer 0..=20"
        );

        let e: ApiError =
            PackageError::io("writing /srv/data/x", std::io::Error::other("disk full")).into();
        assert_eq!(e.code, ErrorCode::Internal);
        assert!(!e.message(Lang::En).contains("/srv"));

        let e: ApiError = PackageError::too_large("big.bin", "over 1 MiB").into();
        assert_eq!(e.code, ErrorCode::PayloadTooLarge);
    }
}
