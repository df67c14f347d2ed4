//! Unpacking an untrusted `.tar.gz` into a fresh directory (feature `archive`), shared by
//! the engine (uploads) and the agent (releases fetched from the engine), so both apply the
//! same checks.
//!
//! Refused, with the entry named: absolute paths, `..`, hard links, symlinks that could lead
//! out of the tree (see [`check_symlink`]), device files and FIFOs, entries written through a
//! link or twice, more than `max_entries` entries, more than `max_unpacked_bytes` of content,
//! and a compression ratio above `max_ratio` (checked on the content and on the whole
//! decompressed stream, which also bounds the GNU long-name and pax headers the tar reader
//! buffers). Everything is written into a temporary directory next to the destination and
//! renamed into place only when the whole archive passed, so a refused archive leaves nothing
//! behind. Modes are normalized (0755 for executables and directories, 0644 otherwise; no
//! setuid, no owners, no timestamps from the archive). Blocking file work: async callers use
//! a blocking thread.

mod error;
mod extract;
mod guard;
mod links;

use std::fs::{self, File};
use std::io::{self, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

pub use error::ArchiveError;
use extract::Extractor;
pub use links::check_symlink;

/// Bounds on what one archive may cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Most entries (files, directories, links).
    pub max_entries: usize,
    /// Most bytes of file content once unpacked.
    pub max_unpacked_bytes: u64,
    /// Most unpacked bytes per compressed byte (a decompression bomb is refused on the way).
    pub max_ratio: u64,
    /// Unpacked size below which the ratio is not checked.
    pub ratio_floor_bytes: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        Self {
            max_entries: 20_000,
            max_unpacked_bytes: 512 * 1024 * 1024,
            max_ratio: 100,
            ratio_floor_bytes: 16 * 1024 * 1024,
        }
    }
}

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
///
/// When the archive holds exactly one top-level directory containing one of
/// `root_markers` (e.g. `app_desc.yaml`), that directory becomes `dest`.
pub fn unpack_file(
    archive: &Path,
    dest: &Path,
    limits: &ArchiveLimits,
    root_markers: &[&str],
) -> Result<Unpacked, ArchiveError> {
    let file = File::open(archive)
        .map_err(|e| ArchiveError::io(format!("opening {}", archive.display()), e))?;
    unpack(BufReader::new(file), dest, limits, root_markers)
}

/// Unpack a `.tar.gz` stream into `dest`, which must not exist yet; its parent must.
/// `root_markers` as for [`unpack_file`].
pub fn unpack(
    archive: impl Read,
    dest: &Path,
    limits: &ArchiveLimits,
    root_markers: &[&str],
) -> Result<Unpacked, ArchiveError> {
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if fs::symlink_metadata(dest).is_ok() {
        return Err(ArchiveError::io(
            format!("unpacking into {}", dest.display()),
            io::Error::from(io::ErrorKind::AlreadyExists),
        ));
    }
    let staging = tempfile::Builder::new()
        .prefix(".unpack-")
        .tempdir_in(parent)
        .map_err(|e| {
            ArchiveError::io(format!("creating a directory in {}", parent.display()), e)
        })?;
    let (entries, bytes) = Extractor::new(staging.path(), limits).run(archive)?;
    let stripped = lone_root(staging.path(), root_markers)?;
    let from = match &stripped {
        Some(name) => staging.path().join(name),
        None => staging.path().to_path_buf(),
    };
    let io_err = |e| ArchiveError::io(format!("moving the package to {}", dest.display()), e);
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
fn lone_root(
    root: &Path,
    root_markers: &[&str],
) -> Result<Option<std::ffi::OsString>, ArchiveError> {
    let io_err = |e| ArchiveError::io(format!("listing {}", root.display()), e);
    let mut it = fs::read_dir(root).map_err(io_err)?;
    let (Some(first), None) = (it.next(), it.next()) else {
        return Ok(None);
    };
    let first = first.map_err(io_err)?;
    if !first.file_type().map_err(io_err)?.is_dir() {
        return Ok(None);
    }
    let dir = first.path();
    let marked = root_markers
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

/// A name for people: control characters escaped, at most 200 characters.
pub fn printable(name: &str) -> String {
    let mut out: String = name
        .chars()
        .take(200)
        .flat_map(char::escape_debug)
        .collect();
    if name.chars().count() > 200 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests;
