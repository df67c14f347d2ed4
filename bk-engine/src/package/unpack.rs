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

use std::cell::Cell;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use flate2::read::GzDecoder;
use tar::EntryType;

use super::links::check_symlink;
use super::rules::printable;
use super::{APP_DESC_FILE, Limits, PROCFILE, PackageError, SMART_FILE};

/// Files whose presence in a lone top-level directory means "the package root is in there".
const ROOT_MARKERS: &[&str] = &[APP_DESC_FILE, "app_desc.yml", PROCFILE, SMART_FILE];

/// Allowance per entry on top of the content for tar headers, padding and long names.
const HEADER_ALLOWANCE: u64 = 4096;

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

/// Counts bytes flowing through a reader, and stops the stream at a limit.
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Which stream limit stopped the archive.
#[derive(Debug, Clone, Copy)]
enum Trip {
    Size,
    Ratio,
}

impl Trip {
    fn reason(self, limits: &Limits) -> String {
        match self {
            Trip::Size => format!(
                "the decompressed archive is over {} bytes (content plus headers)",
                limits
                    .max_unpacked_bytes
                    .saturating_add(limits.max_entries as u64 * HEADER_ALLOWANCE)
            ),
            Trip::Ratio => ratio_reason(limits),
        }
    }
}

fn ratio_reason(limits: &Limits) -> String {
    format!(
        "compression ratio over {}:1 (a decompression bomb?)",
        limits.max_ratio
    )
}

/// Guards the decompressed stream as a whole: total size and compression ratio.
struct Guard<R> {
    inner: R,
    out: u64,
    compressed: Rc<Cell<u64>>,
    limits: Limits,
    tripped: Rc<Cell<Option<Trip>>>,
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        let cap = self
            .limits
            .max_unpacked_bytes
            .saturating_add((self.limits.max_entries as u64).saturating_mul(HEADER_ALLOWANCE));
        let trip = if self.out > cap {
            Some(Trip::Size)
        } else if over_ratio(self.out, self.compressed.get(), &self.limits) {
            Some(Trip::Ratio)
        } else {
            None
        };
        if let Some(trip) = trip {
            self.tripped.set(Some(trip));
            return Err(io::Error::other("package limit reached"));
        }
        Ok(n)
    }
}

fn over_ratio(out: u64, compressed: u64, limits: &Limits) -> bool {
    out > limits.ratio_floor_bytes && out / compressed.max(1) > limits.max_ratio
}

struct Extractor<'a> {
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
    fn new(root: &'a Path, limits: &'a Limits) -> Self {
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

    fn run(mut self, archive: impl Read) -> Result<(usize, u64), PackageError> {
        let counted = Counting {
            inner: archive,
            count: self.compressed.clone(),
        };
        let guarded = Guard {
            inner: GzDecoder::new(counted),
            out: 0,
            compressed: self.compressed.clone(),
            limits: self.limits.clone(),
            tripped: self.tripped.clone(),
        };
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
