//! The one call the engine makes for an upload: put the package (a `.tar.gz` file or a
//! directory) into a fresh directory, describe it, and compute the digest for the release
//! record. A package that unpacks but does not describe is removed again: nothing half-done
//! is left at the destination.

use std::fs::{self, File};
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::{
    Limits, PackageDesc, PackageDigest, PackageError, describe_dir, pack_dir, unpack, unpack_file,
};

/// A package ready to release.
#[derive(Debug, Clone, PartialEq)]
pub struct Staged {
    /// Directory holding the package root.
    pub root: PathBuf,
    /// What the package declares.
    pub desc: PackageDesc,
    /// SHA-256 of the archive (of the deterministic packing, for a directory).
    pub digest: PackageDigest,
}

/// Unpack (or copy, through packing) `source` into `dest` and describe it.
pub fn stage(source: &Path, dest: &Path, limits: &Limits) -> Result<Staged, PackageError> {
    let meta = fs::metadata(source)
        .map_err(|e| PackageError::io(format!("reading {}", source.display()), e))?;
    let digest = if meta.is_dir() {
        // Packing applies the same checks as unpacking and gives the digest a re-upload of
        // the same tree would have.
        let (bytes, _) = pack_dir(source, limits)?;
        let digest = PackageDigest::of_bytes(&bytes);
        unpack(&bytes[..], dest, limits)?;
        digest
    } else {
        let file = File::open(source)
            .map_err(|e| PackageError::io(format!("reading {}", source.display()), e))?;
        let digest = PackageDigest::of_reader(BufReader::new(file))
            .map_err(|e| PackageError::io(format!("reading {}", source.display()), e))?;
        unpack_file(source, dest, limits)?;
        digest
    };
    match describe_dir(dest, limits) {
        Ok(desc) => Ok(Staged {
            root: dest.to_path_buf(),
            desc,
            digest,
        }),
        Err(e) => {
            let _ = fs::remove_dir_all(dest);
            Err(e)
        }
    }
}
