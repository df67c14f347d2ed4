//! Release packages, content-addressed: the engine keeps every released `.tar.gz` under its
//! SHA-256, so releases made from the same bytes share one file, a rollback never needs the
//! original upload, and agents fetch packages by digest (`GET /v1/agent/packages/<sha256>`)
//! and check what they got.
//!
//! [`PackageStore`] is the seam (an object store could implement it); [`FsPackageStore`]
//! keeps the files in a directory of the data dir.

use std::io;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use crate::package::PackageDigest;

/// A stored package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPackage {
    /// SHA-256 of the archive.
    pub digest: PackageDigest,
    /// Size in bytes.
    pub size: u64,
}

/// Where release packages are kept.
#[async_trait]
pub trait PackageStore: Send + Sync {
    /// Keep `bytes` (a `.tar.gz`); idempotent for the same bytes.
    async fn put(&self, bytes: &[u8]) -> io::Result<StoredPackage>;

    /// Open a package for reading, `None` when it is not stored.
    async fn open(&self, digest: &PackageDigest) -> io::Result<Option<(tokio::fs::File, u64)>>;

    /// Whether a package is stored.
    async fn contains(&self, digest: &PackageDigest) -> io::Result<bool> {
        Ok(self.open(digest).await?.is_some())
    }
}

/// Packages as files `<dir>/<sha256>.tar.gz`, written to a temporary file and renamed, so a
/// reader never sees a partial package. Files are 0600.
#[derive(Debug, Clone)]
pub struct FsPackageStore {
    dir: PathBuf,
}

impl FsPackageStore {
    /// A store in `dir` (created 0700 when missing).
    pub fn new(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        set_mode(&dir, 0o700)?;
        Ok(Self { dir })
    }

    fn path(&self, digest: &PackageDigest) -> PathBuf {
        self.dir.join(format!("{}.tar.gz", digest.as_str()))
    }
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[async_trait]
impl PackageStore for FsPackageStore {
    async fn put(&self, bytes: &[u8]) -> io::Result<StoredPackage> {
        let digest = PackageDigest::of_bytes(bytes);
        let stored = StoredPackage {
            digest: digest.clone(),
            size: bytes.len() as u64,
        };
        let path = self.path(&digest);
        if tokio::fs::try_exists(&path).await? {
            return Ok(stored);
        }
        let dir = self.dir.clone();
        let data = bytes.to_vec();
        tokio::task::spawn_blocking(move || -> io::Result<()> {
            use std::io::Write;
            let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
            tmp.write_all(&data)?;
            tmp.as_file().sync_all()?;
            set_mode(tmp.path(), 0o600)?;
            tmp.persist(&path).map_err(|e| e.error)?;
            Ok(())
        })
        .await
        .map_err(io::Error::other)??;
        Ok(stored)
    }

    async fn open(&self, digest: &PackageDigest) -> io::Result<Option<(tokio::fs::File, u64)>> {
        match tokio::fs::File::open(self.path(digest)).await {
            Ok(f) => {
                let len = f.metadata().await?.len();
                Ok(Some((f, len)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn put_is_content_addressed_private_and_idempotent() {
        let tmp = tempfile::tempdir().unwrap();
        let store = FsPackageStore::new(tmp.path().join("packages")).unwrap();
        let a = store.put(b"first package").await.unwrap();
        let again = store.put(b"first package").await.unwrap();
        let b = store.put(b"second").await.unwrap();
        assert_eq!(a, again);
        assert_ne!(a.digest, b.digest);
        assert_eq!(a.size, 13);
        let (mut f, len) = store.open(&a.digest).await.unwrap().unwrap();
        assert_eq!(len, 13);
        let mut s = String::new();
        f.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "first package");
        let files: Vec<_> = std::fs::read_dir(tmp.path().join("packages"))
            .unwrap()
            .collect();
        assert_eq!(files.len(), 2, "no temporary files left");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(store.path(&a.digest))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let missing = PackageDigest::of_bytes(b"never stored");
        assert!(store.open(&missing).await.unwrap().is_none());
        assert!(!store.contains(&missing).await.unwrap());
    }
}
