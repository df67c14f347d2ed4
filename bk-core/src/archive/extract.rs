//! Writing the entries of an archive into the staging directory, one checked entry at a time.

use std::cell::Cell;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::rc::Rc;

use flate2::read::GzDecoder;
use tar::EntryType;

use super::guard::{Counting, Guard, Trip, over_ratio, ratio_reason};
use super::links::check_symlink;
use super::{ArchiveError as PackageError, ArchiveLimits as Limits, printable, safe_relative};

pub(super) struct Extractor<'a> {
    root: &'a Path,
    limits: &'a Limits,
    entries: usize,
    bytes: u64,
    compressed: Rc<Cell<u64>>,
    tripped: Rc<Cell<Option<Trip>>>,
    last: String,
    buf: Vec<u8>,
}

impl<'a> Extractor<'a> {
    pub(super) fn new(root: &'a Path, limits: &'a Limits) -> Self {
        Self {
            root,
            limits,
            entries: 0,
            bytes: 0,
            compressed: Rc::new(Cell::new(0)),
            tripped: Rc::new(Cell::new(None)),
            last: String::new(),
            buf: vec![0; 64 * 1024],
        }
    }

    pub(super) fn run(mut self, archive: impl Read) -> Result<(usize, u64), PackageError> {
        let counted = Counting::new(archive, self.compressed.clone());
        let guarded = Guard::new(
            GzDecoder::new(counted),
            self.compressed.clone(),
            self.limits.clone(),
            self.tripped.clone(),
        );
        let mut archive = tar::Archive::new(guarded);
        let entries = archive.entries().map_err(|e| self.stream_error(&e))?;
        for entry in entries {
            let entry = entry.map_err(|e| self.stream_error(&e))?;
            self.one(entry)?;
        }
        Ok((self.entries, self.bytes))
    }

    /// An error reading the archive itself (not writing our files).
    fn stream_error(&self, e: &io::Error) -> PackageError {
        let at = if self.last.is_empty() {
            "the start of the archive".to_owned()
        } else {
            format!("the entry after `{}`", self.last)
        };
        if let Some(trip) = self.tripped.get() {
            return PackageError::too_large(&at, trip.reason(self.limits));
        }
        if self.entries == 0 {
            return PackageError::Invalid(format!("not a .tar.gz archive: {e}"));
        }
        PackageError::Invalid(format!("the archive is corrupt or truncated at {at}: {e}"))
    }

    fn one<R: Read>(&mut self, mut entry: tar::Entry<'_, R>) -> Result<(), PackageError> {
        self.entries += 1;
        let name = printable(&String::from_utf8_lossy(&entry.path_bytes()));
        self.last.clone_from(&name);
        if self.entries > self.limits.max_entries {
            return Err(PackageError::too_large(
                &name,
                format!(
                    "the package has more than {} entries",
                    self.limits.max_entries
                ),
            ));
        }
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() {
            // `git archive` writes one (the commit id); it describes no file.
            return Ok(());
        }
        let refuse = |reason: &str| Err(PackageError::entry(&name, reason));
        match kind {
            EntryType::Regular
            | EntryType::Continuous
            | EntryType::Directory
            | EntryType::Symlink => {}
            EntryType::Link => {
                return refuse(
                    "hard links are not allowed (store the file itself or a relative symlink)",
                );
            }
            EntryType::Char | EntryType::Block => return refuse("device files are not allowed"),
            EntryType::Fifo => return refuse("FIFOs (named pipes) are not allowed"),
            EntryType::GNUSparse => return refuse("sparse files are not supported"),
            _ => return refuse("unsupported entry type"),
        }
        let path = entry
            .path()
            .map_err(|e| PackageError::entry(&name, format!("unreadable path: {e}")))?
            .into_owned();
        let Some(rel) = safe_relative(&path).map_err(|r| PackageError::entry(&name, r))? else {
            // `./` itself: the root exists already.
            return if kind == EntryType::Directory {
                Ok(())
            } else {
                refuse("empty path")
            };
        };
        self.make_parents(&name, &rel)?;
        let target = self.root.join(&rel);
        match fs::symlink_metadata(&target) {
            Ok(m) if kind == EntryType::Directory && m.file_type().is_dir() => return Ok(()),
            Ok(_) => return refuse("appears more than once in the archive"),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(self.write_error(&name, e)),
        }
        match kind {
            EntryType::Directory => fs::create_dir(&target).map_err(|e| self.write_error(&name, e)),
            EntryType::Symlink => {
                let link = entry
                    .link_name()
                    .map_err(|e| {
                        PackageError::entry(&name, format!("unreadable link target: {e}"))
                    })?
                    .ok_or_else(|| PackageError::entry(&name, "symlink without a target"))?
                    .into_owned();
                check_symlink(&rel, &link).map_err(|r| PackageError::entry(&name, r))?;
                std::os::unix::fs::symlink(&link, &target).map_err(|e| self.write_error(&name, e))
            }
            _ => self.write_file(&name, &target, &mut entry),
        }
    }

    /// Create the parent directories of `rel`, refusing to pass through a link or a file.
    fn make_parents(&self, name: &str, rel: &Path) -> Result<(), PackageError> {
        let mut dir = self.root.to_path_buf();
        let parents: Vec<_> = rel.components().collect();
        for c in &parents[..parents.len().saturating_sub(1)] {
            dir.push(c);
            match fs::symlink_metadata(&dir) {
                Ok(m) if m.file_type().is_dir() => {}
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(PackageError::entry(name, "is inside a symlinked directory"));
                }
                Ok(_) => return Err(PackageError::entry(name, "is inside a path that is a file")),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    fs::create_dir(&dir).map_err(|e| self.write_error(name, e))?;
                }
                Err(e) => return Err(self.write_error(name, e)),
            }
        }
        Ok(())
    }

    fn write_file<R: Read>(
        &mut self,
        name: &str,
        target: &Path,
        entry: &mut tar::Entry<'_, R>,
    ) -> Result<(), PackageError> {
        let size = entry.size();
        let limit = self.limits.max_unpacked_bytes;
        let over_size =
            || PackageError::too_large(name, format!("the unpacked package is over {limit} bytes"));
        if self.bytes.saturating_add(size) > limit {
            return Err(over_size());
        }
        let mode = entry.header().mode().unwrap_or(0o644);
        let mode = if mode & 0o111 != 0 { 0o755 } else { 0o644 };
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(target)
            .map_err(|e| self.write_error(name, e))?;
        loop {
            let n = match entry.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    return Err(match self.tripped.get() {
                        Some(trip) => PackageError::too_large(name, trip.reason(self.limits)),
                        None => PackageError::Invalid(format!(
                            "the archive is corrupt or truncated in entry `{name}`: {e}"
                        )),
                    });
                }
            };
            self.bytes += n as u64;
            if self.bytes > limit {
                return Err(over_size());
            }
            if over_ratio(self.bytes, self.compressed.get(), self.limits) {
                return Err(PackageError::too_large(name, ratio_reason(self.limits)));
            }
            file.write_all(&self.buf[..n])
                .map_err(|e| self.write_error(name, e))?;
        }
        Ok(())
    }

    fn write_error(&self, name: &str, e: io::Error) -> PackageError {
        PackageError::io(format!("unpacking entry `{name}`"), e)
    }
}
