//! Unpacking an untrusted `.tar.gz` into a fresh directory.
//!
//! Refused, with the entry named: absolute paths, `..`, hard links, symlinks that could lead
//! out of the tree (see `links`), device files and FIFOs, entries written through a link or
//! twice, more than `max_entries` entries, more than `max_unpacked_bytes` of content, and a
//! compression ratio above `max_ratio` (checked on the content and on the whole decompressed
//! stream, which also bounds the GNU long-name and pax headers the tar reader buffers).
//! Everything is written into a temporary directory next to the destination and renamed into
//! place only when the whole archive passed, so a refused package leaves nothing behind.
//! Modes are normalized (0755 for executables and directories, 0644 otherwise; no setuid,
//! no owners, no timestamps from the archive).

mod extract;
mod guard;

use std::fs::{self, File};
use std::io::{self, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use super::{APP_DESC_FILE, Limits, PROCFILE, PackageError, SMART_FILE};
use extract::Extractor;

/// Files whose presence in a lone top-level directory means "the package root is in there".
const ROOT_MARKERS: &[&str] = &[APP_DESC_FILE, "app_desc.yml", PROCFILE, SMART_FILE];

/// What `unpack` produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpacked {
    /// The destination directory, now holding the package root.
    pub root: PathBuf,
    /// Entries read from the archive.
    pub entries: usize,
    /// Bytes of file content written.
    pub bytes: u64,
    /// The lone top-level directory that was stripped, if any.
    pub stripped: Option<String>,
}

/// Unpack the `.tar.gz` file at `archive` into `dest` (which must not exist yet).
pub fn unpack_file(archive: &Path, dest: &Path, limits: &Limits) -> Result<Unpacked, PackageError> {
    let file = File::open(archive)
        .map_err(|e| PackageError::io(format!("opening {}", archive.display()), e))?;
    unpack(BufReader::new(file), dest, limits)
}

/// Unpack a `.tar.gz` stream into `dest`, which must not exist yet; its parent must.
pub fn unpack(archive: impl Read, dest: &Path, limits: &Limits) -> Result<Unpacked, PackageError> {
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if fs::symlink_metadata(dest).is_ok() {
        return Err(PackageError::io(
            format!("unpacking into {}", dest.display()),
            io::Error::from(io::ErrorKind::AlreadyExists),
        ));
    }
    let staging = tempfile::Builder::new()
        .prefix(".unpack-")
        .tempdir_in(parent)
        .map_err(|e| {
            PackageError::io(format!("creating a directory in {}", parent.display()), e)
        })?;
    let (entries, bytes) = Extractor::new(staging.path(), limits).run(archive)?;
    let stripped = lone_root(staging.path())?;
    let from = match &stripped {
        Some(name) => staging.path().join(name),
        None => staging.path().to_path_buf(),
    };
    let io_err = |e| PackageError::io(format!("moving the package to {}", dest.display()), e);
    fs::set_permissions(&from, fs::Permissions::from_mode(0o755)).map_err(io_err)?;
    if stripped.is_some() {
        // The staging directory is left empty and removed when `staging` drops.
        fs::rename(&from, dest).map_err(io_err)?;
    } else {
        let kept = staging.keep();
        if let Err(e) = fs::rename(&kept, dest) {
            let _ = fs::remove_dir_all(&kept);
            return Err(io_err(e));
        }
    }
    Ok(Unpacked {
        root: dest.to_path_buf(),
        entries,
        bytes,
        stripped: stripped.map(|s| s.to_string_lossy().into_owned()),
    })
}

/// The single top-level directory holding a descriptor, if the archive has exactly that.
fn lone_root(root: &Path) -> Result<Option<std::ffi::OsString>, PackageError> {
    let io_err = |e| PackageError::io(format!("listing {}", root.display()), e);
    let mut it = fs::read_dir(root).map_err(io_err)?;
    let (Some(first), None) = (it.next(), it.next()) else {
        return Ok(None);
    };
    let first = first.map_err(io_err)?;
    if !first.file_type().map_err(io_err)?.is_dir() {
        return Ok(None);
    }
    let dir = first.path();
    let marked = ROOT_MARKERS
        .iter()
        .any(|m| fs::symlink_metadata(dir.join(m)).is_ok());
    Ok(marked.then(|| first.file_name()))
}
/// The entry's path as plain names below the root; `None` for the root itself. Names and
/// paths the file system could not hold are the package's fault, not ours, so they are
/// refused here rather than failing later as a disk error.
fn safe_relative(path: &Path) -> Result<Option<PathBuf>, &'static str> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(p) if p.len() > 255 => {
                return Err("a name in the path is over 255 bytes");
            }
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir => return Err("`..` in a path is not allowed"),
            Component::RootDir | Component::Prefix(_) => {
                return Err("absolute paths are not allowed");
            }
        }
    }
    if out.as_os_str().len() > 1024 {
        return Err("the path is over 1024 bytes");
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}
