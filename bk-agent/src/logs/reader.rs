//! The reading side: bytes of one run from a logical offset, across rotated files. "Tail",
//! "follow" and "previous instance" are all this one read with different offsets and runs.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use serde::Serialize;

use super::writer::{file_name, list_files};

/// A piece of an instance's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogChunk {
    /// The run (process start) the bytes belong to.
    pub run: u64,
    /// Logical offset of the first byte of `data`.
    pub offset: u64,
    /// The bytes (raw process output; not necessarily UTF-8).
    pub data: Vec<u8>,
    /// Where to read next to continue.
    pub next: u64,
    /// Bytes asked for that rotation had already deleted (data starts later than asked).
    pub skipped: u64,
    /// Logical end of the run's output as seen by this read.
    pub end: u64,
}

/// Read up to `max` bytes of run `run` stored in `dir`, from logical `offset`.
pub(super) fn read_run(dir: &Path, run: u64, offset: u64, max: usize) -> io::Result<LogChunk> {
    // A rotation may delete a file between listing and opening it; listing again is enough.
    let mut attempt = 0;
    loop {
        match try_read(dir, run, offset, max) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && attempt < 3 => attempt += 1,
            other => return other,
        }
    }
}

fn try_read(dir: &Path, run: u64, offset: u64, max: usize) -> io::Result<LogChunk> {
    let mut starts = list_files(dir)?;
    starts.sort_unstable();
    let Some(&first) = starts.first() else {
        return Ok(LogChunk {
            run,
            offset,
            data: Vec::new(),
            next: offset,
            skipped: 0,
            end: 0,
        });
    };
    let skipped = first.saturating_sub(offset);
    let mut pos = offset.max(first);
    let begin = pos;
    let mut data = Vec::new();
    let mut end = first;
    for (i, &start) in starts.iter().enumerate() {
        let file_end = match starts.get(i + 1) {
            Some(&next_start) => next_start,
            None => start + std::fs::metadata(dir.join(file_name(start)))?.len(),
        };
        end = file_end;
        if pos >= file_end || data.len() >= max {
            continue;
        }
        let mut f = File::open(dir.join(file_name(start)))?;
        f.seek(SeekFrom::Start(pos - start))?;
        let want = (max - data.len()) as u64;
        let n = f.take(want.min(file_end - pos)).read_to_end(&mut data)?;
        pos += n as u64;
    }
    Ok(LogChunk {
        run,
        offset: begin,
        data,
        next: pos,
        skipped,
        end,
    })
}
