//! Building `.tar.gz` archives entry by entry for tests, including entries no honest tool
//! writes (absolute names, `..`, links out, devices), by filling the header fields directly.

use std::io::{self, Read};

use flate2::Compression;
use flate2::write::GzEncoder;
use tar::{Builder, EntryType, Header};

pub(super) struct Tar {
    b: Builder<GzEncoder<Vec<u8>>>,
}

impl Tar {
    pub fn new() -> Self {
        Self {
            b: Builder::new(GzEncoder::new(Vec::new(), Compression::default())),
        }
    }

    /// A header with `name` (and `link`) written as raw bytes, unchecked.
    fn header(name: &str, kind: EntryType, size: u64, mode: u32, link: Option<&str>) -> Header {
        let mut h = Header::new_gnu();
        let gnu = h.as_gnu_mut().unwrap();
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(link) = link {
            gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(mode);
        h.set_mtime(0);
        h.set_cksum();
        h
    }

    fn push(mut self, h: Header, data: impl Read) -> Self {
        self.b.append(&h, data).unwrap();
        self
    }

    pub fn file(self, name: &str, data: &[u8]) -> Self {
        self.file_mode(name, data, 0o644)
    }

    pub fn file_mode(self, name: &str, data: &[u8], mode: u32) -> Self {
        let h = Self::header(name, EntryType::Regular, data.len() as u64, mode, None);
        self.push(h, data)
    }

    /// A file of `size` zero bytes, streamed (never held in memory).
    pub fn zeros(self, name: &str, size: u64) -> Self {
        let h = Self::header(name, EntryType::Regular, size, 0o644, None);
        self.push(h, io::repeat(0).take(size))
    }

    /// A file whose name is too long for the header (GNU long-name entry first).
    pub fn long_file(mut self, name: &str, data: &[u8]) -> Self {
        let mut h = Header::new_gnu();
        h.set_entry_type(EntryType::Regular);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        self.b.append_data(&mut h, name, data).unwrap();
        self
    }

    pub fn dir(self, name: &str) -> Self {
        let h = Self::header(name, EntryType::Directory, 0, 0o755, None);
        self.push(h, io::empty())
    }

    pub fn symlink(self, name: &str, target: &str) -> Self {
        let h = Self::header(name, EntryType::Symlink, 0, 0o777, Some(target));
        self.push(h, io::empty())
    }

    pub fn hardlink(self, name: &str, target: &str) -> Self {
        let h = Self::header(name, EntryType::Link, 0, 0o644, Some(target));
        self.push(h, io::empty())
    }

    pub fn special(self, name: &str, kind: EntryType) -> Self {
        let h = Self::header(name, kind, 0, 0o644, None);
        self.push(h, io::empty())
    }

    /// An entry of any type with `size` zero bytes of data (e.g. a huge GNU long name).
    pub fn raw_zeros(self, name: &str, kind: EntryType, size: u64) -> Self {
        let h = Self::header(name, kind, size, 0o644, None);
        self.push(h, io::repeat(0).take(size))
    }

    /// The pax global header `git archive` writes.
    pub fn pax_global(self) -> Self {
        let data = b"52 comment=0123456789abcdef0123456789abcdef01234567\n";
        let h = Self::header(
            "pax_global_header",
            EntryType::XGlobalHeader,
            data.len() as u64,
            0o666,
            None,
        );
        self.push(h, &data[..])
    }

    pub fn gz(self) -> Vec<u8> {
        self.b.into_inner().unwrap().finish().unwrap()
    }
}
