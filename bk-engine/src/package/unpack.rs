//! Unpacking an untrusted package: `bk_core::archive` does the work (the agent uses the same
//! code for the releases it fetches); this adds the package's limits and descriptors (a lone
//! top-level directory holding `app_desc.yaml`, `Procfile` or `app.yml` becomes the root)
//! and maps refusals to [`PackageError`].

use std::io::Read;
use std::path::Path;

pub use bk_core::archive::Unpacked;
use bk_core::archive::{self, ArchiveError, ArchiveLimits};

use super::{APP_DESC_FILE, Limits, PROCFILE, PackageError, SMART_FILE};

/// Files whose presence in a lone top-level directory means "the package root is in there".
pub const ROOT_MARKERS: &[&str] = &[APP_DESC_FILE, "app_desc.yml", PROCFILE, SMART_FILE];

/// Unpack the `.tar.gz` file at `archive` into `dest` (which must not exist yet).
pub fn unpack_file(archive: &Path, dest: &Path, limits: &Limits) -> Result<Unpacked, PackageError> {
    archive::unpack_file(archive, dest, &limits.archive(), ROOT_MARKERS).map_err(Into::into)
}

/// Unpack a `.tar.gz` stream into `dest`, which must not exist yet; its parent must.
pub fn unpack(archive: impl Read, dest: &Path, limits: &Limits) -> Result<Unpacked, PackageError> {
    archive::unpack(archive, dest, &limits.archive(), ROOT_MARKERS).map_err(Into::into)
}

impl Limits {
    /// The part of the limits that bounds unpacking.
    pub fn archive(&self) -> ArchiveLimits {
        ArchiveLimits {
            max_entries: self.max_entries,
            max_unpacked_bytes: self.max_unpacked_bytes,
            max_ratio: self.max_ratio,
            ratio_floor_bytes: self.ratio_floor_bytes,
        }
    }
}

impl From<ArchiveError> for PackageError {
    fn from(e: ArchiveError) -> Self {
        match e {
            ArchiveError::Entry { entry, reason } => PackageError::Entry { entry, reason },
            ArchiveError::TooLarge { entry, reason } => PackageError::TooLarge { entry, reason },
            ArchiveError::Invalid(m) => PackageError::Invalid(m),
            ArchiveError::Io { context, source } => PackageError::Io { context, source },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_their_kind_and_entry() {
        let tmp = tempfile::tempdir().unwrap();
        let err = unpack(&b"not gzip"[..], &tmp.path().join("x"), &Limits::default()).unwrap_err();
        assert!(matches!(err, PackageError::Invalid(ref m) if m.starts_with("not a .tar.gz")));
        assert!(err.is_package_fault());
    }
}
