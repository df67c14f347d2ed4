//! Limits on the decompressed stream as a whole. Content limits are checked per file by the
//! extractor; these also cover what the tar reader consumes on its own (headers, padding, GNU
//! long names and pax records, which it buffers whole in memory), so a bomb hidden there is
//! stopped before it is read.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

use super::ArchiveLimits as Limits;

/// Allowance per entry on top of the content for tar headers, padding and long names.
const HEADER_ALLOWANCE: u64 = 4096;

/// Counts bytes flowing through a reader (the compressed side).
pub(super) struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R> Counting<R> {
    pub(super) fn new(inner: R, count: Rc<Cell<u64>>) -> Self {
        Self { inner, count }
    }
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
pub(super) enum Trip {
    Size,
    Ratio,
}

impl Trip {
    pub(super) fn reason(self, limits: &Limits) -> String {
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

pub(super) fn ratio_reason(limits: &Limits) -> String {
    format!(
        "compression ratio over {}:1 (a decompression bomb?)",
        limits.max_ratio
    )
}

/// Guards the decompressed stream as a whole: total size and compression ratio.
pub(super) struct Guard<R> {
    inner: R,
    out: u64,
    compressed: Rc<Cell<u64>>,
    limits: Limits,
    tripped: Rc<Cell<Option<Trip>>>,
}

impl<R> Guard<R> {
    pub(super) fn new(
        inner: R,
        compressed: Rc<Cell<u64>>,
        limits: Limits,
        tripped: Rc<Cell<Option<Trip>>>,
    ) -> Self {
        Self {
            inner,
            out: 0,
            compressed,
            limits,
            tripped,
        }
    }
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

pub(super) fn over_ratio(out: u64, compressed: u64, limits: &Limits) -> bool {
    out > limits.ratio_floor_bytes && out / compressed.max(1) > limits.max_ratio
}
