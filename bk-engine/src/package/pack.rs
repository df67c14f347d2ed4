//! Packing a directory into a `.tar.gz` for `bk deploy <dir>`. The archive is deterministic
//! (names sorted bytewise, depth first; no owners, zero timestamps, modes 0755/0644, a gzip
//! header without time or name), so packing the same tree twice gives the same bytes and the
//! same digest. `.git`, `target` and `__pycache__` are left out at any depth. Symlinks are
//! stored as links and must satisfy the unpacker's rule (relative, inside the tree); special
//! files are refused; the same entry and size limits apply as for unpacking, so whatever
//! packs also unpacks.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use flate2::{Compression, GzBuilder};
use tar::{EntryType, Header};

use super::rules::printable;
use super::{Limits, PackageError};
use bk_core::archive::check_symlink;

/// Directories never packed: version control, build output, Python byte code.
const SKIPPED_DIRS: &[&str] = &[".git", "target", "__pycache__"];

/// What `pack_to` wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackStats {
    /// Entries (files, directories, links) in the archive.
    pub entries: usize,
    /// Bytes of file content.
    pub bytes: u64,
}

/// Pack `dir` into `.tar.gz` bytes.
pub fn pack_dir(dir: &Path, limits: &Limits) -> Result<(Vec<u8>, PackStats), PackageError> {
    let mut out = Vec::new();
    let stats = pack_to(dir, &mut out, limits)?;
    Ok((out, stats))
}

/// Pack `dir` as `.tar.gz` into `out` (a file for the CLI, a buffer for tests).
pub fn pack_to<W: Write>(dir: &Path, out: W, limits: &Limits) -> Result<PackStats, PackageError> {
    let meta = fs::metadata(dir)
        .map_err(|e| PackageError::Invalid(format!("cannot read {}: {e}", dir.display())))?;
    if !meta.is_dir() {
        return Err(PackageError::Invalid(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    let gz = GzBuilder::new().mtime(0).write(out, Compression::default());
    let mut packer = Packer {
        root: dir,
        builder: tar::Builder::new(gz),
        limits,
        stats: PackStats {
            entries: 0,
            bytes: 0,
        },
    };
    packer.walk(Path::new(""))?;
    let stats = packer.stats;
    let write_err = |e| PackageError::io("writing the package", e);
    let gz = packer.builder.into_inner().map_err(write_err)?;
    gz.finish().map_err(write_err)?;
    Ok(stats)
}

struct Packer<'a, W: Write> {
    root: &'a Path,
    builder: tar::Builder<flate2::write::GzEncoder<W>>,
    limits: &'a Limits,
    stats: PackStats,
}

impl<W: Write> Packer<'_, W> {
    fn walk(&mut self, rel: &Path) -> Result<(), PackageError> {
        let dir = self.root.join(rel);
        let read_err = |e| PackageError::io(format!("reading {}", dir.display()), e);
        let mut names = fs::read_dir(&dir)
            .map_err(read_err)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<io::Result<Vec<_>>>()
            .map_err(read_err)?;
        names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        for name in names {
            let child = rel.join(&name);
            let shown = printable(&child.to_string_lossy());
            let Some(name) = name.to_str() else {
                return Err(PackageError::entry(&shown, "file name is not UTF-8"));
            };
            let path = self.root.join(&child);
            let meta = fs::symlink_metadata(&path)
                .map_err(|e| PackageError::io(format!("reading {}", path.display()), e))?;
            let kind = meta.file_type();
            if kind.is_dir() {
                if SKIPPED_DIRS.contains(&name) {
                    continue;
                }
                self.count(&shown)?;
                let mut h = header(EntryType::Directory, 0o755, 0);
                self.builder
                    .append_data(&mut h, &child, io::empty())
                    .map_err(|e| self.write_error(e))?;
                self.walk(&child)?;
            } else if kind.is_file() {
                if name == ".git" {
                    // A worktree's `.git` is a file pointing at the real repository.
                    continue;
                }
                self.count(&shown)?;
                let len = meta.len();
                self.stats.bytes = self.stats.bytes.saturating_add(len);
                if self.stats.bytes > self.limits.max_unpacked_bytes {
                    return Err(PackageError::too_large(
                        &shown,
                        format!(
                            "the package is over {} bytes",
                            self.limits.max_unpacked_bytes
                        ),
                    ));
                }
                let mode = if meta.permissions().mode() & 0o111 != 0 {
                    0o755
                } else {
                    0o644
                };
                let mut h = header(EntryType::Regular, mode, len);
                let file = File::open(&path)
                    .map_err(|e| PackageError::io(format!("reading {}", path.display()), e))?;
                self.builder
                    .append_data(&mut h, &child, file.take(len))
                    .map_err(|e| self.write_error(e))?;
            } else if kind.is_symlink() {
                let target = fs::read_link(&path)
                    .map_err(|e| PackageError::io(format!("reading {}", path.display()), e))?;
                check_symlink(&child, &target).map_err(|r| PackageError::entry(&shown, r))?;
                if target.to_str().is_none() {
                    return Err(PackageError::entry(&shown, "symlink target is not UTF-8"));
                }
                self.count(&shown)?;
                let mut h = header(EntryType::Symlink, 0o777, 0);
                self.builder
                    .append_link(&mut h, &child, &target)
                    .map_err(|e| self.write_error(e))?;
            } else {
                return Err(PackageError::entry(
                    &shown,
                    "sockets, FIFOs and device files cannot be packed",
                ));
            }
        }
        Ok(())
    }

    fn count(&mut self, shown: &str) -> Result<(), PackageError> {
        self.stats.entries += 1;
        if self.stats.entries > self.limits.max_entries {
            return Err(PackageError::too_large(
                shown,
                format!(
                    "the package has more than {} entries",
                    self.limits.max_entries
                ),
            ));
        }
        Ok(())
    }

    fn write_error(&self, e: io::Error) -> PackageError {
        PackageError::io("writing the package", e)
    }
}

/// A header with nothing machine- or time-specific in it.
fn header(kind: EntryType, mode: u32, size: u64) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}
